"""The one decision (knowledge/search/decision.py) on hand-made evidence, and its one calibrated file."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.search import Calibration, CalibrationError, Context, Evidence, Hit, Thresholds, decide
from knowledge.search.engine import CALIBRATION_FILE
from knowledge.search.fit import _best_topic_mass, citizen_utility
from knowledge.search.reading import case_of, says_case

TH = Thresholds(none_below=0.3, close_ratio=0.5, ask_back_mass=0.5, off_topic_answer=0.6, topic_mass=0.2)
BIRTH, FOREIGN, REISSUE, MARRIAGE = "ho-tich-khai-sinh", "2.000528", "ho-tich-dang-ky-lai-khai-sinh", "ho-tich-ket-hon"


def ev(
    doc_id: str, score: float, head: str | None = None, named: bool = False, separate: bool = False
) -> Evidence:
    return Evidence(Hit(doc_id, "procedure", doc_id, score, doc_id), head=head, named_case=named, separate=separate)


def test_a_case_the_question_does_not_name_gives_way_to_the_common_case() -> None:
    # "khai sinh có mất phí không": the foreign-element case scores higher, but the question never says "nước ngoài"
    d = decide([ev(FOREIGN, 0.46, head=BIRTH), ev(BIRTH, 0.04)], TH)
    assert d.kind == "answer" and d.best is not None and d.best.doc_id == BIRTH
    assert [h.doc_id for h in d.cases] == [FOREIGN]  # offered beside the answer, not instead of it


def test_a_case_the_question_names_goes_ahead_of_the_common_case() -> None:
    # "làm lại giấy khai sinh bị mất": the common case scores higher, the question says what the re-issue is
    d = decide([ev(BIRTH, 0.7), ev(REISSUE, 0.4, head=BIRTH, named=True)], TH)
    assert d.kind == "answer" and d.best is not None and d.best.doc_id == REISSUE


def test_a_case_named_apart_from_its_head_gives_way_to_a_nearer_parent_it_is_not_named_apart_from() -> None:
    # "đăng ký lại khai sinh có mất phí không": «Đăng ký lại khai sinh có yếu tố nước ngoài» scores higher; the
    # question says "lại" (what tells it from «Đăng ký khai sinh») but nothing foreign (what tells it from its nearer
    # parent «Đăng ký lại khai sinh»)
    foreign_reissue = "2.000522"
    evidence = [ev(foreign_reissue, 0.8, head=BIRTH, named=True), ev(REISSUE, 0.3, head=BIRTH, named=True)]
    told = [replace(evidence[0], parents=(REISSUE,)), evidence[1]]
    d = decide(told, TH)
    assert d.kind == "answer" and d.best is not None and d.best.doc_id == REISSUE
    assert [h.doc_id for h in d.cases] == [foreign_reissue]  # still offered beside it
    # without a nearer parent the question does not name it apart from (it said "nước ngoài"), the case stays first
    d = decide(evidence, TH)
    assert d.best is not None and d.best.doc_id == foreign_reissue


def test_a_separate_procedure_on_the_same_thing_is_neither_a_rival_nor_a_case_unless_named() -> None:
    residence, deregistration = "cu-tru-tam-tru", "1.010028"  # "Xóa đăng ký tạm trú"
    d = decide([ev(deregistration, 0.55, head=residence, separate=True), ev(residence, 0.54)], TH)
    assert d.kind == "answer" and d.best is not None and d.best.doc_id == residence and d.cases == []
    named = decide([ev(residence, 0.5), ev(deregistration, 0.45, head=residence, named=True, separate=True)], TH)
    assert named.kind == "answer" and named.best is not None and named.best.doc_id == deregistration


def test_which_one_offers_one_record_per_family_likeliest_first() -> None:
    evidence = [ev(MARRIAGE, 0.6), ev(BIRTH, 0.55), ev(FOREIGN, 0.5, head=BIRTH), ev("ho-tich-khai-tu", 0.1)]
    d = decide(evidence, TH)
    assert d.kind == "which_one"
    assert [h.doc_id for h in d.choices] == [MARRIAGE, BIRTH]


def named(doc_id: str, title: str, score: float) -> Evidence:
    return Evidence(Hit(doc_id, "official", title, score, title))


def test_one_procedure_listed_per_level_or_agency_is_answered_not_asked_about() -> None:
    # The catalogue lists some procedures once per level or agency: to a citizen they are one procedure, so the
    # likeliest is answered and the others are offered beside it, not as rivals of a "which one?"
    card = "Cấp thẻ thường trú cho người nước ngoài tại Việt Nam"
    province = named("1.001010", f"{card} (thực hiện tại cấp tỉnh)", 0.65)
    central = named("1.003290", f"{card} (thực hiện tại cấp Trung ương)", 0.47)
    d = decide([province, central], TH)
    assert d.kind == "answer" and d.best is not None and d.best.doc_id == province.hit.doc_id
    assert [h.doc_id for h in d.cases] == [central.hit.doc_id]
    tax, customs = named("1.008588", "Nộp dần tiền thuế nợ", 0.8), named("1.011636", "Nộp dần tiền thuế nợ", 0.44)
    assert decide([tax, customs], TH).kind == "answer"
    # or once per channel: online from start to end, or partly online or at the counter
    plate = "Cấp lại chứng nhận đăng ký xe, biển số xe thực hiện bằng dịch vụ công trực tuyến"
    online = named("1.013080", f"{plate} toàn trình", 0.73)
    counter = named("1.013082", f"{plate} một phần hoặc trực tiếp thực hiện tại cấp trung ương, cấp tỉnh, cấp xã", 0.7)
    d = decide([online, counter], TH)
    assert d.kind == "answer" and [h.doc_id for h in d.cases] == [counter.hit.doc_id]
    # a real alternative is still asked about, offered once however many levels list it
    reissue = named("2.000460", card.replace("Cấp", "Cấp lại"), 0.42)
    reissue_central = named("2.000999", f"{reissue.hit.title} (cấp Trung ương)", 0.4)
    d = decide([province, reissue, reissue_central, central], TH)
    assert d.kind == "which_one" and [h.doc_id for h in d.choices] == [province.hit.doc_id, reissue.hit.doc_id]


def test_a_case_listed_per_level_is_offered_once_beside_the_answer() -> None:
    # "tôi muốn đăng ký kết hôn": the re-registration is listed at two levels; two of the three buttons beside the
    # answer saying the same name hid the foreign-element case
    def case(doc_id: str, title: str, score: float) -> Evidence:
        return Evidence(Hit(doc_id, "official", title, score, title), head=MARRIAGE)

    marriage = Evidence(Hit(MARRIAGE, "procedure", "Đăng ký kết hôn", 0.88, ""))
    mobile = case("1.000593", "Đăng ký kết hôn lưu động", 0.22)
    again = case("1.004746", "Đăng ký lại kết hôn", 0.12)
    again_elsewhere = case("2.000507", "Đăng ký lại kết hôn", 0.05)
    foreign = case("2.000513", "Đăng ký kết hôn có yếu tố nước ngoài", 0.04)
    d = decide([marriage, mobile, again, again_elsewhere, foreign], TH)
    assert d.kind == "answer" and d.best is not None and d.best.doc_id == MARRIAGE
    assert [h.doc_id for h in d.cases] == ["1.000593", "1.004746", "2.000513"]


def typed(doc_id: str, score: float, *name: str) -> Evidence:
    """A record whose name's words (`name`, names that say nothing left out) the question holds whole."""
    return Evidence(Hit(doc_id, "procedure", doc_id, score, doc_id), typed_name=frozenset(name))


