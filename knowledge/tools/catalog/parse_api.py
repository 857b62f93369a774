"""The portal's JSON API answer for one procedure (`get-formality-by-citizen`, as in `opengov/details/`).

These answers are already structured (amounts, time units, copy counts), so this parser mostly renames;
it is also what the sync client uses on fresh answers.
"""

from __future__ import annotations

from typing import Any

from knowledge.catalog.common import (
    API_METHODS,
    API_UNITS,
    METHOD_ORDER,
    audiences_of,
    clean,
    fee_from_value,
    legal_number,
    one_line,
    portal_url,
    sort_levels,
    split_steps,
    time_from_value,
    unique,
)
from knowledge.catalog.model import Channel, Document, Fee, LegalBasis, Level, OfficialRecord, Source, procedure_type
from knowledge.catalog.provinces import match_province
from knowledge.catalog.values import with_fee_periods
from knowledge.tools.catalog.documents import structured

SOURCE: Source = "opengov-api-2026"
USD_CURRENCY_ID = "019b3fb2-dee2-76ab-aa53-22d4d903a2bb"  # the portal's id for USD (its name is given beside it)


class NotAProcedure(ValueError):
    """The answer is JSON but not a procedure (error code, empty data, no code)."""


def unwrap(answer: Any) -> dict:
    """The procedure inside `{"code": "OK", "data": {...}}`, or NotAProcedure."""
    if not isinstance(answer, dict) or answer.get("code") != "OK" or not isinstance(answer.get("data"), dict):
        raise NotAProcedure(f"unexpected answer: {str(answer)[:120]}")
    data = answer["data"]
    if not clean(data.get("code")) or not clean(data.get("name")):
        raise NotAProcedure("answer without a procedure code or name")
    return data


def parse_detail(answer: Any, crawled: str, source: Source = SOURCE, as_shown: bool = False) -> OfficialRecord:
    """The record; `as_shown` keeps times exactly as the portal page shows them (for comparing with pages)."""
    data = unwrap(answer)
    record = structured(_record(data, crawled, source))
    return record if as_shown else _with_case_units(record, data)


def _with_case_units(record: OfficialRecord, data: dict) -> OfficialRecord:
    """A bare time ("1", unit OTHER) takes its unit from the procedure's cases when they all agree on it:
    birth registration says 1 with no unit, and each of its cases says 1 working day."""
    days = {(c.get("processingDay") or {}).get("qty"): (c.get("processingDay") or {}).get("type")
            for c in data.get("cases") or []}  # fmt: skip
    if len(days) != 1:
        return record
    [(qty, kind)] = days.items()
    unit = API_UNITS.get(str(kind))
    channels = [
        channel.model_copy(update={"time": channel.time.model_copy(update={"unit": unit})})
        if channel.time and channel.time.unit is None and channel.time.value == qty and unit else channel
        for channel in record.channels
    ]
    return record.model_copy(update={"channels": channels})


def _record(data: dict, crawled: str, source: Source) -> OfficialRecord:
    groups = unique(one_line(item.get("name")) for item in data.get("subjectTypesDetails") or [])
    proc_type = procedure_type(data.get("type"))
    promulgated_by = one_line(data.get("departmentPromulgateName")) or None
    return OfficialRecord(
        code=clean(data["code"]),
        name=one_line(data["name"]),
        levels=_levels(data),
        fields=unique(one_line(c.get("name")) for c in data.get("categoriesDetails") or [] if c.get("name")),
        target_groups=[g for g in groups if g],
        audiences=audiences_of(groups),
        agency=_agency(data, "executingAgencies", "unitGroupsExecuting", "departmentsExecuting"),
        competent_authority=_agency(data, "", "unitGroupsAuthority", "departmentsAuthority"),
        where=clean(data.get("dossierReceivingAddresses")) or None,
        channels=parse_methods(data.get("executionMethods") or []),
        documents=_documents(data.get("executionCases") or []),
        steps=_steps(data.get("executionSteps") or []),
        conditions=clean(data.get("requirementsAndConditions")) or None,
        result=unique(one_line(r.get("name")) for r in data.get("resultsDetails") or [] if r.get("name")),
        legal_basis=_legal(data.get("legalBasisesDetails") or []),
        decision=_decision(data),
        portal_url=portal_url(clean(data.get("id"))),
        source=source,
        crawled=crawled,
        detail="full",
        type=proc_type,
        province=match_province(promulgated_by) if proc_type == "SPECIFIC" else None,
        promulgated_by=promulgated_by,
    )


def parse_methods(methods: list[dict]) -> list[Channel]:
    channels = []
    for method in methods:
        name = API_METHODS.get(str(method.get("submissionMethod")))
        if name is None:
            continue
        unit = API_UNITS.get(str(method.get("processingTimeUnit")))
        raw_time = method.get("processingTime")
        # 0 (or nothing) is how the API says "no time given"; the page shows the empty-cell placeholder.
        time = None if raw_time in (0, None, "", "0") else time_from_value(raw_time, unit)
        fees = [_fee(fee) for fee in method.get("fees") or []]
        channel = Channel(method=name, time=time, fees=fees, note=one_line(method.get("description")))
        channels.append(with_fee_periods(channel))
    return sorted(channels, key=lambda channel: METHOD_ORDER[channel.method])


def _fee(fee: dict) -> Fee:
    usd = fee.get("currencyName") == "USD" or fee.get("currencyId") == USD_CURRENCY_ID
    value = fee.get("value")
    amount = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    return fee_from_value(amount, "USD" if usd else "VND", fee.get("description") or "")


def _levels(data: dict) -> list[Level]:
    flags: list[tuple[str, Level]] = [
        ("isMinistry", "trung ương"), ("isProvince", "tỉnh"), ("isWard", "xã"), ("isOtherAgency", "khác"),
    ]  # fmt: skip
    return sort_levels([level for flag, level in flags if data.get(flag) is True])


def _agency(data: dict, text_key: str, *list_keys: str) -> str | None:
    text = one_line(data.get(text_key)) if text_key else ""
    if text:
        return text
    names = unique(one_line(item.get("name")) for key in list_keys for item in data.get(key) or [])
    return ", ".join(name for name in names if name) or None


def _documents(cases: list[dict]) -> list[Document]:
    documents = []
    for case in cases:
        group = one_line(case.get("name")).strip(" :-*") or None
        for part in case.get("profileComponents") or []:
            name = one_line(part.get("name"))
            if not name:
                continue
            attachments = [a.get("fileName") for a in part.get("attachments") or [] if a.get("fileName")]
            documents.append(Document(
                name=name,
                originals=_count(part.get("originalQty")),
                copies=_count(part.get("copyQty")),
                form=one_line(attachments[0]) if attachments else None,
                group=group,
            ))  # fmt: skip
    return documents


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _steps(steps: list[dict]) -> list[str]:
    lines: list[str] = []
    for step in steps:
        title = one_line(step.get("name"))
        if title:
            lines.append(title)
        lines.extend(split_steps(step.get("description") or ""))
    return lines


def _legal(items: list[dict]) -> list[LegalBasis]:
    result = []
    for item in items:
        code, title = one_line(item.get("code")), one_line(item.get("name"))
        number = legal_number(code)  # codes are sometimes "Thông tư số 03/2023/TT-BTP"
        result.append(LegalBasis(number=number or code or None, title=title or code))
    return result


def _decision(data: dict) -> str | None:
    proposal = data.get("procedureProposal") or {}
    return one_line(proposal.get("proposalNumber")) or one_line(data.get("decisionNo")) or None
