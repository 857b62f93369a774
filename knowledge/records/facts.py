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
from dataclasses import dataclass, field, replace

from knowledge.catalog.model import Channel, Document, Fee, FeePeriod, OfficialRecord, ProcessingTime, display_name
from knowledge.catalog.values import citizen_deadline, names_abolished_level
from knowledge.records.schema import Procedure
from settings import wording

PORTAL_HOME = "https://dichvucong.gov.vn"
LEVEL_NAMES = {"xã": "cấp xã", "tỉnh": "cấp tỉnh", "trung ương": "cấp trung ương", "huyện": "cấp huyện (cũ)"}
# The fixed sentences of the facts a citizen reads: wording.yml's `answers` section (settings/wording.py).
PRE_REFORM_CAUTION = wording.text("answers.pre_reform_caution")
UNVERIFIED_CAUTION = wording.text("answers.reform_caution")
_MONEY = re.compile(r"(?i)\d{1,3}(?:\.\d{3})+(?!\d)|\d+(?:[.,]\d+)?\s*(?:đồng|đ\b|vnđ|usd|triệu)")
PROVINCE_FEE = wording.text("answers.province_fee")
SUSPECT_FEE = wording.text("answers.suspect_fee")  # {amount}
FEE_FREE, FEE_IN_WORDS = wording.text("answers.fee_free"), wording.text("answers.fee_in_words")  # {text}
FEE_ENDED = wording.text("answers.fee_ended")  # {date}
ABOLISHED_LEVEL_NOTE = wording.text("answers.abolished_level_note")
BARE_TIME_NOTE = wording.text("answers.bare_time_note")  # {value}
SOURCE_CURATED = wording.text("answers.source_footer")  # {source}, {date}
SOURCE_OFFICIAL = wording.text("answers.source_official")  # {date}
SOURCE_OFFICIAL_2024 = wording.text("answers.source_official_2024")


@dataclass(frozen=True)
class ChannelFacts:
    method: str  # trực tiếp | trực tuyến | bưu chính
    time: str | None  # "7 ngày làm việc"
    fee: str | None  # "70.000 đồng", "Không mất phí", "theo mức thu do HĐND tỉnh…" (without the dated rates)
    fee_by_province: bool = False
    fees: tuple[Fee, ...] = ()  # the official fees, whose dated rates are applied on the day asked (`fee_on`)

    def fee_on(self, day: dt.date) -> str | None:
        """What to pay on `day`: a reduction in force applied, an ended one dropped, a coming one announced."""
        return fee_text(list(self.fees), day, self.method)[0] if self.fees else self.fee


@dataclass(frozen=True)
class DocumentFacts:
    name: str
    copies: str | None = None  # "1 bản chính, 1 bản sao"; None when unstated
    note: str | None = None
    form: str | None = None  # official form file, when the portal attaches one
    handling: str = "nộp"  # nộp | xuất trình | nộp hoặc xuất trình, as the page words it
    form_code: str | None = None  # "CT01", "TK1-TS": the form the citizen fills in
    condition: str | None = None  # only in this situation ("Trường hợp trẻ em bị bỏ rơi", "nếu có")


@dataclass(frozen=True)
class CaseFacts:
    """One of the page's cases ("… do thuê, mượn, ở nhờ") with the documents it adds."""

    name: str
    documents: tuple[DocumentFacts, ...] = ()


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
    cases: tuple[CaseFacts, ...] = ()  # the official page's cases, each with its own documents
    common_documents: tuple[DocumentFacts, ...] = ()  # what every case needs (with no cases: all documents)
    document_notes: tuple[str, ...] = ()  # the page's remarks about the documents ("Lưu ý …"), not papers
    case_names: tuple[tuple[str, str], ...] = ()  # curated: (words of a case's name, its plain name)
    common_case: str | None = None  # curated: words of the case most citizens are in
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
    level_note: str | None = None  # the agency or place names a level abolished on 1/7/2025 (cấp huyện)
    deadline: str | None = None  # by when the citizen must apply ("Trong thời hạn 60 ngày kể từ ngày sinh …")
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
    if time.value is not None:
        value = int(time.value) if float(time.value).is_integer() else time.value
        # A bare number is never shown alone: the portal left its unit out (its description explains it).
        return f"{value} {time.unit}" if time.unit else f"{value} ({BARE_TIME_NOTE.format(value=value)})"
    return time.text or None


