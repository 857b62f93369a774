"""`make kb-import-catalog`: turn the official sources in ../shared/catalogs into the shipped snapshot.

    python -m knowledge.tools.catalog.importer [--shared DIR] [--check]

One record per procedure code, by precedence:
  1. the portal's JSON API answers (crawled 18 July 2026, the latest), completed from the 2026 page;
  2. the 2026 portal pages (June–July 2026), after checking each page shows the code it is filed under;
  3. the 2026 title lists (the July catalogue, the ministries' June lists): name, field, agency, link only;
  4. the 2024 pages, only for codes no 2026 source has, marked as predating the July 2025 reorganisation.
It writes knowledge/data/official/catalog.jsonl.gz and import-report.txt, and prints the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.catalog.common import audiences_of, one_line, portal_url, split_list, unique
from knowledge.catalog.model import FILLABLE, OfficialRecord, ProcedureType, Source, procedure_type
from knowledge.catalog.provinces import match_province
from knowledge.catalog.snapshot import DEFAULT_SNAPSHOT, OFFICIAL_DIR, load_snapshot, snapshot_bytes, write_snapshot
from knowledge.catalog.values import complete_times, value_lines
from knowledge.tools.catalog import parse_2024, parse_api, parse_portal
from knowledge.tools.catalog.documents import structured
from knowledge.tools.catalog.fidelity import flag_stray_fees, problems
from knowledge.tools.catalog.report import ImportReport, compare, coverage, page_rates, unplaced

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SHARED = ROOT.parent / "shared"
REPORT_PATH = OFFICIAL_DIR / "import-report.txt"
TITLES: Source = "catalog-titles-2026"
SOURCE_ORDER: tuple[Source, ...] = (
    "portal-api", "opengov-api-2026", "national-portal-2026", "catalog-titles-2026", "rag4publicsector-2024",
)  # fmt: skip


class SourcesMissing(RuntimeError):
    pass


@dataclass
class Title:
    """A procedure as a title list gives it: enough to name it and link to it."""

    code: str
    name: str
    crawled: str
    fields: list[str] = field(default_factory=list)
    agency: str | None = None
    promulgated_by: str | None = None
    target_groups: list[str] = field(default_factory=list)
    uuid: str | None = None
    type: ProcedureType = "STANDARD"


@dataclass
class Inputs:
    pages: dict[str, OfficialRecord]
    api: dict[str, OfficialRecord]
    api_as_shown: dict[str, OfficialRecord]  # times exactly as the pages show them, to compare like with like
    api_updated: dict[str, str]
    catalogue: dict[str, Title]
    lists: dict[str, Title]
    old: dict[str, OfficialRecord]
    mismatched: set[str]


def catalogs_dir(shared: Path) -> Path:
    """Accept either ../shared or ../shared/catalogs."""
    for candidate in (shared / "catalogs", shared):
        if (candidate / "national-portal-2026" / "raw").is_dir() and (candidate / "opengov" / "details").is_dir():
            return candidate
    raise SourcesMissing(
        f"official sources not found under {shared} (expected catalogs/national-portal-2026/raw, "
        "catalogs/opengov/details, catalogs/opengov/catalog.jsonl, catalogs/rag4publicsector/docs). "
        "Put the shared folder beside the clone (../shared) or pass --shared DIR. "
        f"The shipped snapshot {DEFAULT_SNAPSHOT.relative_to(ROOT)} was left as it is."
    )


# ------------------------------------------------------------------------------------------------ reading


def read_inputs(catalogs: Path, report: ImportReport) -> Inputs:
    lists = read_lists(catalogs / "national-portal-2026")
    opengov = catalogs / "opengov"
    api_date = crawl_date(opengov / "manifest.json")
    catalogue = read_catalogue(opengov / "catalog.jsonl", api_date)
    inputs = Inputs(pages={}, api={}, api_as_shown={}, api_updated={}, catalogue=catalogue, lists=lists, old={},
                    mismatched=set())  # fmt: skip
    _read_pages(catalogs / "national-portal-2026" / "raw", inputs, report)
    _read_api(opengov / "details", api_date, inputs, report)
    _read_old(catalogs / "rag4publicsector" / "docs", inputs, report)
    report.files[TITLES] = len(inputs.catalogue)
    return inputs


def _read_pages(raw_dir: Path, inputs: Inputs, report: ImportReport) -> None:
    for _ministry, code, data in parse_portal.read_pages(raw_dir):
        report.files[parse_portal.SOURCE] += 1
        listed = inputs.lists.get(code)
        parse = parse_portal.parse_page(data, code, listed.crawled if listed else "2026-06")
        if parse.record is None:
            report.mismatched.append((code, parse.page_code))
            inputs.mismatched.add(code)
            continue
        page_rates(report, parse, data.get("cach_thuc_thuc_hien") or "")
        inputs.pages[code] = parse.record


def _read_api(details_dir: Path, crawled: str, inputs: Inputs, report: ImportReport) -> None:
    for path in sorted(details_dir.glob("*.json")):
        report.files[parse_api.SOURCE] += 1
        answer = json.loads(path.read_text(encoding="utf-8"))
        try:
            record = parse_api.parse_detail(answer, crawled)
        except parse_api.NotAProcedure:
            report.mismatched.append((path.stem, None))
            continue
        if record.code != path.stem:
            report.mismatched.append((path.stem, record.code))
            continue
        inputs.api[record.code] = record
        inputs.api_as_shown[record.code] = parse_api.parse_detail(answer, crawled, as_shown=True)
        inputs.api_updated[record.code] = _epoch_date(answer["data"].get("updatedAt")) or crawled


def _read_old(docs_dir: Path, inputs: Inputs, report: ImportReport) -> None:
    for code, text in parse_2024.read_docs(docs_dir):
        report.files[parse_2024.SOURCE] += 1
        record = parse_2024.parse_doc(text, code)
        if record is None:
            report.old_unreadable.append(code)
        else:
            inputs.old[code] = record


def read_catalogue(path: Path, crawled: str) -> dict[str, Title]:
    """The portal's July 2026 list of every published procedure (opengov/catalog.jsonl)."""
    titles = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        code = one_line(row.get("code"))
        if not re.fullmatch(r"\d+\.\d+", code):
            continue
        kind = procedure_type(row.get("type"))
        titles[code] = Title(
            code=code,
            name=one_line(row.get("name")),
            crawled=crawled,
            fields=unique(one_line(c) for c in row.get("categories") or [] if one_line(c)),
            agency=", ".join(unique(one_line(d) for d in row.get("departments") or [] if one_line(d))) or None,
            promulgated_by=one_line(row.get("departmentPromulgate")) or None,
            target_groups=unique(one_line(t) for t in row.get("formalityTargetType") or [] if one_line(t)),
            uuid=one_line(row.get("id")) or None,
            type=kind,
        )
    return titles