def test_the_record_whose_name_the_question_says_more_fully_settles_a_close_call() -> None:
    # "gia hạn tạm trú sắp hết hạn": all of "Gia hạn tạm trú" and all of "Đăng ký tạm trú" ("đăng ký" names nothing)
    extension, registration = typed("1.002755", 0.59, "gia", "han", "tam", "tru"), typed("cu-tru", 0.61, "tam", "tru")
    d = decide([registration, extension], TH)
    assert d.kind == "answer" and d.best is not None and d.best.doc_id == extension.hit.doc_id
    # two names typed as fully are still a close call, and a rival far behind is no call at all
    other = typed("cu-tru-thuong", 0.58, "thuong", "tru")
    assert decide([registration, other], TH).kind == "which_one"
    far_behind = replace(extension, hit=replace(extension.hit, score=0.2))
    assert decide([registration, far_behind], TH).best == registration.hit


def test_the_record_doing_the_operation_asked_goes_ahead_of_one_doing_another_however_it_scored() -> None:
    # "xin cấp lại sổ đỏ" holds the whole alias "xin cấp sổ đỏ" of the first issue, but asks «cấp lại»
    first_issue, reissue = "dat-dai-cap-giay-chung-nhan-lan-dau", "dat-dai-cap-lai-giay-chung-nhan-bi-mat"
    d = decide([replace(ev(first_issue, 0.89), operation=-1), replace(ev(reissue, 0.04), operation=1)], TH)
    assert d.kind == "which_one" and [h.doc_id for h in d.choices] == [reissue, first_issue]
    # a question that says no operation leaves the order to the confidences
    d = decide([ev(first_issue, 0.89), ev(reissue, 0.04)], TH)
    assert d.kind == "answer" and d.best is not None and d.best.doc_id == first_issue


