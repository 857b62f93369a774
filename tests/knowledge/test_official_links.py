"""Curated records linked to the official catalogue: the linter compares what they still say with the official
record (knowledge/tools/records/official_check.py), `confirmed` must be earned, and the answer's facts come from the
official record with the curated wording beside them (knowledge/records/facts.py)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kb_samples import PROCEDURE, write_kb

from knowledge.catalog.model import Channel, Fee, OfficialRecord, ProcessingTime
from knowledge.catalog.snapshot import load_catalog, snapshot_bytes
from knowledge.records.facts import from_curated
from knowledge.records.loader import KNOWLEDGE_ROOT, REPO_ROOT, load_knowledge
from knowledge.tools.records.lint import lint
from knowledge.tools.records.official_check import curated_fee, curated_time
from knowledge.tools.records.sheet_import import import_sheet

TODAY = "2026-11-27"
CONFIRMED = (
    "reform_2025:\n  status: confirmed\n  note: Từ 1/7/2025 việc này chuyển từ cấp huyện về Ủy ban nhân dân cấp xã.\n"
)


def copy_knowledge(target: Path) -> Path:
    """The shipped records without the catalogue, as tests/knowledge/conftest.py copies them: the linter falls back
    on the shipped snapshot."""
    for part in ("procedures", "guides"):
        shutil.copytree(KNOWLEDGE_ROOT / part, target / part)
    return target


def plant(root: Path, doc_id: str, after: str, lines: str) -> Path:
    """Insert YAML lines after the line starting with ``after`` in a copied record."""
    path = root / "procedures" / f"{doc_id}.yml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(rf"^({re.escape(after)}.*\n)", lambda m: m.group(1) + lines, text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, start: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(start))


def problems(root: Path) -> list[tuple[str, int, str, str, str]]:
    found, _ = lint([root], dt.date.fromisoformat(TODAY))
    return [(p.file.name, p.line, p.field, p.severity, p.message) for p in found]


def run_lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge.tools.records.lint", "--today", TODAY, *map(str, paths)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------- shipped content


def test_shipped_records_agree_with_the_official_records() -> None:
    found, parsed = lint(None, dt.date.fromisoformat(TODAY))
    assert [str(p) for p in found if "curated says" in p.message or p.severity == "error"] == []
    linked = [item.record for item in parsed if getattr(item.record, "official_codes", None)]
    assert len(linked) >= 45  # every record whose procedure the snapshot holds names its code(s)


def test_shipped_links_name_existing_codes_main_one_first() -> None:
    catalog = load_catalog()
    cap_lai = load_knowledge().procedure("can-cuoc-cap-lai")
    assert cap_lai is not None and cap_lai.official_codes == ["1.014064", "2.001194"]
    assert catalog.get("1.014064").levels == ["xã"] and catalog.get("2.001194").levels == ["tỉnh"]


# ------------------------------------------------------------------------------------------- planted disagreements


def test_planted_wrong_fee_fails_with_the_issue_line_and_exit_1(tmp_path: Path) -> None:
    root = copy_knowledge(tmp_path / "knowledge")
    path = plant(root, "can-cuoc-cap-lai", "result:", "fee: 50.000 đồng/thẻ; miễn cho một số đối tượng chính sách.\n")
    result = run_lint(root)
    assert result.returncode == 1
    line = line_of(path, "fee:")
    expected = f"{path}:{line}: fee: [lỗi] curated says 50.000 đồng, official 1.014064 says 70.000 đồng"
    assert expected in result.stdout.splitlines(), result.stdout
    # The problem itself reads exactly as the issue asks: file:line: field: curated says X, official <code> says Y.
    fee = next(p for p in lint([root], dt.date.fromisoformat(TODAY))[0] if p.field == "fee")
    assert str(fee) == f"{path}:{line}: fee: curated says 50.000 đồng, official 1.014064 says 70.000 đồng"


def test_planted_wrong_time_level_agency_and_law_are_each_reported(tmp_path: Path) -> None:
    root = copy_knowledge(tmp_path / "knowledge")
    lai = plant(
        root, "can-cuoc-cap-lai", "result:", "processing_time: Không quá 15 ngày làm việc kể từ ngày nhận hồ sơ.\n"
    )
    sinh = plant(root, "ho-tich-khai-sinh", "domain:", "level: tỉnh\n")
    ly_lich = plant(root, "tu-phap-ly-lich-tu-phap", "domain:", "agency: Sở Tư pháp nơi thường trú\n")
    plant(
        root,
        "ho-tich-ket-hon",
        "result:",
        "legal_basis:\n  - Luật Hộ tịch số 60/2014/QH13\n  - Nghị định 99/2099/NĐ-CP\n",
    )
    found = {(name, field): (line, message) for name, line, field, _, message in problems(root) if "curated" in message}
    assert found[("can-cuoc-cap-lai.yml", "processing_time")] == (
        line_of(lai, "processing_time:"),
        "curated says 15 ngày làm việc, official 1.014064 says 7 ngày làm việc",
    )
    assert found[("ho-tich-khai-sinh.yml", "level")] == (
        line_of(sinh, "level:"),
        "curated says tỉnh, official 1.001193 says xã",
    )
    line, message = found[("tu-phap-ly-lich-tu-phap.yml", "agency")]
    assert line == line_of(ly_lich, "agency:")
    assert message.startswith("curated says Sở Tư pháp («Sở Tư pháp nơi thường trú»), official 3.000333 says công an")
    assert found[("ho-tich-ket-hon.yml", "legal_basis[2]")][1].startswith(
        "curated says 99/2099/NĐ-CP, official 1.000894 says only "
    )
    assert ("ho-tich-ket-hon.yml", "legal_basis[1]") not in found  # 60/2014/QH13 is an official basis


def test_planted_document_the_official_record_lacks_is_named(tmp_path: Path) -> None:
    root = copy_knowledge(tmp_path / "knowledge")
    docs = (
        "documents:\n  - name: Phiếu đề nghị giải quyết thủ tục về căn cước\n"
        "  - name: Hợp đồng thuê nhà có công chứng\n"
    )
    plant(root, "can-cuoc-cap-lai", "result:", docs)
    found = [(field, message) for name, _, field, _, message in problems(root) if name == "can-cuoc-cap-lai.yml"]
    fields = [field for field, _ in found]
    assert "documents[2].name" in fields and "documents[1].name" not in fields
    message = dict(found)["documents[2].name"]
    assert message.startswith("curated says «Hợp đồng thuê nhà có công chứng», official 1.014064 says no such document")


def test_an_alias_that_is_another_procedures_official_name_is_named(tmp_path: Path) -> None:
    """«Gia hạn tạm trú» is an official procedure of its own: as an alias of «Đăng ký tạm trú» it would draw the
    citizens who ask for it to the registration. The warning names the other procedure; the record still serves."""
    root = copy_knowledge(tmp_path / "knowledge")
    path = plant(root, "cu-tru-tam-tru", "aliases:", "  - gia hạn tạm trú\n")
    found = [p for p in problems(root) if p[0] == path.name and p[2].startswith("aliases")]
    assert [(field, severity) for _, _, field, severity, _ in found] == [("aliases[1]", "warning")]
    assert "1.002755 «Gia hạn tạm trú»" in found[0][4]
    assert found[0][1] == line_of(path, "  - gia hạn tạm trú")


def test_a_disagreement_takes_confirmed_away(tmp_path: Path) -> None:
    root = copy_knowledge(tmp_path / "knowledge")
    path = plant(root, "can-cuoc-cap-lai", "result:", "fee: 50.000 đồng/thẻ.\n")
    status = [p for p in problems(root) if p[0] == "can-cuoc-cap-lai.yml" and p[2] == "reform_2025.status"]
    assert [(line, severity) for _, line, _, severity, _ in status] == [(line_of(path, "  status:"), "error")]
    assert "1.014064" in status[0][4]


def test_facts_that_agree_pass(tmp_path: Path) -> None:
    root = copy_knowledge(tmp_path / "knowledge")
    agreeing = (
        "level: xã\nagency: Công an cấp xã nơi thuận tiện\nprocessing_time: Không quá 07 ngày làm việc.\n"
        "fee: 70.000 đồng/thẻ (nộp trực tuyến được giảm theo chính sách từng thời kỳ).\n"
        "legal_basis:\n  - Luật Căn cước số 26/2023/QH15\n  - Nghị định 70/2024/NĐ-CP\n"
    )
    plant(root, "can-cuoc-cap-lai", "result:", agreeing)
    assert [p for p in problems(root) if p[0] == "can-cuoc-cap-lai.yml"] == []


# ------------------------------------------------------------------------------------------- confirmed, codes


def test_confirmed_on_an_unlinked_record_is_refused(tmp_path: Path) -> None:
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": PROCEDURE + CONFIRMED})
    found = problems(root)
    assert [(line, field, severity) for _, line, field, severity, _ in found] == [(30, "reform_2025.status", "error")]
    assert "official_codes" in found[0][4] and "unverified" in found[0][4]
    assert run_lint(root).returncode == 1
    root = write_kb(
        tmp_path, {"procedures/kinh-doanh-ho.yml": PROCEDURE + CONFIRMED.replace("confirmed", "unverified")}
    )
    assert [(field, severity) for _, _, field, severity, _ in problems(root)] == [("reform_2025.status", "warning")]


@pytest.mark.parametrize(("code", "why"), [("1.014748", "chỉ có tên"), ("1.002522", "năm 2024")])
def test_confirmed_needs_a_detailed_2026_record(tmp_path: Path, code: str, why: str) -> None:
    record = PROCEDURE.replace(
        "name: Đăng ký hộ kinh doanh\n", f'name: Đăng ký hộ kinh doanh\nofficial_codes: ["{code}"]\n'
    )
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": record + CONFIRMED})
    ((_, _, severity, message),) = [p[1:] for p in problems(root) if p[2] == "reform_2025.status"]
    assert severity == "error" and why in message and code in message


def test_unknown_code_is_refused(tmp_path: Path) -> None:
    record = PROCEDURE.replace(
        "name: Đăng ký hộ kinh doanh\n", 'name: Đăng ký hộ kinh doanh\nofficial_codes: ["1.001612", "9.999999"]\n'
    )
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": record})
    unknown = [p for p in problems(root) if p[2].startswith("official_codes")]
    assert [(line, field, severity) for _, line, field, severity, _ in unknown] == [(3, "official_codes[2]", "error")]
    assert "«9.999999» không có trong danh mục" in unknown[0][4]


@pytest.mark.parametrize(
    ("written", "words"),
    [('["1.00097"]', "không đúng dạng"), ("[1.014064]", "ngoặc kép"), ('["1.014064", "1.014064"]', "hai lần")],
)
def test_malformed_codes_are_schema_errors(tmp_path: Path, written: str, words: str) -> None:
    record = PROCEDURE.replace(
        "name: Đăng ký hộ kinh doanh\n", f"name: Đăng ký hộ kinh doanh\nofficial_codes: {written}\n"
    )
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": record})
    ks = load_knowledge(root)
    assert ks.procedures == []
    (problem,) = ks.problems
    assert problem.line == 3 and problem.field.startswith("official_codes") and words in problem.message


def test_a_copied_knowledge_dir_uses_its_own_catalogue(tmp_path: Path) -> None:
    """knowledge_dir/official/catalog.jsonl.gz wins over the shipped one when present."""
    fee = Fee(kind="amount", amount_vnd=12_000, currency="VND")
    own = OfficialRecord(
        code="9.000001", name="Thủ tục thử", levels=["xã"], agency="Ủy ban nhân dân cấp xã",
        channels=[
            Channel(method=method, time=ProcessingTime(value=2, unit="ngày làm việc"), fees=[fee])
            for method in ("trực tiếp", "trực tuyến")
        ],
        source="portal-api", crawled="2026-11-01", detail="full",
    )  # fmt: skip
    linked = PROCEDURE.replace(
        "name: Đăng ký hộ kinh doanh\n", 'name: Đăng ký hộ kinh doanh\nofficial_codes: ["9.000001"]\n'
    )
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": linked.replace("fee: Miễn phí", "fee: 12.000 đồng")})
    (root / "official").mkdir()
    (root / "official" / "catalog.jsonl.gz").write_bytes(snapshot_bytes([own]))
    found = problems(root)
    assert [p[2] for p in found if "curated" in p[4]] == ["processing_time"]  # 3 days against 2; the fee agrees


# ------------------------------------------------------------------------------------------- schema


def test_linked_record_may_leave_the_facts_out_unlinked_may_not(tmp_path: Path) -> None:
    facts = r"^(level|agency|processing_time|fee|result): .*\n|^(documents|legal_basis|submission):\n(  .*\n)+"
    bare = re.sub(facts, "", PROCEDURE, flags=re.M)
    linked = bare.replace(
        "name: Đăng ký hộ kinh doanh\n", 'name: Đăng ký hộ kinh doanh\nofficial_codes: ["1.001612"]\n'
    )
    root = write_kb(tmp_path / "a", {"procedures/kinh-doanh-ho.yml": linked})
    assert load_knowledge(root).problems == [] and problems(root) == []

    root = write_kb(tmp_path / "b", {"procedures/kinh-doanh-ho.yml": bare})
    missing = {p.field: p for p in load_knowledge(root).problems}
    assert set(missing) == {"level", "agency", "submission", "documents", "processing_time", "fee", "result",
                            "legal_basis"}  # fmt: skip
    assert str(missing["fee"]).endswith("kinh-doanh-ho.yml:1: fee: " + missing["fee"].message)
    assert "official_codes" in missing["fee"].message


def test_fee_and_time_are_read_as_values() -> None:
    claim = curated_fee("50.000đ/thẻ; trẻ em miễn cho đối tượng chính sách; 1.000 VNĐ mỗi trang")
    assert claim.amounts == {50_000, 1_000} and not claim.free and not claim.province
    assert curated_fee("Không mất phí.").free and curated_fee("Lệ phí do HĐND tỉnh quy định.").province
    assert curated_time("Ngay trong ngày; nhận sau 15 giờ thì trả hôm sau, xác minh thì 03 ngày làm việc") == (
        3.0, "ngày làm việc"
    )  # fmt: skip
    assert curated_time("Trong ngày") is None


# ------------------------------------------------------------------------------------------- answer facts


def test_answer_facts_come_from_the_official_record_with_curated_wording() -> None:
    catalog, ks = load_catalog(), load_knowledge()
    cap_lai = ks.procedure("can-cuoc-cap-lai")
    facts = from_curated(cap_lai, [catalog.get(c) for c in cap_lai.official_codes])
    assert facts.codes == ("1.014064", "2.001194") and facts.related_codes == ("2.001194",)
    assert "70.000 đồng" in facts.channels[0].fee and facts.channels[0].time == "7 ngày làm việc"
    assert facts.where == cap_lai.submission.where  # the official record names no address: the curated one stays
    assert facts.steps == tuple(cap_lai.steps) and facts.notes == cap_lai.notes


def test_titles_only_link_keeps_the_curated_facts() -> None:
    catalog, ks = load_catalog(), load_knowledge()
    proc = ks.procedure("lao-dong-tro-cap-that-nghiep")
    facts = from_curated(proc, [catalog.get(c) for c in proc.official_codes])
    assert facts.codes == ("1.014748",) and facts.has_details
    assert facts.channels and facts.channels[0].fee == proc.fee and facts.channels[0].time == proc.processing_time
    assert [d.name for d in facts.documents] == [d.name for d in proc.documents]
    assert facts.legal_basis == tuple(proc.legal_basis)


def test_official_record_without_a_time_limit_shows_the_curated_one() -> None:
    catalog, ks = load_catalog(), load_knowledge()
    proc = ks.procedure("chung-thuc-ban-sao")
    facts = from_curated(proc, [catalog.get(c) for c in proc.official_codes])
    assert all(c.time == proc.processing_time for c in facts.channels)
    assert facts.channels[0].fee.startswith("2.000 đồng")  # the official fee stays


# ------------------------------------------------------------------------------------------- spreadsheet


def test_sheet_row_with_official_codes_may_leave_fact_columns_empty(tmp_path: Path) -> None:
    header = "id,name,official_codes,domain,level,fee,steps,source,last_reviewed\n"
    rows = (
        "ho-tich-ket-hon,Đăng ký kết hôn,1.000894,hộ tịch,,,Nộp tờ khai; Nhận giấy,https://dichvucong.gov.vn,27/11/2026\n"
        "ho-tich-khac,Thủ tục chưa gắn mã,,hộ tịch,xã,,Nộp tờ khai,https://dichvucong.gov.vn,27/11/2026\n"
    )
    sheet = tmp_path / "thu-tuc.csv"
    sheet.write_text(header + rows, encoding="utf-8")
    report = import_sheet(sheet, tmp_path / "kb" / "procedures")
    assert [p.name for p in report.written] == ["ho-tich-ket-hon.yml"]
    assert {(p.row, p.field) for p in report.problems} >= {(3, "fee"), (3, "agency")}
    text = (tmp_path / "kb" / "procedures" / "ho-tich-ket-hon.yml").read_text(encoding="utf-8")
    assert "official_codes: ['1.000894']" in text and "\nfee:" not in text
    (record,) = load_knowledge(tmp_path / "kb").procedures
    assert record.official_codes == ["1.000894"] and record.fee is None
    assert problems(tmp_path / "kb") == []
