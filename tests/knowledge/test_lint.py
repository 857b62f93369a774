"""`python -m knowledge.tools.records.lint`, run as staff run it: what it prints and its exit code."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from kb_samples import GUIDE, PROCEDURE, write_kb

from knowledge.records.loader import REPO_ROOT
from knowledge.text import fold
from knowledge.tools.records.lint import lint, load_test_questions, old_wording

TODAY = "2026-11-27"
REFORM_NOTE = (
    "reform_2025:\n  status: confirmed\n  note: Từ 1/7/2025 việc này chuyển từ cấp huyện về Ủy ban nhân dân cấp xã.\n"
)


def run_lint(*paths: Path | str, today: str = TODAY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge.tools.records.lint", "--today", today, *map(str, paths)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def problems_of(root: Path, today: str = TODAY) -> list[tuple[str, int, str, str]]:
    import datetime as dt

    found, _ = lint([root], dt.date.fromisoformat(today))
    return [(p.file.name, p.line, p.field, p.severity) for p in found]


def test_clean_files_exit_0(tmp_path: Path) -> None:
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": PROCEDURE, "guides/gio-lam-viec.md": GUIDE})
    result = run_lint(root)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().splitlines() == [
        "Đã kiểm tra 2 file (1 thủ tục, 1 bài hướng dẫn): 0 lỗi, 0 cảnh báo. Không có lỗi."
    ]


def test_broken_record_exit_1_with_file_line_field(tmp_path: Path) -> None:
    broken = (
        PROCEDURE.replace("domain: kinh doanh", "domain: kinh doan")
        .replace("last_reviewed: 2026-10-01", "last_reviewed: 2026-13-01")
        .replace("fee: Miễn phí", "phi: Miễn phí")
    )
    syntax = PROCEDURE.replace("  - mở quán", " - mở quán")
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": broken, "procedures/cu-phap.yml": syntax})
    result = run_lint(root)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    prefix = f"{tmp_path}/procedures/"
    for expected in (
        "kinh-doanh-ho.yml:6: domain: [lỗi]",
        "kinh-doanh-ho.yml:23: phi: [lỗi]",
        "kinh-doanh-ho.yml:28: last_reviewed: [lỗi]",
        "kinh-doanh-ho.yml:1: fee: [lỗi]",  # missing: reported at the top of the file
        "cu-phap.yml:5: YAML: [lỗi]",
    ):
        assert any(line.startswith(prefix + expected) for line in lines), (expected, lines)
    assert lines[-1].startswith("Đã kiểm tra 2 file (2 thủ tục, 0 bài hướng dẫn): 5 lỗi")


def test_paths_inside_repo_are_printed_relative(tmp_path: Path) -> None:
    result = run_lint(REPO_ROOT / "knowledge/data/procedures/ho-tich-khai-sinh.yml")
    assert result.returncode == 0, result.stdout
    assert "/work" not in result.stdout


def test_missing_path_is_reported() -> None:
    result = run_lint(Path("khong-co-file-nay.yml"))
    assert result.returncode == 2
    assert "khong-co-file-nay.yml" in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "Ủy ban nhân dân cấp huyện",
        "UBND huyện Bình Sơn",
        "Phòng Tài nguyên và Môi trường huyện",
        "Công an huyện nơi cư trú",
        "Chi nhánh Văn phòng đăng ký đất đai cấp huyện",
        "UBND quận 1",
        "thị xã Sơn Tây",
        "UBND XÃ, THỊ TRẤN",
        "ubnd huyen noi cu tru",  # typed without diacritics
    ],
)
def test_old_wording_is_recognised(text: str) -> None:
    assert old_wording(text)


@pytest.mark.parametrize(
    "text",
    [
        "cơ quan có thẩm quyền",
        "Ủy ban nhân dân xã, phường, đặc khu",
        "liên quan đến hồ sơ",
        "Nguyễn Thị Huyền",
        "Công an quản lý cư trú",
        "cấp quản lý trực tiếp",
        "Văn phòng cơ quan",
    ],
)
def test_current_wording_is_not_flagged(text: str) -> None:
    assert old_wording(text) == []


def test_pre_2025_wording_without_reform_note_is_an_error(tmp_path: Path) -> None:
    record = PROCEDURE.replace("agency: Phòng Kinh tế xã", "agency: Phòng Tài chính – Kế hoạch cấp huyện")
    record = record.replace("  - Nộp hồ sơ tại Bộ phận Một cửa", "  - Nộp hồ sơ tại UBND huyện")
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": record})
    assert problems_of(root) == [
        ("kinh-doanh-ho.yml", 7, "agency", "error"),
        ("kinh-doanh-ho.yml", 21, "steps[1]", "error"),
    ]
    result = run_lint(root)
    assert result.returncode == 1
    assert "cấp huyện" in result.stdout and "reform_2025" in result.stdout


def test_reform_note_turns_history_into_a_mere_office_warning(tmp_path: Path) -> None:
    record = PROCEDURE.replace("agency: Phòng Kinh tế xã", "agency: Phòng Tài chính – Kế hoạch cấp huyện")
    # Unverified: `confirmed` needs a link to an official 2026 record (tests/knowledge/test_official_links.py).
    note = REFORM_NOTE.replace("confirmed", "unverified")
    record = record.replace("  - Nộp hồ sơ tại Bộ phận Một cửa", "  - Nộp hồ sơ tại UBND huyện") + note
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": record})
    # The steps may mention the old office once a note explains it; the agency field must name today's office.
    assert problems_of(root) == [
        ("kinh-doanh-ho.yml", 7, "agency", "warning"),
        ("kinh-doanh-ho.yml", 30, "reform_2025.status", "warning"),
    ]
    assert run_lint(root).returncode == 0


def test_old_wording_in_guide_body_points_at_the_body_line(tmp_path: Path) -> None:
    guide = GUIDE + "\nHồ sơ đất đai nộp tại Chi nhánh Văn phòng đăng ký đất đai cấp huyện.\n"
    root = write_kb(tmp_path, {"guides/gio-lam-viec.md": guide})
    assert problems_of(root) == [("gio-lam-viec.md", 15, "body", "error")]


def test_unverified_reform_is_a_warning(tmp_path: Path) -> None:
    record = PROCEDURE + REFORM_NOTE.replace("confirmed", "unverified")
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": record})
    result = run_lint(root)
    assert result.returncode == 0
    assert "kinh-doanh-ho.yml:30: reform_2025.status: [cảnh báo] needs checking after the July 2025" in result.stdout


def test_cross_file_checks(tmp_path: Path) -> None:
    other = (
        PROCEDURE.replace("id: kinh-doanh-ho", "id: kinh-doanh-ho-tam-ngung")
        .replace("name: Đăng ký hộ kinh doanh", "name: Tạm ngừng hộ kinh doanh")
        .replace("đăng ký hộ kinh doanh cá thể", "Đăng ký hộ kinh doanh CA THE")  # same alias, folded
        .replace("  - mở quán bán hàng cần giấy phép gì\n", "  - tạm ngừng kinh doanh\n")
    )
    root = write_kb(
        tmp_path,
        {
            "procedures/kinh-doanh-ho.yml": PROCEDURE,
            "procedures/kinh-doanh-ho-copy.yml": PROCEDURE,  # same id again
            "procedures/tam-ngung.yml": other,  # file name differs from id
        },
    )
    assert problems_of(root) == [
        ("kinh-doanh-ho-copy.yml", 1, "id", "error"),
        ("kinh-doanh-ho.yml", 4, "aliases[1]", "warning"),
        ("tam-ngung.yml", 1, "id", "error"),
        ("tam-ngung.yml", 4, "aliases[1]", "warning"),
    ]
    result = run_lint(root)
    assert result.returncode == 1
    assert "kinh-doanh-ho-tam-ngung.yml" in result.stdout  # says which name the file should have


def test_review_dates(tmp_path: Path) -> None:
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": PROCEDURE})  # reviewed 2026-10-01
    assert problems_of(root, today="2026-09-30") == [("kinh-doanh-ho.yml", 28, "last_reviewed", "error")]
    assert problems_of(root, today="2027-10-01") == []
    assert problems_of(root, today="2027-10-02") == [("kinh-doanh-ho.yml", 28, "last_reviewed", "warning")]


def test_source_and_legal_basis_warnings(tmp_path: Path) -> None:
    record = PROCEDURE.replace("source: https://dichvucong.gov.vn", "source: cán bộ cho biết").replace(
        "  - Nghị định 168/2025/NĐ-CP về đăng ký doanh nghiệp", "  - Nghị định về đăng ký doanh nghiệp"
    )
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": record})
    assert problems_of(root) == [
        ("kinh-doanh-ho.yml", 26, "legal_basis[1]", "warning"),
        ("kinh-doanh-ho.yml", 27, "source", "warning"),
    ]
    ok = PROCEDURE.replace("source: https://dichvucong.gov.vn", "source: Quyết định 1234/QĐ-UBND của tỉnh")
    write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": ok})
    assert problems_of(root) == []


def test_shipped_knowledge_has_no_errors() -> None:
    result = run_lint()
    assert result.returncode == 0, "\n".join(line for line in result.stdout.splitlines() if "[lỗi]" in line)


def _with_alias(alias: str) -> str:
    last = "  - mở quán bán hàng cần giấy phép gì\n"
    return PROCEDURE.replace(last, f"{last}  - {alias}\n")


@pytest.mark.parametrize(
    "copy",
    [
        lambda q: fold(q),  # the same words, typed without diacritics
        lambda q: " ".join(q.split()[:-1]),  # the last word dropped
        lambda q: " ".join(q.split()[1:]),  # the first word dropped
    ],
)
def test_alias_copying_a_frozen_test_question_is_an_error(tmp_path: Path, copy: Callable[[str], str]) -> None:
    question = next(q for q in load_test_questions() if len(q.split()) >= 8)
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": _with_alias(copy(question))})
    assert ("kinh-doanh-ho.yml", 6, "aliases[3]", "error") in problems_of(root)
    result = run_lint(root)
    assert result.returncode == 1
    assert "kinh-doanh-ho.yml:6: aliases[3]: [lỗi]" in result.stdout
    assert f"«{question}»" in result.stdout  # names the test question it copies


def test_alias_sharing_only_the_topic_with_a_test_question_passes(tmp_path: Path) -> None:
    question = next(q for q in load_test_questions() if len(q.split()) >= 8)
    reworded = " ".join(question.split()[:3]) + " thì cần chuẩn bị những loại giấy tờ nào vậy cán bộ"
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": _with_alias(reworded)})
    assert [p for p in problems_of(root) if p[2] == "aliases[3]"] == []


def test_test_split_is_read_from_the_given_file(tmp_path: Path) -> None:
    questions = tmp_path / "test.yml"
    questions.write_text("- by: a tester\n  on: 2026-11-27\n  questions:\n    - q: mo quan ban hang can giay phep gi\n")
    root = write_kb(tmp_path / "kb", {"procedures/kinh-doanh-ho.yml": PROCEDURE})
    result = run_lint(root, "--test-questions", str(questions))
    assert result.returncode == 1
    assert "kinh-doanh-ho.yml:5: aliases[2]: [lỗi]" in result.stdout


def test_the_linter_and_the_editor_share_one_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The editor stamps «ngày rà soát» with the day in Vietnam (knowledge.clock); the linter must judge it by that
    same day. In the evening UTC the two calendars differ, and a record saved that evening was refused as reviewed
    «in the future». MOCUA_TODAY moves the shared clock, so the linter has to follow it."""
    root = write_kb(tmp_path, {"procedures/kinh-doanh-ho.yml": PROCEDURE})  # reviewed 2026-10-01
    monkeypatch.setenv("MOCUA_TODAY", "2026-09-30")
    found, _ = lint([root])
    assert [(p.field, p.severity) for p in found] == [("last_reviewed", "error")]
    monkeypatch.setenv("MOCUA_TODAY", "2026-10-01")
    assert lint([root])[0] == []
