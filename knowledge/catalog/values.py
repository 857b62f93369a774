"""Values whose meaning the portal writes in words: fee rates for a period, the unit of a bare time.

The import reads them into structured fields once (`with_fee_periods`, `with_time_unit`); the answers decide at
the day of the question which rate is in force (knowledge/records/facts.py). Generic readers of the portal's
wording, never lists written for particular procedures.
"""

from __future__ import annotations

import calendar
import re

from knowledge.catalog.common import NO_FEE, PORTAL_UNITS, legal_numbers, one_line
from knowledge.catalog.model import Channel, Fee, FeePeriod, Method, OfficialRecord, ProcessingTime, TimeUnit

# Acts that set fees for a fixed period: when a fee's text cites one without its dates, the act's own period applies.
# (Facts about the regulations, valid for every procedure that cites them.)
TEMPORARY_FEE_ACTS: dict[str, tuple[str, str]] = {
    "64/2025/TT-BTC": ("2025-07-01", "2026-12-31"),
    "43/2024/TT-BTC": ("2024-07-01", "2024-12-31"),
    "44/2023/TT-BTC": ("2023-07-01", "2023-12-31"),
}

_DATE = r"(\d{1,2})\s*(?:/|-|\s+tháng\s+)(\d{1,2})\s*(?:/|-|\s+năm\s+)((?:19|20)\d{2})"
_START = re.compile(rf"(?i)\btừ\s+(?:kể\s+từ\s+)?ngày\s+{_DATE}")
_END = re.compile(rf"(?i)\bđến\s+(?:hết\s+)?(?:ngày\s+)?{_DATE}")
_PAID_SHARE = re.compile(r"(?i)\bbằng\s+(\d{1,3}(?:[.,]\d+)?)\s*%")
_REDUCED_BY = re.compile(r"(?i)\bgiảm\s+(\d{1,3}(?:[.,]\d+)?)\s*%")
_SUM = r"(\d{1,3}(?:\.\d{3})+)\s*(?:đồng|đ\b|vnđ)?"
# "áp dụng mức phí 400.000 đồng", "áp dụng mức thu lệ phí là 115.000 đồng", "Mức phí giảm 20%: 1.600.000"
_RATE_SUM = re.compile(
    rf"(?i)(?:áp dụng mức (?:phí|thu)|mức (?:phí|thu|lệ phí))[^\d%()]{{0,25}}?(?:\d+\s*%\s*:?\s*)?{_SUM}"
)
# "25.000 đồng/lần (áp dụng từ … đến hết …)": the sum stands before the bracket that dates it
_SUM_THEN_DATES = re.compile(rf"(?i){_SUM}(?:/[^\s(]+(?:\s[^\s(]+){{0,2}})?\s*\(\s*áp dụng")
# "Miễn phí từ ngày …", "Miễn lệ phí kể từ …", "Miễn kể từ …" (not "quy định mức thu, miễn một số khoản phí")
_WAIVED = re.compile(r"(?i)\bmiễn(?:\s+thu)?(?:\s+(?:phí|lệ phí))?\s+(?:kể\s+)?từ\b")
_ONLINE = re.compile(r"(?i)trực tuy[eếể]n")
_ABOUT_FEES = re.compile(r"(?i)phí|mức thu")
# Clauses: sentences, "; " items, "- " and "+ " list items, lines.
_CLAUSE = re.compile(r"(?<=[.;])\s+|\s+[-+]\s+|\n|^\s*[-+]\s*")


def _iso(day: str, month: str, year: str) -> str | None:
    d, m, y = int(day), int(month), int(year)
    if not 1 <= m <= 12 or d < 1:
        return None
    d = min(d, calendar.monthrange(y, m)[1])  # "31/6/2022" on one page: the month's last day
    return f"{y:04d}-{m:02d}-{d:02d}"


def _clauses(text: str) -> list[str]:
    return [one_line(part) for part in _CLAUSE.split(text) if part and one_line(part)]


def _amount(text: str) -> int | None:
    found = _RATE_SUM.search(text) or _SUM_THEN_DATES.search(text)
    return int(found.group(1).replace(".", "")) if found else None


