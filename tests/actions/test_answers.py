"""Wording of replies (actions/answers.py), on the shipped birth-registration record and official records."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from actions import answers
from knowledge.catalog.snapshot import Catalog, load_catalog, load_snapshot
from knowledge.records.facts import (
    ABOLISHED_LEVEL_NOTE,
    PRE_REFORM_CAUTION,
    PROVINCE_FEE,
    ChannelFacts,
    ProcedureFacts,
    from_curated,
    from_official,
)
from knowledge.records.schema import Guide, Procedure

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def birth_record() -> Procedure:
    data = yaml.safe_load((ROOT / "knowledge/data/procedures/ho-tich-khai-sinh.yml").read_text(encoding="utf-8"))
    return Procedure.model_validate(data)


@pytest.fixture(scope="module")
def birth(birth_record: Procedure, catalog: Catalog) -> ProcedureFacts:
    """The shipped birth-registration record with its official record, as the bot answers it."""
    return from_curated(birth_record, [catalog.get(code) for code in birth_record.official_codes])


@pytest.fixture(scope="module")
def id_card(catalog: Catalog) -> ProcedureFacts:
    """Re-issuing a lost citizen ID card: official record only (1.014064)."""
    return from_official(catalog.get("1.014064"))


def test_title_names_the_procedure_and_its_official_code(birth: ProcedureFacts) -> None:
    main, rating = answers.procedure_answer(birth, "fee")
    lines = main.text.split("\n")
    assert lines[0] == "📄 Đăng ký khai sinh (mã 1.001193) — lệ phí:"
    assert rating.text == "Câu trả lời có hữu ích không?"
    assert rating.buttons == [
        {"title": "👍", "payload": '/feedback{"feedback":"up"}'},
        {"title": "👎", "payload": '/feedback{"feedback":"down"}'},
    ]


def test_fee_comes_from_the_official_record(birth: ProcedureFacts, id_card: ProcedureFacts) -> None:
    # birth registration is free (1.001193); re-issuing a lost ID card costs 70,000 đ (1.014064)
    assert answers.procedure_answer(birth, "fee")[0].text.split("\n")[1] == "Không mất phí"
    after_reduction = dt.date(2027, 1, 1)  # the 50 % reduction of Thông tư 64/2025/TT-BTC ends on 31/12/2026
    assert answers.procedure_answer(id_card, "fee", day=after_reduction)[0].text.split("\n")[1] == "70.000 đồng"


def test_time_per_channel_collapses_when_every_channel_says_the_same(id_card: ProcedureFacts) -> None:
    lines = answers.procedure_answer(id_card, "time")[0].text.split("\n")
    assert lines[1] == "7 ngày làm việc"


def test_fees_that_differ_by_channel_are_listed_per_channel() -> None:
    facts = ProcedureFacts(
        doc_id="x", name="Thủ tục thử", codes=("9.000001",),
        channels=(ChannelFacts("trực tiếp", "5 ngày làm việc", "100.000 đồng"),
                  ChannelFacts("trực tuyến", "5 ngày làm việc", "50.000 đồng")),
    )  # fmt: skip
    lines = answers.procedure_answer(facts, "fee")[0].text.split("\n")
    assert lines[1:3] == ["• Trực tiếp: 100.000 đồng", "• Trực tuyến: 50.000 đồng"]


def test_a_fee_set_by_each_province_says_so() -> None:
    facts = ProcedureFacts(
        doc_id="x", name="Thủ tục thử", channels=(ChannelFacts("trực tiếp", None, PROVINCE_FEE, fee_by_province=True),)
    )
    lines = answers.procedure_answer(facts, "fee")[0].text.split("\n")
    assert lines[1] == PROVINCE_FEE and lines[2] == answers.FEE_LOCALITY


def test_national_fee_gets_no_province_reminder(id_card: ProcedureFacts) -> None:
    assert answers.FEE_LOCALITY not in answers.procedure_answer(id_card, "fee")[0].text


def test_buttons_offer_the_next_questions_but_not_the_one_just_answered(birth: ProcedureFacts) -> None:
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


def test_long_document_lists_come_in_pages_with_a_more_button(birth: ProcedureFacts) -> None:
    assert len(birth.documents) > answers.PAGE_SIZE
    first, _ = answers.procedure_answer(birth, "documents")
    lines = first.text.split("\n")
    assert lines[0] == "📄 Đăng ký khai sinh (mã 1.001193) — hồ sơ cần chuẩn bị:"
    numbered = [line for line in lines if line.split(".")[0].isdigit()]
    shown = len(numbered)  # at most PAGE_SIZE papers and about one phone screen
    assert [int(line.split(".")[0]) for line in numbered] == list(range(1, shown + 1))
    assert 0 < shown <= answers.PAGE_SIZE and len("\n".join(numbered)) <= answers.SCREEN_CHARS
    assert not any(line.startswith(("1. -", "2. -")) for line in numbered)  # the portal's own dashes are dropped
    assert first.buttons[0] == {"title": "Xem tiếp (hồ sơ cần chuẩn bị)", "payload": '/ask_documents{"page":"2"}'}
    second, _ = answers.procedure_answer(birth, "documents", page=2)
    assert second.text.split("\n")[0].endswith("(trang 2):")
    assert second.text.split("\n")[1].startswith(f"{shown + 1}. ")
    page, more = 2, True
    while more:
        page += 1
        more = answers.aspect_lines(birth, "documents", page=page)[1]
    last, _ = answers.procedure_answer(birth, "documents", page=page)
    assert "Xem tiếp" not in last.buttons[0]["title"]
    assert last.text.count(f"{len(birth.documents)}. ") == 1  # every paper, numbered across the pages


def test_overview_names_place_time_fee_documents_online_legal_basis_and_the_portal(birth: ProcedureFacts) -> None:
    main, _ = answers.procedure_answer(birth, None)
    lines = main.text.split("\n")
    assert lines[0] == "📄 Đăng ký khai sinh (mã 1.001193)"
    assert lines[1].startswith("Nơi nộp: Bộ phận Một cửa")
    assert lines[2] == "Cơ quan giải quyết: Ủy ban nhân dân cấp xã."
    assert lines[3] == "Thời gian: 1 ngày làm việc"
    assert lines[4] == "Lệ phí: Không mất phí"
    assert lines[5] == f"Hồ sơ: {len(birth.documents)} loại giấy tờ — bấm «Hồ sơ cần gì» để xem."
    assert lines[6].startswith("Trực tuyến: có")
    assert lines[7].startswith("Căn cứ: ")
    assert f"Xem trên Cổng: {birth.portal_url}" in lines
    assert lines[-1].startswith("Theo Cổng Dịch vụ công quốc gia, cập nhật ")


def test_the_reorganisation_note_is_said_once_in_an_overview(birth: ProcedureFacts) -> None:
    note = "ℹ️ Từ 1/7/2025 không còn cấp huyện."
    # an agency at the abolished level and nothing else about the place: the place's lines end with the note
    district = replace(birth, where=None, channels=(), agency="Ủy ban nhân dân cấp huyện", level_note=note)
    lines, _ = answers.aspect_lines(district, None)
    assert lines.count(note) == 1


def test_online_answer_says_where(birth: ProcedureFacts) -> None:
    lines = answers.procedure_answer(birth, "online")[0].text.split("\n")
    assert lines[1] == "Có, nộp trực tuyến được."
    assert lines[2] == f"Nộp tại: {birth.online_where}"


def test_no_online_service_sends_the_citizen_to_the_counter(birth: ProcedureFacts) -> None:
    offline = replace(birth, online=False, online_where=None)
    main, _ = answers.procedure_answer(offline, "online")
    assert main.text.split("\n")[1].startswith("Thủ tục này chưa nộp trực tuyến được. Bạn nộp tại: Bộ phận Một cửa")


def test_a_record_from_2024_carries_the_pre_reform_caution(catalog: Catalog) -> None:
    old = next(r for r in load_snapshot() if r.predates_2025_reform and r.has_details)
    main, _ = answers.procedure_answer(from_official(old), "place")
    assert PRE_REFORM_CAUTION in main.text.split("\n")
    assert main.text.split("\n")[-1].startswith("Theo Cơ sở dữ liệu thủ tục hành chính (dữ liệu năm 2024)")


def test_unverified_curated_record_shows_a_caution_before_the_source(birth_record: Procedure) -> None:
    unverified = Procedure.model_validate(
        birth_record.model_dump()
        | {"official_codes": [], "level": "xã", "agency": "Ủy ban nhân dân cấp xã",
           "documents": [{"name": "Tờ khai đăng ký khai sinh"}], "processing_time": "Trong ngày",
           "fee": "Miễn lệ phí", "legal_basis": ["Luật Hộ tịch 2014"],
           "reform_2025": {"status": "unverified", "note": "Chưa rõ cơ quan tiếp nhận sau sáp nhập."}}
    )  # fmt: skip
    main, _ = answers.procedure_answer(from_curated(unverified), "place")
    lines = main.text.split("\n")
    assert lines[-2] == (
        "⚠️ Thông tin này chưa được xác minh lại sau sắp xếp chính quyền hai cấp (từ 1/7/2025): "
        "bạn nên hỏi lại Bộ phận Một cửa nơi nộp trước khi đi."
    )
    assert "Chưa rõ cơ quan" not in main.text  # the staff note stays internal
    assert lines[-1].startswith("Nguồn: ")


def test_confirmed_reform_status_shows_no_caution(birth: ProcedureFacts) -> None:
    assert "⚠️" not in answers.procedure_answer(birth, "place")[0].text


def test_a_titles_only_record_is_named_and_linked_without_details() -> None:
    bare = next(r for r in load_snapshot() if r.detail == "titles_only" and r.portal_url)
    main, _ = answers.procedure_answer(from_official(bare), "fee")
    lines = main.text.split("\n")
    assert lines[0] == f"📄 {from_official(bare).name} (mã {bare.code})"
    assert lines[1] == answers.NO_DETAILS
    assert lines[2] == f"Xem trên Cổng: {bare.portal_url}"
    assert main.buttons == [answers.HUMAN_BUTTON]


def test_variants_are_offered_as_which_case_buttons(birth: ProcedureFacts) -> None:
    main, _ = answers.procedure_answer(birth, None, variants=[("1.000689", "Đăng ký khai sinh lưu động")])
    assert {"title": "Trường hợp: Đăng ký khai sinh lưu động",
            "payload": answers.choose_payload("1.000689")} in main.buttons  # fmt: skip
    assert "Nếu bạn thuộc trường hợp khác, chọn ở nút bên dưới." in main.text


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


def test_an_assumed_follow_up_says_so_after_the_answer(birth: ProcedureFacts) -> None:
    main, _ = answers.procedure_answer(birth, "time", assumed=True)
    lines = main.text.split("\n")
    assert lines[1] == "1 ngày làm việc"
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


def test_a_very_long_official_name_is_cut_in_the_title_but_keeps_its_code() -> None:
    long_name = "Đăng ký thuế để cấp mã số thuế nộp thay " + "đối với tổ chức, cá nhân khấu trừ nộp thay " * 10
    title = answers.procedure_title(ProcedureFacts(doc_id="1.008494", name=long_name, codes=("1.008494",)))
    assert title.endswith(" … (mã 1.008494)")
    assert len(title) <= answers.TITLE_CHARS + len("📄  … (mã 1.008494)")


# ---------------------------------------------------------------- values in force on the day asked

LAST_DAY_OF_REDUCTION = dt.date(2026, 12, 31)
FIRST_DAY_AFTER = dt.date(2027, 1, 1)


def _fee_line(facts: ProcedureFacts, day: dt.date | None = None) -> str:
    return answers.procedure_answer(facts, "fee", day=day)[0].text.split("\n")[1]


def test_a_lost_id_card_costs_half_until_the_reduction_ends(id_card: ProcedureFacts) -> None:
    assert _fee_line(id_card, LAST_DAY_OF_REDUCTION) == (
        "35.000 đồng, giảm 50 % đến hết 31/12/2026 (Thông tư 64/2025/TT-BTC); mức thường 70.000 đồng"
    )
    assert _fee_line(id_card, FIRST_DAY_AFTER) == "70.000 đồng"


def test_the_day_comes_from_one_clock_that_tests_can_freeze(
    id_card: ProcedureFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCUA_TODAY", "2026-12-31")
    assert _fee_line(id_card).startswith("35.000 đồng, giảm 50 %")
    monkeypatch.setenv("MOCUA_TODAY", "2027-01-01")
    assert _fee_line(id_card) == "70.000 đồng"


def test_an_online_reduction_that_ended_is_not_shown(catalog: Catalog) -> None:
    renewal = from_official(catalog.get("3.000347"))  # Đổi giấy phép lái xe: 115.000 đ online until 31/12/2025
    text = answers.procedure_answer(renewal, "fee", day=dt.date(2026, 12, 6))[0].text
    assert "135.000 đồng" in text and "115.000" not in text
    during = answers.procedure_answer(renewal, "fee", day=dt.date(2025, 12, 31))[0].text
    assert "115.000" in during


def test_household_business_fee_is_set_by_each_province_despite_the_example(catalog: Catalog) -> None:
    household = from_official(catalog.get("1.001612"))  # the page lists 50.000 / 150.000 đ as examples
    text = answers.procedure_answer(household, "fee", day=LAST_DAY_OF_REDUCTION)[0].text
    assert "Hội đồng nhân dân tỉnh quy định" in text and answers.FEE_LOCALITY in text


def test_a_fee_written_khong_co_is_not_answered_as_charged(catalog: Catalog) -> None:
    record = from_official(catalog.get("1.000016"))  # the page's fee cell: "Không có"
    text = answers.procedure_answer(record, "fee", day=LAST_DAY_OF_REDUCTION)[0].text
    assert "Có thu phí" not in text and "Không mất phí" in text


def test_a_time_the_portal_gives_without_unit_is_never_a_bare_number(catalog: Catalog) -> None:
    record = from_official(catalog.get("2.000720"))  # the page's time cell: "1"
    line = answers.procedure_answer(record, "time")[0].text.split("\n")[1]
    assert line != "1" and line.startswith("1 (") and "không ghi đơn vị" in line


def test_an_agency_at_an_abolished_level_carries_the_reorganisation_note(catalog: Catalog) -> None:
    one_off = from_official(catalog.get("1.001613"))  # "Bảo hiểm xã hội cấp Tỉnh, Bảo hiểm xã hội cấp huyện"
    place = answers.procedure_answer(one_off, "place")[0].text
    assert "Bảo hiểm xã hội cấp huyện" in place and ABOLISHED_LEVEL_NOTE in place
    assert ABOLISHED_LEVEL_NOTE in answers.procedure_answer(one_off, None)[0].text
    assert ABOLISHED_LEVEL_NOTE not in answers.procedure_answer(from_official(catalog.get("1.014064")), "place")[0].text


def test_the_deadline_to_register_a_birth_is_not_the_processing_time(birth: ProcedureFacts) -> None:
    lines = answers.procedure_answer(birth, "deadline")[0].text.split("\n")
    assert lines[0] == "📄 Đăng ký khai sinh (mã 1.001193) — hạn phải đi làm thủ tục:"
    assert "60 ngày kể từ ngày sinh" in lines[1]
    assert lines[2].startswith(answers.DEADLINE_APART)  # the processing time comes apart, labelled


def test_with_no_known_deadline_the_answer_says_so_and_labels_the_processing_time(id_card: ProcedureFacts) -> None:
    lines = answers.procedure_answer(id_card, "deadline")[0].text.split("\n")
    assert lines[1] == answers.DEADLINE_UNKNOWN
    assert lines[2] == answers.DEADLINE_APART + "7 ngày làm việc."


def test_a_curated_deadline_answers_when_the_official_page_states_none(catalog: Catalog) -> None:
    data = yaml.safe_load((ROOT / "knowledge/data/procedures/ho-tich-khai-tu.yml").read_text(encoding="utf-8"))
    record = Procedure.model_validate(data)
    death = from_curated(record, [catalog.get(code) for code in record.official_codes])
    assert catalog.get("1.000656") is not None and from_official(catalog.get("1.000656")).deadline is None
    lines = answers.procedure_answer(death, "deadline")[0].text.split("\n")
    assert "15 ngày kể từ ngày có người chết" in lines[1] and lines[2].startswith(answers.DEADLINE_APART)
