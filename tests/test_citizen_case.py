"""The citizen's own case (actions/cases.py, the documents answer in actions/answers.py), on the shipped records:
the case read from the question's words, the question with buttons when the papers depend on it, the layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from actions import answers, cases
from channels.guard import checked_payload
from knowledge.catalog.snapshot import Catalog, load_catalog
from knowledge.records.facts import ProcedureFacts, from_curated, from_official
from knowledge.records.schema import Procedure

ROOT = Path(__file__).resolve().parent.parent
TENANT = "Đăng ký thường trú vào chỗ ở hợp pháp do thuê, mượn, ở nhờ"
RELIGIOUS = "Đăng ký thường trú tại cơ sở tín ngưỡng, cơ sở tôn giáo có công trình phụ trợ là nhà ở"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def residence(catalog: Catalog) -> ProcedureFacts:
    """Permanent residence, curated record with its official page (1.004222: six cases, no common papers)."""
    data = yaml.safe_load((ROOT / "knowledge/data/procedures/cu-tru-thuong-tru.yml").read_text(encoding="utf-8"))
    record = Procedure.model_validate(data)
    return from_curated(record, [catalog.get(code) for code in record.official_codes])


@dataclass
class FakeTurn:
    text: str
    intent: str | None = "ask_documents"
    procedure_id: str | None = None
    case: str | None = None
    aspect: str | None = None
    entities: dict[str, str] = field(default_factory=dict)

    @property
    def is_payload(self) -> bool:
        return self.text.startswith("/")


@pytest.mark.parametrize(
    "question",
    [
        "tôi thuê nhà thì đăng ký thường trú cần giấy tờ gì",
        "thue tro co dang ky thuong tru duoc khong",
        "ở nhờ nhà người thân có nhập hộ khẩu được không",
        "o nho nha nguoi than",
        "nhà mượn của bạn",
    ],
)
def test_a_tenant_is_read_from_the_question_with_or_without_diacritics(
    residence: ProcedureFacts, question: str
) -> None:
    assert cases.match_case(question, residence) == TENANT


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("đăng ký thường trú cần giấy tờ gì", None),  # names the procedure only
        ("dang ky thuong tru o dau", None),
        ("tôi là nhà tu hành ở cơ sở tôn giáo", RELIGIOUS),
        ("thuê trọ có đăng ký thường trú được không", TENANT),  # "trọ" is not "trợ" (giúp) when typed with marks
    ],
)
def test_only_a_case_s_own_words_name_it(residence: ProcedureFacts, question: str, expected: str | None) -> None:
    assert cases.match_case(question, residence) == expected


def test_cases_of_other_records_are_read_from_their_own_names(catalog: Catalog) -> None:
    """Nothing written for one procedure: the same rule reads every record's headings."""
    temporary = from_official(catalog.get("1.004194"))
    listed = cases.match_case("đăng ký tạm trú cho công nhân theo danh sách", temporary)
    assert listed == "Đăng ký tạm trú theo danh sách"
    land = from_official(catalog.get("1.012786"))
    assert cases.match_case("tôi bị mất trang bổ sung của sổ đỏ", land) == "Đối với trường hợp mất Trang bổ sung"
    online = from_official(catalog.get("1.003114"))
    assert cases.match_case("nộp online thì cần gì", online) == online.cases[0].name
    damaged = from_official(catalog.get("1.004993"))
    assert cases.match_case("giấy chứng nhận bị hỏng", damaged) == "Trường hợp bị mất, bị hỏng"
    assert cases.match_case("cấp lại giấy chứng nhận giáo viên dạy lái xe", damaged) is None