def _percent(text: str) -> float | None:
    if found := _PAID_SHARE.search(text):
        return float(found.group(1).replace(",", "."))
    if found := _REDUCED_BY.search(text):
        return 100.0 - float(found.group(1).replace(",", "."))
    if _WAIVED.search(text) and not _SUM_THEN_DATES.search(text):
        return 0.0  # "Miễn phí từ ngày 07/4/2026 đến 30/6/2026": nothing to pay in the period
    return None


def _act(text: str) -> str | None:
    """The act that sets the rate: a known temporary one, else the first cited after "theo", else the first."""
    numbers = legal_numbers(text)
    by = text.lower().find("theo")
    after = [n for n, start, _ in numbers if by >= 0 and start > by]
    names = [n for n, _, _ in numbers]
    fallback = (after or names)[0] if (after or names) else None
    return next((n for n in names if n in TEMPORARY_FEE_ACTS), fallback)


def period_in(clause: str) -> FeePeriod | None:
    """The dated rate one clause states, or None when it states none."""
    start, end = _START.search(clause), _END.search(clause)
    act = _act(clause)
    known = TEMPORARY_FEE_ACTS.get(act or "")
    percent, amount = _percent(clause), _amount(clause)
    if not (start or end or known) or not (_ABOUT_FEES.search(clause) or amount or percent is not None):
        return None
    if not (start or end) and percent is None and amount is None:
        return None  # an act cited for the standard fee, no rate of its own
    first = _iso(*start.groups()) if start else (known[0] if known and not end else None)
    last = _iso(*end.groups()) if end else (known[1] if known else None)
    if first and last and first > last:
        return None
    channel: Method | None = "trực tuyến" if _ONLINE.search(clause) else None
    return FeePeriod(percent=percent, amount_vnd=amount, start=first, end=last, channel=channel, legal=act,
                     text=clause)  # fmt: skip


def fee_periods(text: str) -> list[FeePeriod]:
    found: list[FeePeriod] = []
    for clause in _clauses(text):
        period = period_in(clause)
        if period is not None and period not in found:
            found.append(period)
    return found


def _for_fee(fee: Fee, periods: list[FeePeriod]) -> list[FeePeriod]:
    """Keep what makes sense for this fee: a reduced rate below its standard amount, or the listed rate itself."""
    kept = []
    for period in periods:
        standard, rate = fee.amount_vnd, period.amount_vnd
        if fee.kind == "amount" and standard is not None and rate is not None:
            if rate == standard:  # the amount listed is the temporary rate itself
                period = period.model_copy(update={"amount_vnd": None, "percent": None})
            elif rate > standard:
                continue  # not a reduction of this fee (another fee's rate, or a typo on the page)
        if fee.kind == "free" and period.percent == 0 and period.amount_vnd is None:
            period = period.model_copy(update={"percent": None})  # a free fee said free for a period: the listed one
        elif fee.kind == "free" and (period.percent is not None or period.amount_vnd is not None):
            continue
        if fee.suspect:
            continue  # an amount that lost its thousands: no reduction is computed on it
        kept.append(period)
    return kept


def with_fee_periods(channel: Channel) -> Channel:
    """Each fee with the dated rates its own text states (else the channel's description), ready for the day."""
    fees = []
    for fee in channel.fees:
        periods = fee_periods(fee.text) or (fee_periods(channel.note) if fee.kind != "free" or not fee.text else [])
        fees.append(fee.model_copy(update={"periods": _for_fee(fee, periods)}) if periods else fee)
    return channel.model_copy(update={"fees": _fold_listed_rates(fees)})


def _fold_listed_rates(fees: list[Fee]) -> list[Fee]:
    """Two fees, 50.000 đ and "25.000 đ (áp dụng đến hết 31/12/2026)": one standard fee with its reduced rate."""
    standard = [f for f in fees if f.kind == "amount" and f.amount_vnd and not f.periods]
    folded = list(fees)
    for fee in fees:
        listed = [p for p in fee.periods if p.amount_vnd is None and p.percent is None]
        if fee.kind != "amount" or not fee.amount_vnd or not listed or len(standard) != 1:
            continue
        base = standard[0]
        if fee.amount_vnd >= (base.amount_vnd or 0):
            continue
        moved = [p.model_copy(update={"amount_vnd": fee.amount_vnd}) for p in listed]
        folded[folded.index(base)] = base.model_copy(update={"periods": moved})
        folded.remove(fee)
    return folded


