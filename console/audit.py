"""Every change made from the console, logged with who, when and what (old → new), and how to undo it.

A change to a file keeps the file's whole text before and after, so a revert restores exactly what was there — and
only while the file is still as the change left it (a later edit must be reverted first). Marks and claims keep
their row. A revert is itself a logged change; the original points at it.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from console.config import Settings
from console.db import audit, gap_marks, now
from console.labels import field_label
from console.records import changed_fields, short, write_text

# What each action is called on the audit page.
ACTION_NAMES = {
    "record.edit": "Sửa thủ tục",
    "alias.add": "Thêm tên gọi",
    "dev_question.add": "Thêm câu hỏi mẫu",
    "gap.out_of_scope": "Ngoài phạm vi",
    "handoff.take": "Nhận yêu cầu gặp cán bộ",
    "handoff.reply": "Trả lời người dân",
    "handoff.release": "Trả lại yêu cầu gặp cán bộ",
    "handoff.done": "Kết thúc yêu cầu gặp cán bộ",
    "catalog.apply": "Áp dụng đồng bộ danh mục",
    "handoff.callback_reveal": "Xem số gọi lại",
    "privacy.forget": "Xóa dữ liệu người dân",
    "revert": "Hoàn tác",
    "staff.add": "Tạo tài khoản",
    "staff.reset": "Đặt lại mật khẩu, vai trò",
    "staff.password": "Đổi mật khẩu",
    "staff.disable": "Khoá tài khoản",
    "staff.enable": "Mở khoá tài khoản",
    "staff.remove": "Xoá tài khoản",
}
ACCOUNT_ACTIONS = {action for action in ACTION_NAMES if action.startswith("staff.")}  # recorded, never reverted
PRIVACY_ACTIONS = {"handoff.callback_reveal", "privacy.forget"}  # a number seen, data deleted: nothing to undo
# What a citizen was told cannot be taken back; a claim is given back with «Trả lại» on the handoff page.
HANDOFF_ACTIONS = {"handoff.take", "handoff.reply", "handoff.release", "handoff.done"}


Marks = tuple[list[str], list[dict[str, Any]]]  # question keys, and their marks before a change ({} for none)


class RevertRefused(RuntimeError):
    """Why a change cannot be reverted now, in Vietnamese."""


@dataclass(frozen=True)
class FieldChange:
    """One field of a record as a change left it: before and after, or for a list the items added and removed."""

    label: str  # the field's name in the editor («Phí, lệ phí»)
    before: str
    after: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def reversed(self) -> FieldChange:
        """The same field as undoing the change leaves it."""
        return FieldChange(self.label, self.after, self.before, self.removed, self.added)


ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _readable(value: str) -> str:
    """A date as staff write it (27/11/2026), anything else as it is."""
    found = ISO_DAY.match(value)
    return f"{found.group(3)}/{found.group(2)}/{found.group(1)}" if found else value


@dataclass(frozen=True)
class Entry:
    id: int
    ts: str
    username: str
    action: str
    target: str
    summary: str
    old: Any
    new: Any
    revert_of: int | None
    reverted_by: int | None

    @property
    def action_name(self) -> str:
        return ACTION_NAMES.get(self.action, self.action)

    @property
    def revertible(self) -> bool:
        return (self.action != "revert" and self.action not in ACCOUNT_ACTIONS | PRIVACY_ACTIONS | HANDOFF_ACTIONS
                and self.reverted_by is None)  # fmt: skip

    @property
    def is_file_change(self) -> bool:
        return isinstance(self.new, dict) and "text" in self.new

    def field_changes(self) -> list[FieldChange]:
        """Each field a change to a record of the knowledge base changed, named in Vietnamese."""
        if not self.is_file_change or self.new.get("place") != "knowledge":
            return []
        before, after = (self.old or {}).get("text") or "", self.new["text"] or ""
        old, new = yaml.safe_load(before) or {}, yaml.safe_load(after) or {}
        found = []
        for key, a, b in changed_fields(before, after):
            was, now = old.get(key), new.get(key)
            if isinstance(was, list) or isinstance(now, list):  # a list: the items added and removed, not two cut texts
                was_items, now_items = [short(x) for x in was or []], [short(x) for x in now or []]
                added = tuple(x for x in now_items if x not in was_items)
                removed = tuple(x for x in was_items if x not in now_items)
                if added or removed:
                    found.append(FieldChange(field_label(key), a, b, added, removed))
                    continue
            found.append(FieldChange(field_label(key), _readable(a), _readable(b)))
        return found

    def headline(self, names: dict[str, str]) -> str:
        """What the change was, in words: the record's name rather than its code, no field codes (those are in the
        before/after table, field_changes)."""
        name = names.get(self.target, self.target)
        if self.action == "record.edit":
            return f"Sửa thủ tục «{name}»"
        if self.action == "revert" and self.revert_of is not None and self.field_changes():
            return f"Hoàn tác thay đổi #{self.revert_of}: trả lại nội dung như trước thay đổi đó («{name}»)"
        return self.summary


def log(engine: sa.Engine, username: str, action: str, target: str, summary: str, old: Any = None, new: Any = None,
        revert_of: int | None = None) -> int:  # fmt: skip
    row = {
        "ts": now(), "username": username, "action": action, "target": target, "summary": summary,
        "old": json.dumps(old, ensure_ascii=False), "new": json.dumps(new, ensure_ascii=False), "revert_of": revert_of,
    }  # fmt: skip
    with engine.begin() as con:
        entry_id = int(con.execute(audit.insert().values(**row)).inserted_primary_key[0])  # type: ignore[index]
        if revert_of is not None:
            con.execute(audit.update().where(audit.c.id == revert_of).values(reverted_by=entry_id))
    return entry_id


def _entry(row: Any) -> Entry:
    return Entry(row.id, row.ts, row.username, row.action, row.target, row.summary, json.loads(row.old or "null"),
                 json.loads(row.new or "null"), row.revert_of, row.reverted_by)  # fmt: skip


def entries(engine: sa.Engine, limit: int = 100, offset: int = 0) -> list[Entry]:
    query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit).offset(offset)
    with engine.connect() as con:
        return [_entry(row) for row in con.execute(query)]


def entry(engine: sa.Engine, entry_id: int) -> Entry | None:
    with engine.connect() as con:
        row = con.execute(sa.select(audit).where(audit.c.id == entry_id)).first()
    return _entry(row) if row else None


# ---------------------------------------------------------------- files changed by the console


def file_state(settings: Settings, path: Path, text: str | None) -> dict[str, Any]:
    """How a file change is stored: where (relative to a known place, never an arbitrary path) and its text."""
    path = path.resolve()
    if path == settings.dev_questions.resolve():
        return {"place": "questions", "path": path.name, "text": text}
    return {"place": "knowledge", "path": str(path.relative_to(settings.knowledge_dir.resolve())), "text": text}


def stored_path(settings: Settings, state: dict[str, Any]) -> Path:
    if state.get("place") == "questions":
        return settings.dev_questions
    root = settings.knowledge_dir.resolve()
    path = (root / str(state.get("path"))).resolve()
    if root not in path.parents:
        raise RevertRefused("Đường dẫn tệp trong nhật ký không hợp lệ.")
    return path


def log_file_change(engine: sa.Engine, settings: Settings, username: str, action: str, target: str, summary: str,
                    path: Path, old_text: str | None, new_text: str, marks: Marks | None = None) -> int:  # fmt: skip
    """Log a file change; `marks` (keys, their previous marks) when it also dealt with unanswered questions."""
    old, new = file_state(settings, path, old_text), file_state(settings, path, new_text)
    if marks:
        new["mark_keys"], old["marks"] = marks
    return log(engine, username, action, target, summary, old, new)


# ---------------------------------------------------------------- reverting


@dataclass(frozen=True)
class Reverted:
    entry_id: int  # the audit row of the revert
    rebuild: bool  # the knowledge changed: the index must be rebuilt


def revert(engine: sa.Engine, settings: Settings, entry_id: int, username: str) -> Reverted:
    found = entry(engine, entry_id)
    if found is None:
        raise RevertRefused("Không tìm thấy thay đổi này trong nhật ký.")
    if not found.revertible:
        raise RevertRefused("Thay đổi này đã được hoàn tác, hoặc chính nó là một lần hoàn tác.")
    if found.is_file_change:
        return _revert_file(engine, settings, found, username)
    if found.action == "gap.out_of_scope":
        return _revert_mark(engine, found, username)
    if found.action == "catalog.apply":
        return _revert_catalog(engine, settings, found, username)
    raise RevertRefused("Loại thay đổi này không hoàn tác được.")


def _revert_file(engine: sa.Engine, settings: Settings, found: Entry, username: str) -> Reverted:
    path = stored_path(settings, found.new)
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if current != found.new["text"]:
        raise RevertRefused(
            f"Tệp {path.name} đã được sửa sau thay đổi #{found.id}: hãy hoàn tác các thay đổi sau trước "
            "(từ mới đến cũ)."
        )
    before = (found.old or {}).get("text")
    if before is None:
        path.unlink()
    else:
        write_text(path, before)
    restore_marks(engine, found)
    summary = f"Hoàn tác #{found.id}, trả lại như trước khi: {found.summary}"
    entry_id = log(engine, username, "revert", found.target, summary, found.new, found.old, found.id)
    return Reverted(entry_id, found.new.get("place") == "knowledge")


def _revert_mark(engine: sa.Engine, found: Entry, username: str) -> Reverted:
    restore_marks(engine, found)
    summary = f"Hoàn tác #{found.id}, bỏ thay đổi: {found.summary}"
    return Reverted(log(engine, username, "revert", found.target, summary, found.new, found.old, found.id), False)


def restore_marks(engine: sa.Engine, found: Entry) -> None:
    """Put back the marks on unanswered questions as they were before the change (none: unmarked again)."""
    keys = (found.new or {}).get("mark_keys") or []
    previous = (found.old or {}).get("marks") or []
    with engine.begin() as con:
        for key in keys:
            con.execute(gap_marks.delete().where(gap_marks.c.question_key == key))
        for row in previous:
            if row:
                con.execute(gap_marks.insert().values(**row))


def _revert_catalog(engine: sa.Engine, settings: Settings, found: Entry, username: str) -> Reverted:
    from console.catalog_review import file_digest, forget_cached_catalogue

    backup = settings.backups / Path(str(found.old.get("backup"))).name
    if not backup.is_file():
        raise RevertRefused("Không còn bản sao danh mục trước khi áp dụng, không hoàn tác được.")
    if file_digest(settings.snapshot) != found.new.get("sha256"):
        raise RevertRefused("Danh mục đã thay đổi sau lần áp dụng này: hãy hoàn tác các thay đổi sau trước.")
    shutil.copyfile(backup, settings.snapshot.with_name(settings.snapshot.name + ".partial"))
    settings.snapshot.with_name(settings.snapshot.name + ".partial").replace(settings.snapshot)
    forget_cached_catalogue()
    summary = f"Hoàn tác #{found.id}: trả lại danh mục chính thức như trước khi áp dụng"
    return Reverted(log(engine, username, "revert", found.target, summary, found.new, found.old, found.id), True)


def mark_gap(engine: sa.Engine, username: str, keys: list[str], status: str, target: str | None) -> Marks:
    """Mark unanswered questions (by key) as dealt with; returns the keys and their previous marks."""
    previous: list[dict] = []
    with engine.begin() as con:
        for key in keys:
            row = con.execute(sa.select(gap_marks).where(gap_marks.c.question_key == key)).first()
            previous.append(dict(row._mapping) if row else {})
            con.execute(gap_marks.delete().where(gap_marks.c.question_key == key))
            con.execute(gap_marks.insert().values(question_key=key, status=status, target=target, username=username,
                                                  ts=now()))  # fmt: skip
    return keys, previous
