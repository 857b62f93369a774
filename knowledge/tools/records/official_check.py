"""Compare a curated procedure with the official record(s) it names in ``official_codes``.

Used by `make kb-lint` (knowledge/tools/records/lint.py). A linked record may leave out the facts a citizen acts on (the
answer shows the official ones, knowledge/records/facts.py); every fact it still sets must agree with the FIRST
linked official record, compared as values, not as text:

- fee: the sums in đồng written in the curated text ("50.000 đồng", "50.000đ"), "miễn phí"/"không mất phí" as 0,
  and "HĐND tỉnh quy định" as "set by each province", against the official sums of every channel (a channel marked
  free counts as 0; a "described" fee gives the sums its text states). Each curated sum must be an official one;
  a province-set fee must be said on both sides; "free" on the curated side needs a free official channel.
- processing_time: the first "number unit" of the curated text (its main time limit; later ones are usually the
  "if it must be verified" case; "sau 15 giờ" is a time of day and skipped) must be one of the official channel
  times; an official time with no unit
  matches on the number.
- level: the curated level must be one of the official levels.
- agency: the kinds of authority named (công an, ủy ban nhân dân, a named sở, tòa án, cơ quan thuế, bảo hiểm xã
  hội, văn phòng đăng ký đất đai…) must share at least one kind with the official agency. Deliberately
  conservative: only a plain contradiction (Sở Tư pháp against Công an tỉnh) is reported.
- submission.channels: each curated channel must be an official one.
- documents: the name of each document to hand in (copies > 0; its words before any "(", ",", ";" or dash, which
  start an example or a note) must share at least half of its content words with one official document; documents
  only shown (copies 0) are not compared.
- legal_basis: every document number ("26/2023/QH15") in the curated text must be among the official numbers.

Nothing is compared where the official record says nothing (a titles-only record, a channel with no fee).
Each disagreement reads ``field: curated says X, official <code> says Y``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from knowledge.catalog.model import OfficialRecord
from knowledge.catalog.snapshot import DEFAULT_SNAPSHOT, by_code, load_snapshot
from knowledge.records.loader import ParsedFile, Problem, Severity, display_path
from knowledge.records.schema import Procedure
from knowledge.text import fold, words

SNAPSHOT_NAME = Path("official") / "catalog.jsonl.gz"

# ------------------------------------------------------------------------------------------- snapshot


def snapshot_for(record_file: Path) -> Path:
    """The snapshot beside the knowledge the file belongs to (<root>/procedures/x.yml -> <root>/official/...),
    else the shipped one: a test's copy of the knowledge may carry its own catalogue or none."""
    candidate = Path(record_file).resolve().parent.parent / SNAPSHOT_NAME
    # resolved: the console checks a candidate in a temporary folder linking the catalogue, read once (cached)
    return candidate.resolve() if candidate.is_file() else DEFAULT_SNAPSHOT


@lru_cache(maxsize=4)
def official_records(snapshot: Path) -> dict[str, OfficialRecord]:
    return by_code(load_snapshot(snapshot))


@lru_cache(maxsize=4)
def codes_by_name(snapshot: Path) -> dict[str, tuple[str, ...]]:
    """The official codes of each procedure name, folded (a name may be used by several ministries' records)."""
    named: dict[str, list[str]] = {}
    for code, record in official_records(snapshot).items():
        named.setdefault(fold(record.name), []).append(code)
    return {name: tuple(codes) for name, codes in named.items()}


def is_current(record: OfficialRecord) -> bool:
    """A 2026 record with details: what `reform_2025: confirmed` may be checked against."""
    return record.has_details and not record.predates_2025_reform


# ------------------------------------------------------------------------------------------- disagreements


@dataclass(frozen=True)
class Disagreement:
    field: str  # as the loader names fields: "fee", "documents[2].name", "legal_basis[1]"
    curated: str
    official: str
    code: str

    @property
    def message(self) -> str:
        return f"curated says {self.curated}, official {self.code} says {self.official}"