# ---------------------------------------------------------------------------------------- times without a unit

_STATED_DURATION = re.compile(
    r"(?i)(?:thời hạn giải quyết|thời gian giải quyết|trong thời hạn|trong vòng|không quá|trong)\s*(?:là\s*)?:?\s*"
    r"(\d+(?:[.,]\d+)?)\s*(?:\([^)]{1,12}\)\s*)?(ngày làm việc|ngày|giờ làm việc|giờ|tuần|tháng|năm)\b"
    r"(?!\s*(?:,\s*)?(?:trước|sau)\b)"
)


def unit_in_text(value: float, *texts: str) -> TimeUnit | None:
    """The unit the record's own words give a bare number ("trong thời hạn 05 ngày làm việc"), when only one fits."""
    units = {PORTAL_UNITS[u.lower()] for text in texts for n, u in _STATED_DURATION.findall(text or "")
             if float(n.replace(",", ".")) == value}  # fmt: skip
    return units.pop() if len(units) == 1 else None


def with_time_unit(record: OfficialRecord, api: OfficialRecord | None = None) -> tuple[OfficialRecord, int, int]:
    """A bare time ("5") with the unit of the portal's structured answer for the same channel, or of the record's
    own text; returns the record and how many channel times were given a unit and how many were left bare."""
    fixed = left = 0
    channels = []
    for channel in record.channels:
        time = channel.time
        if time is None or time.value is None or time.unit is not None:
            channels.append(channel)
            continue
        # A bare "1" is also how the portal says "see the description": the words may then quote one step's "trong
        # 01 ngày làm việc" of a procedure that takes months, so only a larger number is matched in the text.
        words = (channel.note, " ".join(record.steps), record.conditions or "")
        in_words = unit_in_text(time.value, *words) if time.value != 1 else None
        unit = _api_unit(api, channel.method, time) or in_words or None
        if unit is None:
            left += 1
            channels.append(channel)
            continue
        fixed += 1
        channels.append(channel.model_copy(update={"time": time.model_copy(update={"unit": unit})}))
    return record.model_copy(update={"channels": channels}), fixed, left


def _api_unit(api: OfficialRecord | None, method: Method, time: ProcessingTime) -> TimeUnit | None:
    theirs = api.channel(method) if api else None
    if theirs and theirs.time and theirs.time.value == time.value and theirs.time.unit:
        return theirs.time.unit
    return None


def complete_times(
    records: list[OfficialRecord], pages: dict[str, OfficialRecord], api: dict[str, OfficialRecord]
) -> tuple[list[OfficialRecord], list[str]]:
    """Every detailed 2026 record's bare times completed (see `with_time_unit`), and the report's lines on it."""
    out, fixed, left, before, after = [], 0, 0, 0, 0
    for record in records:
        if record.detail != "full" or record.predates_2025_reform:
            out.append(record)
            continue
        other = pages.get(record.code) if record.source != "national-portal-2026" else api.get(record.code)
        completed, now_fixed, now_left = with_time_unit(record, other)
        fixed, left = fixed + now_fixed, left + now_left
        before, after = before + bool(now_fixed or now_left), after + bool(now_left)
        out.append(completed)
    return out, [
        f"  times with a number and no unit: {before} records; unit found for {fixed} channel times (structured "
        f"answer or the record's own words), left as the portal states them (answered with a note): {left} "
        f"channel times in {after} records",
    ]


# ------------------------------------------------------------------------------------------ abolished levels

# An agency or place at the district level abolished on 1 July 2025: "cấp huyện", "UBND huyện", "Phòng Tư pháp
# huyện", "Bảo hiểm xã hội cấp huyện", "Công an quận".
ABOLISHED_LEVEL = re.compile(
    r"(?i)\bcấp\s+huyện\b|\b(?:ủy ban nhân dân|ubnd|công an|bảo hiểm xã hội|phòng(?:\s+[^\s,.;()]+){1,8}?|"
    r"chi cục(?:\s+[^\s,.;()]+){1,6}?)\s+(?:cấp\s+)?(?:huyện|quận|thị xã)\b"
)


