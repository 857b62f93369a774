"""The change report a staff member reads before publishing a sync: what is new, withdrawn or changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.catalog.model import Channel, Fee, OfficialRecord

SAMPLE = 20  # items listed in full for the large, routine kinds of change


@dataclass
class Change:
    code: str
    name: str
    what: str  # "fee", "time", "agency", "name"
    where: str  # the channel, or "" for the whole procedure
    old: str
    new: str

    def line(self) -> str:
        place = f" — {self.where}" if self.where else ""
        return f"  {self.code} {self.name}{place}: {self.old} → {self.new}"


@dataclass
class ChangeReport:
    day: str
    base_url: str
    listed: int
    fetched: int
    failed: dict[str, str]
    new: list[OfficialRecord] = field(default_factory=list)
    withdrawn: list[OfficialRecord] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    details_added: list[OfficialRecord] = field(default_factory=list)
    unchanged: int = 0

    def of(self, what: str) -> list[Change]:
        return [change for change in self.changes if change.what == what]

    def text(self) -> str:
        out = [f"# Catalogue sync of {self.day} from {self.base_url}", ""]
        out.append(f"Listed by the portal: {self.listed}; answers held: {self.fetched}; failed: {len(self.failed)}"
                   f" (their previous records are kept)")  # fmt: skip
        out += [f"  failed {code}: {reason}" for code, reason in sorted(self.failed.items())[:SAMPLE]]
        out += _section("New procedures", [f"  + {r.code} {r.name}" for r in self.new])
        out += _section("Withdrawn procedures (no longer listed)", [f"  - {r.code} {r.name}" for r in self.withdrawn])
        for what, title in (("fee", "Changed fees"), ("time", "Changed processing times"),
                            ("agency", "Changed agencies"), ("name", "Renamed")):  # fmt: skip
            out += _section(title, [change.line() for change in self.of(what)])
        if self.details_added:
            sample = ", ".join(r.code for r in self.details_added[:SAMPLE])
            count = len(self.details_added)
            out += ["", f"Details now available for {count} procedures that had only a title: {sample}"]
        out += ["", f"Unchanged: {self.unchanged}", ""]
        return "\n".join(out)


def _section(title: str, lines: list[str]) -> list[str]:
    return ["", f"{title} ({len(lines)}):", *(lines or ["  none"])]


def diff(old: list[OfficialRecord], new: list[OfficialRecord], *, listed: int, fetched: int,
         failed: dict[str, str], base_url: str, day: str) -> ChangeReport:  # fmt: skip
    report = ChangeReport(day=day, base_url=base_url, listed=listed, fetched=fetched, failed=failed)
    before = {record.code: record for record in old}
    after = {record.code: record for record in new}
    report.new = [after[code] for code in sorted(after.keys() - before.keys())]
    report.withdrawn = [before[code] for code in sorted(before.keys() - after.keys())]
    for code in sorted(before.keys() & after.keys()):
        found = compare_records(before[code], after[code])
        if not before[code].has_details and after[code].has_details:
            report.details_added.append(after[code])
        report.changes += found
        report.unchanged += not found
    return report


def compare_records(old: OfficialRecord, new: OfficialRecord) -> list[Change]:
    changes: list[Change] = []

    def add(what: str, where: str, a: str, b: str) -> None:
        if a != b:
            changes.append(Change(new.code, new.name, what, where, a, b))

    add("name", "", old.name, new.name)
    add("agency", "", old.agency or "—", new.agency or "—")
    if old.has_details and new.has_details:  # a title-only record has no fees or times to compare
        for method in _methods(old, new):
            before, after = old.channel(method), new.channel(method)  # type: ignore[arg-type]
            add("time", method, time_text(before), time_text(after))
            add("fee", method, fees_text(before), fees_text(after))
    return changes


def _methods(old: OfficialRecord, new: OfficialRecord) -> list[str]:
    seen: dict[str, None] = {}
    for channel in [*old.channels, *new.channels]:
        seen.setdefault(channel.method, None)
    return list(seen)


def time_text(channel: Channel | None) -> str:
    if channel is None:
        return "(no such channel)"
    if channel.time is None:
        return "không có thông tin"
    if channel.time.value is None:
        return channel.time.text or "không có thông tin"
    return f"{channel.time.value:g} {channel.time.unit or ''}".strip()


def fees_text(channel: Channel | None) -> str:
    if channel is None:
        return "(no such channel)"
    return "; ".join(fee_text(fee) for fee in channel.fees) or "không có thông tin"


def fee_text(fee: Fee) -> str:
    if fee.kind == "amount" and fee.currency == "VND" and fee.amount_vnd is not None:
        return f"{fee.amount_vnd:,} đ".replace(",", ".")
    if fee.kind == "amount":
        return f"{fee.amount:g} {fee.currency}"
    return {"free": "miễn phí", "province": "do HĐND tỉnh quy định", "described": "xem mô tả"}[fee.kind]
