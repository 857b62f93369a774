"""Wording of replies (actions/answers.py), on the shipped birth-registration record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from actions import answers
from knowledge.records.schema import Guide, Procedure, Reform2025

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def birth() -> Procedure:
    data = yaml.safe_load((ROOT / "knowledge/procedures/ho-tich-khai-sinh.yml").read_text(encoding="utf-8"))
    return Procedure.model_validate(data)


@pytest.fixture
def unverified(birth: Procedure) -> Procedure:
    return birth.model_copy(
        update={"reform_2025": Reform2025(status="unverified", note="Chưa rõ cơ quan tiếp nhận sau sáp nhập.")}
    )


def test_fee_answer_puts_the_fee_first_then_the_locality_reminder_and_source(birth: Procedure) -> None:
    set_by_province = birth.model_copy(update={"fee": "Lệ phí do HĐND tỉnh quy định (khác nhau giữa các tỉnh)."})
    main, rating = answers.procedure_answer(set_by_province, "fee")
    lines = main.text.split("\n")
    assert lines[0] == "📄 Đăng ký khai sinh — lệ phí:"
    assert lines[1] == set_by_province.fee
    assert lines[2] == answers.FEE_LOCALITY
    assert lines[3].startswith("👉 Xem thêm hồ sơ cần chuẩn bị, thời gian giải quyết, nơi nộp hồ sơ")
    assert lines[-1] == "Nguồn: https://dichvucong.gov.vn (thủ tục \"Đăng ký khai sinh\") · cập nhật 23/11/2026"
    assert rating.text == "Câu trả lời có hữu ích không?"
    assert rating.buttons == [
        {"title": "👍", "payload": '/feedback{"feedback":"up"}'},
        {"title": "👎", "payload": '/feedback{"feedback":"down"}'},
    ]


def test_buttons_offer_the_next_questions_but_not_the_one_just_answered(birth: Procedure) -> None:
    main, _ = answers.procedure_answer(birth, "fee")
    assert main.buttons == [
        {"title": "Hồ sơ cần gì", "payload": "/ask_documents"},
        {"title": "Thời gian", "payload": "/ask_time"},
        {"title": "Nộp ở đâu", "payload": "/ask_place"},
        {"title": "Nộp trực tuyến", "payload": "/ask_online"},
    ]
    overview, _ = answers.procedure_answer(birth, None)
    assert [b["payload"] for b in overview.buttons] == [
        "/ask_documents", "/ask_fee", "/ask_time", "/ask_place", "/ask_online",
    ]


def test_documents_are_numbered_with_their_notes(birth: Procedure) -> None:
    main, _ = answers.procedure_answer(birth, "documents")
    lines = main.text.split("\n")
    assert lines[0] == "📄 Đăng ký khai sinh — hồ sơ cần chuẩn bị:"
    assert lines[1] == "1. Tờ khai đăng ký khai sinh theo mẫu"
    assert lines[2].startswith("2. Giấy chứng sinh do cơ sở y tế cấp — Không có giấy chứng sinh")
    assert len([line for line in lines if line[:2] in {"1.", "2.", "3.", "4.", "5."}]) == len(birth.documents)


def test_national_fee_gets_no_province_reminder(birth: Procedure) -> None:
    national = birth.model_copy(update={"fee": "50.000 đồng/thẻ theo biểu phí của Bộ Tài chính."})
    main, _ = answers.procedure_answer(national, "fee")
    assert answers.FEE_LOCALITY not in main.text


def test_overview_names_place_time_fee_documents_online_and_legal_basis(birth: Procedure) -> None:
    main, _ = answers.procedure_answer(birth, None)
    lines = main.text.split("\n")
    assert lines[0] == "📄 Đăng ký khai sinh"
    assert lines[1].startswith("Nơi nộp: Bộ phận Một cửa")
    assert lines[2] == f"Thời gian: {birth.processing_time}"
    assert lines[3] == f"Lệ phí: {birth.fee}"
    assert lines[4] == "Hồ sơ: 4 loại giấy tờ — bấm «Hồ sơ cần gì» để xem."
    assert lines[5] == "Trực tuyến: có, mức toàn trình."
    assert lines[6] == "Căn cứ: Luật Hộ tịch số 60/2014/QH13 và văn bản liên quan."


def test_online_answer_says_full_online_and_where(birth: Procedure) -> None:
    main, _ = answers.procedure_answer(birth, "online")
    lines = main.text.split("\n")
    assert lines[1] == "Có, nộp trực tuyến được — mức toàn trình (không phải đến nộp giấy)."
    assert lines[2].startswith("Nộp tại: Cổng Dịch vụ công quốc gia")


def test_no_online_service_sends_the_citizen_to_the_counter(birth: Procedure) -> None:
    offline = birth.model_copy(
        update={"submission": birth.submission.model_copy(
            update={"online": birth.submission.online.model_copy(update={"available": False, "level": "không"})}
        )}
    )
    main, _ = answers.procedure_answer(offline, "online")
    assert main.text.split("\n")[1].startswith("Thủ tục này chưa nộp trực tuyến được; bạn nộp tại: Bộ phận Một cửa")


def test_unverified_reform_status_shows_a_caution_before_the_source(unverified: Procedure) -> None:
    main, _ = answers.procedure_answer(unverified, "place")
    lines = main.text.split("\n")
    assert lines[-2] == (
        "⚠️ Thông tin này chưa được xác minh lại sau sắp xếp chính quyền hai cấp (từ 1/7/2025): "
        "bạn nên hỏi lại Bộ phận Một cửa nơi nộp trước khi đi."
    )
    assert "Chưa rõ cơ quan" not in main.text  # the staff note stays internal
    assert lines[-1].startswith("Nguồn: ")


def test_confirmed_reform_status_shows_no_caution(birth: Procedure) -> None:
    main, _ = answers.procedure_answer(birth, "place")
    assert "⚠️" not in main.text


def test_clarify_offers_one_choice_button_per_candidate_and_a_person() -> None:
    reply = answers.clarify([("ho-tich-khai-sinh", "Đăng ký khai sinh"), ("ho-tich-khai-tu", "Đăng ký khai tử")], "fee")
    assert reply.text == "Bạn muốn hỏi thủ tục nào (về lệ phí)?"
    assert reply.buttons == [
        {"title": "Đăng ký khai sinh", "payload": '/choose_procedure{"procedure_id":"ho-tich-khai-sinh"}'},
        {"title": "Đăng ký khai tử", "payload": '/choose_procedure{"procedure_id":"ho-tich-khai-tu"}'},
        {"title": "Gặp cán bộ", "payload": "/request_human"},
    ]


def test_not_sure_is_honest_and_offers_nearest_topics_and_a_person() -> None:
    reply = answers.not_sure([("cu-tru-tam-tru", "Đăng ký tạm trú")])
    assert reply.text.startswith("Xin lỗi, mình chưa chắc chắn về câu hỏi này")
    assert reply.buttons[-1] == {"title": "Gặp cán bộ", "payload": "/request_human"}
    assert reply.buttons[0]["title"] == "Đăng ký tạm trú"


def test_handoff_carries_the_question_for_the_telegram_bridge() -> None:
    reply = answers.handoff("lệ phí đăng ký kết hôn")
    assert reply.custom == {"handoff": True, "question": "lệ phí đăng ký kết hôn"}
    assert reply.as_kwargs() == {"response": "utter_handoff", "json_message": reply.custom}


def test_guide_answer_quotes_the_passage_with_source_and_date() -> None:
    guide = Guide(id="mot-cua-gio-lam-viec", title="Giờ làm việc của Bộ phận Một cửa", source="UBND tỉnh",
                  last_reviewed=dt.date(2026, 1, 5))
    main, rating = answers.guide_answer(guide, "Bộ phận Một cửa làm việc từ thứ Hai đến thứ Sáu.")
    assert main.text.split("\n") == [
        "ℹ️ Giờ làm việc của Bộ phận Một cửa",
        "Bộ phận Một cửa làm việc từ thứ Hai đến thứ Sáu.",
        "Nguồn: UBND tỉnh · cập nhật 05/01/2026",
    ]
    assert rating.text == answers.FEEDBACK_QUESTION


def test_every_choice_payload_is_valid_json_after_the_intent() -> None:
    import json

    payload = answers.choose_payload("dat-dai-cap-giay-chung-nhan-lan-dau")
    assert payload.startswith("/choose_procedure{")
    assert json.loads(payload[len("/choose_procedure"):]) == {"procedure_id": "dat-dai-cap-giay-chung-nhan-lan-dau"}


def test_an_assumed_follow_up_says_so_after_the_answer(birth: Procedure) -> None:
    main, _ = answers.procedure_answer(birth, "time", assumed=True)
    lines = main.text.split("\n")
    assert lines[1] == birth.processing_time
    assert lines[2] == answers.ASSUMED_NOTE
    plain, _ = answers.procedure_answer(birth, "time")
    assert answers.ASSUMED_NOTE not in plain.text


def test_guide_passage_does_not_repeat_the_title() -> None:
    guide = Guide(id="vneid", title="Dùng ứng dụng VNeID", source="Bộ Công an", last_reviewed=dt.date(2026, 1, 5))
    main, _ = answers.guide_answer(guide, "Dùng ứng dụng VNeID — Làm được gì: đăng ký tạm trú.")
    assert main.text.split("\n")[1] == "Làm được gì: đăng ký tạm trú."


def test_help_without_an_index_still_explains_what_to_ask() -> None:
    reply = answers.help_reply(0, [], [])
    assert reply.response == "utter_help_no_index"
    assert reply.buttons == [answers.HUMAN_BUTTON]


def test_help_fills_its_response_with_counts_and_offers_examples() -> None:
    reply = answers.help_reply(50, ["hộ tịch", "đất đai"], [("ho-tich-khai-sinh", "Đăng ký khai sinh")])
    assert reply.as_kwargs() == {
        "response": "utter_help",
        "procedure_count": 50,
        "fields": "hộ tịch, đất đai",
        "buttons": [{"title": "Đăng ký khai sinh", "payload": answers.choose_payload("ho-tich-khai-sinh")},
                    answers.HUMAN_BUTTON],
    }
