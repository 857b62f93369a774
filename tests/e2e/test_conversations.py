"""Whole conversations through the REST channel, as a citizen has them: follow-ups, switches, refusals, handoff.

Each answer is checked for what only the right answer says: the procedure's official name and the asked aspect in
its first line, then the fact itself as the bot renders it from that procedure's record (its fee, its place, its
documents), not a word any answer has.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from actions.answers import aspect_lines, procedure_title
from knowledge.records.facts import ProcedureFacts
from knowledge.search import KnowledgeBase
from scripts.stack import ROOT
from tests.helpers import button_payloads, reply_text

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def kb(knowledge_copy: Any) -> KnowledgeBase:
    """The index the servers under test answer from."""
    return KnowledgeBase(knowledge_copy.index_dir, watch=False)


def procedure(kb: KnowledgeBase, doc_id: str) -> ProcedureFacts:
    """What the bot answers about a procedure: official facts with our wording."""
    facts = kb.facts(doc_id)
    assert facts is not None, doc_id
    return facts


def title(facts: ProcedureFacts, aspect: str | None = None) -> str:
    """An answer's first line: name and official code, then the aspect asked."""
    return procedure_title(facts) + (f" — {aspect}:" if aspect else "")


def first_line(replies: list[dict]) -> str:
    return reply_text(replies).split("\n")[0]


def fact(replies: list[dict]) -> str:
    """The line right under the answer's title: the asked fact."""
    return reply_text(replies).split("\n")[1]


def says_response(replies: list[dict], name: str) -> bool:
    """True when one of the replies is a variation of the fixed reply `name` in domain.yml."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    variations = {variation["text"] for variation in domain["responses"][name]}
    return any(reply.get("text") in variations for reply in replies)


def test_follow_ups_stay_on_marriage_registration(say, kb: KnowledgeBase) -> None:
    marriage = procedure(kb, "ho-tich-ket-hon")
    assert first_line(say("tôi muốn đăng ký kết hôn")) == title(marriage)
    documents = say("thế cần mang theo những giấy tờ gì?")
    assert first_line(documents) == title(marriage, "hồ sơ cần chuẩn bị")
    assert fact(documents) == aspect_lines(marriage, "documents")[0][0]
    fee = say("mất phí không?")
    assert first_line(fee) == title(marriage, "lệ phí")
    assert fact(fee) == aspect_lines(marriage, "fee")[0][0]


def test_naming_another_procedure_switches_topic_and_keeps_the_aspect(say, kb: KnowledgeBase) -> None:
    residence, birth = procedure(kb, "cu-tru-tam-tru"), procedure(kb, "ho-tich-khai-sinh")
    assert first_line(say("dang ky tam tru o dau")) == title(residence, "nơi nộp hồ sơ")
    switched = say("con khai sinh thi sao")
    assert first_line(switched) == title(birth, "nơi nộp hồ sơ")
    assert fact(switched) == aspect_lines(birth, "place")[0][0]


def test_gold_price_gets_no_procedure(say) -> None:
    replies = say("giá vàng hôm nay")
    assert not any(payload.startswith("/ask_") for payload in button_payloads(replies))
    assert says_response(replies, "utter_out_of_scope")


def test_asking_for_an_officer_hands_off(say) -> None:
    replies = say("cho tôi gặp cán bộ")
    assert [reply["custom"] for reply in replies if "custom" in reply] == [
        {"handoff": True, "question": "cho tôi gặp cán bộ"}
    ]
    assert says_response(replies, "utter_handoff")


def test_complaining_about_an_officer_shows_the_complaints_guide_not_a_handoff(say, kb: KnowledgeBase) -> None:
    replies = say("khiếu nại cán bộ")
    assert not any("custom" in reply for reply in replies), "a complaint is not a request for a person"
    complaints = kb.guide("phan-anh-kien-nghi-khieu-nai")
    assert complaints is not None and first_line(replies) == f"ℹ️ {complaints.title}"


def test_answers_name_their_source_and_review_date(say, kb: KnowledgeBase) -> None:
    passport = procedure(kb, "xuat-nhap-canh-ho-chieu-pho-thong")
    text = reply_text(say("làm hộ chiếu cần giấy tờ gì"))
    assert text.split("\n")[0] == title(passport, "hồ sơ cần chuẩn bị")
    assert passport.source_line in text.split("\n")
    assert passport.source_line.startswith("Theo Cổng Dịch vụ công quốc gia, cập nhật ")


def test_question_in_everyday_words_still_finds_the_procedure(say, kb: KnowledgeBase) -> None:
    # Every word here is also question scaffolding ("mất", "giấy", "làm"), yet it clearly means a death.
    death = procedure(kb, "ho-tich-khai-tu")
    assert first_line(say("bố tôi mất cần làm giấy gì")).startswith(title(death))


def test_chat_abbreviations_without_diacritics(say, kb: KnowledgeBase) -> None:
    transfer = procedure(kb, "dat-dai-chuyen-nhuong-quyen-su-dung-dat")
    assert first_line(say("e mun sang ten so do thi can j")).startswith(title(transfer))


def test_typed_praise_is_thanked_without_offering_a_person(say) -> None:
    say("cấp lại thẻ bảo hiểm y tế nộp ở đâu")
    replies = say("cụ thể lắm")
    assert "/request_human" not in button_payloads(replies)
    assert says_response(replies, "utter_feedback_thanks")