def disagreements(proc: Procedure, official: OfficialRecord) -> list[Disagreement]:
    """Every fact the curated record sets that the official record contradicts."""
    found: list[tuple[str, str, str]] = []
    if proc.fee is not None:
        found += _fee(proc.fee, official)
    if proc.processing_time is not None:
        found += _time(proc.processing_time, official)
    if proc.level is not None and official.levels and proc.level not in official.levels:
        found.append(("level", proc.level, ", ".join(official.levels)))
    if proc.agency is not None:
        found += _agency(proc.agency, official)
    if proc.submission is not None:
        found += _channels(proc.submission.channels, official)
    for i, doc in enumerate(proc.documents or []):
        if doc.copies > 0:
            found += [(f"documents[{i + 1}].name", x, y) for _, x, y in _document(doc.name, official)]
    for i, entry in enumerate(proc.legal_basis or []):
        found += [(f"legal_basis[{i + 1}]", x, y) for _, x, y in _legal(entry, official)]
    return [Disagreement(field, curated, said, official.code) for field, curated, said in found]


# ------------------------------------------------------------------------------------------- fee

_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d{3})+|\d+)\s*(?:đồng|vnđ|vnd|đ)(?!\w)", re.IGNORECASE)
_FREE = re.compile(
    r"\b(mien phi|mien le phi|mien tien|khong (mat|thu|phai nop|phai tra) (phi|le phi|tien|phi, le phi))\b"
)
_PROVINCE = re.compile(r"\b(hdnd|hoi dong nhan dan)\b|\b(tinh|dia phuong) quy dinh\b|\btheo (muc|quy dinh) cua tinh\b")
PROVINCE_WORDS = "do HĐND tỉnh quy định"


@dataclass(frozen=True)
class FeeClaim:
    amounts: frozenset[int]
    free: bool
    province: bool

    def __bool__(self) -> bool:
        return bool(self.amounts) or self.free or self.province

    def __str__(self) -> str:
        parts = [f"{a:,}".replace(",", ".") + " đồng" for a in sorted(self.amounts)]
        parts += ["miễn phí"] * self.free + [PROVINCE_WORDS] * self.province
        return "; ".join(parts)


def amounts_in(text: str) -> frozenset[int]:
    """Sums in đồng written in a text: "50.000 đồng", "50.000đ", "1,000 VNĐ"."""
    return frozenset(int(re.sub(r"[.,]", "", m.group(1))) for m in _AMOUNT.finditer(text))


def curated_fee(text: str) -> FeeClaim:
    folded = fold(text)
    return FeeClaim(amounts_in(text), bool(_FREE.search(folded)), bool(_PROVINCE.search(folded)))


def official_fee(record: OfficialRecord) -> FeeClaim:
    amounts: set[int] = set()
    free = province = False
    for fee in (f for channel in record.channels for f in channel.fees):
        if fee.kind == "amount" and fee.amount_vnd is not None:
            amounts.add(fee.amount_vnd)
        elif fee.kind == "described":
            amounts |= amounts_in(fee.text)
        free |= fee.kind == "free"
        province |= fee.kind == "province"
    return FeeClaim(frozenset(amounts), free, province)


def _fee(text: str, record: OfficialRecord) -> list[tuple[str, str, str]]:
    curated, official = curated_fee(text), official_fee(record)
    if not curated or not official:
        return []
    agrees = (
        curated.amounts <= official.amounts
        and curated.province == official.province
        and (official.free or not curated.free)
    )
    return [] if agrees else [("fee", str(curated), str(official))]


# ------------------------------------------------------------------------------------------- time

_UNITS = {"ngay lam viec": "ngày làm việc", "ngay": "ngày", "gio": "giờ", "tuan": "tuần", "thang": "tháng"}
_TIME = re.compile(r"(?<![\d/.,])(\d+(?:[.,]\d+)?)\s*(" + "|".join(_UNITS) + r")\b")
_CLOCK = re.compile(r"\b(sau|truoc|luc|tu|den)\s*$")  # "nhận sau 15 giờ" is a time of day, not a time limit


