"""A local stand-in for the portal's JSON API: real HTTP on 127.0.0.1, answers replayed from fixtures.

Tests script misbehaviour per request key ("list", or a procedure code): the firewall's HTML page with
status 200, server errors, or an outage from the n-th request on. Every request is logged.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from knowledge.tools.catalog.sync import DETAIL_PATH, LIST_PATH

FIXTURES = Path(__file__).parent / "fixtures"
FIREWALL_PAGE = b"<html><head><title>Request Rejected</title></head><body>The requested URL was rejected.</body></html>"


@dataclass
class Logged:
    path: str
    body: dict
    key: str
    status: int


@dataclass
class ReplayPortal:
    listing: list[dict] = field(default_factory=lambda: json.loads((FIXTURES / "listing.json").read_text("utf-8")))
    details_dir: Path = FIXTURES / "details"
    faults: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    down_from: int | None = None  # every request from this one on (1-based) gets a 503
    log: list[Logged] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def script(self, key: str, *actions: str) -> None:
        """Misbehave on the next requests for `key`: "html", "500", "503", "429", "garbage"."""
        self.faults[key].extend(actions)

    def requests_for(self, key: str) -> list[Logged]:
        return [entry for entry in self.log if entry.key == key]

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReplayPortal:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, kind, payload, key = portal.answer(self.path, body)
                portal.log.append(Logged(self.path, body, key, status))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ------------------------------------------------------------------------------------------ answers

    def answer(self, path: str, body: dict) -> tuple[int, str, bytes, str]:
        key = "list" if path == LIST_PATH else self._code_of(body.get("id")) if path == DETAIL_PATH else path
        if self.down_from is not None and len(self.log) + 1 >= self.down_from:
            return 503, "text/html", b"<html>Service Unavailable</html>", key
        if self.faults.get(key):
            return (*_fault(self.faults[key].pop(0)), key)
        if path == LIST_PATH:
            return 200, "application/json", self._page(body), key
        if path == DETAIL_PATH and (self.details_dir / f"{key}.json").is_file():
            return 200, "application/json;charset=UTF-8", (self.details_dir / f"{key}.json").read_bytes(), key
        return 404, "application/json", b'{"code":"NOT_FOUND"}', key

    def _code_of(self, uuid: object) -> str:
        return next((row["code"] for row in self.listing if row["id"] == uuid), f"unknown:{uuid}")

    def _page(self, body: dict) -> bytes:
        ids = [row["id"] for row in self.listing]
        start = ids.index(body["lastId"]) + 1 if body.get("lastId") in ids else 0
        items = self.listing[start : start + int(body.get("limit") or 20)]
        last = items[-1]["id"] if items else body.get("lastId")
        return json.dumps({"code": "OK", "data": {"items": items, "lastId": last}}, ensure_ascii=False).encode()


def _fault(action: str) -> tuple[int, str, bytes]:
    if action == "html":
        return 200, "text/html; charset=utf-8", FIREWALL_PAGE  # the firewall: looks like success, is not JSON
    if action == "garbage":
        return 200, "application/json", b'{"code": "OK", "data": '
    return int(action), "text/plain", f"error {action}".encode()


class FakeTime:
    """A clock that moves only when the client sleeps: pacing and backoff are checked without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now
