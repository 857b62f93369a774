"""The loader: shipped records load; a broken file is reported at the exact line and field, and left out."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from kb_samples import GUIDE, PROCEDURE, write_kb

from knowledge.records.loader import KNOWLEDGE_ROOT, REPO_ROOT, guide_passages, load_knowledge
from knowledge.records.schema import Guide

EXAMPLE = KNOWLEDGE_ROOT / "procedures" / "ho-tich-khai-sinh.yml"


def test_shipped_example_loads_without_problems() -> None:
    ks = load_knowledge()
    khai_sinh = ks.procedure("ho-tich-khai-sinh")
    assert khai_sinh is not None, [str(p) for p in ks.problems if p.file == EXAMPLE]
    assert khai_sinh.submission.online.level == "toàn trình"
    assert khai_sinh.official_codes == ["1.001193"]
    assert khai_sinh.documents is None  # the official record lists them
    assert not [p for p in ks.problems if p.file == EXAMPLE]
    assert ks.files["ho-tich-khai-sinh"] == EXAMPLE


def test_valid_files_load_and_broken_file_is_left_out(tmp_path: Path) -> None:
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": PROCEDURE, "procedures/broken.yml": "id: [oops\n"})
    ks = load_knowledge(root)
    assert [p.id for p in ks.procedures] == ["kinh-doanh-ho"]
    assert len(ks.problems) == 1
    assert ks.problems[0].file.name == "broken.yml"


BROKEN_CASES = {
    # name: (text replaced in the valid record, replacement, expected line, expected field, words in message)
    "wrong enum": ("domain: kinh doanh", "domain: kinh doan", 6, "domain", "kinh doanh"),
    "wrong nested enum": ("level: một phần", "level: mot phan 2", 14, "submission.online.level", "toàn trình"),
    "wrong date": ("last_reviewed: 2026-10-01", "last_reviewed: 2026-02-30", 28, "last_reviewed", "NĂM-THÁNG-NGÀY"),
    "date as DD/MM/YYYY": ("last_reviewed: 2026-10-01", "last_reviewed: 01/10/2026", 28, "last_reviewed", "2025-07-01"),
    "typo'd extra field": ("fee: Miễn phí", "fees: Miễn phí", 23, "fees", "«fee»"),
    "typo in a list item": ("    copies: 2", "    copie: 2", 18, "documents[1].copie", "«copies»"),
    "missing field": ("result: Giấy chứng nhận đăng ký hộ kinh doanh\n", "", 1, "result", "result:"),
    "missing nested field": ("    available: true\n", "", 12, "submission.online.available", "available:"),
    "wrong channel in list": ("[trực tiếp, trực tuyến]", "[trực tiếp, email]", 11, "submission.channels[2]", "email"),
    "empty required text": ("agency: Phòng Kinh tế xã", "agency:", 7, "agency", "để trống"),
    "copies not a number": ("    copies: 2", "    copies: hai", 18, "documents[1].copies", "số"),
    "bad id": ("id: kinh-doanh-ho", "id: Kinh Doanh", 1, "id", "chữ thường"),
}


@pytest.mark.parametrize("case", BROKEN_CASES.values(), ids=BROKEN_CASES.keys())
def test_broken_record_reports_exact_line_and_field(tmp_path: Path, case: tuple[str, str, int, str, str]) -> None:
    old, new, line, field, words = case
    assert old in PROCEDURE
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": PROCEDURE.replace(old, new)})
    ks = load_knowledge(root)
    assert ks.procedures == []
    problems = [(p.line, p.field) for p in ks.problems]
    assert (line, field) in problems, [str(p) for p in ks.problems]
    problem = next(p for p in ks.problems if p.field == field)
    assert words in problem.message
    assert str(problem).endswith(f"kinh-doanh-ho.yml:{line}: {field}: {problem.message}")


def test_yaml_syntax_error_reports_its_line(tmp_path: Path) -> None:
    broken = PROCEDURE.replace("  - đăng ký hộ kinh doanh cá thể\n", "  - đăng ký hộ kinh doanh cá thể\n - lệch\n")
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": broken})
    (problem,) = load_knowledge(root).problems
    assert (problem.line, problem.field) == (5, "YAML")
    assert "thụt lề" in problem.message


def test_tab_indentation_is_explained(tmp_path: Path) -> None:
    broken = PROCEDURE.replace("  where: ", "\twhere: ")
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": broken})
    (problem,) = load_knowledge(root).problems
    assert problem.line == 10
    assert "Tab" in problem.message


def test_key_written_twice_is_an_error(tmp_path: Path) -> None:
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": PROCEDURE + "fee: 100.000 đồng\n"})
    ks = load_knowledge(root)
    assert ks.procedures == []
    assert [(p.line, p.field) for p in ks.problems] == [(29, "fee")]


def test_duplicate_id_keeps_first_file_only(tmp_path: Path) -> None:
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": PROCEDURE, "procedures/zz-copy.yml": PROCEDURE})
    ks = load_knowledge(root)
    assert len(ks.procedures) == 1
    (problem,) = ks.problems
    assert (problem.file.name, problem.line, problem.field) == ("zz-copy.yml", 1, "id")
    assert "kinh-doanh-ho.yml" in problem.message


def test_text_is_nfc_even_when_file_is_nfd(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", PROCEDURE)
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": nfd})
    (record,) = load_knowledge(root).procedures
    assert record.domain == "kinh doanh"
    assert record.name == unicodedata.normalize("NFC", "Đăng ký hộ kinh doanh")


def test_guide_front_matter_and_body(tmp_path: Path) -> None:
    root = write_kb(tmp_path, {"guides/gio-lam-viec.md": GUIDE})
    ks = load_knowledge(root)
    assert ks.problems == []
    (guide,) = ks.guides
    assert guide.title == "Giờ làm việc của Bộ phận Một cửa"
    assert guide.body.startswith("# Giờ mở cửa")
    assert "\n\n" in guide.body  # paragraphs survive, unlike in the single-line fields


def test_guide_front_matter_error_line_is_offset(tmp_path: Path) -> None:
    root = write_kb(tmp_path, {"guides/gio-lam-viec.md": GUIDE.replace("title:", "titel:")})
    ks = load_knowledge(root)
    assert ks.guides == []
    lines = {(p.line, p.field) for p in ks.problems}
    assert (3, "titel") in lines  # file line 3: the "---" line is line 1
    assert any("«title»" in p.message for p in ks.problems)


def test_guide_without_front_matter(tmp_path: Path) -> None:
    root = write_kb(tmp_path, {"guides/x.md": "# Chỉ có nội dung\n\nKhông có phần thông tin.\n"})
    (problem,) = load_knowledge(root).problems
    assert (problem.line, problem.field) == (1, "front matter")


def test_problem_path_is_relative_to_repo_root() -> None:
    from knowledge.records.loader import Problem

    problem = Problem(REPO_ROOT / "knowledge/data/procedures/x.yml", 3, "domain", "sai")
    assert str(problem) == "knowledge/data/procedures/x.yml:3: domain: sai"


def _guide(body: str) -> Guide:
    return Guide(id="g", title="Tiêu đề bài", source="https://example.gov.vn", last_reviewed="2026-01-01", body=body)


def test_guide_passages_stand_alone_and_stay_short() -> None:
    sentence = "Người dân có thể nộp hồ sơ trực tuyến vào bất kỳ lúc nào trong ngày kể cả ngày nghỉ."
    body = "\n\n".join(
        [
            "# Phần một",
            " ".join([sentence] * 3),
            " ".join([sentence] * 20),  # one long paragraph must be cut
            "## Phần hai",
            "- mục một\n- mục hai\n- mục ba",
        ]
    )
    guide = _guide(body)
    guide.body = body
    passages = guide_passages(guide)
    assert len(passages) >= 4
    for passage in passages:
        assert passage.startswith("Tiêu đề bài")
        text = passage.split(": ", 1)[1]
        assert len(text.split()) <= 120
    assert passages[0].startswith("Tiêu đề bài — Phần một: ")
    assert passages[-1].startswith("Tiêu đề bài — Phần hai: ")
    assert "mục một; mục hai; mục ba" in passages[-1]
    joined = " ".join(passages)
    assert joined.count("kể cả ngày nghỉ") == 23  # nothing lost, nothing repeated


def test_guide_passages_merge_tiny_paragraphs() -> None:
    body = "Đoạn ngắn thứ nhất.\n\nĐoạn ngắn thứ hai.\n\nĐoạn ngắn thứ ba."
    guide = _guide(body)
    guide.body = body
    assert guide_passages(guide) == ["Tiêu đề bài: Đoạn ngắn thứ nhất. Đoạn ngắn thứ hai. Đoạn ngắn thứ ba."]


def test_shipped_guides_give_passages() -> None:
    for guide in load_knowledge().guides:
        passages = guide_passages(guide)
        assert passages, guide.id
        assert all(p.startswith(guide.title) for p in passages)


def test_number_where_text_expected_is_explained(tmp_path: Path) -> None:
    # YAML reads 15:00 as the number 900 and 0 as a number: the fix is quotes, and the message says so.
    record = PROCEDURE.replace("fee: Miễn phí", "fee: 0").replace("3 ngày làm việc", "15:00")
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": record})
    problems = {p.field: p for p in load_knowledge(root).problems}
    assert set(problems) == {"fee", "processing_time"}
    assert (problems["fee"].line, problems["processing_time"].line) == (23, 22)
    assert all("ngoặc kép" in p.message for p in problems.values())