def curated_time(text: str) -> tuple[float, str] | None:
    """The first "number unit" of the text ("Không quá 07 ngày làm việc…" -> (7.0, "ngày làm việc"))."""
    folded = fold(text)
    for match in _TIME.finditer(folded):
        if match.group(2) == "gio" and _CLOCK.search(folded[: match.start()]):
            continue
        return float(match.group(1).replace(",", ".")), _UNITS[match.group(2)]
    return None


def _time_text(value: float, unit: str | None) -> str:
    return f"{value:g} {unit}" if unit else f"{value:g}"


def _time(text: str, record: OfficialRecord) -> list[tuple[str, str, str]]:
    claim = curated_time(text)
    times = {(c.time.value, c.time.unit) for c in record.channels if c.time and c.time.value is not None}
    if claim is None or not times:
        return []
    value, unit = claim
    if any(value == v and (u is None or u == unit) for v, u in times):
        return []
    said = ", ".join(dict.fromkeys(_time_text(v, u) for v, u in sorted(times, key=lambda t: (t[0], t[1] or ""))))
    return [("processing_time", _time_text(value, unit), said)]


# ------------------------------------------------------------------------------------------- agency

# Kind of authority -> how its name reads once folded. Sở are told apart by name: Sở Tư pháp and Sở Tài chính are
# different offices. Names that fit no kind are not compared.
AGENCY_KINDS: dict[str, re.Pattern[str]] = {
    "công an": re.compile(r"\bcong an\b|\bpc\s?0?6\b|\bcanh sat\b|\bxuat nhap canh\b"),
    "ủy ban nhân dân": re.compile(r"\b(uy ban nhan dan|ubnd)\b"),
    "tòa án": re.compile(r"\btoa an\b"),
    "cơ quan thuế": re.compile(r"\b(co quan thue|cuc thue|chi cuc thue|thue co so|thue tinh)\b"),
    "bảo hiểm xã hội": re.compile(r"\b(bao hiem xa hoi|bhxh)\b"),
    "văn phòng đăng ký đất đai": re.compile(r"\bvan phong dang ky (dat dai|quyen su dung dat)\b"),
    "công chứng": re.compile(r"\bcong chung\b"),
    "cơ quan đại diện ở nước ngoài": re.compile(r"\bco quan dai dien\b"),
    "ngân hàng nhà nước": re.compile(r"\bngan hang nha nuoc\b"),
    "cơ quan quân sự": re.compile(r"\b(ban chi huy quan su|bo chi huy quan su|quan su)\b"),
    "dịch vụ việc làm": re.compile(r"\bdich vu viec lam\b"),
    "hải quan": re.compile(r"\bhai quan\b"),
}
_SO = re.compile(r"\bso (tu phap|tai chinh|noi vu|xay dung|y te|cong thuong|giao duc|van hoa|khoa hoc|ngoai vu"
                 r"|nong nghiep|dan toc|tai nguyen|ke hoach|lao dong|giao thong|thong tin)")  # fmt: skip
_SO_NAMES = {"tu phap": "Tư pháp", "tai chinh": "Tài chính", "noi vu": "Nội vụ", "xay dung": "Xây dựng",
             "y te": "Y tế", "cong thuong": "Công Thương", "giao duc": "Giáo dục và Đào tạo",
             "van hoa": "Văn hóa", "khoa hoc": "Khoa học và Công nghệ", "ngoai vu": "Ngoại vụ",
             "nong nghiep": "Nông nghiệp và Môi trường", "dan toc": "Dân tộc và Tôn giáo",
             "tai nguyen": "Nông nghiệp và Môi trường", "ke hoach": "Tài chính", "lao dong": "Nội vụ",
             "giao thong": "Xây dựng", "thong tin": "Khoa học và Công nghệ"}  # fmt: skip  # merged in 2025 -> today


