"""Turn a spreadsheet (one procedure per row) into procedure files.

    python -m knowledge.tools.records.sheet_import FILE.csv|FILE.xlsx [--out knowledge/data/procedures] [--dry-run]
        [--overwrite]

Columns (English name or Vietnamese header, any order; see knowledge/README.md and knowledge/data/import-template.csv):
id, name, official_codes, aliases, domain, level, agency, where, channels, online_available, online_level, portal,
documents, steps, processing_time, fee, eligibility, result, legal_basis, source, last_reviewed, reform_status,
reform_note, notes. Lists are separated by ";" or line breaks inside the cell. A document is written
"name (n bản) - note". A row with official codes may leave the fact columns empty: the official record supplies them.

Rows are numbered as the spreadsheet shows them (the header is row 1). A row with a problem is not written;
an existing file is never replaced unless --overwrite is given.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from knowledge.records.loader import KNOWLEDGE_ROOT, display_path, error_message, field_name
from knowledge.records.schema import Channel, Domain, Level, OnlineLevel, Procedure, procedure_model
from knowledge.text import clean, fold

HEADER_COMMENT = "# One procedure per file. Field reference: knowledge/README.md. Check with `make kb-lint`.\n"

# Column -> other names staff may use as headers (compared folded, punctuation ignored).
COLUMNS: dict[str, list[str]] = {
    "id": ["mã", "mã thủ tục", "mã hồ sơ tri thức"],
    "name": ["tên thủ tục", "tên", "thủ tục", "tên thủ tục hành chính"],
    "official_codes": ["mã chính thức", "mã thủ tục chính thức", "mã tthc", "mã trên cổng dịch vụ công"],
    "aliases": ["tên gọi khác", "cách gọi khác", "tên khác", "từ khóa", "cách hỏi"],
    "domain": ["lĩnh vực"],
    "level": ["cấp", "cấp thực hiện", "cấp giải quyết"],
    "agency": ["cơ quan", "cơ quan giải quyết", "cơ quan thực hiện"],
    "where": ["nơi nộp", "nơi nộp hồ sơ", "nơi tiếp nhận", "địa điểm"],
    "channels": ["cách nộp", "hình thức nộp", "kênh nộp", "cách thức nộp"],
    "online_available": ["nộp trực tuyến", "có nộp trực tuyến", "trực tuyến", "online"],
    "online_level": ["mức trực tuyến", "mức độ trực tuyến", "mức độ dịch vụ công"],
    "portal": ["cổng", "cổng dịch vụ công", "nơi nộp trực tuyến", "địa chỉ nộp trực tuyến"],
    "documents": ["hồ sơ", "thành phần hồ sơ", "giấy tờ", "giấy tờ cần nộp"],
    "steps": ["các bước", "trình tự", "trình tự thực hiện", "cách làm"],
    "processing_time": ["thời hạn", "thời hạn giải quyết", "thời gian giải quyết", "thời gian"],
    "fee": ["phí", "lệ phí", "phí lệ phí", "phí, lệ phí"],
    "eligibility": ["đối tượng", "điều kiện", "đối tượng thực hiện", "ai được làm"],
    "result": ["kết quả", "kết quả giải quyết"],
    "legal_basis": ["căn cứ pháp lý", "căn cứ", "văn bản pháp luật", "cơ sở pháp lý"],
    "source": ["nguồn", "nguồn thông tin"],
    "last_reviewed": ["ngày rà soát", "ngày kiểm tra", "rà soát lần cuối"],
    "reform_status": ["trạng thái 2025", "sắp xếp 2025", "tình trạng sắp xếp 2025", "reform_2025"],
    "reform_note": ["ghi chú 2025", "ghi chú sắp xếp 2025", "ghi chú cải cách 2025"],
    "notes": ["ghi chú", "lưu ý"],
}
REQUIRED_COLUMNS = ("id", "name")

# Schema field path -> the column a staff member should correct.
FIELD_COLUMNS = {
    "submission.where": "where",
    "submission.channels": "channels",
    "submission.online.available": "online_available",
    "submission.online.level": "online_level",
    "submission.online.portal": "portal",
    "submission.online": "online_available",
    "submission": "where",
    "reform_2025.status": "reform_status",
    "reform_2025.note": "reform_note",
    "reform_2025": "reform_status",
}

YES = {"yes", "y", "co", "true", "1", "x", "dung"}
NO = {"no", "n", "khong", "false", "0", "sai"}
REFORM_STATUS = {
    "confirmed": "confirmed",
    "da xac nhan": "confirmed",
    "da kiem tra": "confirmed",
    "unverified": "unverified",
    "chua xac nhan": "unverified",
    "chua kiem tra": "unverified",
}
_SEP = re.compile(r"\s*(?:;|\n)\s*")
_CODE_SEP = re.compile(r"[\s;,]+")
# Columns of the facts an official record supplies; a row naming official codes may leave them all empty.
SUBMISSION_COLUMNS = ("where", "channels", "online_available", "online_level", "portal")
_DOCUMENT = re.compile(r"^(?P<name>.+?)(?:\s*\((?P<n>\d+)\s*b[aả]n\))?(?:\s+[-–—]\s+(?P<note>.+))?$", re.DOTALL)
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def _key(header: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(header)).split())


HEADER_LOOKUP = {_key(alias): column for column, aliases in COLUMNS.items() for alias in [column, *aliases]}
HEADER_LOOKUP |= {_key(column.replace("_", " ")): column for column in COLUMNS}


@dataclass
class RowProblem:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.message}"


@dataclass
class ImportReport:
    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[int, Path]] = field(default_factory=list)  # (row, existing file)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0


class SheetError(Exception):
    """The sheet as a whole cannot be read (unknown columns, wrong encoding...)."""


# --------------------------------------------------------------------------- reading


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").strip()


def read_rows(path: Path) -> list[list[str]]:
    """All rows of the first sheet (or the CSV) as text, header included."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl  # only needed for Excel files

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    if path.suffix.lower() != ".csv":
        raise SheetError("chỉ nhận file .csv hoặc .xlsx")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError(
            "file CSV không ở mã UTF-8 nên sẽ mất dấu tiếng Việt — trong Excel chọn Lưu thành «CSV UTF-8», "
            "hoặc dùng thẳng file .xlsx"
        ) from exc
    # Excel writes "," or, with some regional settings, ";" between columns; the header line tells which.
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    return [[_cell(v) for v in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def map_headers(header: list[str]) -> dict[int, str]:
    """Column index -> column name; unknown or missing columns stop the import (data would be lost silently)."""
    mapping: dict[int, str] = {}
    unknown = []
    for i, title in enumerate(header):
        if not title.strip():
            continue
        column = HEADER_LOOKUP.get(_key(title))
        if column is None:
            unknown.append(title)
        elif column in mapping.values():
            raise SheetError(f"cột «{title}» bị trùng với một cột khác cùng nghĩa ({column}) — xóa một cột")
        else:
            mapping[i] = column
    if unknown:
        raise SheetError(
            f"không hiểu tên cột: {', '.join(repr(u) for u in unknown)} — dùng tên cột như trong "
            f"knowledge/data/import-template.csv ({', '.join(COLUMNS)})"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in mapping.values()]
    if missing:
        raise SheetError(f"thiếu cột bắt buộc: {', '.join(missing)}")
    return mapping


# --------------------------------------------------------------------------- one row -> record


def _split(text: str) -> list[str]:
    return [part for part in _SEP.split(text.strip()) if part]


def _choice(text: str, allowed: tuple[str, ...]) -> str:
    """Accept a value typed without diacritics or in another case; unknown values go on to be reported."""
    wanted = fold(text).strip()
    return next((value for value in allowed if fold(value) == wanted), text.strip())


def _document(text: str) -> dict[str, Any]:
    match = _DOCUMENT.match(text.strip())
    assert match is not None  # the pattern accepts any non-empty text
    doc: dict[str, Any] = {"name": match.group("name").strip()}
    doc["copies"] = int(match.group("n")) if match.group("n") else 1
    if match.group("note"):
        doc["note"] = match.group("note").strip()
    return doc


def _date(text: str) -> str:
    """DD/MM/YYYY -> YYYY-MM-DD; anything else is left for validation to judge."""
    match = _DMY.match(text.strip())
    return f"{match.group(3)}-{int(match.group(2)):02d}-{int(match.group(1)):02d}" if match else text.strip()


def row_to_data(values: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Build the record in the layout of the example file; also return (column, problem) found while parsing."""
    problems: list[tuple[str, str]] = []

    def text(column: str) -> str:
        return clean(values.get(column, ""))

    def items(column: str) -> list[str]:
        return [clean(part) for part in _split(values.get(column, ""))]

    channels = [_choice(c, get_args(Channel)) for c in _split(values.get("channels", "").replace(",", ";"))]
    available_text = fold(text("online_available"))
    available: bool | None
    if not available_text:
        available = "trực tuyến" in channels  # left empty: online exactly when "trực tuyến" is a channel
    elif available_text in YES or available_text in NO:
        available = available_text in YES
    else:
        available = None
        problems.append(("online_available", f"«{text('online_available')}» — ghi «có» hoặc «không»"))
    online: dict[str, Any] = {"available": available}
    if text("online_level"):
        online["level"] = _choice(text("online_level"), get_args(OnlineLevel))
    if text("portal"):
        online["portal"] = text("portal")

    codes = [code for code in _CODE_SEP.split(text("official_codes")) if code]
    data: dict[str, Any] = {
        "id": text("id"),
        "name": text("name"),
        "official_codes": codes,
        "aliases": items("aliases"),
        "domain": _choice(text("domain"), get_args(Domain)),
        "level": _choice(text("level"), get_args(Level)),
        "agency": text("agency"),
        "submission": {"where": text("where"), "channels": channels, "online": online},
        "documents": [_document(d) for d in items("documents")],
        "steps": items("steps"),
        "processing_time": text("processing_time"),
        "fee": text("fee"),
        "eligibility": text("eligibility") or None,
        "result": text("result"),
        "legal_basis": items("legal_basis"),
        "source": text("source"),
        "last_reviewed": _date(text("last_reviewed")),
    }
    if codes:
        _drop_empty_facts(data, values)
    status_text, note = text("reform_status"), text("reform_note")
    if status_text or note:
        status = REFORM_STATUS.get(fold(status_text).strip(), status_text) if status_text else "unverified"
        data["reform_2025"] = {"status": status, "note": note}
    if text("notes"):
        data["notes"] = text("notes")
    return data, problems


def _drop_empty_facts(data: dict[str, Any], values: dict[str, str]) -> None:
    """A linked row leaves out the facts it does not state (the official record has them); an empty cell of an
    unlinked row stays, so validation says the cell must be filled."""
    for key in ("level", "agency", "documents", "processing_time", "fee", "result", "legal_basis"):
        if not data[key]:
            del data[key]
    if not any(clean(values.get(column, "")) for column in SUBMISSION_COLUMNS):
        del data["submission"]


def _column(loc: tuple[str | int, ...]) -> str:
    name = field_name(loc)
    for prefix, column in FIELD_COLUMNS.items():
        if name == prefix or name.startswith(prefix + ".") or name.startswith(prefix + "["):
            return column + name[len(prefix) :] if name.startswith(prefix + "[") else column
    return name


def validate_row(row: int, values: dict[str, str]) -> tuple[Procedure | None, list[RowProblem]]:
    data, early = row_to_data(values)
    problems = [RowProblem(row, column, message) for column, message in early]
    model = procedure_model(data)
    try:
        record = model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            message = error_message(err, model)
            column = _column(err["loc"])
            if err["type"] == "missing" or (err["type"] == "string_too_short" and not err.get("input")):
                message = "ô này đang trống — cần điền"
            elif column == "last_reviewed":  # quote the cell as typed, not as converted
                message = (
                    f"«{values.get('last_reviewed', '')}» không phải ngày hợp lệ — ghi NGÀY/THÁNG/NĂM (31/12/2026) "
                    "hoặc NĂM-THÁNG-NGÀY (2026-12-31)"
                )
            problems.append(RowProblem(row, column, message))
        return None, problems
    return (record, []) if not problems else (None, problems)


# --------------------------------------------------------------------------- writing


class _FlowList(list):
    """A list written on one line, like ``channels: [trực tiếp, bưu chính]`` in the example."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key ("aliases:\n  - ..."), as in the example file.
        return super().increase_indent(flow, False)


_Dumper.add_representer(
    _FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def to_yaml(record: Procedure) -> str:
    """The record as a readable YAML file, in the field order of knowledge/data/procedures/ho-tich-khai-sinh.yml."""
    data = record.model_dump(mode="python", exclude_none=True)
    for key in ("aliases", "steps", "official_codes"):
        if not data.get(key):
            data.pop(key, None)
    for key, flow in (("official_codes", data), ("channels", data.get("submission"))):
        if flow and key in flow:
            flow[key] = _FlowList(flow[key])
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000, default_flow_style=False)
    return HEADER_COMMENT + body


def import_sheet(path: Path, out_dir: Path, *, dry_run: bool = False, overwrite: bool = False) -> ImportReport:
    rows = read_rows(path)
    header_index = next((i for i, row in enumerate(rows) if any(cell.strip() for cell in row)), None)
    if header_index is None:
        raise SheetError("bảng trống")
    mapping = map_headers(rows[header_index])
    report = ImportReport()
    seen: dict[str, int] = {}
    for index in range(header_index + 1, len(rows)):
        cells, number = rows[index], index + 1  # spreadsheet row numbers start at 1 with the header
        if not any(cell.strip() for cell in cells):
            continue
        report.rows += 1
        values = {column: cells[i] if i < len(cells) else "" for i, column in mapping.items()}
        record, problems = validate_row(number, values)
        if record is not None and record.id in seen:
            problems.append(RowProblem(number, "id", f"mã «{record.id}» trùng với dòng {seen[record.id]}"))
            record = None
        report.problems.extend(problems)
        if record is None:
            continue
        seen[record.id] = number
        target = out_dir / f"{record.id}.yml"
        if target.exists() and not overwrite:
            report.skipped.append((number, target))
            continue
        if not dry_run:
            out_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(to_yaml(record), encoding="utf-8")
        report.written.append(target)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.tools.records.sheet_import",
        description="Nhập thủ tục từ bảng tính (.csv hoặc .xlsx).",
    )
    parser.add_argument(
        "file", type=Path, help="bảng tính, mỗi dòng một thủ tục (xem knowledge/data/import-template.csv)"
    )
    parser.add_argument("--out", type=Path, default=KNOWLEDGE_ROOT / "procedures", help="thư mục ghi file")
    parser.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra, không ghi file")
    parser.add_argument("--overwrite", action="store_true", help="cho phép ghi đè file thủ tục đã có")
    args = parser.parse_args(argv)

    if not args.file.is_file():
        print(f"Không tìm thấy file {args.file}", file=sys.stderr)
        return 2
    try:
        report = import_sheet(args.file, args.out, dry_run=args.dry_run, overwrite=args.overwrite)
    except SheetError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    for problem in report.problems:
        print(problem)
    for number, target in report.skipped:
        print(f"row {number}: id: {display_path(target)} đã có — không ghi đè (thêm --overwrite nếu muốn thay)")
    verb = "sẽ ghi" if args.dry_run else "đã ghi"
    for target in report.written:
        print(f"{verb} {display_path(target)}")
    rejected = len({p.row for p in report.problems})
    print(
        f"{report.rows} dòng: {len(report.written)} {verb}, {len(report.skipped)} bỏ qua vì đã có, "
        f"{rejected} dòng bị từ chối."
        + (" Sửa các dòng trên trong bảng tính rồi nhập lại." if rejected else "")
        + (" Tiếp theo: chạy make kb-lint để kiểm tra." if report.written and not args.dry_run else "")
    )
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main())