def read_lists(folder: Path) -> dict[str, Title]:
    """The code lists each ministry exported from the portal in June–July 2026 (the 2026 crawl's input)."""
    from openpyxl import load_workbook  # only the import needs it

    titles: dict[str, Title] = {}
    for path in sorted(folder.glob("*.xlsx")):
        crawled = xlsx_date(path)
        sheet = load_workbook(path, read_only=True).worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            code = one_line(str(row[0])) if row and row[0] is not None else ""
            if not re.fullmatch(r"\d+\.\d+", code) or len(row) < 5:
                continue
            titles[code] = Title(
                code=code,
                name=one_line(row[1]),
                crawled=crawled,
                fields=[one_line(row[4])] if one_line(row[4]) else [],
                agency=", ".join(split_list(str(row[3] or ""))) or None,
                promulgated_by=one_line(row[2]) or None,
            )
    return titles


def xlsx_date(path: Path) -> str:
    """The day the portal exported the list (the workbook's creation date), else the crawl's month."""
    try:
        with zipfile.ZipFile(path) as book:
            core = book.read("docProps/core.xml").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile):
        return "2026-06"
    found = re.search(r"<dcterms:created[^>]*>(\d{4}-\d{2}-\d{2})", core)
    return found.group(1) if found else "2026-06"


def crawl_date(manifest: Path) -> str:
    try:
        finished = json.loads(manifest.read_text(encoding="utf-8")).get("finishedAt", "")
    except (OSError, ValueError):
        finished = ""
    return finished[:10] if re.match(r"\d{4}-\d{2}-\d{2}", finished) else "2026-07"


def _epoch_date(millis: object) -> str | None:
    if not isinstance(millis, int | float):
        return None
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC).date().isoformat()


# ------------------------------------------------------------------------------------------------ merging


def merge(inputs: Inputs) -> list[OfficialRecord]:
    codes = (set(inputs.pages) | set(inputs.api) | set(inputs.catalogue) | set(inputs.lists)
             | inputs.mismatched | set(inputs.old))  # fmt: skip
    records = [_merge_one(code, inputs) for code in codes]
    return [record for record in records if record is not None]


def _merge_one(code: str, inputs: Inputs) -> OfficialRecord | None:
    page, api, old = inputs.pages.get(code), inputs.api.get(code), inputs.old.get(code)
    title = inputs.catalogue.get(code) or inputs.lists.get(code)
    candidates: tuple[tuple[Source, object], ...] = (
        ("opengov-api-2026", api), ("national-portal-2026", page), (TITLES, title), ("rag4publicsector-2024", old),
    )  # fmt: skip
    held = [source for source, present in candidates if present]
    if api is not None:
        record = _fill(api, page) if page else api
    elif page is not None:
        record = _complete_page(page, title)
    elif title is not None:
        record = titles_only(_best_title(code, inputs))
    elif old is not None:
        record = old
    else:
        return None  # a mismatched page with no other trace of its code
    if record.type != "SPECIFIC" and inputs.catalogue.get(code) and inputs.catalogue[code].type != "STANDARD":
        record = record.model_copy(update={"type": inputs.catalogue[code].type})
    if record.type == "SPECIFIC" and record.province is None and title is not None:
        record = record.model_copy(update={"province": match_province(title.promulgated_by)})
    others = [source for source in SOURCE_ORDER if source in held and source != record.source]
    return flag_stray_fees(structured(record.model_copy(update={"other_sources": others})))