def agency_kinds(text: str) -> set[str]:
    folded = fold(text)
    kinds = {kind for kind, pattern in AGENCY_KINDS.items() if pattern.search(folded)}
    return kinds | {f"Sở {_SO_NAMES[m.group(1)]}" for m in _SO.finditer(folded)}


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _agency(text: str, record: OfficialRecord) -> list[tuple[str, str, str]]:
    said = record.agency or record.competent_authority or ""
    mine, theirs = agency_kinds(text), agency_kinds(said)
    if not mine or not theirs or mine & theirs:
        return []
    curated = f"{', '.join(sorted(mine))} («{_short(text)}»)"
    return [("agency", curated, f"{', '.join(sorted(theirs))} («{_short(said)}»)")]


# ------------------------------------------------------------------------------------------- channels


def _channels(channels: Iterable[str], record: OfficialRecord) -> list[tuple[str, str, str]]:
    official = list(dict.fromkeys(c.method for c in record.channels))
    extra = [c for c in channels if c not in official]
    if not official or not extra:
        return []
    return [("submission.channels", ", ".join(extra), ", ".join(official))]


# ------------------------------------------------------------------------------------------- documents

# Words every document name shares; they do not tell one document from another.
_DOC_STOP = frozenset(
    {"ban", "chinh", "sao", "cua", "va", "hoac", "theo", "mau", "so", "cac", "nguoi", "co", "the", "doi", "voi",
     "truong", "hop", "neu", "la", "de", "cho", "tai", "trong", "khi", "da", "duoc", "nay", "mot", "hai", "phai",
     "nop", "xuat", "trinh", "kem", "giay", "to", "lieu", "ve", "thong", "tin"}
)  # fmt: skip
DOCUMENT_MATCH = 0.5  # share of the curated document's content words found in one official document


_NAME_END = re.compile(r"\s*[(,;:]|\s+[-–—]\s")  # what follows is an example or a note, not the document's name


def _content(text: str) -> set[str]:
    return {w for w in words(text) if len(w) > 1 and w not in _DOC_STOP and not w.isdigit()}


def _document(name: str, record: OfficialRecord) -> list[tuple[str, str, str]]:
    mine = _content(_NAME_END.split(name, maxsplit=1)[0]) or _content(name)
    if not record.documents or not mine:
        return []
    best = max(len(mine & _content(d.name)) / len(mine) for d in record.documents)
    if best >= DOCUMENT_MATCH:
        return []
    listed = "; ".join(f"«{_short(n, 60)}»" for n in dict.fromkeys(d.name for d in record.documents))
    return [("documents", f"«{name}»", f"no such document (it lists {listed})")]


# ------------------------------------------------------------------------------------------- legal basis

DOCUMENT_NUMBER = re.compile(r"\b\d{1,5}/(\d{4}/)?[A-ZĐ][A-ZĐ0-9]*(-[A-ZĐ0-9]+)*", re.IGNORECASE)


def number_key(number: str) -> str:
    """Key of a document number: "26/2023/QH15" -> "26/2023/QH" (number, year, kind of text), which survives
    the portal's typos ("118/2025/NĐ-C") and spellings ("NĐ-CP" / "ND-CP")."""
    parts = fold(number).upper().replace(" ", "").split("/")
    if len(parts) >= 3:
        return f"{int(parts[0])}/{parts[1]}/{parts[2][:2]}"
    return "/".join(parts).rstrip("-")


def official_numbers(record: OfficialRecord) -> set[str]:
    found: set[str] = set()
    for basis in record.legal_basis:
        for text in (basis.number or "", basis.title):
            found |= {number_key(m.group(0)) for m in DOCUMENT_NUMBER.finditer(text)}
    return found


def _legal(entry: str, record: OfficialRecord) -> list[tuple[str, str, str]]:
    known = official_numbers(record)
    if not known:
        return []
    missing = [m.group(0) for m in DOCUMENT_NUMBER.finditer(entry) if number_key(m.group(0)) not in known]
    if not missing:
        return []
    listed = ", ".join(sorted(dict.fromkeys(b.number for b in record.legal_basis if b.number)))
    return [("legal_basis", ", ".join(missing), f"only {listed}")]