def fee_text(fees: list[Fee], day: dt.date | None = None, method: str | None = None) -> tuple[str | None, bool]:
    """(what to pay, set by the province?) for one channel; None when the record says nothing.

    With `day`, the rates the fee's text dates (FeePeriod) are applied for that day and channel: a reduction in
    force gives the reduced sum beside the standard one, an ended one is dropped, a coming one is announced.
    """
    if not fees:
        return None, False
    parts: list[str] = []
    by_province = False
    for fee in fees:
        periods = _periods_for(fee, method) if day else []
        if day and any(_ended(p, day) for p in periods) and _only_for_its_period(fee, periods, fees):
            continue  # a fee listed only for a period now over, beside the standard one
        part = _standard_fee(fee, [p for p in periods if not _ended(p, day)] if day else fee.periods)
        by_province = by_province or fee.kind == "province"
        if day:
            part = _on_day(fee, part, periods, day)
        if part and part not in parts:
            parts.append(part)
    return ("; ".join(parts) or None), by_province


def _standard_fee(fee: Fee, periods: list[FeePeriod]) -> str:
    if fee.kind == "free":
        return FEE_FREE
    if fee.kind == "province":
        example = f"; trang thủ tục ghi ví dụ {format_vnd(fee.amount_vnd)}" if fee.amount_vnd else ""
        return PROVINCE_FEE + example
    if fee.kind == "amount" and fee.amount_vnd is not None and fee.suspect:  # "800 đ" beside "800.000 đ"
        return SUSPECT_FEE.format(amount=format_vnd(fee.amount_vnd))
    if fee.kind == "amount" and fee.amount_vnd is not None:
        part = format_vnd(fee.amount_vnd)
    elif fee.kind == "amount" and fee.amount is not None:
        part = f"{fee.amount:g} {fee.currency or ''}".strip()
    else:  # the amount is stated in words, or only the regulation that sets it is cited
        ended = [p for p in fee.periods if p not in periods and not _is_listed(p)]
        text = _without_clauses(fee.text, [p.text for p in ended])
        if not text and ended:  # the text stated only a rate now over
            return FEE_ENDED.format(date=format_date(ended[-1].end or ""))
        return _shorten(text) if _MONEY.search(text) else FEE_IN_WORDS.format(text=_shorten(text))
    if fee.text and len(fee.text) <= 80:
        part += f" ({fee.text})"
    return part


# ---------------------------------------------------------------- rates for a period, on the day asked


def _periods_for(fee: Fee, method: str | None) -> list[FeePeriod]:
    return [p for p in fee.periods if p.channel is None or method is None or p.channel == method]


def _day(iso: str | None) -> dt.date | None:
    return dt.date.fromisoformat(iso) if iso else None


def _ended(period: FeePeriod, day: dt.date | None) -> bool:
    end = _day(period.end)
    return bool(day and end and end < day)


def _started(period: FeePeriod, day: dt.date) -> bool:
    start = _day(period.start)
    return start is None or start <= day


def _is_listed(period: FeePeriod) -> bool:
    """The fee as listed is the period's rate (no reduction of its own)."""
    return period.percent is None and period.amount_vnd is None


def _only_for_its_period(fee: Fee, periods: list[FeePeriod], fees: list[Fee]) -> bool:
    return all(_is_listed(p) for p in periods) and len(fees) > 1


def act_name(number: str | None) -> str:
    kinds = {"TT": "Thông tư", "NĐ": "Nghị định", "NQ": "Nghị quyết", "QĐ": "Quyết định", "TTLT": "Thông tư liên tịch"}
    if not number:
        return ""
    kind = next((name for code, name in kinds.items() if f"/{code}-" in number or number.endswith(f"/{code}")), "")
    return f"{kind} {number}".strip()


def _by_act(period: FeePeriod) -> str:
    return f" ({act_name(period.legal)})" if period.legal else ""


