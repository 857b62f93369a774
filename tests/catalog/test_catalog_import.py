"""The official layer: the shipped snapshot (always) and the import from ../shared (when it is there)."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest

from knowledge.catalog.model import OfficialRecord
from knowledge.catalog.provinces import NAMES
from knowledge.catalog.snapshot import DEFAULT_SNAPSHOT, load_catalog, load_snapshot, snapshot_bytes
from knowledge.tools.catalog.importer import REPORT_PATH, main
from knowledge.tools.catalog.report import ImportReport

SOURCES_2026 = {"national-portal-2026", "opengov-api-2026", "catalog-titles-2026", "portal-api"}
# Files of national-portal-2026/raw that hold another procedure's page (named in the catalogs README).
MISMATCHED = ("3.000243", "3.000285", "3.000331")


@pytest.fixture(scope="module")
def records() -> list[OfficialRecord]:
    return list(load_catalog().records)


@pytest.fixture(scope="module")
def codes(records: list[OfficialRecord]) -> dict[str, OfficialRecord]:
    return {record.code: record for record in records}


# ------------------------------------------------------------------------------------------- the snapshot


def test_snapshot_is_shipped_small_sorted_and_byte_stable(records: list[OfficialRecord]) -> None:
    data = DEFAULT_SNAPSHOT.read_bytes()
    assert len(data) <= 25 * 1024 * 1024
    assert data[4:8] == b"\0\0\0\0"  # gzip header without a timestamp
    keys = [tuple(map(int, r.code.split("."))) for r in records]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # one record per code
    assert snapshot_bytes(records) == data  # reading and writing again changes nothing


def test_snapshot_holds_no_raw_page_text() -> None:
    text = gzip.decompress(DEFAULT_SNAPSHOT.read_bytes()).decode("utf-8")
    for leftover in ("raw_text", "Hình thức nộpThời gianPhí", "Tên giấy tờMẫu đơn", "Tên văn bản pháp lýMã văn bản",
                     "Chọn cơ quan thực hiện"):  # fmt: skip
        assert leftover not in text


def test_known_facts_survive_the_import(codes: dict[str, OfficialRecord]) -> None:
    for code, amount in (("1.014064", 70_000), ("1.014063", 50_000)):  # re-issuing / exchanging an ID card
        direct = codes[code].channel("trực tiếp")
        assert direct is not None and direct.time is not None
        assert [(f.kind, f.amount_vnd) for f in direct.fees] == [("amount", amount)]
        assert (direct.time.value, direct.time.unit) == (7, "ngày làm việc")
        assert codes[code].levels == ["xã"] and "Công an" in (codes[code].agency or "")
    birth = codes["1.001193"]
    assert all(f.kind == "free" for c in birth.channels for f in c.fees)
    assert {(c.time.value, c.time.unit) for c in birth.channels if c.time} == {(1, "ngày làm việc")}


def test_2024_records_only_for_codes_no_2026_source_has(records: list[OfficialRecord]) -> None:
    old = [r for r in records if r.source == "rag4publicsector-2024"]
    assert old and all(r.predates_2025_reform and r.crawled == "2024" for r in old)
    assert not any(SOURCES_2026 & set(r.other_sources) for r in old)
    assert not any(r.predates_2025_reform for r in records if r.source != "rag4publicsector-2024")
    assert all(r.predates_2025_reform for r in records if "huyện" in r.levels)  # districts ended on 1 July 2025


def test_2026_sources_win_over_2024(records: list[OfficialRecord]) -> None:
    both = [r for r in records if "rag4publicsector-2024" in r.other_sources]
    assert both and all(r.source in SOURCES_2026 and not r.predates_2025_reform for r in both)


def test_api_answers_win_over_pages_within_2026(codes: dict[str, OfficialRecord]) -> None:
    record = codes["1.013225"]  # updated on the portal after its page was crawled (20 days → 10 working days)
    assert record.source == "opengov-api-2026" and "national-portal-2026" in record.other_sources
    assert {(c.time.value, c.time.unit) for c in record.channels if c.time} == {(10, "ngày làm việc")}


def test_pages_holding_another_procedure_are_not_used(codes: dict[str, OfficialRecord]) -> None:
    for code in MISMATCHED:
        record = codes[code]
        assert record.source != "national-portal-2026" and "national-portal-2026" not in record.other_sources
        assert "sản xuất cộng đồng" not in record.name and "Công bố Danh mục" not in record.name


def test_titles_only_records_are_minimal(records: list[OfficialRecord]) -> None:
    titles = [r for r in records if r.detail == "titles_only"]
    assert titles and all(r.source == "catalog-titles-2026" and r.name for r in titles)
    for record in titles:
        assert not (record.channels or record.documents or record.steps or record.legal_basis or record.result)
        assert not (record.where or record.conditions or record.levels)
    with_link = sum(1 for r in titles if r.portal_url and r.portal_url.startswith("https://dichvucong.gov.vn/"))
    assert with_link / len(titles) > 0.99


def test_province_specific_records_keep_their_province(records: list[OfficialRecord]) -> None:
    specific = [r for r in records if r.type == "SPECIFIC"]
    assert len(specific) > 800 and all(r.province in NAMES for r in specific)
    assert all(r.province is None for r in records if r.type != "SPECIFIC")
    assert Counter(r.province for r in specific)["Tỉnh Bắc Ninh"] > 50


def test_specific_records_are_offered_only_in_their_province(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCUA_PROVINCE", raising=False)
    catalog = load_catalog()
    national = catalog.offered()
    assert national and not any(r.type == "SPECIFIC" for r in national)
    in_bac_ninh = catalog.offered("bac ninh")  # as typed, without diacritics
    extra = [r for r in in_bac_ninh if r.type == "SPECIFIC"]
    assert extra and {r.province for r in extra} == {"Tỉnh Bắc Ninh"}
    assert len(in_bac_ninh) == len(national) + len(extra)
    monkeypatch.setenv("MOCUA_PROVINCE", "Hải Phòng")  # the deployment's own province
    assert {r.province for r in catalog.offered() if r.type == "SPECIFIC"} == {"Thành phố Hải Phòng"}
    assert {r.province for r in catalog.offered("Bắc Ninh") if r.type == "SPECIFIC"} == {"Tỉnh Bắc Ninh"}


def test_committed_report_states_the_measured_rates() -> None:
    report = REPORT_PATH.read_text("utf-8")
    for label in ("fee parsed", "processing time parsed (number)", "processing time, whole procedure",
                  "fee shown on the page, whole procedure"):  # fmt: skip
        found = re.search(rf"{re.escape(label)}\s+\d+ / \d+\s+([\d.]+) %", report)
        assert found and float(found.group(1)) >= 98.0, label


# --------------------------------------------------------------------------------- the import from ../shared


def test_fee_and_time_are_parsed_for_nearly_every_2026_page(real_import: tuple[list, ImportReport]) -> None:
    report = real_import[1]
    assert report.portal_fee.total > 2000 and report.portal_fee.percent >= 98.0
    assert report.portal_time.total > 2000 and report.portal_time.percent >= 98.0


def test_page_parse_agrees_with_the_structured_api(real_import: tuple[list, ImportReport]) -> None:
    agreement = real_import[1].agreement
    assert agreement.pairs == 77  # codes held by both the 2026 pages and the 502 API answers
    assert agreement.time.total >= 60 and agreement.time.percent >= 98.0
    assert agreement.fee.total >= 60 and agreement.fee.percent >= 98.0
    assert agreement.channel_time.percent >= 98.0 and agreement.channel_fee.percent >= 98.0
    assert len(agreement.excluded) <= 10  # left out only when the portal changed the procedure after the crawl


def test_every_mismatched_page_is_caught(real_import: tuple[list, ImportReport]) -> None:
    mismatched = dict(real_import[1].mismatched)
    assert len(mismatched) == 17
    assert mismatched["3.000243"] == mismatched["3.000331"] == "3.000579"
    assert mismatched["3.000285"] == "1.014023"


def test_reimport_gives_the_shipped_snapshot(real_import: tuple[list, ImportReport]) -> None:
    assert snapshot_bytes(real_import[0]) == DEFAULT_SNAPSHOT.read_bytes(), "run make kb-import-catalog"


def test_import_without_sources_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = DEFAULT_SNAPSHOT.read_bytes()
    assert main(["--shared", str(tmp_path / "nowhere")]) == 2
    assert "official sources not found" in capsys.readouterr().err
    assert DEFAULT_SNAPSHOT.read_bytes() == before
    assert load_snapshot(DEFAULT_SNAPSHOT)  # still loads
