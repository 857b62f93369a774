"""`python -m knowledge.tools.records.sheet_import`: sheets in, valid procedure files out, bad rows named by row
number."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from knowledge.records.loader import KNOWLEDGE_ROOT, REPO_ROOT, load_knowledge
from knowledge.tools.records.lint import lint
from knowledge.tools.records.sheet_import import import_sheet

VI_HEADERS = [
    "Mã",
    "Tên thủ tục",
    "Tên gọi khác",
    "Lĩnh vực",
    "Cấp",
    "Cơ quan giải quyết",
    "Nơi nộp hồ sơ",
    "Cách nộp",
    "Nộp trực tuyến",
    "Mức trực tuyến",
    "Cổng dịch vụ công",
    "Thành phần hồ sơ",
    "Trình tự thực hiện",
    "Thời hạn giải quyết",
    "Phí, lệ phí",
    "Đối tượng",
    "Kết quả",
    "Căn cứ pháp lý",
    "Nguồn",
    "Ngày rà soát",
    "Trạng thái 2025",
    "Ghi chú 2025",
]
GOOD_ROW = [
    "cu-tru-dang-ky-thuong-tru",
    "Đăng ký thường trú",
    "nhập hộ khẩu; chuyển hộ khẩu về nhà mới",
    "cu tru",  # typed without diacritics: still accepted
    "xã",
    "Công an cấp xã nơi đến",
    "Công an xã, phường, đặc khu nơi đăng ký thường trú",
    "trực tiếp; trực tuyến",
    "có",
    "toàn trình",
    "Cổng Dịch vụ công quốc gia hoặc VNeID",
    "Tờ khai thay đổi thông tin cư trú (1 bản) - Theo mẫu CT01\n"
    "Giấy tờ chứng minh chỗ ở hợp pháp (0 bản) - Chỉ xuất trình",
    "Nộp hồ sơ; Nhận phiếu hẹn; Nhận thông báo kết quả",
    "7 ngày làm việc",
    "20.000 đồng; nộp trực tuyến 10.000 đồng",
    "",
    "Thông báo đã cập nhật thông tin thường trú",
    "Luật Cư trú số 68/2020/QH14; Nghị định 154/2024/NĐ-CP",
    "https://dichvucong.gov.vn",
    "15/10/2026",
    "",
    "",
]


def bad_rows() -> list[list[str]]:
    wrong_domain = list(GOOD_ROW)
    wrong_domain[0], wrong_domain[3] = "cu-tru-sai-linh-vuc", "hộ khẩu"
    no_name = list(GOOD_ROW)
    no_name[0], no_name[1] = "cu-tru-thieu-ten", ""
    bad_date = list(GOOD_ROW)
    bad_date[0], bad_date[19] = "cu-tru-sai-ngay", "31/02/2026"
    bad_online = list(GOOD_ROW)
    bad_online[0], bad_online[8] = "cu-tru-sai-truc-tuyen", "có lẽ"
    return [wrong_domain, no_name, bad_date, bad_online]


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:  # Excel's "CSV UTF-8" adds the BOM
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def run_importer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge.tools.records.sheet_import", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_csv_round_trip_with_vietnamese_headers(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "thu-tuc.csv", [VI_HEADERS, GOOD_ROW], delimiter=";")
    out = tmp_path / "kb" / "procedures"
    result = run_importer(str(sheet), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    written = out / "cu-tru-dang-ky-thuong-tru.yml"
    assert written.exists()

    ks = load_knowledge(tmp_path / "kb")
    assert ks.problems == []
    (record,) = ks.procedures
    assert record.domain == "cư trú"
    assert record.aliases == ["nhập hộ khẩu", "chuyển hộ khẩu về nhà mới"]
    assert record.submission.channels == ["trực tiếp", "trực tuyến"]
    assert record.submission.online.available is True
    assert [(d.name, d.copies, d.note) for d in record.documents] == [
        ("Tờ khai thay đổi thông tin cư trú", 1, "Theo mẫu CT01"),
        ("Giấy tờ chứng minh chỗ ở hợp pháp", 0, "Chỉ xuất trình"),
    ]
    assert record.last_reviewed == dt.date(2026, 10, 15)
    assert record.eligibility is None and record.reform_2025 is None

    text = written.read_text(encoding="utf-8")
    assert "channels: [trực tiếp, trực tuyến]" in text  # readable layout, as in the example file
    assert "\\u" not in text  # Vietnamese written as is
    assert text.index("\nname:") < text.index("\ndomain:") < text.index("\nsubmission:") < text.index("\nsource:")
    found, _ = lint([written], dt.date(2026, 11, 23))
    assert [p for p in found if p.severity == "error"] == []


def test_xlsx_round_trip(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    english = [
        "id",
        "name",
        "domain",
        "level",
        "agency",
        "where",
        "channels",
        "online_available",
        "documents",
        "processing_time",
        "fee",
        "result",
        "legal_basis",
        "source",
        "last_reviewed",
        "reform_status",
        "reform_note",
    ]
    sheet.append(english)
    sheet.append(
        [
            "dat-dai-cung-cap-thong-tin",
            "Cung cấp thông tin, dữ liệu đất đai",
            "đất đai",
            "tỉnh",
            "Văn phòng đăng ký đất đai tỉnh",
            "Trung tâm Phục vụ hành chính công tỉnh",
            "trực tiếp, bưu chính",
            "no",
            "Phiếu yêu cầu cung cấp thông tin (1 bản)",
            "Trong ngày hoặc theo thỏa thuận",
            "Theo biểu phí của tỉnh",
            "Thông tin, dữ liệu đất đai",
            "Luật Đất đai số 31/2024/QH15",
            "https://dichvucong.gov.vn",
            dt.datetime(2026, 9, 1),  # a real date cell, as Excel stores it
            "chưa kiểm tra",
            "Chi nhánh văn phòng đăng ký đất đai cấp huyện đã được sắp xếp lại từ 1/7/2025.",
        ]
    )
    sheet.append([None] * len(english))  # blank rows are ignored
    path = tmp_path / "dat-dai.xlsx"
    workbook.save(path)

    report = import_sheet(path, tmp_path / "kb" / "procedures")
    assert report.problems == [] and len(report.written) == 1
    ks = load_knowledge(tmp_path / "kb")
    assert ks.problems == []
    (record,) = ks.procedures
    assert record.submission.channels == ["trực tiếp", "bưu chính"]
    assert record.submission.online.available is False
    assert record.last_reviewed == dt.date(2026, 9, 1)
    assert record.reform_2025 is not None and record.reform_2025.status == "unverified"


def test_bad_rows_rejected_with_row_numbers(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "thu-tuc.csv", [VI_HEADERS, GOOD_ROW, *bad_rows()])
    out = tmp_path / "out"
    result = run_importer(str(sheet), "--out", str(out))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("row 3: domain: ") and "hộ khẩu" in line for line in lines), lines
    assert "row 4: name: ô này đang trống — cần điền" in lines
    assert any(line.startswith("row 5: last_reviewed: «31/02/2026»") for line in lines), lines
    assert any(line.startswith("row 6: online_available: ") for line in lines), lines
    assert lines[-1].startswith("5 dòng: 1 đã ghi, 0 bỏ qua vì đã có, 4 dòng bị từ chối.")
    assert [p.name for p in out.iterdir()] == ["cu-tru-dang-ky-thuong-tru.yml"]  # the good row still imported


def test_never_overwrites_without_flag(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "thu-tuc.csv", [VI_HEADERS, GOOD_ROW])
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "cu-tru-dang-ky-thuong-tru.yml"
    existing.write_text("# bản đang dùng\n", encoding="utf-8")

    result = run_importer(str(sheet), "--out", str(out))
    assert "row 2: id:" in result.stdout and "--overwrite" in result.stdout
    assert existing.read_text(encoding="utf-8") == "# bản đang dùng\n"

    result = run_importer(str(sheet), "--out", str(out), "--overwrite")
    assert result.returncode == 0
    assert "name: Đăng ký thường trú" in existing.read_text(encoding="utf-8")


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "thu-tuc.csv", [VI_HEADERS, GOOD_ROW])
    result = run_importer(str(sheet), "--out", str(tmp_path / "out"), "--dry-run")
    assert result.returncode == 0
    assert "sẽ ghi" in result.stdout
    assert not (tmp_path / "out").exists()


def test_duplicate_id_in_sheet(tmp_path: Path) -> None:
    report = import_sheet(write_csv(tmp_path / "t.csv", [VI_HEADERS, GOOD_ROW, GOOD_ROW]), tmp_path / "out")
    assert [str(p) for p in report.problems] == ["row 3: id: mã «cu-tru-dang-ky-thuong-tru» trùng với dòng 2"]


@pytest.mark.parametrize(
    ("header", "words"),
    [(["id", "name", "Tên thủ tuc khác"], "không hiểu tên cột"), (["name", "domain"], "thiếu cột bắt buộc: id")],
)
def test_unusable_header_stops_the_import(tmp_path: Path, header: list[str], words: str) -> None:
    sheet = write_csv(tmp_path / "t.csv", [header, ["a"] * len(header)])
    result = run_importer(str(sheet), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert words in result.stderr
    assert not (tmp_path / "out").exists()


def test_csv_not_in_utf8_is_explained(tmp_path: Path) -> None:
    sheet = tmp_path / "t.csv"
    sheet.write_bytes("id,name\nx,Đăng ký\n".encode("utf-16"))
    result = run_importer(str(sheet), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "CSV UTF-8" in result.stderr


def test_shipped_template_imports_cleanly(tmp_path: Path) -> None:
    report = import_sheet(KNOWLEDGE_ROOT / "import-template.csv", tmp_path / "procedures")
    assert report.problems == []
    assert len(report.written) == 2
    found, _ = lint([tmp_path], dt.date(2026, 11, 23))
    assert [str(p) for p in found if p.severity == "error"] == []