def test_the_tenant_gets_the_rental_contract_first_and_the_declaration_on_one_screen(residence: ProcedureFacts) -> None:
    main, _ = answers.procedure_answer(residence, "documents", case=TENANT)
    lines = main.text.split("\n")
    assert lines[1] == "Trường hợp: Nhà thuê, mượn, ở nhờ"
    assert lines[2].startswith("1. Hợp đồng, văn bản về việc cho thuê, cho mượn, cho ở nhờ")
    papers = [line for line in lines if line[:2] in ("1.", "2.", "3.", "4.", "5.", "6.")]
    assert any("CT01" in paper for paper in papers)  # the page lists the form under other cases only
    assert not any("phương tiện" in paper or "tôn giáo" in paper for paper in papers)  # other cases' papers
    assert len("\n".join(papers)) <= answers.SCREEN_CHARS
    assert {"title": "Trường hợp khác", "payload": '/choose_case{"case":"0"}'} in main.buttons


def test_another_case_shows_the_common_papers_first_and_the_rest_behind_more(residence: ProcedureFacts) -> None:
    first, _ = answers.procedure_answer(residence, "documents", case=cases.OTHER)
    assert first.buttons[0]["payload"] == '/ask_documents{"page":"2"}'
    pages, more = [first.text], True
    while more:
        body, more = answers.aspect_lines(residence, "documents", page=len(pages) + 1, case=cases.OTHER)
        pages.append("\n".join(body))
    assert all(len(page) <= answers.SCREEN_CHARS + 400 for page in pages)
    shown = "\n".join(pages)
    assert "(Nhà của mình) " in shown and "(Nhà thuê, mượn, ở nhờ) " in shown  # each case's papers say whose
    assert shown.count("Hợp đồng, văn bản về việc cho thuê") == 1


def test_a_record_without_cases_lists_everyday_papers_before_conditional_ones(catalog: Catalog) -> None:
    birth = from_official(catalog.get("1.001193"))
    _, documents = cases.case_documents(birth, None)
    conditional = [d.condition is not None for d in documents]
    assert conditional == sorted(conditional) and any(conditional)
    assert documents[0].name.lstrip("- ").startswith("Tờ khai đăng ký khai sinh")  # the form to fill in first
    first_page = answers.aspect_lines(birth, "documents")[0]
    assert any("Giấy chứng sinh" in line for line in first_page)
    assert not any("bị bỏ rơi" in line or "mang thai hộ" in line for line in first_page)  # rare cases come later


def test_the_case_question_names_every_case_in_short_buttons_with_another_case_last(residence: ProcedureFacts) -> None:
    buttons = cases.case_buttons(residence)
    assert [b["title"] for b in buttons] == [  # the curated plain names, the usual case first
        "Nhà của mình", "Được chăm sóc, nuôi dưỡng", "Về ở với vợ, chồng, cha mẹ, con", "Cơ sở tôn giáo, tín ngưỡng",
        "Đơn vị công an, quân đội", "Nhà thuê, mượn, ở nhờ", "Trường hợp khác",
    ]  # fmt: skip
    assert buttons[-2]["payload"] == '/choose_case{"case":"6"}'  # the page's sixth case, whatever the order shown
    text = cases.question_text(residence, answers.procedure_title(residence))
    assert "Bạn thuộc trường hợp nào?" in text and "6. Đăng ký thường trú vào chỗ ở hợp pháp do thuê" in text


def test_without_curated_names_a_case_is_named_from_its_heading(catalog: Catalog) -> None:
    titles = [b["title"] for b in cases.case_buttons(from_official(catalog.get("1.004222")))]
    assert titles[0] == "Chỗ ở hợp pháp thuộc quyền sở hữu của…"  # "Đăng ký thường trú vào" left out, cut short
    assert titles[-2:] == ["Chỗ ở hợp pháp do thuê, mượn, ở nhờ", "Trường hợp khác"]
    land = cases.case_buttons(from_official(catalog.get("1.012786")))
    assert [b["title"] for b in land] == ["Bị mất", "Mất Trang bổ sung", "Trường hợp khác"]


