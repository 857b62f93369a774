"""Read the staff-kept knowledge files and turn them into validated records.

    ks = load_knowledge()            # every knowledge/data/procedures/*.yml and knowledge/data/guides/*.md
    ks.procedures, ks.guides         # records that passed validation
    ks.problems                      # what is wrong, each with file and line; those files are left out
    guide_passages(guide)            # short stand-alone passages of a guide, for the index

Every problem points at the line of the offending field, because the people who fix them edit the
files by hand. Messages are in Vietnamese for the same reason.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from knowledge.records.schema import FACT_FIELDS, Guide, Procedure, UnlinkedProcedure, procedure_model
from knowledge.text import fold, nfc

REPO_ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_ROOT = REPO_ROOT / "knowledge" / "data"  # the records, the official catalogue, the vocabulary

Severity = Literal["error", "warning"]
Record = Procedure | Guide


@dataclass
class Problem:
    file: Path
    line: int
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{display_path(self.file)}:{self.line}: {self.field}: {self.message}"


@dataclass
class KnowledgeSet:
    procedures: list[Procedure]
    guides: list[Guide]
    problems: list[Problem]
    # Which file each loaded record came from (id -> path), for messages and rebuild checks.
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def procedure(self, doc_id: str) -> Procedure | None:
        return next((p for p in self.procedures if p.id == doc_id), None)

    def guide(self, doc_id: str) -> Guide | None:
        return next((g for g in self.guides if g.id == doc_id), None)


@dataclass
class ParsedFile:
    """One file after parsing: the record (None when it has errors), its problems and field lines."""

    path: Path
    kind: Literal["procedure", "guide"]
    record: Record | None
    problems: list[Problem]
    lines: dict[str, int]  # field path ("documents[2].name") -> 1-based line in the file
    data: Any = None  # the raw YAML data (front matter for guides)
    body_line: int = 0  # guides: line number of the first body line


def display_path(path: Path) -> str:
    """Path relative to the repository root when it lies inside it."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- YAML with line numbers


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so pydantic judges them and reports a bad one as a field error
    (PyYAML would otherwise crash on "2025-13-01" without saying which field)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# The same with libyaml's parser, when PyYAML was built with it (the resolvers, hence the data, are the same).
_FastLoader: Any = None
if getattr(yaml, "CSafeLoader", None) is not None:
    _FastLoader = type("_FastLoader", (yaml.CSafeLoader,), {"yaml_implicit_resolvers": _Loader.yaml_implicit_resolvers})


