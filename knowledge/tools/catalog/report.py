"""The import report: what each source gave, how much of each field was read, and how the page parser
agrees with the structured API where both describe the same procedure.

Agreement compares parsed values (method, number, unit, fee kind, amount, currency), never text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from knowledge.catalog.common import UPPER
from knowledge.catalog.model import Channel, Method, OfficialRecord
from knowledge.tools.catalog.parse_portal import PageParse

SAMPLE = 8  # failures shown per kind

# A table row marker as the raw text shows it: a method name glued to its next cell.
_ROW_MARKER = re.compile(rf"(Trực tiếp|Trực tuyến|Dịch vụ bưu chính)(?=\d|[{UPPER}])")
_NUMERIC_TIME_MARKER = re.compile(r"(Trực tiếp|Trực tuyến|Dịch vụ bưu chính)\d")
_FEE_MARKER = re.compile(r"Miễn phí|\d (Việt Nam Đồng|VNĐ|Đồng|USD)")


@dataclass
class Rate:
    parsed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, ok: bool, failure: str) -> None:
        self.total += 1
        self.parsed += ok
        if not ok:
            self.failures.append(failure)

    @property
    def percent(self) -> float:
        return 100.0 * self.parsed / self.total if self.total else 100.0

    def line(self, label: str) -> str:
        return f"  {label:<44} {self.parsed:>5} / {self.total:<5} {self.percent:6.2f} %"


@dataclass
class Agreement:
    """Page parse vs API answer for the codes both sources hold."""

    pairs: int = 0
    excluded: list[str] = field(default_factory=list)  # updated on the portal after the page crawl
    time: Rate = field(default_factory=Rate)
    fee: Rate = field(default_factory=Rate)  # the fee the page shows (its first) vs the API's first
    fee_all: Rate = field(default_factory=Rate)  # every fee of the channel (pages show only the first)
    time_raw: Rate = field(default_factory=Rate)  # the same, over every pair, excluded ones included
    fee_raw: Rate = field(default_factory=Rate)
    channel_time: Rate = field(default_factory=Rate)
    channel_fee: Rate = field(default_factory=Rate)
    legal_numbers: Rate = field(default_factory=Rate)
    document_counts: Rate = field(default_factory=Rate)
    forms: Rate = field(default_factory=Rate)


@dataclass
class ImportReport:
    files: Counter = field(default_factory=Counter)  # source → files read
    mismatched: list[tuple[str, str | None]] = field(default_factory=list)  # (file's code, code on the page)
    records: Counter = field(default_factory=Counter)  # source → records written
    details: Counter = field(default_factory=Counter)
    types: Counter = field(default_factory=Counter)
    predates: int = 0
    specific_without_province: list[str] = field(default_factory=list)
    pages_not_in_catalog: int = 0
    titles_with_2024_details: int = 0
    portal_fields: dict[str, Rate] = field(default_factory=dict)
    portal_fee: Rate = field(default_factory=Rate)
    portal_time: Rate = field(default_factory=Rate)
    time_in_words: int = 0
    ambiguous_cells: int = 0
    fees_corrected: int = 0
    fees_suspect: list[str] = field(default_factory=list)
    api_fields: dict[str, Rate] = field(default_factory=dict)
    old_fields: dict[str, Rate] = field(default_factory=dict)
    old_unreadable: list[str] = field(default_factory=list)
    agreement: Agreement = field(default_factory=Agreement)
    snapshot_bytes: int = 0
    values_lines: list[str] = field(default_factory=list)  # knowledge/catalog/values.py: dated fees, units, levels
    documents_from_page_text: list[str] = field(default_factory=list)  # codes whose documents cell lost its table
    fidelity_before: Counter | None = None  # problems in the snapshot this import replaces
    fidelity_after: Counter = field(default_factory=Counter)
    unplaced_documents: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return _render(self)

    def text(self) -> str:
        return "\n".join(self.lines()) + "\n"


# ------------------------------------------------------------------------------------------- field coverage

FIELDS = ("levels", "fields", "target_groups", "agency", "where", "channels", "documents", "steps",
          "conditions", "result", "legal_basis", "portal_url")  # fmt: skip


def coverage(records: list[OfficialRecord]) -> dict[str, Rate]:
    rates = {name: Rate() for name in FIELDS}
    for record in records:
        for name in FIELDS:
            rates[name].add(bool(getattr(record, name)), record.code)
    return rates


# ---------------------------------------------------------------------------------------- page parse rates


def page_rates(report: ImportReport, parse: PageParse, raw_cell: str) -> None:
    """Fee and time parse rates over pages whose channel table states them, judged from the raw text."""
    assert parse.record is not None and parse.channels is not None
    code, channels = parse.record.code, parse.channels
    markers = len(_ROW_MARKER.findall(raw_cell))
    read_all_rows = len(parse.record.channels) >= markers and not channels.leftover
    snippet = f"{code}: {raw_cell[38:200]!r}"
    if _FEE_MARKER.search(raw_cell):
        fees_ok = read_all_rows and any(c.fees for c in parse.record.channels)
        report.portal_fee.add(fees_ok, snippet)
    if _NUMERIC_TIME_MARKER.search(raw_cell):
        numeric = [c for c in parse.record.channels if c.time and c.time.value is not None]
        report.portal_time.add(read_all_rows and bool(numeric), snippet)
    report.time_in_words += sum(1 for c in parse.record.channels if c.time and c.time.value is None)
    report.ambiguous_cells += channels.ambiguous
    if parse.documents is not None and parse.documents.from_page_text:
        report.documents_from_page_text.append(code)
    count_fees(report, parse.record)


def count_fees(report: ImportReport, record: OfficialRecord) -> None:
    for channel in record.channels:
        for fee in channel.fees:
            if fee.suspect:
                report.fees_suspect.append(f"{record.code} {channel.method}: {fee.amount_vnd} đ")
            report.fees_corrected += fee.listed_vnd is not None


# ----------------------------------------------------------------------------------------------- agreement


def _time_key(channel: Channel | None) -> tuple[float | None, str | None] | None:
    if channel is None or channel.time is None:
        return None
    return (channel.time.value, channel.time.unit)


def _fee_keys(channel: Channel | None, first_only: bool) -> list[tuple]:
    if channel is None:
        return []
    fees = channel.fees[:1] if first_only else channel.fees
    return [fee.key() for fee in fees]


def _same_fees(page: OfficialRecord, api: OfficialRecord, method: str, first_only: bool) -> bool:
    return _fee_keys(page.channel(method), first_only) == _fee_keys(api.channel(method), first_only)  # type: ignore[arg-type]


def compare(agreement: Agreement, page: OfficialRecord, api: OfficialRecord, comparable: bool) -> list[str]:
    """Add one pair to the figures; return what disagreed, for the report's sample."""
    agreement.pairs += 1
    methods = sorted({c.method for c in page.channels} | {c.method for c in api.channels})
    same_methods = {c.method for c in page.channels} == {c.method for c in api.channels}
    time_ok = same_methods and all(_time_key(page.channel(m)) == _time_key(api.channel(m)) for m in methods)
    fee_ok = same_methods and all(_same_fees(page, api, m, first_only=True) for m in methods)
    all_ok = same_methods and all(_same_fees(page, api, m, first_only=False) for m in methods)
    agreement.time_raw.add(time_ok, page.code)
    agreement.fee_raw.add(fee_ok, page.code)
    if not comparable:
        agreement.excluded.append(page.code)
    else:
        agreement.time.add(time_ok, page.code)
        agreement.fee.add(fee_ok, page.code)
        agreement.fee_all.add(all_ok, page.code)
        for method in methods:
            agreement.channel_time.add(_time_key(page.channel(method)) == _time_key(api.channel(method)), page.code)
            agreement.channel_fee.add(
                _fee_keys(page.channel(method), True) == _fee_keys(api.channel(method), True), page.code
            )
        _compare_documents(agreement, page, api)
    return _differences(page, api, methods) if not (time_ok and fee_ok) else []


