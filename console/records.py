"""The knowledge as the console reads and edits it: curated record files, the official catalogue, dev questions.

Edits go through the same files staff edit by hand, with ruamel.yaml's round trip so comments, key order, quotes
and flow lists stay as they were (every shipped record round-trips byte for byte). Before anything is written, the
edited text is checked by the project's linter (knowledge.tools.records.lint) beside the other files, and refused when
it has errors — including an alias that nearly copies a frozen test question.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import re
import shutil
import tempfile
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from console.config import Settings
from knowledge.catalog.model import OfficialRecord, display_name
from knowledge.language import expand_abbreviations, syllables
from knowledge.records.facts import SUPPLIED_FACTS, fact_lines, fact_sources, from_official
from knowledge.records.loader import ParsedFile, Problem, knowledge_files, parse_files
from knowledge.records.schema import Channel, Domain, Level, OnlineLevel, Procedure, procedure_model
from knowledge.text import clean, fold
from knowledge.tools.records.lint import TEST_QUESTIONS, lint
from knowledge.tools.records.official_check import official_records

RECORD_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
OFFICIAL_CODE = re.compile(r"^\d+\.\d+$")
# Canonical order of a procedure's keys (the template's): a key added by the form goes to its usual place.
KEY_ORDER = (
    "id", "name", "official_codes", "aliases", "domain", "level", "agency", "submission", "documents", "steps",
    "processing_time", "fee", "eligibility", "result", "legal_basis", "source", "last_reviewed", "reform_2025",
    "notes",
)  # fmt: skip


class RecordNotFound(LookupError):
    """No such record, or an id that could not be one (never a path outside the procedures folder)."""


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str  # text | lines | area | select | checks | date
    hint: str = ""
    choices: tuple[str, ...] = ()

    def choice_label(self, value: str) -> str:
        """What staff read for a stored value (the files keep the schema's words)."""
        return CHOICE_LABELS.get(value, value) or "(để trống)"


# Values the schema keeps in English, as staff read them in the form and in messages.
CHOICE_LABELS = {"confirmed": "đã đối chiếu, khớp bản ghi chính thức 2026", "unverified": "chưa xác minh lại"}


FORM: tuple[FormField, ...] = (
    FormField("name", "Tên thủ tục", "text"),
    FormField("official_codes", "Mã thủ tục chính thức", "text", "Mã chính trước, cách nhau bằng dấu phẩy: 1.001193"),
    FormField("aliases", "Tên gọi người dân hay dùng", "lines", "Mỗi dòng một tên gọi."),
    FormField("domain", "Lĩnh vực", "select", choices=typing.get_args(Domain)),
    FormField("level", "Cấp giải quyết", "select", choices=("", *typing.get_args(Level))),
    FormField("agency", "Cơ quan giải quyết", "text"),
    FormField("where", "Nơi nộp hồ sơ", "area"),
    FormField("channels", "Cách nộp", "checks", choices=typing.get_args(Channel)),
    FormField("online_available", "Nộp trực tuyến được không", "select", choices=("", "có", "không")),
    FormField("online_level", "Mức trực tuyến", "select", choices=("", *typing.get_args(OnlineLevel))),
    FormField("online_portal", "Nộp trực tuyến ở đâu", "text"),
    FormField("documents", "Giấy tờ cần chuẩn bị", "lines", "Mỗi dòng một giấy tờ: tên | số bản | lưu ý."),
    FormField("steps", "Các bước thực hiện", "lines", "Mỗi dòng một bước."),
    FormField("processing_time", "Thời hạn giải quyết", "area"),
    FormField("fee", "Phí, lệ phí", "area"),
    FormField("eligibility", "Đối tượng, điều kiện", "area"),
    FormField("result", "Kết quả", "area"),
    FormField("legal_basis", "Căn cứ pháp lý", "lines", "Mỗi dòng một văn bản, kèm số hiệu."),
    FormField("source", "Nguồn đã đối chiếu", "text"),
    FormField("last_reviewed", "Ngày rà soát", "date", "Ngày/tháng/năm, ví dụ 27/11/2026. Để nguyên thì khi lưu "
              "thay đổi, ngày rà soát được ghi là hôm nay."),
    FormField("reform_status", "Sắp xếp 2025: trạng thái", "select", choices=("", "confirmed", "unverified")),
    FormField("reform_note", "Sắp xếp 2025: ghi chú", "area"),
    FormField("notes", "Lưu ý thêm cho người dân", "area"),
)
FORM_NAMES = frozenset(f.name for f in FORM)
# The official record's facts (knowledge.records.facts.SUPPLIED_FACTS) beside the form fields that hold them.
OFFICIAL_BESIDE = {"level": "levels", "agency": "agency", "where": "where", "online_available": "online",
                   "documents": "documents", "processing_time": "time", "fee": "fee", "steps": "steps",
                   "eligibility": "eligibility", "result": "result", "legal_basis": "legal_basis"}  # fmt: skip


def round_trip() -> YAML:
    loader = YAML()
    loader.preserve_quotes = True
    loader.width = 4096  # never fold a long line: staff read these files
    loader.indent(mapping=2, sequence=4, offset=2)
    return loader


def dump(data: Any) -> str:
    stream = io.StringIO()
    round_trip().dump(data, stream)
    return stream.getvalue()


# ---------------------------------------------------------------- finding records


def record_path(settings: Settings, record_id: str) -> Path:
    """The file of a curated record; anything that is not a plain id of an existing file is refused."""
    if not RECORD_ID.match(record_id or "") or len(record_id) > 120:
        raise RecordNotFound(record_id)
    folder = settings.procedures_dir.resolve()
    path = (folder / f"{record_id}.yml").resolve()
    if path.parent != folder or not path.is_file():
        raise RecordNotFound(record_id)
    return path


def _stamp(paths: list[Path]) -> tuple[tuple[str, int], ...]:
    return tuple((str(p), p.stat().st_mtime_ns) for p in paths if p.exists())


def parsed_knowledge(settings: Settings) -> list[ParsedFile]:
    """Every procedure and guide file, parsed (cached until a file changes)."""
    files = knowledge_files(settings.knowledge_dir)
    return _parsed(_stamp(files))


@functools.lru_cache(maxsize=4)
def _parsed(stamp: tuple[tuple[str, int], ...]) -> list[ParsedFile]:
    return parse_files([Path(name) for name, _ in stamp])


def catalog(settings: Settings) -> dict[str, OfficialRecord]:
    """The official catalogue of this knowledge folder by code (read once, again when the snapshot changes)."""
    if not settings.snapshot.is_file():
        return {}
    return official_records(settings.snapshot.resolve())  # one cache with the checker


@dataclass(frozen=True)
class RecordRow:
    id: str
    title: str
    kind: str  # procedure | guide | official
    domain: str
    codes: tuple[str, ...] = ()
    errors: int = 0


def curated_rows(settings: Settings) -> list[RecordRow]:
    rows = []
    for item in parsed_knowledge(settings):
        data = item.data if isinstance(item.data, dict) else {}
        errors = sum(p.severity == "error" for p in item.problems)
        title = str(data.get("name") or data.get("title") or item.path.stem)
        codes = tuple(str(c) for c in data.get("official_codes") or ())
        rows.append(RecordRow(item.path.stem, title, item.kind, str(data.get("domain") or ""), codes, errors))
    return sorted(rows, key=lambda r: (r.kind != "procedure", r.id))


def titles(settings: Settings) -> dict[str, str]:
    """A readable name for every id the journal may hold: curated ids, guide ids and official codes."""
    found = {code: display_name(r.name) for code, r in catalog(settings).items()}
    found.update({row.id: row.title for row in curated_rows(settings)})
    return found


def search(settings: Settings, query: str, limit: int = 40) -> tuple[list[RecordRow], list[RecordRow]]:
    """Curated and official records whose id, code or name holds every word of the query (without diacritics)."""
    wanted = fold(clean(query)).split()

    def matches(*texts: str) -> bool:
        folded = fold(" ".join(texts))
        return all(w in folded for w in wanted)

    curated = [r for r in curated_rows(settings) if matches(r.id, r.title, " ".join(r.codes))]
    official: list[RecordRow] = []
    if wanted:
        for record in catalog(settings).values():
            if matches(record.code, record.name):
                official.append(RecordRow(record.code, display_name(record.name), "official", "; ".join(record.fields)))
                if len(official) >= limit:
                    break
    return curated[:limit], official


# ---------------------------------------------------------------- form <-> YAML


def _lines(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def form_values(data: Any) -> dict[str, Any]:
    """A record's raw YAML data as the form shows it."""
    data = data if isinstance(data, dict) else {}
    sub: dict[str, Any] = data["submission"] if isinstance(data.get("submission"), dict) else {}
    online: dict[str, Any] = sub["online"] if isinstance(sub.get("online"), dict) else {}
    reform: dict[str, Any] = data["reform_2025"] if isinstance(data.get("reform_2025"), dict) else {}
    available = online.get("available")
    docs = []
    for doc in data.get("documents") or []:
        if isinstance(doc, dict):
            parts = [str(doc.get("name") or ""), str(doc.get("copies", "")), str(doc.get("note") or "")]
            docs.append(" | ".join(parts).rstrip(" |"))
    simple = ("name", "domain", "level", "agency", "processing_time", "fee", "eligibility", "result", "source", "notes")
    values: dict[str, Any] = {key: "" if data.get(key) is None else str(data.get(key)) for key in simple}
    values.update(
        official_codes=", ".join(str(c) for c in data.get("official_codes") or []),
        aliases="\n".join(_lines(data.get("aliases"))),
        where=str(sub.get("where") or ""),
        channels=_lines(sub.get("channels")),
        online_available={True: "có", False: "không"}.get(available, "") if isinstance(available, bool) else "",
        online_level=str(online.get("level") or ""),
        online_portal=str(online.get("portal") or ""),
        documents="\n".join(docs),
        steps="\n".join(_lines(data.get("steps"))),
        legal_basis="\n".join(_lines(data.get("legal_basis"))),
        last_reviewed=show_day(data.get("last_reviewed")),
        reform_status=str(reform.get("status") or ""),
        reform_note=str(reform.get("note") or ""),
    )
    return values


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    return clean(value) if isinstance(value, str) else ""


def _list(values: dict[str, Any], name: str) -> list[str]:
    value = values.get(name)
    if isinstance(value, list):
        return [clean(v) for v in value if isinstance(v, str) and clean(v)]
    return [clean(line) for line in str(value or "").splitlines() if clean(line)]


def _document(line: str) -> CommentedMap:
    parts = [p.strip() for p in line.split("|")]
    doc = CommentedMap(name=parts[0])
    if len(parts) > 1 and parts[1]:
        doc["copies"] = int(parts[1]) if parts[1].isdigit() else parts[1]  # not a number: the linter says so
    if len(parts) > 2 and "|".join(parts[2:]).strip():
        doc["note"] = " | ".join(parts[2:]).strip()
    return doc


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[k], new[k]) for k in old)
    return type(old) is type(new) and old == new if isinstance(old, bool | int) else str(old) == str(new)