def _fill(api: OfficialRecord, page: OfficialRecord) -> OfficialRecord:
    """The API answer is the later crawl; the page only fills what the answer leaves empty."""
    update = {name: getattr(page, name) for name in FILLABLE if not getattr(api, name) and getattr(page, name)}
    return api.model_copy(update=update)


def _complete_page(page: OfficialRecord, title: Title | None) -> OfficialRecord:
    if title is None:
        return page
    update: dict[str, object] = {"promulgated_by": title.promulgated_by}
    if not page.agency and title.agency:
        update["agency"] = title.agency
    if not page.fields and title.fields:
        update["fields"] = title.fields
    if not page.portal_url:
        update["portal_url"] = portal_url(title.uuid)
    return page.model_copy(update=update)


def _best_title(code: str, inputs: Inputs) -> Title:
    """The July catalogue wins; the June list fills its gaps (agency, field)."""
    july, june = inputs.catalogue.get(code), inputs.lists.get(code)
    if july is None:
        assert june is not None
        return june
    if june is not None:
        july.agency = july.agency or june.agency
        july.fields = july.fields or june.fields
    return july


def titles_only(title: Title) -> OfficialRecord:
    """A minimal record the bot can name and link to while saying it has no details."""
    return OfficialRecord(
        code=title.code,
        name=title.name,
        fields=title.fields,
        target_groups=title.target_groups,
        audiences=audiences_of(title.target_groups),
        agency=title.agency,
        portal_url=portal_url(title.uuid),
        source=TITLES,
        crawled=title.crawled,
        detail="titles_only",
        type=title.type,
        province=match_province(title.promulgated_by) if title.type == "SPECIFIC" else None,
        promulgated_by=title.promulgated_by,
    )


# ------------------------------------------------------------------------------------------------ the run


def build(catalogs: Path) -> tuple[list[OfficialRecord], ImportReport]:
    report = ImportReport()
    inputs = read_inputs(catalogs, report)
    records, time_lines = complete_times(merge(inputs), inputs.pages, inputs.api)
    _measure(report, inputs, records)
    report.values_lines = time_lines + value_lines(records)
    return records, report


def _measure(report: ImportReport, inputs: Inputs, records: list[OfficialRecord]) -> None:
    for code in sorted(inputs.pages.keys() & inputs.api.keys()):
        page = inputs.pages[code]
        comparable = inputs.api_updated[code] <= page.crawled
        compare(report.agreement, page, inputs.api_as_shown[code], comparable)
    report.portal_fields = coverage(list(inputs.pages.values()))
    report.api_fields = coverage(list(inputs.api.values()))
    report.old_fields = coverage(list(inputs.old.values()))
    for record in records:
        report.records[record.source] += 1
        report.details[record.detail] += 1
        report.types[record.type] += 1
        report.predates += record.predates_2025_reform
        if record.type == "SPECIFIC" and record.province is None:
            report.specific_without_province.append(record.code)
        if record.detail == "titles_only" and "rag4publicsector-2024" in record.other_sources:
            report.titles_with_2024_details += 1
    report.pages_not_in_catalog = len(set(inputs.pages) - set(inputs.catalogue))
    report.fidelity_after = problems(records)
    report.unplaced_documents = unplaced(records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder (default: ../shared)")
    parser.add_argument("--out", type=Path, default=DEFAULT_SNAPSHOT, help="where to write the snapshot")
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="where to write the report")
    parser.add_argument("--before", type=Path, default=None,
                        help="the snapshot to compare import fidelity with (default: the one being replaced)")
    parser.add_argument("--check", action="store_true", help="write nothing; fail if the snapshot would change")
    args = parser.parse_args(argv)
    try:
        catalogs = catalogs_dir(args.shared)
    except SourcesMissing as error:
        print(f"[kb-import-catalog] {error}", file=sys.stderr)
        return 2
    records, report = build(catalogs)
    previous = args.before or (args.out if args.out.is_file() else DEFAULT_SNAPSHOT)
    report.fidelity_before = problems(load_snapshot(previous)) if previous.is_file() else None
    data = snapshot_bytes(records)
    report.snapshot_bytes = len(data)
    print(report.text(), end="")
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(f"[kb-import-catalog] snapshot {'up to date' if same else 'WOULD CHANGE'}: {args.out}")
        return 0 if same else 1
    write_snapshot(records, args.out)
    args.report.write_text(report.text(), encoding="utf-8")
    print(f"[kb-import-catalog] wrote {len(records)} records to {args.out} and the report to {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