def _compare_documents(agreement: Agreement, page: OfficialRecord, api: OfficialRecord) -> None:
    # Pages often list fewer legal documents than the API: check that what the page parse read is right.
    numbers = lambda r: {b.number for b in r.legal_basis if b.number}  # noqa: E731
    agreement.legal_numbers.add(numbers(page) <= numbers(api), f"{page.code}: {sorted(numbers(page) - numbers(api))}")
    agreement.document_counts.add(len(page.documents) == len(api.documents), page.code)
    for ours, theirs in zip(page.documents, api.documents, strict=False):
        if theirs.form:
            agreement.forms.add(ours.form == theirs.form, f"{page.code}: {ours.form!r} ≠ {theirs.form!r}")


def _differences(page: OfficialRecord, api: OfficialRecord, methods: list[Method]) -> list[str]:
    lines = []
    for method in methods:
        ours, theirs = page.channel(method), api.channel(method)
        if _time_key(ours) != _time_key(theirs) or _fee_keys(ours, True) != _fee_keys(theirs, True):
            lines.append(f"{page.code} {method}: page {_time_key(ours)} {_fee_keys(ours, True)}"
                         f" | API {_time_key(theirs)} {_fee_keys(theirs, True)}")  # fmt: skip
    return lines


# ---------------------------------------------------------------------------------------------- rendering


