"""Whole conversations through the REST channel, as a citizen has them: follow-ups, switches, refusals, handoff."""

from __future__ import annotations

import pytest

from knowledge.text import fold
from tests.helpers import button_payloads, reply_text

pytestmark = pytest.mark.stack


def test_follow_ups_stay_on_marriage_registration(say) -> None:
    first = reply_text(say("tôi muốn đăng ký kết hôn"))
    documents = reply_text(say("thế cần mang theo những giấy tờ gì?"))
    fee = reply_text(say("mất phí không?"))
    for answer in (first, documents, fee):
        assert "kết hôn" in answer.lower()
    assert "tờ khai" in documents.lower(), "the documents answer lists the documents"
    assert "phí" in fee.lower()


def test_naming_another_procedure_switches_topic(say) -> None:
    residence = fold(reply_text(say("dang ky tam tru o dau")))
    assert "tam tru" in residence
    birth = reply_text(say("con khai sinh thi sao"))
    assert "khai sinh" in birth.lower()
    assert "tạm trú" not in birth.lower()


def test_gold_price_gets_no_procedure(say) -> None:
    replies = say("giá vàng hôm nay")
    text = fold(reply_text(replies))
    assert not any(payload.startswith("/ask_") for payload in button_payloads(replies))
    for procedure_word in ("khai sinh", "ket hon", "can cuoc", "tam tru", "ho so can"):
        assert procedure_word not in text


def test_asking_for_an_officer_hands_off(say) -> None:
    replies = say("cho tôi gặp cán bộ")
    assert any(reply.get("custom", {}).get("handoff") for reply in replies)
    assert "cán bộ" in reply_text(replies).lower()


def test_answers_name_their_source_and_review_date(say) -> None:
    text = reply_text(say("làm hộ chiếu cần giấy tờ gì"))
    assert "hộ chiếu" in text.lower()
    assert "cập nhật" in text.lower()


def test_question_in_everyday_words_still_finds_the_procedure(say) -> None:
    # Every word here is also question scaffolding ("mất", "giấy", "làm"), yet it clearly means a death.
    assert "khai tử" in reply_text(say("bố tôi mất cần làm giấy gì")).lower()


def test_chat_abbreviations_without_diacritics(say) -> None:
    text = fold(reply_text(say("e mun sang ten so do thi can j")))
    assert "sang ten so do" in text
