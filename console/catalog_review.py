"""Review a catalogue sync's candidate before applying it (`make kb-sync-catalog` fetches, staff decide here).

The change report is knowledge.tools.catalog.changes.diff between the shipped snapshot and the candidate the sync wrote
(var/catalog-sync/candidate.jsonl.gz), the same report the command prints, with the curated records each change
touches. Applying runs the sync's own `apply`, after keeping a copy of the replaced snapshot so the audit page can
revert it; then the index is rebuilt.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from console.config import Settings
from console.db import now
from knowledge.catalog.snapshot import load_snapshot
from knowledge.tools.catalog.changes import ChangeReport, diff
from knowledge.tools.catalog.sync import State, apply


def file_digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


# What a change of an official record changed, in staff's words (the sync report's "fee", "time"…).
CHANGED = {"fee": "phí", "time": "thời hạn", "agency": "cơ quan", "name": "tên"}
NAMED_CHANGES = 20  # the publish page names this many records a sync changes, then counts the rest


@dataclass(frozen=True)
class Review:
    report: ChangeReport
    text: str  # the report as the command prints it
    linked: dict[str, list[str]]  # official code -> curated records linking it, for the codes that changed


def told_changes(report: ChangeReport) -> list[str]:
    """What applying a sync changes for citizens, record by record (the first NAMED_CHANGES, then how many more)."""
    lines = [f"Thủ tục mới: «{r.name}»" for r in report.new]
    lines += [f"Không còn niêm yết: «{r.name}»" for r in report.withdrawn]
    lines += [f"«{c.name}»: {CHANGED.get(c.what, c.what)}" for c in report.changes]
    more = len(lines) - NAMED_CHANGES
    return lines[:NAMED_CHANGES] + ([f"… và {more} thay đổi khác (xem trang Đồng bộ danh mục)"] if more > 0 else [])


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


def review(settings: Settings, linked_codes: dict[str, list[str]]) -> Review | None:
    """The change report of the waiting candidate, or None when no sync is waiting for review."""
    state = State(settings.sync_state)
    if not state.candidate.is_file() or not settings.snapshot.is_file():
        return None
    report = _report(_stamp(settings.snapshot), _stamp(state.candidate), str(settings.sync_state))
    touched = {r.code for r in report.new + report.withdrawn} | {c.code for c in report.changes}
    linked = {code: ids for code, ids in linked_codes.items() if code in touched}
    return Review(report, report.text(), linked)


@functools.lru_cache(maxsize=2)
def _report(snapshot: tuple[str, int, int], candidate: tuple[str, int, int], folder: str) -> ChangeReport:
    """Cached per file version: reading two catalogues of 7,500 records takes seconds."""
    state = State(Path(folder))
    progress = state.load()
    return diff(
        load_snapshot(Path(snapshot[0])), load_snapshot(Path(candidate[0])), listed=len(state.listing()),
        fetched=sum(1 for _ in state.stored_answers()), failed=dict(progress.get("failed") or {}),
        base_url=str(progress.get("base_url") or ""), day=str(progress.get("listed_on") or ""),
    )  # fmt: skip


def apply_candidate(settings: Settings) -> tuple[str, str | None, str]:
    """Apply the candidate: (backup file name, digest of the new snapshot, what the sync printed)."""
    settings.backups.mkdir(parents=True, exist_ok=True)
    backup = settings.backups / f"catalog-{now().replace(':', '')}.jsonl.gz"
    shutil.copyfile(settings.snapshot, backup)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = apply(State(settings.sync_state), settings.snapshot)
    if code != 0:
        backup.unlink(missing_ok=True)
        raise RuntimeError(out.getvalue().strip() or "không áp dụng được bản đồng bộ")
    forget_cached_catalogue()
    return backup.name, file_digest(settings.snapshot), out.getvalue()


def forget_cached_catalogue() -> None:
    """The linter keeps the catalogue it read: after a new snapshot it must read it again."""
    from knowledge.tools.records.official_check import official_records

    official_records.cache_clear()
    _report.cache_clear()
