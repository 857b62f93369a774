"""Personal numbers in every common spelling are masked (knowledge.text.mask_personal_numbers), generated rather
than listed (tests/spellings.py); what answers need (dates, amounts, legal references, codes) stays readable."""

from __future__ import annotations

import pytest

from knowledge.text import drop_personal_numbers, find_phone_numbers, mask_personal_numbers
from tests.spellings import KINDS, READABLE, Spelling, spellings

CASES = 240  # per kind of number


def failures(cases: list[Spelling]) -> list[str]:
    wrong = []
    for case in cases:
        masked = mask_personal_numbers(case.text)
        if masked != case.masked or any(ch.isdigit() for ch in masked):
            wrong.append(f"{case.text!r} -> {masked!r}")
    return wrong


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_spelling_of_a_personal_number_is_masked_one_star_per_character(kind: str) -> None:
    cases = list(spellings(CASES, seed=16, kinds=(kind,)))
    assert len({case.typed for case in cases}) > CASES // 2, "the generator gives many different spellings"
    wrong = failures(cases)
    assert not wrong, f"{len(wrong)} of {len(cases)} {kind} spellings not masked exactly:\n" + "\n".join(wrong[:25])


def test_masking_twice_changes_nothing() -> None:
    for case in spellings(400, seed=17):
        once = mask_personal_numbers(case.text)
        assert mask_personal_numbers(once) == once, case.text
    for text in READABLE:
        assert mask_personal_numbers(mask_personal_numbers(text)) == text


@pytest.mark.parametrize("text", READABLE)
def test_dates_amounts_legal_references_codes_and_years_stay_readable(text: str) -> None:
    assert mask_personal_numbers(text) == text


def test_a_number_next_to_a_date_or_an_amount_is_masked_and_they_stay() -> None:
    for i, case in enumerate(spellings(200, seed=18)):
        readable = READABLE[i % len(READABLE)]
        for joined in (f"{readable}, {case.text}", f"{case.text}; {readable}"):
            expected = joined.replace(case.text, case.masked)
            assert mask_personal_numbers(joined) == expected, joined


def test_two_numbers_in_one_message_are_both_masked() -> None:
    cases = list(spellings(200, seed=19))
    for first, second in zip(cases[::2], cases[1::2], strict=True):
        text = f"{first.text} và {second.text}"
        assert mask_personal_numbers(text) == f"{first.masked} và {second.masked}", text


def test_each_generated_phone_number_is_found_for_a_callback() -> None:
    for case in spellings(200, seed=20, kinds=("phone",)):
        (found,) = find_phone_numbers(case.text)
        assert found.lstrip("+") == case.digits, case.text


@pytest.mark.parametrize(
    ("text", "understood"),
    [
        ("lệ phí khai sinh, sđt0912.345.678", "lệ phí khai sinh"),
        ("đăng ký tạm trú, gọi (+84) 912-345-678", "đăng ký tạm trú"),
        ("làm hộ chiếu cần gì, cccd079.203.098.765", "làm hộ chiếu cần gì"),
        ("làm hộ chiếu cần gì, cccd 001-203-012-345", "làm hộ chiếu cần gì"),
        ("gia hạn hộ chiếu thế nào, hộ chiếu B1234567", "gia hạn hộ chiếu thế nào"),
        ("hộ chiếu C 1234567 bị mất thì làm sao", "hộ chiếu bị mất thì làm sao"),
        ("lệ phí 100.000 đồng phải không, sdt 84 912 345 678", "lệ phí 100.000 đồng phải không"),
    ],
)
def test_new_spellings_and_the_words_introducing_them_are_dropped_for_understanding(text: str, understood: str) -> None:
    assert drop_personal_numbers(text) == understood
