"""Rasa's HTTP API needs the token, the action server runs actions only for Rasa, and both listen on loopback only
(real servers, started the way `make serve` starts them)."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from scripts.stack import Stack

pytestmark = pytest.mark.stack


def status(url: str, method: str = "GET", body: object = None, headers: dict[str, str] | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/conversations/81001/tracker", None),  # read a citizen's conversation
        ("POST", "/conversations/81001/tracker/events", {"event": "slot", "name": "procedure_id", "value": "x"}),
        ("POST", "/conversations/81001/trigger_intent", {"name": "request_human"}),  # handoff in their name
        ("POST", "/conversations/81001/messages", {"text": "xin chào", "sender": "user"}),
        ("PUT", "/model", {"model_file": "/tmp/other.tar.gz"}),  # replace the model
        ("DELETE", "/model", None),  # unload it
        ("GET", "/status", None),
    ],
)
def test_the_http_api_refuses_requests_without_the_token(stack: Stack, method: str, path: str, body: object) -> None:
    assert status(f"{stack.rasa_url}{path}", method, body) == 401
    assert status(f"{stack.rasa_url}{path}?token=wrong", method, body) == 401


def test_the_http_api_answers_with_the_token(stack: Stack) -> None:
    assert status(stack.api("/conversations/81001/tracker")) == 200


def journal_rows(stack: Stack) -> int:
    path = Path(stack.environment()["MOCUA_JOURNAL_DB"])
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]


def forged_call(action: str, intent: str, text: str) -> dict:
    """What Rasa would send to run `action` for a made-up citizen."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
    tracker = {"sender_id": "forged", "slots": {}, "latest_message": latest, "events": [], "paused": False,
               "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}  # fmt: skip
    return {"next_action": action, "sender_id": "forged", "tracker": tracker, "domain": {}, "version": "3.6.21"}


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_a_forged_call_to_the_action_server_is_refused_and_writes_nothing(stack: Stack, secret: str | None) -> None:
    before = journal_rows(stack)
    headers = {} if secret is None else {"X-Action-Secret": secret}
    for action, intent in (("action_handoff", "request_human"), ("action_feedback", "feedback")):
        call = forged_call(action, intent, "câu trả lời không hữu ích")
        assert status(f"{stack.action_url}/webhook", "POST", call, headers) == 401
    assert status(f"{stack.action_url}/actions", headers=headers) == 401
    assert journal_rows(stack) == before


def test_the_action_server_runs_actions_for_rasa(say) -> None:
    # Rasa sends the secret (endpoints.yml): the whole conversation still works.
    assert "khai sinh" in json.dumps(say("con mới sinh làm giấy khai sinh ở đâu"), ensure_ascii=False)


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_both_servers_listen_on_loopback_only(stack: Stack) -> None:
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1, as /proc/net writes them
    for port in (stack.rasa_port, stack.action_port):
        addresses = listening_addresses(port)
        assert addresses and addresses <= loopback, f"port {port} listens on {addresses}"


def test_the_action_server_is_ready_only_with_the_index_loaded(stack: Stack) -> None:
    # The index used to load at the first question (about 10 s for that citizen); now before /health answers.
    log = (stack.log_dir / "actions.log").read_text(encoding="utf-8", errors="replace")
    last_start = log.rsplit("action server starting", 1)[-1]
    loaded = re.search(r"knowledge index \S+ loaded in", last_start)
    listening = last_start.find("action server listening")
    assert loaded is not None and 0 <= loaded.start() < listening, "index loaded before the server started listening"