def _rate(fee: Fee, period: FeePeriod) -> tuple[int | None, str]:
    """(the sum due in the period when known, how it compares with the standard fee: "giảm 50 %")."""
    standard = fee.amount_vnd if fee.kind in ("amount", "province") and fee.currency in ("VND", None) else None
    if period.amount_vnd is not None:
        cut = 100 * (1 - period.amount_vnd / standard) if standard else None
        return period.amount_vnd, (f"giảm {cut:g} %" if cut is not None and float(cut).is_integer() else "mức giảm")
    if period.percent is not None:
        due = round(standard * period.percent / 100) if standard is not None else None
        return due, ("miễn" if period.percent == 0 else f"giảm {100 - period.percent:g} %")
    return None, ""


def _on_day(fee: Fee, part: str, periods: list[FeePeriod], day: dt.date) -> str:
    now = [p for p in periods if _started(p, day) and not _ended(p, day)]
    coming = [p for p in periods if not _started(p, day)]
    over = [p for p in periods if _ended(p, day) and _is_listed(p)]
    if now:
        period = max(now, key=lambda p: p.start or "")
        until = f" đến hết {format_date(period.end)}" if period.end else f" từ {format_date(period.start or '')}"
        if _is_listed(period):
            part += f", mức áp dụng{until}{_by_act(period)}"
        else:
            due, how = _rate(fee, period)
            if due is not None and fee.kind == "amount":
                head = FEE_FREE if due == 0 else format_vnd(due)
                part = f"{head}, {how}{until}{_by_act(period)}; mức thường {format_vnd(fee.amount_vnd or 0)}"
            else:
                part += f" — hiện {how}{until}{_by_act(period)}"
    elif over:
        period = max(over, key=lambda p: p.end or "")
        part += (f"; mức này chỉ áp dụng đến hết {format_date(period.end or '')}{_by_act(period)}, "
                 "mức hiện nay bạn hỏi lại nơi nộp giúp mình")  # fmt: skip
    for period in coming:
        due, how = _rate(fee, period)
        what = format_vnd(due) if due else ("mức trên" if _is_listed(period) else how)
        part += f"; từ {format_date(period.start or '')}: {what}{_by_act(period)}"
    return part


def _without_clauses(text: str, clauses: list[str]) -> str:
    for clause in clauses:
        text = text.replace(clause, "")
    text = _balanced(text)
    return re.sub(r"\s{2,}", " ", re.sub(r"\(\s*\)|\s+([.;,])", r"\1", text)).strip(" -;,")


def _balanced(text: str) -> str:
    """The text without brackets a removed clause left open or closed."""
    unmatched, opened = set(), []
    for index, char in enumerate(text):
        if char == "(":
            opened.append(index)
        elif char == ")":
            if opened:
                opened.pop()
            else:
                unmatched.add(index)
    unmatched.update(opened)
    return "".join(char for index, char in enumerate(text) if index not in unmatched)


def _shorten(text: str, limit: int = 220) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def channel_facts(channel: Channel) -> ChannelFacts:
    fee, by_province = fee_text(channel.fees)
    return ChannelFacts(channel.method, time_text(channel.time), fee, by_province, tuple(channel.fees))


def copies_text(originals: int | None, copies: int | None) -> str | None:
    parts = [f"{n} {label}" for n, label in ((originals, "bản chính"), (copies, "bản sao")) if n]
    return ", ".join(parts) or None


def document_facts(document: Document) -> DocumentFacts:
    return DocumentFacts(document.name, copies_text(document.originals, document.copies), form=document.form,
                         handling=document.handling, form_code=document.form_code,
                         condition=document.condition)  # fmt: skip


def official_source_line(record: OfficialRecord) -> str:
    source = SOURCE_OFFICIAL_2024 if record.predates_2025_reform else SOURCE_OFFICIAL
    return source.format(date=format_date(record.crawled))


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
        documents=tuple(document_facts(d) for d in record.papers),
        cases=tuple(CaseFacts(c.name, tuple(document_facts(d) for d in c.documents)) for c in record.cases),
        common_documents=tuple(document_facts(d) for d in record.common_documents),
        document_notes=tuple(record.document_notes),
        steps=tuple(record.steps),
        eligibility=record.conditions,
        result="; ".join(record.result) or None,
        legal_basis=tuple(t for t in (legal_text(b.number, b.title) for b in record.legal_basis) if t),
        portal_url=record.portal_url,
        source_line=official_source_line(record),
        caution=PRE_REFORM_CAUTION if record.predates_2025_reform else None,
        has_details=record.has_details,
        province=record.province,
        level_note=_level_note(record.agency or record.competent_authority, record.where, record.predates_2025_reform),
        deadline=citizen_deadline(record.conditions or "", " ".join(record.steps)),
    )