# ------------------------------------------------------------------------------------------- lint problems


def official_problems(item: ParsedFile) -> list[Problem]:
    """Lint problems of one parsed procedure file: unknown codes, disagreements, and `confirmed` not earned."""
    proc = item.record
    if not isinstance(proc, Procedure):
        return []
    snapshot = snapshot_for(item.path)
    records = official_records(snapshot) if proc.official_codes else {}
    problems = [
        _problem(item, f"official_codes[{i + 1}]", f"mã «{code}» không có trong danh mục thủ tục chính thức "
                 f"({display_path(snapshot)}) — kiểm tra lại mã trên dichvucong.gov.vn, hoặc xóa mã này")
        for i, code in enumerate(proc.official_codes)
        if code not in records
    ]  # fmt: skip
    problems += _aliases_naming_others(item, proc, snapshot)
    main = records.get(proc.official_codes[0]) if proc.official_codes else None
    found = disagreements(proc, main) if main is not None else []
    problems += [_problem(item, d.field, d.message) for d in found]
    reform = proc.reform_2025
    if reform is not None and reform.status == "confirmed":
        refusal = _confirmed_refusal(proc, main, len(found))
        if refusal:
            problems.append(_problem(item, "reform_2025.status", refusal))
    return problems


def _aliases_naming_others(item: ParsedFile, proc: Procedure, snapshot: Path) -> list[Problem]:
    """An alias that is the official name of another procedure («gia hạn tạm trú» on «Đăng ký tạm trú», while
    «Gia hạn tạm trú» is a procedure of its own) makes the bot answer this record when the citizen named the other."""
    named = codes_by_name(snapshot)
    problems = []
    for i, alias in enumerate(proc.aliases):
        others = [code for code in named.get(fold(alias), ()) if code not in proc.official_codes]
        if others and fold(alias) != fold(proc.name):
            listed = ", ".join(f"{code} «{official_records(snapshot)[code].name}»" for code in others[:3])
            message = (f"tên gọi «{alias}» là tên chính thức của thủ tục khác ({listed}) — trợ lý sẽ trả lời thủ tục "
                       "này khi người dân hỏi thủ tục kia: xóa tên gọi, hoặc thêm mã vào official_codes nếu đúng là "
                       "cùng một thủ tục")  # fmt: skip
            problems.append(_problem(item, f"aliases[{i + 1}]", message, "warning"))
    return problems


def _confirmed_refusal(proc: Procedure, main: OfficialRecord | None, disagreeing: int) -> str | None:
    """Why `confirmed` is not earned, or None: it means "agrees with the official 2026 record"."""
    then = "đổi status thành unverified"
    if not proc.official_codes:
        return (
            "«confirmed» nghĩa là đã khớp với bản ghi chính thức năm 2026, nhưng thủ tục này chưa gắn mã chính thức "
            f"(official_codes) — gắn mã thủ tục, hoặc {then}"
        )
    if main is None:
        return None  # the unknown code is reported already
    if main.predates_2025_reform:
        return f"«confirmed» cần bản ghi chính thức năm 2026, nhưng mã chính {main.code} là dữ liệu năm 2024 — {then}"
    if not main.has_details:
        return f"«confirmed» cần bản ghi chính thức có đủ chi tiết, nhưng mã chính {main.code} chỉ có tên — {then}"
    if disagreeing:
        return (
            f"«confirmed» nhưng còn {disagreeing} điểm lệch với bản ghi chính thức {main.code} (các dòng trên) — "
            "sửa hoặc xóa các trường đó (trợ lý dùng số liệu chính thức) rồi mới ghi confirmed"
        )
    return None


def _problem(item: ParsedFile, field: str, message: str, severity: Severity = "error") -> Problem:
    line = item.lines.get(field) or item.lines.get(field.split("[")[0].split(".")[0]) or 1
    return Problem(item.path, line, field, message, severity)