def names_abolished_level(*texts: str | None) -> bool:
    return any(ABOLISHED_LEVEL.search(text or "") for text in texts)


def value_lines(records: list[OfficialRecord]) -> list[str]:
    """Catalogue-wide counts of the values answers compute or qualify at the day of the question."""
    detailed = [r for r in records if r.detail == "full"]
    fees = [(r, f) for r in detailed for c in r.channels for f in c.fees]
    dated = {r.code for r, f in fees if f.periods}
    reduced = {r.code for r, f in fees if any(p.percent is not None or p.amount_vnd is not None for p in f.periods)}
    online_only = {r.code for r, f in fees if any(p.channel for p in f.periods)}
    province = {r.code for r, f in fees if f.kind == "province"}
    example = {r.code for r, f in fees if f.kind == "province" and f.amount_vnd}
    no_fee = {r.code for r, f in fees if f.kind == "free" and NO_FEE.search(f.text)}
    abolished = {r.code for r in detailed if not r.predates_2025_reform and names_abolished_level(r.agency, r.where)}
    return [
        "", "Values answered for the day of the question (knowledge/catalog/values.py):",
        f"  fees with a dated rate in their text: {len(dated)} records ({len(reduced)} with a reduced rate or "
        f"amount, {len(online_only)} for online submission only)",
        f"  fees set by each province: {len(province)} records ({len(example)} of them list an example amount)",
        f"  fees written «Không có», «Không quy định»…, answered as no fee: {len(no_fee)} records",
        f"  2026 records whose agency or place names an abolished level (cấp huyện…): {len(abolished)}",
    ]



# ------------------------------------------------------------------------------------ the citizen's deadline

# "Trong thời hạn 60 ngày kể từ ngày sinh con, cha hoặc mẹ có trách nhiệm đăng ký khai sinh": by when the citizen
# must apply, counted from an event of theirs, never from the day the agency receives the dossier (that is the
# processing time).
_DEADLINE = re.compile(
    r"(?i)(?:trong thời hạn|trong vòng|trong|chậm nhất(?: là)?|không quá)\s+\d+\s*(?:\([^)]{1,15}\)\s*)?"
    r"(?:ngày làm việc|ngày|tháng|năm)\s*,?\s*(?:kể\s+)?từ\s+(?:ngày|khi|thời điểm)\s+"
    r"(?!(?:cơ quan|nhận|tiếp nhận|được|hết hạn|kết thúc)\b)"
)
_SENTENCE_END = re.compile(r"(?<=[.;:])\s|\s[-+*•]\s|\n")


# The sentence must put the duty on the applicant ("cha hoặc mẹ có trách nhiệm đăng ký", "phải đề nghị"), not on
# an agency ("cơ quan … có trách nhiệm đăng tải", "Ủy ban nhân dân tỉnh xem xét").
_CITIZEN_DUTY = re.compile(
    r"(?i)(?:phải|có trách nhiệm|có nghĩa vụ)\s+(?:đi\s+)?(?:đăng ký|khai|nộp|gửi|đề nghị|thông báo|làm|thực hiện|"
    r"trình báo|báo cáo|xuất trình)"
)
_AGENCY_DUTY = re.compile(
    r"(?i)(?:cơ quan|ủy ban|ubnd|cục|sở|phòng|bộ phận|công chức|cán bộ)[^,.;]{0,60}?(?:có trách nhiệm|phải)"
)


def citizen_deadline(*texts: str) -> str | None:
    """The first sentence of the record's text that sets a deadline for the citizen, shortened for a phone."""
    for text in texts:
        for found in _DEADLINE.finditer(text or ""):
            start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, found.start())), default=0)
            end = _SENTENCE_END.search(text, found.end())
            sentence = one_line(text[start : end.start() if end else len(text)]).lstrip("-+*• ").rstrip(" ;")
            if not _CITIZEN_DUTY.search(sentence) or _AGENCY_DUTY.search(sentence):
                continue
            return sentence if len(sentence) <= 300 else sentence[:300].rsplit(" ", 1)[0] + " …"
    return None
