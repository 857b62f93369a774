"""knowledge.text: personal numbers are masked for storage and dropped for understanding; typed text is never a
Rasa intent payload."""

from __future__ import annotations

import pytest

from knowledge.text import as_typed_text, drop_personal_numbers, mask_personal_numbers


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("gọi tôi 0912 345 222", "gọi tôi **********"),
        ("sđt 0912-345-999", "sđt **********"),
        ("sdt: 0987.654.321", "sdt: **********"),
        ("+84 912 345 678 nhé", "*********** nhé"),
        ("máy bàn 024.3825.1234", "máy bàn ***********"),
        ("cccd 001203004567", "cccd ************"),
        ("cccd 001 203 004 567.", "cccd ************."),
        ("CMND 123456789", "CMND *********"),
        ("hồ sơ 000.00.26.H34-250101-0001.", "hồ sơ ********************."),
        ("mã G22.99-231212-0001 đến đâu", "mã *************** đến đâu"),
    ],
)
def test_phone_id_and_dossier_numbers_are_masked_in_place(text: str, masked: str) -> None:
    assert mask_personal_numbers(text) == masked


@pytest.mark.parametrize("text", ["ngày 01.07.2025", "lệ phí 100.000 đồng", "năm 2025 2026 2027", "đường 3/2 số 12"])
def test_dates_amounts_and_addresses_stay_readable(text: str) -> None:
    assert mask_personal_numbers(text) == text


@pytest.mark.parametrize(
    ("text", "understood"),
    [
        ("lệ phí khai sinh, gọi tôi 0912 345 222", "lệ phí khai sinh"),
        ("đăng ký tạm trú, sđt 0912-345-999", "đăng ký tạm trú"),
        ("le phi khai sinh sdt: 0912345678 nhé", "le phi khai sinh nhé"),
        ("gọi tôi 0912 345 222 để hỏi lệ phí khai sinh", "để hỏi lệ phí khai sinh"),
        ("làm hộ chiếu cần gì, cccd 001203004567", "làm hộ chiếu cần gì"),
        ("lam ho chieu can gi, cccd 001203004567", "lam ho chieu can gi"),
        ("số điện thoại 0912345678, số cccd 001203004567. Làm hộ chiếu ở đâu?", "Làm hộ chiếu ở đâu?"),
        ("tra cứu hồ sơ mã 000.00.26.H34-250101-0001 giúp", "tra cứu hồ sơ giúp"),
        # The card a number belongs to stays when it is what the question is about.
        ("làm lại cccd số 001203004567", "làm lại cccd"),
        ("căn cước công dân số 001203004567 bị mất thì làm sao", "căn cước công dân bị mất thì làm sao"),
        ("không có số", "không có số"),
    ],
)
def test_numbers_and_the_words_introducing_them_are_dropped_for_understanding(text: str, understood: str) -> None:
    assert drop_personal_numbers(text) == understood


def test_every_number_of_a_long_text_is_dropped() -> None:
    # (Looking back from each number over the whole text before it made this take 20 s: it looks back 40 chars.)
    text = "lệ phí khai sinh gọi tôi 0912 345 222 " * 10_000
    assert drop_personal_numbers(text) == " ".join(["lệ phí khai sinh"] * 10_000)


@pytest.mark.parametrize(
    ("typed", "text"),
    [(' /request_human{"x":1}', 'request_human{"x":1}'), ("\u200b/restart", "restart"), ("//a", "a"), ("a/b", "a/b")],
)
def test_typed_text_never_starts_with_the_payload_slash(typed: str, text: str) -> None:
    assert as_typed_text(typed) == text