def test_a_procedure_named_whole_goes_ahead_of_a_guide_none_of_whose_names_was_typed_in_a_close_call() -> None:
    # "đăng ký khai tử làm online được không": the guide on online services matches "online"; the question names
    # the death registration whole, whose own facts say whether it can be done online
    guide = Evidence(Hit("muc-do-dich-vu-cong-truc-tuyen", "guide", "Dịch vụ công trực tuyến", 0.7, ""))
    death = typed("ho-tich-khai-tu", 0.4, "khai", "tu")
    d = decide([guide, death], TH)
    assert d.best is not None and d.best.doc_id == "ho-tich-khai-tu"
    assert decide([guide, replace(death, hit=replace(death.hit, score=0.3))], TH).best == guide.hit  # no close call
    named_guide = replace(guide, typed_name=frozenset({"truc", "tuyen"}))  # the guide's own name typed: it stays first
    assert decide([named_guide, death], TH).choices[0] == guide.hit


def test_a_clear_topic_with_no_case_named_asks_which_case_instead_of_declining() -> None:
    permit, extension, foreigner = "1.009810", "1.014201", "1.014199"
    evidence = [ev(extension, 0.15, head=permit), ev(permit, 0.1), ev("ho-tich-khai-tu", 0.02)]
    d = decide(evidence, TH)
    assert d.kind == "which_one" and [h.doc_id for h in d.choices] == [permit, extension]
    assert decide([ev(extension, 0.05, head=permit), ev(permit, 0.05)], TH).kind == "not_sure"  # nothing clear
    assert decide([ev(foreigner, 0.25)], TH).kind == "not_sure"  # one record alone is no topic


def test_a_follow_up_naming_nothing_stays_on_the_procedure_under_discussion() -> None:
    d = decide([ev(BIRTH, 0.9)], TH, Context(current=MARRIAGE, names_something=False, aspect_asked=True))
    assert d.kind == "stay"
    assert decide([ev(BIRTH, 0.9)], TH, Context(names_something=False)).kind == "answer"
    assert decide([ev(BIRTH, 0.2)], TH, Context(names_something=False)).kind == "not_sure"


def test_off_topic_by_nlu_needs_the_calibrated_confidence() -> None:
    off_topic = Context(nlu="off_topic")
    assert decide([ev(BIRTH, 0.55)], TH).kind == "answer"
    assert decide([ev(BIRTH, 0.55)], TH, off_topic).kind == "not_sure"
    assert decide([ev(BIRTH, 0.65)], TH, off_topic).kind == "answer"


def test_a_name_typed_whole_is_answered_whatever_nlu_read() -> None:
    # «tạm trú sắp hết hạn, gia hạn thế nào»: NLU took it for off-topic, the search is only fairly sure
    extension = "1.002755"
    typed = {"gia", "han", "tam", "tru"}

    def off_topic(words: set[str], accented: bool = True) -> str:
        named = replace(ev(extension, 0.4), typed_name=frozenset(words))
        return decide([named], TH, Context(nlu="off_topic", accented=accented)).kind

    assert off_topic(typed) == "answer"
    assert off_topic(typed, accented=False) == "answer"
    # a name of two words («kết quả») is everyday speech; typed without diacritics a word says less («con lai»
    # folds like «lại»), so three words are not enough there
    assert off_topic({"ket", "qua"}) == "not_sure"
    assert off_topic({"lai", "khai", "sinh"}) == "answer"
    assert off_topic({"lai", "khai", "sinh"}, accented=False) == "not_sure"
    assert off_topic(set()) == "not_sure"


def test_an_aspect_question_nothing_fits_stays_on_the_current_procedure_and_says_so() -> None:
    d = decide([ev("giá vàng", 0.05)], TH, Context(current=MARRIAGE, aspect_asked=True))
    assert d.kind == "stay" and d.assumed