def field_name(path: tuple[str | int, ...]) -> str:
    """("documents", 1, "name") -> "documents[2].name": items counted from 1, as staff count them."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _index_lines(
    node: yaml.Node, path: tuple[str | int, ...], lines: dict[str, int], duplicates: list[tuple[str, int]]
) -> None:
    """Record the line of every field and list item; note keys written twice (PyYAML keeps the last silently)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            name = field_name((*path, key))
            if name in lines:
                duplicates.append((name, key_node.start_mark.line + 1))
            else:
                lines[name] = key_node.start_mark.line + 1
            _index_lines(value_node, (*path, key), lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[field_name((*path, i))] = item.start_mark.line + 1
            _index_lines(item, (*path, i), lines, duplicates)


# PyYAML's wording -> what a person editing the file should do.
_YAML_HINTS = [
    ("'\\t'", "có ký tự Tab — dùng dấu cách để thụt lề, không dùng phím Tab"),
    ("tab", "có ký tự Tab — dùng dấu cách để thụt lề, không dùng phím Tab"),
    ("mapping values are not allowed", "có dấu «:» ở chỗ không được phép — nội dung có «: » thì đặt trong ngoặc kép"),
    ("could not find expected ':'", "thiếu dấu «:» sau tên trường, hoặc dòng trên bị xuống dòng giữa chừng"),
    ("expected <block end>", "thụt lề không thẳng hàng với các dòng cùng cấp (dùng đúng số dấu cách như dòng trên)"),
    ("end of stream", "thiếu dấu đóng ngoặc kép hoặc ngoặc vuông ở gần đây"),
    ("expected ',' or ']'", "danh sách trong ngoặc vuông [...] viết sai: các mục cách nhau bằng dấu phẩy"),
    ("found unexpected ':'", "có dấu «:» ở chỗ không được phép — nội dung có «: » thì đặt trong ngoặc kép"),
]


def _yaml_error(path: Path, exc: yaml.YAMLError, offset: int) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = (mark.line + 1 if mark else 1) + offset
    what = str(getattr(exc, "problem", None) or str(exc).splitlines()[0])
    hint = next((h for key, h in _YAML_HINTS if key in what), None)
    if hint is None:
        hint = (
            f"{what} — kiểm tra thụt lề (các trường cùng cấp phải thẳng hàng, dùng dấu cách), dấu «:» sau tên "
            "trường, và đặt nội dung có dấu «:» hoặc «#» trong ngoặc kép"
        )
    return Problem(path, line, "YAML", f"lỗi cú pháp: {hint}")


def _compose(text: str, loader_class: type[yaml.SafeLoader] | Any) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _parse_yaml(path: Path, text: str, offset: int) -> tuple[Any, dict[str, int], list[Problem]]:
    """Parse YAML text; ``offset`` is added to line numbers (front matter starts below the first ``---``).
    With libyaml (ten times faster: the console checks every file on each edit); a file it refuses is read again
    by PyYAML, whose wording the hints above explain."""
    try:
        node, data = _compose(text, _FastLoader or _Loader)
    except yaml.YAMLError:
        try:
            node, data = _compose(text, _Loader)
        except yaml.YAMLError as exc:
            return None, {}, [_yaml_error(path, exc, offset)]
    lines: dict[str, int] = {}
    duplicates: list[tuple[str, int]] = []
    if node is not None:
        _index_lines(node, (), lines, duplicates)
    lines = {name: line + offset for name, line in lines.items()}
    problems = [
        Problem(path, line + offset, name, "trường này được ghi hai lần; xóa một chỗ, chỉ giữ một")
        for name, line in duplicates
    ]
    return data, lines, problems


# --------------------------------------------------------------------------- pydantic errors -> problems


def _unwrap(annotation: Any) -> Any:
    """list[X] -> X, X | None -> X: the model class reached by one more step of a location."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (list, tuple, set):
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _model_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        current = _unwrap(current.model_fields[part].annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _line_for(loc: tuple[str | int, ...], lines: dict[str, int]) -> int:
    """Line of the field, or of its nearest written parent when the field itself is missing."""
    for end in range(len(loc), 0, -1):
        line = lines.get(field_name(loc[:end]))
        if line is not None:
            return line
    return min(lines.values(), default=1)


_EMPTY_TYPES = {"string_type", "list_type", "model_type", "dict_type", "bool_type", "int_type", "date_type"}


def error_message(error: ErrorDetails, model: type[BaseModel]) -> str:
    kind, loc, ctx = error["type"], error["loc"], error.get("ctx") or {}
    value = error.get("input")
    name = str(loc[-1]) if loc else ""
    if value is None and kind in _EMPTY_TYPES:
        return "đang để trống — hãy điền nội dung, hoặc xóa hẳn dòng này nếu trường không bắt buộc"
    if kind == "missing" and model is UnlinkedProcedure and len(loc) == 1 and name in FACT_FIELDS:
        return (
            f"thiếu trường bắt buộc — thêm dòng «{name}: ...», hoặc ghi mã thủ tục chính thức vào official_codes "
            "để trợ lý dùng số liệu chính thức (xem knowledge/README.md)"
        )
    if kind == "missing":
        return f"thiếu trường bắt buộc — thêm dòng «{name}: ...» (xem knowledge/README.md)"
    if kind == "string_type" and "official_codes" in loc and isinstance(value, int | float):
        return (
            f"YAML hiểu mã này là một con số ({value}) và có thể bỏ mất số 0 ở cuối — đặt mã trong ngoặc kép, "
            'ví dụ official_codes: ["1.014064", "2.001194"]'
        )
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        allowed = [f for f in (parent.model_fields if parent else {}) if f != "body"]
        close = difflib.get_close_matches(name, allowed, n=1)
        guess = f"có phải là «{close[0]}»? " if close else ""
        return f"tên trường không có trong mẫu (gõ nhầm?) — {guess}các trường được dùng ở đây: {', '.join(allowed)}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        choices = re.findall(r"'([^']*)'", expected)
        folded = {fold(c): c for c in choices}
        nearest = folded.get(fold(str(value))) or next(
            iter(difflib.get_close_matches(fold(str(value)), list(folded), n=1)), None
        )
        guess = f"có phải là «{folded.get(nearest, nearest)}»? " if nearest else ""
        return f"giá trị «{value}» không được chấp nhận — {guess}chọn một trong: {expected}"
    if kind.startswith("date"):
        return f"«{value}» không phải ngày hợp lệ — ghi theo dạng NĂM-THÁNG-NGÀY, ví dụ 2025-07-01"
    if kind == "string_too_short":
        return f"quá ngắn hoặc để trống — cần ít nhất {ctx.get('min_length')} ký tự"
    if kind == "too_short":
        return f"cần ít nhất {ctx.get('min_length')} mục, mỗi mục một dòng bắt đầu bằng «- »"
    if kind == "string_pattern_mismatch" and name == "id":
        return (
            f"mã «{value}» không hợp lệ — chỉ dùng chữ thường không dấu, chữ số và dấu gạch ngang, "
            "ví dụ ho-tich-khai-sinh"
        )
    if kind.startswith("bool"):
        return f"«{value}» không phải có/không — ghi true (có) hoặc false (không)"
    if kind.startswith("int"):
        return f"«{value}» không phải số — ghi một số nguyên, ví dụ 1"
    if kind == "greater_than_equal":
        return f"không được nhỏ hơn {ctx.get('ge')}"
    if kind == "string_type" and isinstance(value, bool | int | float):
        return (
            f"YAML hiểu nội dung này là {'true/false' if isinstance(value, bool) else 'một con số'} ({value}) — "
            'đặt cả nội dung trong ngoặc kép, ví dụ fee: "0 đồng" hoặc processing_time: "15:00"'
        )
    if kind == "string_type":
        return "phải là một đoạn chữ (một dòng), không phải danh sách hay nhóm trường"
    if kind == "list_type":
        return "phải là danh sách: mỗi mục một dòng bắt đầu bằng «- »"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "phải là một nhóm trường con, viết thụt vào ở các dòng bên dưới (xem file mẫu)"
    return error["msg"]


Model = TypeVar("Model", bound=BaseModel)


def _validate(
    path: Path, data: Any, model: type[Model], lines: dict[str, int]
) -> tuple[Model | None, list[Problem]]:
    if not isinstance(data, dict):
        return None, [Problem(path, 1, "file", "file trống hoặc không phải dạng «tên_trường: giá trị» — xem file mẫu")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = [
            Problem(path, _line_for(err["loc"], lines), field_name(err["loc"]) or "file", error_message(err, model))
            for err in exc.errors()
        ]
        return None, problems


# --------------------------------------------------------------------------- files


def _read(path: Path) -> tuple[str | None, list[Problem]]:
    try:
        return nfc(path.read_text(encoding="utf-8-sig")), []
    except UnicodeDecodeError:
        return None, [Problem(path, 1, "file", "file không lưu theo mã UTF-8 — mở lại và lưu với mã hóa UTF-8")]
    except OSError as exc:
        return None, [Problem(path, 1, "file", f"không đọc được file ({exc.strerror})")]


def parse_procedure_file(path: Path) -> ParsedFile:
    text, problems = _read(path)
    if text is None:
        return ParsedFile(path, "procedure", None, problems, {})
    data, lines, problems = _parse_yaml(path, text, 0)
    record = None
    if not any(p.field == "YAML" for p in problems):
        record, more = _validate(path, data, procedure_model(data), lines)
        problems += more
    return ParsedFile(path, "procedure", record if not problems else None, problems, lines, data)


_FENCE = re.compile(r"^(---|\.\.\.)\s*$")


def parse_guide_file(path: Path) -> ParsedFile:
    text, problems = _read(path)
    if text is None:
        return ParsedFile(path, "guide", None, problems, {})
    rows = text.splitlines()
    end = next((i for i in range(1, len(rows)) if _FENCE.match(rows[i])), None)
    if not rows or rows[0].strip() != "---" or end is None:
        message = "bài hướng dẫn phải mở đầu bằng phần thông tin đặt giữa hai dòng «---» (id, title, source, ...)"
        return ParsedFile(path, "guide", None, [Problem(path, 1, "front matter", message)], {})
    data, lines, problems = _parse_yaml(path, "\n".join(rows[1:end]), offset=1)
    if isinstance(data, dict) and "body" in data:
        problems.append(
            Problem(path, lines.get("body", 1), "body", "«body» không phải trường; nội dung viết sau dòng «---»")
        )
        data = {k: v for k, v in data.items() if k != "body"}
    record = None
    if not any(p.field == "YAML" for p in problems):
        record, more = _validate(path, data, Guide, lines)
        problems += more
    body = "\n".join(rows[end + 1 :]).strip("\n")
    if record is not None:
        record.body = body  # set after validation: the NFC validator would fold the newlines away
        if not body.strip():
            problems.append(Problem(path, end + 1, "body", "bài hướng dẫn chưa có nội dung sau dòng «---»"))
    return ParsedFile(path, "guide", record if not problems else None, problems, lines, data, end + 2)


def is_skipped(path: Path) -> bool:
    """Editor backups, drafts named _something, and a README are not records."""
    return path.name.startswith((".", "_", "~")) or path.name.lower() == "readme.md"


def knowledge_files(root: Path = KNOWLEDGE_ROOT) -> list[Path]:
    """Every procedure and guide file under ``root``, in a stable order."""
    root = Path(root)
    procedures = sorted(p for p in (root / "procedures").glob("*.y*ml") if p.suffix in (".yml", ".yaml"))
    guides = sorted((root / "guides").glob("*.md"))
    return [p for p in procedures + guides if p.is_file() and not is_skipped(p)]


def parse_file(path: Path) -> ParsedFile:
    """Parse one file: Markdown files are guides, YAML files procedures."""
    path = Path(path)
    return parse_guide_file(path) if path.suffix.lower() == ".md" else parse_procedure_file(path)


def parse_files(paths: Iterable[Path]) -> list[ParsedFile]:
    """Parse files and leave out every record whose id another file already uses (ids must be unique)."""
    parsed = [parse_file(p) for p in paths]
    by_id: dict[str, list[ParsedFile]] = {}
    for item in parsed:
        if item.record is not None:
            by_id.setdefault(item.record.id, []).append(item)
    for doc_id, items in by_id.items():
        # The file named after the id is the real one; a copy saved under another name loses.
        keep = next((i for i in items if i.path.stem == doc_id), items[0])
        for item in items:
            if item is keep:
                continue
            item.problems.append(
                Problem(
                    item.path,
                    item.lines.get("id", 1),
                    "id",
                    f"mã «{doc_id}» đã được dùng ở {display_path(keep.path)} — "
                    "mỗi thủ tục/bài hướng dẫn cần một mã riêng",
                )
            )
            item.record = None
    return parsed


def load_files(paths: Iterable[Path]) -> KnowledgeSet:
    parsed = parse_files(paths)
    ks = KnowledgeSet([], [], [])
    for item in parsed:
        ks.problems.extend(item.problems)
        if isinstance(item.record, Procedure):
            ks.procedures.append(item.record)
        elif isinstance(item.record, Guide):
            ks.guides.append(item.record)
        if item.record is not None:
            ks.files[item.record.id] = item.path
    return ks


def load_knowledge(root: Path = KNOWLEDGE_ROOT) -> KnowledgeSet:
    """Load every procedures/*.yml and guides/*.md under ``root``; files with errors are reported and left out."""
    return load_files(knowledge_files(root))


# --------------------------------------------------------------------------- guide passages

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_MARKUP = re.compile(r"(\*\*|__|`|^\s*>\s?)")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")
MIN_WORDS, MAX_WORDS = 40, 120


def _plain(line: str) -> str:
    """One Markdown line as plain text: links keep their address, emphasis and table bars go."""
    line = _LINK.sub(lambda m: m.group(1) if m.group(2) in m.group(1) else f"{m.group(1)} ({m.group(2)})", line)
    line = _BULLET.sub("", line)
    if line.strip().startswith("|"):
        if set(line.strip()) <= set("|-: "):
            return ""
        line = "; ".join(c.strip() for c in line.strip().strip("|").split("|") if c.strip())
    return _MARKUP.sub("", line).strip()


def _blocks(body: str) -> list[tuple[str, str]]:
    """(heading, paragraph) pairs; list items and table rows each end with a full stop so they read as sentences."""
    blocks: list[tuple[str, str]] = []
    heading = ""
    lines: list[str] = []

    def flush() -> None:
        text = " ".join(lines).strip()
        if text:
            blocks.append((heading, text))
        lines.clear()

    for raw in body.splitlines():
        match = _HEADING.match(raw)
        if match:
            flush()
            heading = _plain(match.group(2))
        elif not raw.strip():
            flush()
        else:
            text = _plain(raw)
            if text and (_BULLET.match(raw) or raw.strip().startswith("|")) and text[-1] not in ".!?;:":
                text += ";"
            if text:
                lines.append(text)
    flush()
    return blocks


def _split_long(text: str) -> list[str]:
    """Cut a paragraph longer than MAX_WORDS at sentence ends (or, failing that, every MAX_WORDS words)."""
    pieces: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        while len(words) > MAX_WORDS:
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(words[:MAX_WORDS]))
            words = words[MAX_WORDS:]
        if current and len(current) + len(words) > MAX_WORDS:
            pieces.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        pieces.append(" ".join(current))
    return pieces


def guide_passages(guide: Guide) -> list[str]:
    """Split the body into passages of about 40–120 words, each starting with the guide title (and section
    heading) so it can be read, embedded and shown on its own."""
    units = [(heading, piece) for heading, text in _blocks(guide.body) for piece in _split_long(text)]
    passages: list[str] = []
    buffer: list[tuple[str, str]] = []

    def size(items: list[tuple[str, str]]) -> int:
        return sum(len(text.split()) for _, text in items)

    def flush() -> None:
        if not buffer:
            return
        headings = list(dict.fromkeys(h for h, _ in buffer if h))
        label = guide.title + (f" — {', '.join(headings)}" if headings else "")
        passages.append(nfc(f"{label}: {' '.join(text for _, text in buffer)}"))
        buffer.clear()

    for heading, text in units:
        new_section = bool(buffer) and heading != buffer[-1][0]
        too_big = size(buffer) + len(text.split()) > MAX_WORDS
        # Prefer to cut at a heading, but never let a passage grow past MAX_WORDS.
        if too_big or (new_section and size(buffer) >= MIN_WORDS):
            flush()
        buffer.append((heading, text))
    flush()
    return passages