def _level_note(agency: str | None, where: str | None, predates: bool = False) -> str | None:
    """The reorganisation note for an agency or place at an abolished level (a 2024 record has its own caution)."""
    return ABOLISHED_LEVEL_NOTE if not predates and names_abolished_level(agency, where) else None


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
        common_documents=tuple(
            DocumentFacts(d.name, f"{d.copies} bản" if d.copies > 1 else None, d.note) for d in proc.documents or []
        ),
        steps=tuple(proc.steps),
        eligibility=proc.eligibility,
        result=proc.result,
        legal_basis=tuple(proc.legal_basis or ()),
        source_line=SOURCE_CURATED.format(source=proc.source, date=format_date(proc.last_reviewed)),
        caution=caution,
        notes=proc.notes,
        level_note=_level_note(proc.agency, sub.where if sub else None),
        deadline=proc.deadline,
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
    return tuple(replace(c, time=c.time or time, fee=c.fee or fee) for c in channels)


def from_curated(proc: Procedure, linked: list[OfficialRecord] | None = None) -> ProcedureFacts:
    """The curated record, with the facts of its first linked official record where it has one."""
    if not linked:
        return _curated_only(proc)
    official = from_official(linked[0], doc_id=proc.id)
    curated = _curated_only(proc)
    filled = {name: getattr(official, name) or getattr(curated, name) for name in OFFICIAL_FACTS}
    if not official.documents:  # the curated list stands in, whole: it has no cases
        filled |= {"common_documents": curated.common_documents}
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
            "level_note": _level_note(filled["agency"], filled["where"], linked[0].predates_2025_reform),
            "deadline": proc.deadline or official.deadline,
            "case_names": tuple(proc.cases.names.items()) if proc.cases else (),
            "common_case": proc.cases.common if proc.cases else None,
        }
    )


# ---------------------------------------------------------------- which source the answer takes, fact by fact

# Facts an official record can supply, as the staff console shows them beside the curated fields.
SUPPLIED_FACTS = ("levels", "agency", "where", "online", "documents", "time", "fee", "steps", "eligibility", "result",
                  "legal_basis")  # fmt: skip


def fact_lines(facts: ProcedureFacts, name: str, day: dt.date) -> tuple[str, ...]:
    """One fact of SUPPLIED_FACTS as lines of plain text (the fee as due on `day`); empty when the facts say nothing."""
    if name == "levels":
        return (facts.level_text,) if facts.levels else ()
    if name in ("agency", "where", "eligibility", "result"):
        value = getattr(facts, name)
        return (value,) if value else ()
    if name == "online":
        if facts.online:
            return (f"Có ({facts.online_note}), tại {facts.online_where}" if facts.online_note
                    else f"Có, tại {facts.online_where}",)  # fmt: skip
        return ("Không",) if facts.channels else ()
    if name == "documents":
        return tuple(" — ".join(p for p in (d.name, d.copies, _unless_said(d.condition, d.name)) if p)
                     for d in facts.documents)  # fmt: skip
    if name == "time":
        return tuple(f"{c.method}: {c.time}" for c in facts.channels if c.time)
    if name == "fee":
        return tuple(f"{c.method}: {fee}" for c in facts.channels if (fee := c.fee_on(day)))
    return tuple(getattr(facts, name))  # steps, legal_basis


def _unless_said(part: str | None, text: str) -> str | None:
    return None if part and part.lower() in text.lower() else part


def fact_sources(proc: Procedure, linked: list[OfficialRecord], day: dt.date) -> dict[str, str]:
    """Per fact of SUPPLIED_FACTS, where the answer takes it from: "official" (the first linked record), "curated"
    (the record's own value: the official one is silent, or our wording is preferred), "" (neither says anything).
    Read off what `from_curated` gives, so the choice itself is made in one place only."""
    used = from_curated(proc, linked)
    official = from_official(linked[0], doc_id=proc.id) if linked else None
    sources = {}
    for name in SUPPLIED_FACTS:
        given = fact_lines(used, name, day)
        if not given:
            sources[name] = ""
        elif official is not None and given == fact_lines(official, name, day):
            sources[name] = "official"
        else:
            sources[name] = "curated"
    return sources
