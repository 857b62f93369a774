"""What a citizen may act on for one procedure: official facts first, our curated wording beside them.

A procedure reaches the citizen from one of three places, and each becomes the same ``ProcedureFacts``:
- an official record of the national catalogue alone (``from_official``);
- a curated record linked to official code(s) (``from_curated`` with the linked records): agency, level, where to
  submit, time and fee per channel, documents and legal basis come from the official record; the curated record
  adds plain steps, who may apply, the result in plain words and practical notes;
- a curated record with no official counterpart (``from_curated`` alone): everything from the curated file.

Plain data, no I/O: the answer templates (actions/answers.py) and the linter render or compare it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from knowledge.catalog.model import Channel, Fee, OfficialRecord, ProcessingTime, display_name
from knowledge.records.schema import Procedure

PORTAL_NAME = "Cổng Dịch vụ công quốc gia"
PORTAL_HOME = "https://dichvucong.gov.vn"
LEVEL_NAMES = {"xã": "cấp xã", "tỉnh": "cấp tỉnh", "trung ương": "cấp trung ương", "huyện": "cấp huyện (cũ)"}
PRE_REFORM_CAUTION = (
    "⚠️ Thông tin này lấy từ dữ liệu năm 2024, trước khi sắp xếp chính quyền hai cấp (1/7/2025): "
    "cơ quan và nơi nộp có thể đã đổi, bạn nên hỏi lại Bộ phận Một cửa trước khi đi."
)
UNVERIFIED_CAUTION = (
    "⚠️ Thông tin này chưa được xác minh lại sau sắp xếp chính quyền hai cấp (từ 1/7/2025): "
    "bạn nên hỏi lại Bộ phận Một cửa nơi nộp trước khi đi."
)
_MONEY = re.compile(r"(?i)\d{1,3}(?:\.\d{3})+(?!\d)|\d+(?:[.,]\d+)?\s*(?:đồng|đ\b|vnđ|usd|triệu)")
PROVINCE_FEE = "theo mức thu do Hội đồng nhân dân tỉnh quy định (khác nhau giữa các tỉnh)"


@dataclass(frozen=True)
class ChannelFacts:
    method: str  # trực tiếp | trực tuyến | bưu chính
    time: str | None  # "7 ngày làm việc"
    fee: str | None  # "70.000 đồng", "Không mất phí", "theo mức thu do HĐND tỉnh…"
    fee_by_province: bool = False


@dataclass(frozen=True)
class DocumentFacts:
    name: str
    copies: str | None = None  # "1 bản chính, 1 bản sao"; None when unstated
    note: str | None = None
    form: str | None = None  # official form file, when the portal attaches one


@dataclass(frozen=True)
class ProcedureFacts:
    doc_id: str
    name: str  # our plain name for a curated record, the official one otherwise
    codes: tuple[str, ...] = ()
    official_name: str | None = None  # the official name, when a curated record words it differently
    levels: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    agency: str | None = None
    where: str | None = None
    channels: tuple[ChannelFacts, ...] = ()
    online: bool = False
    online_where: str | None = None
    online_note: str | None = None  # "toàn trình" / "một phần" wording when known
    documents: tuple[DocumentFacts, ...] = ()
    steps: tuple[str, ...] = ()
    eligibility: str | None = None
    result: str | None = None
    legal_basis: tuple[str, ...] = ()
    portal_url: str | None = None
    source_line: str = ""
    caution: str | None = None
    notes: str | None = None
    has_details: bool = True
    province: str | None = None  # a province's own procedure
    related_codes: tuple[str, ...] = field(default=())  # further linked codes (e.g. the provincial variant)

    @property
    def code(self) -> str | None:
        return self.codes[0] if self.codes else None

    @property
    def level_text(self) -> str:
        return ", ".join(LEVEL_NAMES.get(level, level) for level in self.levels)

    @property
    def fee_by_province(self) -> bool:
        return any(c.fee_by_province for c in self.channels)


# ---------------------------------------------------------------- values as a citizen reads them


def format_vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def format_date(day: dt.date | str) -> str:
    if isinstance(day, str):
        parts = day.split("-")
        return "/".join(reversed(parts))
    return day.strftime("%d/%m/%Y")


def time_text(time: ProcessingTime | None) -> str | None:
    if time is None:
        return None
    if time.value is not None and time.unit:
        value = int(time.value) if float(time.value).is_integer() else time.value
        return f"{value} {time.unit}"
    return time.text or None


def fee_text(fees: list[Fee]) -> tuple[str | None, bool]:
    """(what to pay, set by the province?) for one channel; None when the record says nothing."""
    if not fees:
        return None, False
    parts: list[str] = []
    by_province = False
    for fee in fees:
        if fee.kind == "free":
            part = "Không mất phí"
        elif fee.kind == "province":
            part, by_province = PROVINCE_FEE, True
        elif fee.kind == "amount" and fee.amount_vnd is not None:
            part = format_vnd(fee.amount_vnd)
        elif fee.kind == "amount" and fee.amount is not None:
            part = f"{fee.amount:g} {fee.currency or ''}".strip()
        else:  # the amount is stated in words, or only the regulation that sets it is cited
            part = _shorten(fee.text) if _MONEY.search(fee.text) else f"Có thu phí, theo: {_shorten(fee.text)}"
        if fee.text and fee.kind == "amount" and len(fee.text) <= 80:
            part += f" ({fee.text})"
        if part and part not in parts:
            parts.append(part)
    return ("; ".join(parts) or None), by_province


def _shorten(text: str, limit: int = 220) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def channel_facts(channel: Channel) -> ChannelFacts:
    fee, by_province = fee_text(channel.fees)
    return ChannelFacts(channel.method, time_text(channel.time), fee, by_province)


def copies_text(originals: int | None, copies: int | None) -> str | None:
    parts = [f"{n} {label}" for n, label in ((originals, "bản chính"), (copies, "bản sao")) if n]
    return ", ".join(parts) or None


def official_source_line(record: OfficialRecord) -> str:
    if record.predates_2025_reform:
        return f"Theo Cơ sở dữ liệu thủ tục hành chính (dữ liệu năm 2024), cập nhật {format_date(record.crawled)}"
    return f"Theo {PORTAL_NAME}, cập nhật {format_date(record.crawled)}"


def legal_text(number: str | None, title: str) -> str:
    if number and title and number not in title:
        return f"{title} ({number})"
    return title or number or ""


# ---------------------------------------------------------------- the three ways in


def from_official(record: OfficialRecord, doc_id: str | None = None) -> ProcedureFacts:
    online = any(c.method == "trực tuyến" for c in record.channels)
    return ProcedureFacts(
        doc_id=doc_id or record.code,
        name=display_name(record.name),
        codes=(record.code,),
        levels=tuple(record.levels),
        fields=tuple(record.fields),
        agency=record.agency or record.competent_authority,
        where=record.where,
        channels=tuple(channel_facts(c) for c in record.channels),
        online=online,
        online_where=(record.portal_url or PORTAL_HOME) if online else None,
        documents=tuple(
            DocumentFacts(d.name, copies_text(d.originals, d.copies), form=d.form) for d in record.documents
        ),
        steps=tuple(record.steps),
        eligibility=record.conditions,
        result="; ".join(record.result) or None,
        legal_basis=tuple(t for t in (legal_text(b.number, b.title) for b in record.legal_basis) if t),
        portal_url=record.portal_url,
        source_line=official_source_line(record),
        caution=PRE_REFORM_CAUTION if record.predates_2025_reform else None,
        has_details=record.has_details,
        province=record.province,
    )


def _curated_only(proc: Procedure) -> ProcedureFacts:
    sub = proc.submission
    methods = sub.channels if sub else []
    channels = tuple(ChannelFacts(m, proc.processing_time, proc.fee) for m in methods)
    online = bool(sub and sub.online.available and sub.online.level != "không")
    online_note = sub.online.level if sub and online else None
    caution = UNVERIFIED_CAUTION if proc.reform_2025 and proc.reform_2025.status == "unverified" else None
    return ProcedureFacts(
        doc_id=proc.id,
        name=proc.name,
        levels=(proc.level,) if proc.level else (),
        fields=(proc.domain,),
        agency=proc.agency,
        where=sub.where if sub else None,
        channels=channels,
        online=online,
        online_where=sub.online.portal if sub and online else None,
        online_note=online_note,
        documents=tuple(
            DocumentFacts(d.name, f"{d.copies} bản" if d.copies > 1 else None, d.note) for d in proc.documents or []
        ),
        steps=tuple(proc.steps),
        eligibility=proc.eligibility,
        result=proc.result,
        legal_basis=tuple(proc.legal_basis or ()),
        source_line=f"Nguồn: {proc.source} · cập nhật {format_date(proc.last_reviewed)}",
        caution=caution,
        notes=proc.notes,
    )


# Facts the official record supplies; where it is silent (a titles-only record, no address, no documents listed)
# the curated value, which `make kb-lint` has checked against the rest of the official record, fills in.
OFFICIAL_FACTS = ("levels", "agency", "where", "documents", "legal_basis")
# Whether and where to apply online go with the channels they describe: all official, or (none listed) all curated.
CHANNEL_FACTS = ("channels", "online", "online_where", "online_note")


def _fill_channels(channels: tuple[ChannelFacts, ...], proc: Procedure) -> tuple[ChannelFacts, ...]:
    """The official channels; a time or fee no official channel states comes from the curated record."""
    time = None if any(c.time for c in channels) else proc.processing_time
    fee = None if any(c.fee for c in channels) else proc.fee
    return tuple(ChannelFacts(c.method, c.time or time, c.fee or fee, c.fee_by_province) for c in channels)


def from_curated(proc: Procedure, linked: list[OfficialRecord] | None = None) -> ProcedureFacts:
    """The curated record, with the facts of its first linked official record where it has one."""
    if not linked:
        return _curated_only(proc)
    official = from_official(linked[0], doc_id=proc.id)
    curated = _curated_only(proc)
    filled = {name: getattr(official, name) or getattr(curated, name) for name in OFFICIAL_FACTS}
    if not official.channels:
        filled |= {name: getattr(curated, name) for name in CHANNEL_FACTS}
    else:
        filled["channels"] = _fill_channels(official.channels, proc)
    return ProcedureFacts(
        **{
            **official.__dict__,
            **filled,
            "has_details": True,  # the curated record always adds its own wording
            "name": proc.name,
            "official_name": official.name if official.name != proc.name else None,
            "caution": official.caution or curated.caution,
            "codes": tuple(r.code for r in linked),
            "steps": tuple(proc.steps) or official.steps,
            "eligibility": proc.eligibility or official.eligibility,
            "result": proc.result or official.result,
            "notes": proc.notes,
            "source_line": f"{official.source_line} · giải thích thêm do Trung tâm rà soát "
            f"{format_date(proc.last_reviewed)}",
            "related_codes": tuple(r.code for r in linked[1:]),
        }
    )
