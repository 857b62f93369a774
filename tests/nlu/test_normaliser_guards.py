"""The normaliser is the last line behind the REST channel (for Rasa's /model/parse and anything else that reaches
NLU): bounded length, no personal numbers, typed text never an intent payload."""

from __future__ import annotations

from knowledge.text import MAX_MESSAGE_CHARS
from tests.nlu.test_vietnamese_component import run_component


def test_a_huge_text_is_cut_before_nlu_reads_it() -> None:
    # 100,000 characters made Rasa grow by gigabytes until the kernel killed it.
    (row,) = run_component(["làm giấy khai sinh cần gì " * 4_000])["live"]
    assert len(row[0]) <= MAX_MESSAGE_CHARS and len(row[1]) <= MAX_MESSAGE_CHARS
    assert row[0].startswith("lam giay khai sinh can gi")


def test_phone_id_and_dossier_numbers_do_not_reach_nlu_or_the_actions() -> None:
    rows = run_component([
        "lệ phí khai sinh, gọi tôi 0912 345 222",
        "lệ phí khai sinh, sđt 0912-345-999",
        "lệ phí khai sinh, cccd 001203004567",
        "lệ phí khai sinh",
    ])["live"]  # fmt: skip
    assert {row[0] for row in rows} == {"le phi khai sinh"}
    assert {row[1] for row in rows} == {"lệ phí khai sinh"}


def test_typed_text_starting_with_a_slash_is_words_not_an_intent() -> None:
    (row,) = run_component([' /request_human{"x":1}'])["live"]
    assert not row[0].startswith("/") and not row[1].startswith("/")
