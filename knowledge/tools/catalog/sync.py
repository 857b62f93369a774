"""`make kb-sync-catalog`: refresh the official catalogue from the portal's public JSON API, for staff review.

    python -m knowledge.tools.catalog.sync            # fetch (or resume), write a candidate and a change report
    python -m knowledge.tools.catalog.sync --apply    # after review: the candidate becomes the shipped snapshot
    python -m knowledge.tools.catalog.sync --restart  # forget an unfinished run and start again

The portal is asked politely: one request at a time, at least `--interval` seconds apart, retries with
growing waits on network errors, 429/5xx answers and non-JSON answers (its firewall answers some requests
with an HTML page and status 200). Progress is kept under var/catalog-sync/, so an interrupted run resumes
where it stopped. Nothing reaches the bot until a staff member has read the change report and applied it.
Base URL: MOCUA_PORTAL_URL (default https://dichvucong.gov.vn).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import settings
from knowledge import clock
from knowledge.catalog.common import audiences_of, one_line, portal_url, unique
from knowledge.catalog.model import FILLABLE, OfficialRecord, Source, procedure_type
from knowledge.catalog.provinces import match_province
from knowledge.catalog.snapshot import DEFAULT_SNAPSHOT, load_snapshot, write_snapshot
from knowledge.tools.catalog.changes import ChangeReport, diff
from knowledge.tools.catalog.parse_api import NotAProcedure, parse_detail, unwrap
from settings.retry import Backoff

ROOT = Path(__file__).resolve().parents[3]
STATE_DIR = ROOT / "var" / "catalog-sync"
DEFAULT_URL = "https://dichvucong.gov.vn"
LIST_PATH = "/api/v1/submitting/formality/list-all-public-formality-by-citizen"
DETAIL_PATH = "/api/v1/configuring/formality/get-formality-by-citizen"
SOURCE: Source = "portal-api"
USER_AGENT = "TroLyMotCua-catalogue-sync/1.0 (one request at a time; staff-run refresh of public procedures)"
RETRY_STATUS = {429, 500, 502, 503, 504}
MIN_LISTED_SHARE = 0.5  # refuse a candidate when the listing holds less than this share of the snapshot


class PortalError(RuntimeError):
    """A request that still failed after every retry (or one that must not be retried)."""


class NotJson(PortalError):
    """The portal answered with something other than JSON (its firewall page, an error page…)."""


# ------------------------------------------------------------------------------------------------- client


@dataclass
class Client:
    base_url: str = DEFAULT_URL
    interval: float = 1.0  # seconds between the starts of two requests
    retries: int = 4
    backoff: float = 2.0  # first wait after a failure; doubles each time
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    requests: int = 0
    _last: float | None = field(default=None, repr=False)

    def post(self, path: str, body: dict) -> Any:
        """POST JSON and return the decoded JSON answer, retrying what may pass on a second try."""
        error: PortalError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self._wait(attempt, error))
            try:
                return self._post_once(path, body)
            except _Retryable as failure:
                error = failure.error
        assert error is not None
        raise error

    def _wait(self, attempt: int, error: PortalError | None) -> float:
        hinted = getattr(error, "retry_after", None)
        return max(Backoff(self.backoff, math.inf).delay(attempt), hinted or 0.0)

    def _post_once(self, path: str, body: dict) -> Any:
        self._pace()
        request = urllib.request.Request(
            self.base_url.rstrip("/") + path,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT},
            method="POST",
        )
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload, kind = response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as failure:
            error = PortalError(f"{path}: HTTP {failure.code}")
            error.retry_after = _retry_after(failure.headers.get("Retry-After"))  # type: ignore[attr-defined]
            if failure.code in RETRY_STATUS:
                raise _Retryable(error) from failure
            raise error from failure
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as failure:
            raise _Retryable(PortalError(f"{path}: {failure}")) from failure
        return _decode(path, payload, kind)

    def _pace(self) -> None:
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            self.sleep(self.interval - (now - self._last))
        self._last = self.clock()


class _Retryable(Exception):
    def __init__(self, error: PortalError) -> None:
        super().__init__(str(error))
        self.error = error


def _decode(path: str, payload: bytes, kind: str) -> Any:
    text = payload.decode("utf-8", "replace").lstrip()
    if "json" not in kind.lower() and not text.startswith(("{", "[")):
        raise _Retryable(NotJson(f"{path}: not JSON ({kind or 'no content type'}): {text[:60]!r}"))
    try:
        return json.loads(text)
    except ValueError as failure:
        raise _Retryable(NotJson(f"{path}: unreadable JSON: {text[:60]!r}")) from failure


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


# -------------------------------------------------------------------------------------------------- state


@dataclass
class State:
    """What a run has done so far, kept on disk so the next run resumes instead of starting over."""

    folder: Path

    @property
    def _file(self) -> Path:
        return self.folder / "state.json"

    @property
    def listing_file(self) -> Path:
        return self.folder / "listing.jsonl"

    @property
    def answers(self) -> Path:
        return self.folder / "answers"

    @property
    def candidate(self) -> Path:
        return self.folder / "candidate.jsonl.gz"

    @property
    def report(self) -> Path:
        return self.folder / "changes.txt"

    def load(self) -> dict:
        if self._file.is_file():
            return json.loads(self._file.read_text(encoding="utf-8"))
        return {"listing_done": False, "last_id": "", "failed": {}}

    def save(self, data: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(self._file, json.dumps(data, ensure_ascii=False, indent=1))

    def listing(self) -> list[dict]:
        """Listed procedures, once each (a resumed page may have been stored twice)."""
        if not self.listing_file.is_file():
            return []
        rows: dict[str, dict] = {}
        for line in self.listing_file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.setdefault(str(row.get("id")), row)
        return list(rows.values())

    def add_listing(self, rows: list[dict]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.listing_file.open("a", encoding="utf-8") as stream:
            stream.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)

    def answer_path(self, code: str) -> Path:
        return self.answers / f"{code}.json"

    def save_answer(self, code: str, answer: Any, fetched: str) -> None:
        self.answers.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.answer_path(code), json.dumps({"fetched": fetched, "answer": answer}, ensure_ascii=False))

    def stored_answers(self) -> Iterator[tuple[str, str, Any]]:
        for path in sorted(self.answers.glob("*.json")) if self.answers.is_dir() else []:
            stored = json.loads(path.read_text(encoding="utf-8"))
            yield path.stem, stored["fetched"], stored["answer"]

    def clear(self) -> None:
        for path in sorted(self.folder.rglob("*"), reverse=True) if self.folder.is_dir() else []:
            path.unlink() if path.is_file() else path.rmdir()


def _atomic_write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


# ---------------------------------------------------------------------------------------------------- run


@dataclass
class SyncResult:
    listed: int = 0
    fetched: int = 0  # answers fetched in this run
    stored: int = 0  # answers held in total (this run and earlier ones)
    failed: dict[str, str] = field(default_factory=dict)
    complete: bool = False  # the listing is whole and every listed procedure has an answer or a failure
    aborted: str | None = None
    changes: ChangeReport | None = None


def fetch_listing(client: Client, state: State, page_size: int) -> None:
    progress = state.load()
    while not progress["listing_done"]:
        body = {"limit": page_size, "lastId": progress["last_id"], "q": "", "categoryId": "", "departmentCode": ""}
        answer = client.post(LIST_PATH, body)
        data = answer.get("data") if isinstance(answer, dict) and answer.get("code") == "OK" else None
        if not isinstance(data, dict):
            raise PortalError(f"listing: unexpected answer {str(answer)[:80]!r}")
        items = [item for item in data.get("items") or [] if isinstance(item, dict)]
        state.add_listing(items)
        next_id = data.get("lastId")
        progress["listing_done"] = not items or not next_id or next_id == progress["last_id"]
        progress["last_id"] = next_id or progress["last_id"]
        state.save(progress)


def fetch_details(client: Client, state: State, today: str, max_failures_in_row: int = 5) -> SyncResult:
    result = SyncResult()
    progress = state.load()
    failures_in_row = 0
    listing = state.listing()
    result.listed = len(listing)
    for item in sorted(listing, key=lambda row: str(row.get("code"))):
        code = one_line(item.get("code"))
        if not code or state.answer_path(code).is_file():
            continue
        try:
            answer = client.post(DETAIL_PATH, {"id": item.get("id")})
            data = unwrap(answer)
            if one_line(data.get("code")) != code:
                raise NotAProcedure(f"asked for {code}, got {data.get('code')}")
        except (PortalError, NotAProcedure) as failure:
            progress["failed"][code] = str(failure)
            state.save(progress)
            failures_in_row += 1
            if failures_in_row >= max_failures_in_row:
                result.aborted = f"{failures_in_row} failures in a row (last: {failure}); run again later to resume"
                break
            continue
        failures_in_row = 0
        state.save_answer(code, answer, today)
        progress["failed"].pop(code, None)
        state.save(progress)
        result.fetched += 1
    result.failed = dict(progress["failed"])
    result.stored = sum(1 for _ in state.stored_answers())
    result.complete = progress["listing_done"] and result.aborted is None
    return result


# ---------------------------------------------------------------------------------------------- candidate


def build_candidate(state: State, old: list[OfficialRecord]) -> list[OfficialRecord]:
    """Fresh answers where the run got them; the previous record where it did not; titles for the rest.
    Procedures no longer listed are dropped (the change report calls them withdrawn), except the 2024-only
    records, which were never in the 2026 list."""
    previous = {record.code: record for record in old}
    answers = {code: (fetched, answer) for code, fetched, answer in state.stored_answers()}
    listed_on = state.load().get("listed_on", "")
    records = []
    for item in state.listing():
        code = one_line(item.get("code"))
        if not code or not _is_code(code):
            continue
        if code in answers:
            fetched, answer = answers[code]
            records.append(_complete(parse_detail(answer, fetched, source=SOURCE), previous.get(code)))
        elif code in previous:
            records.append(previous[code])
        else:
            records.append(_listed_title(item, listed_on))
    listed = {record.code for record in records}
    records += [r for r in old if r.code not in listed and r.source == "rag4publicsector-2024"]
    return records


def _complete(fresh: OfficialRecord, before: OfficialRecord | None) -> OfficialRecord:
    """Keep what the previous full record knew and the fresh answer leaves empty (as the import does)."""
    if before is None or not before.has_details or before.predates_2025_reform:
        return fresh
    update = {name: getattr(before, name) for name in FILLABLE if not getattr(fresh, name) and getattr(before, name)}
    return fresh.model_copy(update=update)


def _listed_title(item: dict, listed_on: str) -> OfficialRecord:
    groups = unique(one_line(t) for t in item.get("formalityTargetType") or [] if one_line(t))
    kind = procedure_type(item.get("type"))
    promulgated_by = one_line(item.get("departmentPromulgate")) or None
    return OfficialRecord(
        code=one_line(item.get("code")),
        name=one_line(item.get("name")),
        fields=unique(one_line(c) for c in item.get("categories") or [] if one_line(c)),
        target_groups=groups,
        audiences=audiences_of(groups),
        agency=", ".join(unique(one_line(d) for d in item.get("departments") or [] if one_line(d))) or None,
        portal_url=portal_url(one_line(item.get("id"))),
        source=SOURCE,
        crawled=listed_on or clock.today().isoformat(),
        detail="titles_only",
        type=kind,
        province=match_province(promulgated_by) if kind == "SPECIFIC" else None,
        promulgated_by=promulgated_by,
    )


def _is_code(code: str) -> bool:
    major, _, minor = code.partition(".")
    return major.isdigit() and minor.isdigit()


# ------------------------------------------------------------------------------------------------- driver


def sync(client: Client, state: State, snapshot: Path, page_size: int = 100, today: str | None = None) -> SyncResult:
    today = today or clock.today().isoformat()
    progress = state.load()
    progress.setdefault("listed_on", today)
    progress.setdefault("base_url", client.base_url)
    state.save(progress)
    try:
        fetch_listing(client, state, page_size)
    except PortalError as failure:
        return SyncResult(listed=len(state.listing()), aborted=f"listing stopped: {failure}; run again to resume")
    result = fetch_details(client, state, today)
    if not result.complete:
        return result
    old = load_snapshot(snapshot) if snapshot.is_file() else []
    still_listed = sum(1 for record in old if record.source != "rag4publicsector-2024")
    if result.listed < MIN_LISTED_SHARE * still_listed:
        # A short listing is far likelier a portal fault than half the catalogue withdrawn overnight.
        result.aborted = (f"the portal listed {result.listed} procedures, the snapshot has {still_listed}: "
                          "not building a candidate; check the portal, then run again with --restart")  # fmt: skip
        return result
    candidate = build_candidate(state, old)
    write_snapshot(candidate, state.candidate)
    result.changes = diff(old, candidate, listed=result.listed, fetched=result.stored, failed=result.failed,
                          base_url=client.base_url, day=today)  # fmt: skip
    state.report.write_text(result.changes.text(), encoding="utf-8")
    return result


def apply(state: State, snapshot: Path) -> int:
    if not state.candidate.is_file():
        print("[kb-sync-catalog] no candidate to apply: run `make kb-sync-catalog` first", file=sys.stderr)
        return 1
    records = load_snapshot(state.candidate)  # validates every record before anything is replaced
    size = write_snapshot(records, snapshot)
    print(f"[kb-sync-catalog] applied: {len(records)} records, {size:,} bytes → {snapshot}")
    print("[kb-sync-catalog] commit it: git add knowledge/data/official/catalog.jsonl.gz && git commit")
    state.clear()  # the next sync starts afresh
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apply", action="store_true", help="make the reviewed candidate the shipped snapshot")
    parser.add_argument("--restart", action="store_true", help="forget an unfinished run first")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between requests (default 1)")
    parser.add_argument("--retries", type=int, default=4, help="retries per request (default 4)")
    parser.add_argument("--page-size", type=int, default=100, help="procedures per listing page (default 100)")
    parser.add_argument("--state", type=Path, default=STATE_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    state = State(args.state)
    if args.apply:
        return apply(state, args.snapshot)
    if args.restart:
        state.clear()
    client = Client(base_url=settings.current().portal_url or DEFAULT_URL, interval=args.interval, retries=args.retries)
    print(f"[kb-sync-catalog] asking {client.base_url}, one request every {args.interval:g} s; "
          f"progress kept in {state.folder}")  # fmt: skip
    result = sync(client, state, args.snapshot, page_size=args.page_size)
    print(f"[kb-sync-catalog] listed {result.listed}, fetched {result.fetched} now ({result.stored} in all), "
          f"failed {len(result.failed)}, requests {client.requests}")  # fmt: skip
    if result.aborted:
        print(f"[kb-sync-catalog] stopped: {result.aborted}", file=sys.stderr)
        return 1
    assert result.changes is not None
    print(result.changes.text(), end="")
    print(f"[kb-sync-catalog] candidate: {state.candidate}; report: {state.report}")
    print("[kb-sync-catalog] review the report, then publish with: make kb-sync-catalog ARGS=--apply")
    return 0


if __name__ == "__main__":
    sys.exit(main())