def _put(data: CommentedMap, key: str, value: Any, order: tuple[str, ...] = KEY_ORDER) -> None:
    """Set, replace or (empty value) remove a key, leaving untouched what did not change."""
    if value is None or value == "" or value == []:
        data.pop(key, None)
        return
    if key in data:
        old = data[key]
        if _same(old, value):
            return
        if isinstance(old, CommentedSeq) and isinstance(value, list) and not any(isinstance(v, dict) for v in value):
            old.clear()  # in place: a flow list ([trực tiếp, trực tuyến]) stays a flow list
            old.extend(value)
            return
        data[key] = value
        return
    rank = order.index(key) if key in order else len(order)
    position = sum(1 for k in data if (order.index(k) if k in order else len(order)) <= rank)
    data.insert(position, key, value)


def _mapping(data: CommentedMap, key: str, order: tuple[str, ...] = KEY_ORDER) -> CommentedMap:
    """The mapping under `key`, a new one put in its place (by `order`) when there is none yet."""
    found = data.get(key)
    if isinstance(found, CommentedMap):
        return found
    mapping = CommentedMap()
    _put(data, key, mapping, order)
    return mapping


DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})$")


def parse_day(text: str) -> dt.date | None:
    """A date as staff type it, 27/11/2026 (also 27-11-2026, 27.11.2026, 1/7/2026) or 2026-11-27; None otherwise."""
    text = text.strip()
    found = DAY_MONTH_YEAR.match(text)
    try:
        if found:
            day, month, year = map(int, found.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def show_day(value: Any) -> str:
    """A date as staff read it: 27/11/2026 (text that is not a date, as it is)."""
    day = value if isinstance(value, dt.date) else parse_day(str(value or ""))
    return day.strftime("%d/%m/%Y") if day else str(value or "")


def _date(text: str) -> Any:
    return parse_day(text) or text or None  # not a date: kept as typed, the checker says what is wrong


def review_today(original: str, values: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The form's values with the review date set to today, unless staff typed another date than the file's."""
    kept = show_day((yaml.safe_load(original) or {}).get("last_reviewed"))
    typed = _text(values, "last_reviewed")
    if typed and parse_day(typed) != parse_day(kept):
        return values
    return {**values, "last_reviewed": show_day(today)}


def apply_form(original: str, values: dict[str, Any]) -> str:
    """The record file's text with the form's values written in; comments and untouched fields stay as they were."""
    data = round_trip().load(original)
    if not isinstance(data, CommentedMap):
        data = CommentedMap()
    for key in ("name", "domain", "level", "agency", "processing_time", "fee", "eligibility", "result", "source",
                "notes"):  # fmt: skip
        _put(data, key, _text(values, key))
    _put(data, "official_codes", _codes(_text(values, "official_codes")))
    _put(data, "aliases", _list(values, "aliases"))
    _put(data, "steps", _list(values, "steps"))
    _put(data, "legal_basis", _list(values, "legal_basis"))
    _put(data, "documents", [_document(line) for line in _list(values, "documents")])
    _put(data, "last_reviewed", _date(_text(values, "last_reviewed")))
    _submission(data, values)
    _reform(data, values)
    return dump(data)


def _codes(text: str) -> list[str]:
    """Codes as the template writes them, ["1.001193"]: quoted, so YAML never reads one as a number."""
    codes = CommentedSeq(DoubleQuotedScalarString(c.strip()) for c in re.split(r"[,;\s]+", text) if c.strip())
    codes.fa.set_flow_style()
    return codes


def _submission(data: CommentedMap, values: dict[str, Any]) -> None:
    where, channels = _text(values, "where"), _list(values, "channels")
    available = {"có": True, "không": False}.get(_text(values, "online_available"))
    level, portal = _text(values, "online_level"), _text(values, "online_portal")
    if not (where or channels or available is not None or level or portal):
        data.pop("submission", None)
        return
    sub = _mapping(data, "submission")
    order = ("where", "channels", "online")
    _put(sub, "where", where, order)
    _put(sub, "channels", channels, order)
    online = _mapping(sub, "online", order)
    online_order = ("available", "level", "portal")
    _put(online, "available", available, online_order)
    _put(online, "level", level, online_order)
    _put(online, "portal", portal, online_order)


def _reform(data: CommentedMap, values: dict[str, Any]) -> None:
    status, note = _text(values, "reform_status"), _text(values, "reform_note")
    if not (status or note):
        data.pop("reform_2025", None)
        return
    reform = _mapping(data, "reform_2025")
    _put(reform, "status", status, ("status", "note"))
    _put(reform, "note", note, ("status", "note"))


def form_field(problem_field: str) -> str:
    """The form field a linter problem belongs to ("submission.online.level" -> "online_level")."""
    head = re.split(r"[.\[]", problem_field, maxsplit=1)[0]
    if head == "submission":
        for part, name in (("online.available", "online_available"), ("online.level", "online_level"),
                           ("online.portal", "online_portal"), ("online", "online_available"),
                           ("channels", "channels")):  # fmt: skip
            if f".{part}" in problem_field:
                return name
        return "where"
    if head == "reform_2025":
        return "reform_note" if ".note" in problem_field else "reform_status"
    return head if head in FORM_NAMES else "_general"


# ---------------------------------------------------------------- the official record beside the form


@dataclass(frozen=True)
class Beside:
    """What the official record says for one form field, and which value the bot gives citizens."""

    code: str
    lines: tuple[str, ...]  # the official value as text lines (empty: the official record is silent)
    uses: str  # official | curated | "" (neither says anything)


def linked_records(settings: Settings, data: Any) -> list[OfficialRecord]:
    codes = data.get("official_codes") if isinstance(data, dict) else None
    found = catalog(settings) if codes else {}
    return [found[str(c)] for c in codes or [] if str(c) in found]


def official_beside(settings: Settings, data: Any, day: dt.date, fallback: Any = None) -> dict[str, Beside]:
    """Per form field the official record supplies, its value and which one the bot uses (the decision is
    knowledge.records.facts'): for a record linked to the catalogue, else nothing. `data` is the record as edited;
    while it does not validate, `fallback` (the saved file) says which value the bot uses."""
    linked = linked_records(settings, data)
    if not linked:
        return {}
    proc = _procedure(data) or _procedure(fallback)
    sources = fact_sources(proc, linked, day) if proc else dict.fromkeys(SUPPLIED_FACTS, "?")
    official = from_official(linked[0])
    return {field: Beside(linked[0].code, fact_lines(official, fact, day), sources[fact])
            for field, fact in OFFICIAL_BESIDE.items()}  # fmt: skip


def _procedure(data: Any) -> Procedure | None:
    try:
        return procedure_model(data).model_validate(data)
    except ValueError:  # pydantic's ValidationError is one
        return None


# ---------------------------------------------------------------- checking before writing


def test_questions_file(settings: Settings) -> Path:
    beside = settings.dev_questions.with_name("test.yml")
    return beside if beside.is_file() else TEST_QUESTIONS


def lint_candidate(settings: Settings, record_id: str, text: str) -> list[Problem]:
    """The linter's problems of a record file as it would be with `text`, checked beside every other file."""
    work = Path(tempfile.mkdtemp(prefix="console-lint-"))
    try:
        (work / "procedures").mkdir()
        official = settings.knowledge_dir / "official"
        if official.is_dir():  # the official check reads the catalogue beside the file
            (work / "official").symlink_to(official.resolve())
        candidate = work / "procedures" / f"{record_id}.yml"
        candidate.write_text(text, encoding="utf-8")
        others = [p for p in knowledge_files(settings.knowledge_dir) if p.name != candidate.name]
        problems, _ = lint([*others, candidate], test_questions=test_questions_file(settings))
        return [p for p in problems if p.file == candidate]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def write_text(path: Path, text: str) -> None:
    """Atomically (the build or a reader never sees half a file); the temporary name starts with a dot, which the
    loader skips."""
    partial = path.with_name(f".{path.name}.console-partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def changed_fields(old_text: str, new_text: str) -> list[tuple[str, str, str]]:
    """(field, old, new) for each top-level field that differs, in the record's order."""
    old, new = yaml.safe_load(old_text) or {}, yaml.safe_load(new_text) or {}
    keys = [k for k in KEY_ORDER if k in old or k in new] + sorted((old.keys() | new.keys()) - set(KEY_ORDER))
    return [(k, short(old.get(k)), short(new.get(k))) for k in keys if old.get(k) != new.get(k)]


# Form fields whose change alters no answer a citizen reads (an alias changes which questions find the record).
NOT_TOLD = frozenset({"aliases", "last_reviewed"})


def told_changes(old_text: str, new_text: str) -> list[tuple[str, str, str]]:
    """(label, before, after) for each form field whose change alters what citizens are told, as the form shows it."""
    before, after = form_values(yaml.safe_load(old_text)), form_values(yaml.safe_load(new_text))
    changes = []
    for field in FORM:
        old, new = before[field.name], after[field.name]
        if field.name in NOT_TOLD or old == new:
            continue
        if field.kind in ("select", "checks"):
            old, new = (", ".join(map(field.choice_label, v)) if isinstance(v, list) else field.choice_label(v)
                        for v in (old, new))  # fmt: skip
        changes.append((field.label, old or "(trống)", new or "(trống)"))
    return changes


def short(value: Any, limit: int = 120) -> str:
    if value is None:
        return "(trống)"
    if isinstance(value, list):
        text = "; ".join(short(v, limit) if isinstance(v, dict) else str(v) for v in value)
    elif isinstance(value, dict):
        text = ", ".join(f"{k}: {v}" for k, v in value.items())
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- aliases and dev questions


def with_alias(original: str, alias: str) -> str:
    """The record's text with one more alias at the end of its list."""
    data = round_trip().load(original)
    aliases = data.get("aliases")
    if not isinstance(aliases, CommentedSeq):
        aliases = CommentedSeq()
        _put(data, "aliases", aliases)
    aliases.append(alias)
    return dump(data)


def has_alias(original: str, alias: str) -> bool:
    data = yaml.safe_load(original) or {}
    return fold(alias) in {fold(str(a)) for a in [data.get("name", ""), *(data.get("aliases") or [])]}


def question_words(text: str) -> str:
    """How the question splits are compared (tests/knowledge/test_questions.py): folded, one spelling, expanded."""
    return " ".join(syllables(expand_abbreviations(text)))


def split_holding(settings: Settings, question: str) -> str | None:
    """The labelled split (dev / test / calibration) that already holds this question, if any."""
    wanted = question_words(question)
    for split in ("dev", "test", "calibration"):
        path = settings.dev_questions.with_name(f"{split}.yml")
        if split == "test" and not path.is_file():
            path = TEST_QUESTIONS
        if not path.is_file():
            continue
        blocks = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for block in blocks:
            for row in block.get("questions", [block]) or []:
                if question_words(str(row.get("q", ""))) == wanted:
                    return split
    return None


CONSOLE_BLOCK = "(bảng điều khiển cán bộ)"


def with_dev_question(original: str, question: str, expect: str, username: str, day: dt.date) -> str:
    """dev.yml with the question added: to the last block when this staff member wrote it today from the console,
    else in a new block saying who and when (the split's provenance rule)."""
    import json

    blocks = yaml.safe_load(original) or []
    last = blocks[-1] if blocks else {}
    by = f"{username} {CONSOLE_BLOCK}"
    row = f"    - q: {json.dumps(question, ensure_ascii=False)}\n      expect: {json.dumps(expect)}\n"
    text = original if original.endswith("\n") or not original else original + "\n"
    written_on = last.get("on", last.get(True)) if isinstance(last, dict) else None  # YAML 1.1 reads `on:` as True
    if isinstance(last, dict) and last.get("by") == by and str(written_on) == day.isoformat():
        return text + row
    head = (
        f"\n- by: {by}\n  on: {day.isoformat()}\n"
        "  note: Câu hỏi người dân đã hỏi mà trợ lý chưa trả lời được, gắn với thủ tục từ bảng điều khiển.\n"
        "  questions:\n"
    )
    return text + head + row
