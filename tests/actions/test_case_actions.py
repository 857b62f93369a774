"""The Rasa side of the citizen's case (actions/actions.py): the form's question, its validation, the answer after it,
on trackers as the Rasa server sends them and the real knowledge index."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from trackers import texts, tracker

from actions import actions, cases

RESIDENCE = "cu-tru-thuong-tru"
TENANT = "Đăng ký thường trú vào chỗ ở hợp pháp do thuê, mượn, ở nhờ"


def run(action: actions.Action, dispatcher: CollectingDispatcher, trk: Tracker) -> list[dict]:
    return asyncio.run(action.run(dispatcher, trk, {}))


def test_documents_that_depend_on_the_case_start_the_form_instead_of_a_long_list(
    dispatcher: CollectingDispatcher,
) -> None:
    question = tracker("đăng ký thường trú cần những giấy tờ gì", "ask_documents")
    events = run(actions.ActionAnswer(), dispatcher, question)
    assert dispatcher.messages == []  # case_form asks
    assert SlotSet("case_question", True) in events and FollowupAction("case_form") in events
    ask = CollectingDispatcher()
    run(actions.ActionAskCase(), ask, tracker("đăng ký thường trú cần những giấy tờ gì", "ask_documents",
                                              procedure_id=RESIDENCE))  # fmt: skip
    assert "Bạn thuộc trường hợp nào?" in texts(ask)[0]
    assert ask.messages[0]["buttons"][-1] == {"title": "Trường hợp khác", "payload": '/choose_case{"case":"0"}'}


def test_a_case_named_in_the_question_is_answered_at_once(dispatcher: CollectingDispatcher) -> None:
    trk = tracker("thuê nhà thì đăng ký thường trú cần những giấy tờ gì", "ask_documents")
    events = run(actions.ActionAnswer(), dispatcher, trk)
    assert SlotSet("case", TENANT) in events and SlotSet("case_question", False) in events
    assert "Trường hợp: Nhà thuê, mượn, ở nhờ\n1. Hợp đồng, văn bản về việc cho thuê" in texts(dispatcher)[0]


def test_the_form_turns_a_button_number_into_the_case_and_leaves_nothing_to_check_on_a_reset() -> None:
    form = actions.ValidateCaseForm()
    trk = tracker('/choose_case{"case":"6"}', "choose_case", procedure_id=RESIDENCE, requested_slot="case")
    assert form.validate_case("6", CollectingDispatcher(), trk, {}) == {"case": TENANT}
    assert form.validate_case("0", CollectingDispatcher(), trk, {}) == {"case": cases.OTHER}
    assert form.validate_case(None, CollectingDispatcher(), trk, {}) == {"case": None}


def test_the_form_reads_a_typed_case_and_stands_aside_for_anything_else() -> None:
    form = actions.ValidateCaseForm()
    typed = tracker("tôi ở nhờ nhà người thân", "nlu_fallback", procedure_id=RESIDENCE, requested_slot="case")
    assert asyncio.run(form.extract_case(CollectingDispatcher(), typed, {})) == {"case": TENANT}
    other = tracker("lệ phí bao nhiêu", "ask_fee", procedure_id=RESIDENCE, requested_slot="case")
    assert asyncio.run(form.extract_case(CollectingDispatcher(), other, {})) == {}
    assert asyncio.run(form.required_slots(["case"], CollectingDispatcher(), other, {})) == []


def test_after_the_form_the_chosen_case_is_answered(dispatcher: CollectingDispatcher) -> None:
    trk = tracker('/choose_case{"case":"6"}', "choose_case", procedure_id=RESIDENCE, aspect="documents", case=TENANT,
                  case_question=True)  # fmt: skip
    events = run(actions.ActionCaseAnswer(), dispatcher, trk)
    assert texts(dispatcher)[0].startswith("📄 Đăng ký thường trú (mã 1.004222) — hồ sơ cần chuẩn bị:\nTrường hợp: Nhà")
    assert SlotSet("case_question", False) in events