def _render(report: ImportReport) -> list[str]:
    a = report.agreement
    out = ["# Import of the official catalogue (make kb-import-catalog)", ""]
    out.append("Sources read:")
    out += [f"  {source:<28} {count:>5} entries" for source, count in sorted(report.files.items())]
    out.append(f"  pages that hold another procedure (rejected): {len(report.mismatched)}")
    out += [f"    {claimed} holds the page of {actual}" for claimed, actual in report.mismatched]
    out += ["", "Records written (one per code):"]
    out += [f"  {source:<28} {count:>5}" for source, count in sorted(report.records.items())]
    out.append(f"  {'total':<28} {sum(report.records.values()):>5}")
    out.append(f"  detail: {dict(sorted(report.details.items()))}; type: {dict(sorted(report.types.items()))}")
    out.append(f"  predating the July 2025 reorganisation: {report.predates}")
    unknown = report.specific_without_province
    out.append(f"  SPECIFIC without a recognised province: {len(unknown)} {', '.join(unknown[:SAMPLE])}".rstrip())
    out.append(f"  2026 pages whose code is absent from the July 2026 catalogue: {report.pages_not_in_catalog}")
    out.append("  titles-only codes for which a 2024 page exists (not used, by precedence): "
               f"{report.titles_with_2024_details}")  # fmt: skip
    out += ["", "2026 portal pages: fee and processing time (pages whose table states them):"]
    out.append(report.portal_fee.line("fee parsed"))
    out.append(report.portal_time.line("processing time parsed (number)"))
    out.append(f"  times given in words only: {report.time_in_words} channels; "
               f"time and amount run together, read by evidence: {report.ambiguous_cells} cells")  # fmt: skip
    out.append(f"  amounts under 1,000 đ restored from their own text: {report.fees_corrected}; "
               f"left marked suspect: {len(report.fees_suspect)}")  # fmt: skip
    out += [f"    suspect: {item}" for item in report.fees_suspect[:SAMPLE]]
    for label, rate in (("fee", report.portal_fee), ("time", report.portal_time)):
        out += [f"    {label} failure: {item}" for item in rate.failures[:SAMPLE]]
    out += _coverage_block("2026 portal pages, fields read", report.portal_fields)
    out += _coverage_block("2026 API answers, fields present", report.api_fields)
    out += _coverage_block("2024 pages, fields read", report.old_fields)
    if report.old_unreadable:
        sample = ", ".join(report.old_unreadable[:SAMPLE])
        out.append(f"  2024 pages unreadable: {len(report.old_unreadable)} ({sample})")
    out += ["", f"Agreement of page parse with the API answers ({a.pairs} codes in both):"]
    out.append(f"  compared: {a.pairs - len(a.excluded)}; left out because the portal updated them after the page "
               f"crawl: {len(a.excluded)} ({', '.join(a.excluded)})")  # fmt: skip
    out.append(a.time.line("processing time, whole procedure"))
    out.append(a.fee.line("fee shown on the page, whole procedure"))
    out.append(a.channel_time.line("processing time, per channel"))
    out.append(a.channel_fee.line("fee shown on the page, per channel"))
    out.append(a.fee_all.line("every fee of every channel (pages show one)"))
    out.append(a.time_raw.line("time, all pairs incl. updated ones"))
    out.append(a.fee_raw.line("fee, all pairs incl. updated ones"))
    out.append(a.legal_numbers.line("legal basis: every number read is the API's"))
    out.append(a.document_counts.line("documents: same count"))
    out.append(a.forms.line("documents: form file name"))
    for rate, label in ((a.legal_numbers, "legal"), (a.forms, "form")):
        out += [f"    {label} difference: {item}" for item in rate.failures[:SAMPLE]]
    out += _fidelity_block(report)
    out += report.values_lines
    out.append(f"  snapshot size: {report.snapshot_bytes:,} bytes")
    return out


def unplaced(records: list[OfficialRecord]) -> list[str]:
    """Rows kept as documents that state no count and no paper the page asks for: left for a human to place."""
    found = []
    for record in sorted(records, key=lambda r: tuple(map(int, r.code.split(".")))):
        if record.detail != "full" or record.predates_2025_reform:
            continue
        found += [f"{record.code}: {d.name[:90]}" for d in record.papers if not d.originals and not d.copies]
    return found


def _fidelity_block(report: ImportReport) -> list[str]:
    before, after = report.fidelity_before, report.fidelity_after
    out = ["", "Import fidelity, detailed 2026 records (committed snapshot before this import → now):"]
    for label in sorted(after | (before or Counter())):
        was = f"{before[label]:>5}" if before is not None else "    ?"
        out.append(f"  {label:<52} {was} → {after[label]:>5}")
    recovered = report.documents_from_page_text
    out.append(f"  documents read from the page's text (the documents cell lost its table): {len(recovered)} "
               f"{', '.join(recovered[:SAMPLE])}".rstrip())  # fmt: skip
    out.append("  rows kept as documents with no count and no clear paper (not placed): "
               f"{len(report.unplaced_documents)}")  # fmt: skip
    out += [f"    not placed: {item}" for item in report.unplaced_documents[:SAMPLE]]
    return out


def _coverage_block(title: str, rates: dict[str, Rate]) -> list[str]:
    if not rates:
        return []
    return ["", f"{title}:"] + [rate.line(name) for name, rate in rates.items()]