def test_every_curated_case_name_points_at_one_case_of_its_official_page(catalog: Catalog) -> None:
    for path in sorted((ROOT / "knowledge/data/procedures").glob("*.yml")):
        record = Procedure.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        if record.cases is None:
            continue
        facts = from_curated(record, [catalog.get(code) for code in record.official_codes])
        named = [cases.curated_case(facts, words) for words, _ in facts.case_names]
        assert None not in named and len({c.name for c in named if c}) == len(named), path.name
        assert all(len(plain) <= cases.BUTTON_CHARS for _, plain in facts.case_names), path.name
        assert facts.common_case is None or cases.curated_case(facts, facts.common_case), path.name


def test_every_case_button_of_the_catalogue_fits_telegram_and_the_rest_channel(catalog: Catalog) -> None:
    for record in catalog.records:
        if len(record.cases) < 2:
            continue
        for button in cases.case_buttons(from_official(record)):
            assert 0 < len(button["title"]) <= cases.BUTTON_CHARS, button
            assert len(button["payload"].encode()) <= 64  # Telegram's callback data
            assert checked_payload(button["payload"]) == button["payload"]


def test_an_eligibility_question_is_answered_from_the_case_s_conditions(residence: ProcedureFacts) -> None:
    main, _ = answers.procedure_answer(residence, "eligibility", case=TENANT)
    lines = main.text.split("\n")
    assert lines[1] == "Trường hợp «Nhà thuê, mượn, ở nhờ»:"
    assert lines[2].startswith("Ở nhà thuê, mượn, ở nhờ thì diện tích bình quân phải đạt mức tối thiểu")
    assert lines[3] == "Điều kiện chung: Có chỗ ở hợp pháp."


def test_a_case_without_its_own_condition_says_what_the_record_asks_of_it(residence: ProcedureFacts) -> None:
    lines = cases.case_eligibility(residence, RELIGIOUS)
    assert lines[1].startswith("Hồ sơ thủ tục không nêu điều kiện riêng cho trường hợp này; trường hợp này cần: ")


def test_the_dialogue_asks_only_when_the_papers_depend_on_a_case_nobody_named(residence: ProcedureFacts) -> None:
    asked = cases.view(residence, FakeTurn("đăng ký thường trú cần giấy tờ gì"), "documents")
    assert asked.ask and asked.case is None and asked.slots() == {"case": None, "case_question": True}
    named = cases.view(residence, FakeTurn("tôi thuê nhà, đăng ký thường trú cần gì"), "documents")
    assert not named.ask and named.case == TENANT
    fee = cases.view(residence, FakeTurn("đăng ký thường trú mất phí không", "ask_fee"), "fee")
    assert not fee.ask  # the fee is the same in every case
    more = FakeTurn('/ask_documents{"page":"2"}', procedure_id=residence.doc_id, case=cases.OTHER,
                    entities={"page": "2"})
    assert cases.view(residence, more, "documents") == cases.CaseView(cases.OTHER, False, "documents")


def test_the_case_is_kept_for_follow_ups_and_reset_by_another_procedure(
    residence: ProcedureFacts, catalog: Catalog
) -> None:
    follow_up = FakeTurn("hồ sơ gồm những gì", procedure_id=residence.doc_id, case=TENANT)
    assert cases.view(residence, follow_up, "documents").case == TENANT
    elsewhere = from_official(catalog.get("1.004194"))
    switched = cases.view(elsewhere, FakeTurn("còn tạm trú thì sao", procedure_id=residence.doc_id, case=TENANT), None)
    assert switched.case is None


def test_a_case_button_or_a_typed_choice_picks_the_case(residence: ProcedureFacts) -> None:
    pressed = FakeTurn('/choose_case{"case":"6"}', "choose_case", residence.doc_id, None, "documents", {"case": "6"})
    assert cases.view(residence, pressed, None) == cases.CaseView(TENANT, False, "documents")
    assert cases.chosen_case(residence, "0") == cases.OTHER
    assert cases.typed_answer("trường hợp thứ ba", residence).case == residence.cases[2].name
    assert cases.typed_answer("tôi ở nhờ", residence).case == TENANT
    assert cases.typed_answer("truong hop khac", residence).case == cases.OTHER
    assert cases.typed_answer("lệ phí bao nhiêu", residence).case is None
