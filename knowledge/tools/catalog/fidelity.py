"""How faithfully the catalogue was imported: the problems a citizen would meet, counted over a whole snapshot
(so the import report can compare the committed snapshot with the new one), and the fee check across channels.
"""

from __future__ import annotations

import re
from collections import Counter

from knowledge.catalog.model import Channel, Fee, OfficialRecord

# Issuer and type abbreviations a document number may end with; anything else after the last dash or slash
# (e.g. "CPLUẬT", a title's first word run in) is a garbled number.
_ISSUER_PART = re.compile(
    r"^(?:[A-ZĐ]*QH\d{2}|TTg|CP|NĐ|ND|TT|TTLT|QĐ|NQ|NQLT|PL|L|CTN|VBHN|VPQH|VPCP|UBND|HĐND|UBTVQH\d{0,2}|TANDTC|VKSNDTC"
    r"|TTCP|BHXH|CSXH|NHNN|UBTƯMTTQVN|UBDT|B[A-ZĐ]{1,8}|[A-ZĐ]{1,5})$"
)
_TITLE_WORD = re.compile(r"(?:LUẬT|THÔNG|NGHỊ|QUYẾT|QUY|BAN|BỘ|SỬA|HƯỚNG|VỀ|CHỈ)$")
STRAY_RATIO = 100  # a fee this many times below another channel's fee of the same record is suspect


def garbled_number(number: str | None) -> bool:
    """A number that lost or gained characters: digits of a date run in front ("02443/2024/QH15"), a title's
    word run in behind ("166/2016/NĐ-CPLUẬT"), an issuer cut short ("118/2025/NĐ-C")."""
    if not number or "/" not in number:
        return False
    head = number.split("/")[0]
    if not re.fullmatch(r"\d{1,4}(?:\.?[a-z]|\.\d{1,3})?", head) or (len(head) == 4 and head.startswith("0")):
        return True  # 30a/2008/NQ-CP, 08.a/2010/TT-BTP and 66.7/2025/NQ-CP are real numbers
    parts = re.split(r"[-/]", number.split("/", 1)[1])
    last = parts[-1]
    if number.endswith("/NĐ-C") or _TITLE_WORD.search(last) and len(last) > 4:
        return True
    return not all(part.isdigit() or _ISSUER_PART.match(part) for part in parts if part)


def flag_stray_fees(record: OfficialRecord) -> OfficialRecord:
    """Mark a fee far below the fee in the same place of another channel of the record (800 đ beside 800.000 đ:
    the page lost its thousands) as suspect; fees listed by tiers are compared tier by tier."""
    channels = [_flag_channel(channel, record.channels) for channel in record.channels]
    if channels == record.channels:
        return record
    return record.model_copy(update={"channels": channels})


def _flag_channel(channel: Channel, channels: list[Channel]) -> Channel:
    others = [c for c in channels if c is not channel]
    listed = {f.amount_vnd for c in others for f in c.fees}  # an amount another channel lists too is a real tier
    fees = [fee if fee.amount_vnd in listed else _flag_fee(fee, [c.fees[i] for c in others if len(c.fees) > i])
            for i, fee in enumerate(channel.fees)]  # fmt: skip
    return channel if fees == channel.fees else channel.model_copy(update={"fees": fees})


def _flag_fee(fee: Fee, alongside: list[Fee]) -> Fee:
    if fee.suspect or not fee.amount_vnd or fee.currency != "VND":
        return fee
    stray = any(other.amount_vnd and other.currency == "VND" and fee.amount_vnd * STRAY_RATIO <= other.amount_vnd
                for other in alongside)  # fmt: skip
    return fee.model_copy(update={"suspect": True}) if stray else fee


def problems(records: list[OfficialRecord]) -> Counter:
    """Records of the detailed 2026 layer with each kind of problem (the figures of issue 17)."""
    found: Counter = Counter()
    for record in records:
        if record.detail != "full" or record.predates_2025_reform:
            continue
        found["detailed 2026 records"] += 1
        if any(garbled_number(b.number) for b in record.legal_basis):
            found["legal basis with a garbled number"] += 1
        if any(b.number is None for b in record.legal_basis):
            found["legal basis with a reference left without number"] += 1
        if not record.documents:
            found["no documents"] += 1
        if any(f.suspect for c in record.channels for f in c.fees):
            found["fee flagged suspect (not shown as is)"] += 1
        if any(d.kind == "note" for d in record.documents):
            found["notes separated from documents"] += 1
        if any(d.case for d in record.documents):
            found["documents grouped in cases"] += 1
        if any(d.form_code for d in record.documents):
            found["forms recognised by code"] += 1
        if any(d.handling != "nộp" for d in record.documents):
            found["documents only shown (xuất trình)"] += 1
        if any(d.condition for d in record.documents):
            found["papers asked only in a stated situation"] += 1
    return found
