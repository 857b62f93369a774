"""Small valid knowledge files the tests break on purpose, and a helper to lay them out under tmp_path."""

from __future__ import annotations

from pathlib import Path

# Line numbers matter: tests point at them (domain is line 6, submission.online line 12, fee line 23).
PROCEDURE = """\
id: kinh-doanh-ho
name: Đăng ký hộ kinh doanh
aliases:
  - đăng ký hộ kinh doanh cá thể
  - mở quán bán hàng cần giấy phép gì
domain: kinh doanh
agency: Phòng Kinh tế xã
level: xã
submission:
  where: Bộ phận Một cửa của Ủy ban nhân dân xã, phường nơi đặt địa điểm kinh doanh
  channels: [trực tiếp, trực tuyến]
  online:
    available: true
    level: một phần
    portal: Cổng Dịch vụ công quốc gia
documents:
  - name: Giấy đề nghị đăng ký hộ kinh doanh
    copies: 2
  - name: Bản sao giấy tờ pháp lý của chủ hộ
steps:
  - Nộp hồ sơ tại Bộ phận Một cửa
processing_time: 3 ngày làm việc
fee: Miễn phí
result: Giấy chứng nhận đăng ký hộ kinh doanh
legal_basis:
  - Nghị định 168/2025/NĐ-CP về đăng ký doanh nghiệp
source: https://dichvucong.gov.vn
last_reviewed: 2026-10-01
"""

GUIDE = """\
---
id: gio-lam-viec
title: Giờ làm việc của Bộ phận Một cửa
aliases:
  - mấy giờ mở cửa
source: https://dichvucong.gov.vn
last_reviewed: 2026-10-01
---
# Giờ mở cửa

Bộ phận Một cửa làm việc các ngày trong tuần theo giờ hành chính.

Sáng từ 7 giờ 30, chiều đến 17 giờ.
"""


def write_kb(root: Path, files: dict[str, str]) -> Path:
    """Write {relative path: text} under root/procedures and root/guides; returns root."""
    for sub in ("procedures", "guides"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root