def test_the_shipped_calibration_holds_every_threshold() -> None:
    th = Calibration.load().thresholds()
    assert all(0.0 < value < 1.0 for value in vars(th).values())


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda path: path.unlink(), "cannot read"),
        (lambda path: path.write_text("{not json", encoding="utf-8"), "not valid JSON"),
        (lambda path: _drop(path, "close_ratio"), "missing close_ratio"),
        (lambda path: _set(path, "off_topic_answer", "cao"), "'off_topic_answer' should be a number"),
    ],
)
def test_a_missing_or_malformed_calibration_fails_loudly_naming_the_file(tmp_path: Path, damage, named: str) -> None:
    path = tmp_path / "calibration.json"
    shutil.copy(CALIBRATION_FILE, path)
    damage(path)
    with pytest.raises(CalibrationError) as error:
        Calibration.load(path)
    assert str(path) in str(error.value) and named in str(error.value)
    assert "make kb-calibrate" in str(error.value)


def _drop(path: Path, key: str) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    del data[key]
    path.write_text(json.dumps(data), encoding="utf-8")


def _set(path: Path, key: str, value: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data[key] = value
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_question_told_after_its_background_is_not_refused_as_off_topic() -> None:
    # NLU learnt from short questions and calls a long story off-topic; the search found the clause that asks
    told = Context(nlu="off_topic", background=True)
    assert decide([ev(BIRTH, 0.45)], TH, told).kind == "answer"
    assert decide([ev(BIRTH, 0.45)], TH, Context(nlu="off_topic")).kind == "not_sure"
    assert decide([ev(MARRIAGE, 0.4), ev(BIRTH, 0.35)], TH, told).kind == "which_one"


def test_an_everyday_saying_of_a_case_is_read_with_its_diacritics() -> None:
    """Sayings in knowledge/data/vocabulary/questions.yml stand for a case word ("nga" for "nước ngoài"); typed with
    diacritics they are read with them, so a fall ("bị ngã") is no foreign element; without, folded as before."""
    foreign = case_of("Đăng ký kết hôn có yếu tố nước ngoài", "Đăng ký kết hôn")
    assert says_case("lấy chồng người Nga thì đăng ký kết hôn ở đâu", foreign)
    assert says_case("lay chong nguoi nga thi dang ky ket hon o dau", foreign)
    assert not says_case("bị ngã gãy tay thì đăng ký kết hôn có phải hoãn không", foreign)


def test_the_fit_asks_which_case_of_a_clear_topic_rather_than_decline() -> None:
    # A long message about work permits, none of its cases likely alone: the right case among the buttons, even
    # second, is worth a tap to the citizen, where a refusal gives nothing; so the fitted topic_mass asks.
    permit, extension = "1.000105", "1.000459"
    asked = [({extension}, [ev(permit, 0.12), ev(extension, 0.1, head=permit)])] * 3
    cal = replace(Calibration.load(), none_below=0.3, close_ratio=0.5, ask_back_mass=0.5)
    mass = _best_topic_mass(cal, asked)
    d = decide(asked[0][1], replace(cal, topic_mass=mass).thresholds())
    assert d.kind == "which_one" and extension in [h.doc_id for h in d.choices]
    assert citizen_utility(replace(cal, topic_mass=mass), asked) > citizen_utility(replace(cal, topic_mass=0.95), asked)


def test_a_story_searched_whole_offers_a_guide_rather_than_answer_it() -> None:
    # No clause asks and names: the office's words in the story (an officer, the hotline) drew the guide on them.
    # It is offered first, the likeliest other families beside it (one button per family).
    staff = Evidence(Hit("lien-he-ho-tro-truc-tiep", "guide", "Muốn nói chuyện với cán bộ hỗ trợ", 0.7, ""))
    evidence = [staff, ev(BIRTH, 0.1), ev(FOREIGN, 0.08, head=BIRTH), ev(MARRIAGE, 0.05), ev("ho-tich-khai-tu", 0.01)]
    d = decide(evidence, TH, Context(whole_story=True, background=True))
    assert d.kind == "which_one" and [h.doc_id for h in d.choices] == [staff.hit.doc_id, BIRTH, MARRIAGE]
    assert decide([staff, ev(BIRTH, 0.1)], TH).kind == "answer"  # asked outright, the guide is the answer
    assert decide([ev(BIRTH, 0.7)], TH, Context(whole_story=True)).kind == "answer"  # a procedure still is
