"""Knowledge search as citizens use it: with or without diacritics, NFD input, off-topic and vague questions."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pytest
import yaml

from knowledge.catalog.model import unlisted_name
from knowledge.index.lexical import counted, holds_name, name_words
from knowledge.language import VOCABULARY_DIR
from knowledge.records.schema import Guide, Procedure
from knowledge.search import Context, KnowledgeBase
from knowledge.search.engine import typed_name
from knowledge.search.metrics import evaluate, load_questions, question_file
from knowledge.search.reading import procedure_name
from knowledge.text import fold

ROOT = Path(__file__).resolve().parents[2]
DEVSET = question_file("dev")  # never the frozen test split: its misses must not be printed
# With the whole catalogue indexed: the curated questions keep the figures they had on the curated-only index, and
# the official-only ones (hundreds of rarely asked procedures beside them) must at least reach the top three.
TARGETS = {
    "curated_top1": 90.0, "curated_top3": 97.0, "curated_ascii_top1": 85.0, "noanswer": 85.0, "official_top3": 80.0,
}  # fmt: skip


@pytest.fixture(scope="module")
def kb(built_index: Path) -> KnowledgeBase:
    return KnowledgeBase(built_index, watch=False)


@pytest.mark.parametrize(
    ("accented", "plain", "expected"),
    [
        ("đăng ký kết hôn cần giấy tờ gì", "dang ky ket hon can giay to gi", "ho-tich-ket-hon"),
        ("mất sổ đỏ phải làm sao", "mat so do phai lam sao", "dat-dai-cap-lai-giay-chung-nhan-bi-mat"),
        ("rút bảo hiểm xã hội một lần", "rut bhxh 1 lan", "bao-hiem-bhxh-mot-lan"),
        ("đổi bằng lái xe hết hạn", "doi bang lai xe het han", "giao-thong-doi-giay-phep-lai-xe"),
    ],
)
def test_with_and_without_diacritics_find_the_same_procedure(
    kb: KnowledgeBase, accented: str, plain: str, expected: str
) -> None:
    with_marks, without = kb.search(accented), kb.search(plain)
    assert with_marks.hits[0].doc_id == expected
    assert without.hits[0].doc_id == expected
    assert with_marks.verdict != "none" and without.verdict != "none"


def test_decomposed_unicode_query_gives_the_same_answer(kb: KnowledgeBase) -> None:
    query = "Tôi muốn đăng ký khai sinh cho con"
    nfd = unicodedata.normalize("NFD", query)
    assert nfd != query
    composed, decomposed = kb.search(query), kb.search(nfd)
    assert [h.doc_id for h in decomposed.hits] == [h.doc_id for h in composed.hits]
    assert decomposed.hits[0].score == pytest.approx(composed.hits[0].score, abs=1e-3)
    assert decomposed.query == query  # stored in NFC


@pytest.mark.parametrize("query", ["giá vàng hôm nay bao nhiêu", "asdkjh qwe zxc", "cách nấu phở bò ngon"])
def test_off_topic_question_gets_none(kb: KnowledgeBase, query: str) -> None:
    assert kb.search(query).verdict == "none"


@pytest.mark.parametrize(("query", "prefix"), [("sổ đỏ", "dat-dai-"), ("bảo hiểm", "bao-hiem-")])
def test_vague_question_is_ambiguous_with_candidates(kb: KnowledgeBase, query: str, prefix: str) -> None:
    result = kb.search(query)
    assert result.verdict == "ambiguous"
    choices = result.choices
    assert 2 <= len(choices) <= 3
    # curated records of that field, or official procedures that name it
    assert all(h.doc_id.startswith(prefix) or fold(query) in fold(h.title) for h in choices)


def test_clear_question_is_sure_and_hits_follow_the_contract(kb: KnowledgeBase) -> None:
    result = kb.search("nhà bị cháy mất luôn sổ đỏ, xin cấp lại thế nào")
    assert result.verdict == "sure"
    assert result.hits[0].doc_id == "dat-dai-cap-lai-giay-chung-nhan-bi-mat"
    scores = [h.score for h in result.hits]
    assert all(0.0 <= s <= 1.0 for s in scores) and scores == sorted(scores, reverse=True)
    assert len({h.doc_id for h in result.hits}) == len(result.hits)
    assert all(h.kind in ("procedure", "official", "guide") and h.title and h.passage for h in result.hits)


@pytest.mark.parametrize("question", ["xin cấp lại sổ đỏ", "xin cap lai so do"])
def test_a_question_asking_a_re_issue_is_never_answered_with_the_first_issue(kb: KnowledgeBase, question: str) -> None:
    # the first issue's alias «xin cấp sổ đỏ» is typed whole, yet the citizen asks «cấp lại»: the catalogue's
    # families teach that «cấp lại» names another operation on the same paper
    first = kb.search(question).decision
    met_first = first.best if first.kind == "answer" else (first.choices or [None])[0]
    assert met_first is not None and met_first.doc_id == "dat-dai-cap-lai-giay-chung-nhan-bi-mat"


@pytest.mark.parametrize(
    ("question", "operation"),
    [
        ("điều chỉnh giấy phép xây dựng nhà ở riêng lẻ", "điều chỉnh"),
        ("nha o rieng le muon dieu chinh giay phep xay dung", "điều chỉnh"),
        ("gia hạn giấy phép xây dựng nhà ở riêng lẻ", "gia hạn"),
    ],
)
def test_a_question_asking_to_change_or_extend_a_permit_is_not_answered_with_its_first_issue(
    kb: KnowledgeBase, question: str, operation: str
) -> None:
    # «Cấp giấy phép xây dựng nhà ở riêng lẻ» holds every other word; the names that vary over one paper
    # («Gia hạn / Cấp điều chỉnh giấy phép X») teach that the operation word tells the procedure
    decision = kb.search(question).decision
    met_first = decision.best if decision.kind == "answer" else (decision.choices or [None])[0]
    assert met_first is not None and met_first.doc_id != "xay-dung-giay-phep-nha-o"
    assert f"{operation} giấy phép xây dựng" in met_first.title.lower()


@pytest.mark.parametrize(
    ("question", "expected"),
    [("sửa mái nhà bị dột có phải xin phép không", "xay-dung-giay-phep-sua-chua-cai-tao"),
     ("tam tru het han roi thi gia han the nao", "1.002755")],
)  # fmt: skip
def test_a_question_typing_a_procedures_whole_name_is_answered_though_nlu_read_it_as_off_topic(
    kb: KnowledgeBase, question: str, expected: str
) -> None:
    plain = kb.search(question).decision
    assert plain.best is not None and plain.best.doc_id == expected
    # too unsure to overrule NLU's "off-topic" on its confidence alone; the name typed whole («sửa nhà … phép»,
    # «gia hạn tạm trú») does
    assert plain.best.score < kb.calibration.for_method("combined").thresholds().off_topic_answer
    decision = kb.search(question, context=Context(nlu="off_topic")).decision
    assert decision.kind == "answer" and decision.best is not None and decision.best.doc_id == expected


def test_guides_are_found_and_records_come_back_typed(kb: KnowledgeBase) -> None:
    result = kb.search("ai làm trưởng ban chỉ đạo cải cách hành chính Bình Định năm 2022")
    top = result.hits[0]
    # the Bình Định summary, or the steering-committee guide whose examples name the same person
    assert top.doc_id in {"cai-cach-hanh-chinh-binh-dinh-2022", "ban-chi-dao-cai-cach-hanh-chinh-tinh"}
    assert top.kind == "guide"
    assert len(top.passage) <= 402
    guide = kb.guide(top.doc_id)
    assert isinstance(guide, Guide) and "Nguyễn Phi Long" in guide.body
    assert isinstance(kb.procedure("ho-tich-khai-sinh"), Procedure)
    assert kb.procedure(top.doc_id) is None and kb.guide("khong-co-ma-nay") is None


def test_teen_code_is_understood(kb: KnowledgeBase) -> None:
    assert kb.search("lam giay khai sinh cho con can j").hits[0].doc_id in {
        "ho-tich-khai-sinh",
        "ho-tich-lien-thong-khai-sinh-thuong-tru-bhyt",
    }


def test_dev_set_accuracy_of_the_combined_method_meets_the_targets(kb: KnowledgeBase) -> None:
    """Same numbers as tests/benchmarks/bench_retrieval.py (without the timing)."""
    result = evaluate(kb, load_questions(DEVSET), "combined")
    misses = "\n".join(f"{q} -> {got} (want {want}, {verdict})" for q, want, got, verdict in result["misses"])
    for key, target in TARGETS.items():
        assert result[key] >= target, f"{key} {result[key]:.1f}% < {target}%\n{misses}"


def test_dev_set_is_big_and_varied_enough() -> None:
    rows = load_questions(DEVSET)
    from knowledge.text import has_diacritics

    assert len(rows) >= 220
    assert sum(r["expect"] is None for r in rows) >= 30
    answerable = [r for r in rows if r["expect"]]
    assert sum(not has_diacritics(r["q"]) for r in answerable) >= len(answerable) // 4


def test_command_line_prints_ranked_hits_and_verdict(built_index: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "knowledge.search", "--index-dir", str(built_index), "lam lai so do bi mat"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("verdict: ")
    assert "dat-dai-cap-lai-giay-chung-nhan-bi-mat" in lines[1]


def test_guide_hit_quotes_a_body_passage_even_when_an_alias_matched(kb: KnowledgeBase) -> None:
    result = kb.search("bộ phận một cửa làm việc mấy giờ")
    top = result.hits[0]
    guide = kb.guide(top.doc_id)
    assert top.kind == "guide" and guide is not None
    assert top.passage not in (guide.title, *guide.aliases)
    assert top.passage.split(": ", 1)[-1][:40] in guide.body


def test_a_provinces_own_procedure_is_offered_only_when_that_province_is_named(kb: KnowledgeBase) -> None:
    # 1.014590 is Bắc Ninh's own support for children's heart surgery (type SPECIFIC in the catalogue)
    question = "hỗ trợ phẫu thuật tim cho trẻ em bị bệnh tim bẩm sinh"
    assert "1.014590" not in [h.doc_id for h in kb.search(question).hits]
    assert kb.search(f"{question} ở bắc ninh").hits[0].doc_id == "1.014590"


# ---------------------------------------------------------------- families, cases and long questions (issue 18)

BIRTH, MARRIAGE = "ho-tich-khai-sinh", "ho-tich-ket-hon"


@pytest.mark.parametrize(
    ("question", "everyday"),
    [("khai sinh có mất phí không", BIRTH), ("khai sinh co mat phi khong", BIRTH),
     ("đăng ký kết hôn có mất tiền không", MARRIAGE), ("dang ky ket hon co mat tien khong", MARRIAGE)],
)  # fmt: skip
def test_an_everyday_question_naming_no_case_gets_the_common_procedure(
    kb: KnowledgeBase, question: str, everyday: str
) -> None:
    result = kb.search(question)
    assert result.decision is not None and result.decision.kind == "answer"
    assert result.decision.best is not None and result.decision.best.doc_id == everyday
    # the rarer cases (foreign element, mobile, re-registration) are offered beside it, never instead
    assert all(everyday != h.doc_id for h in result.variants)


@pytest.mark.parametrize(
    ("question", "everyday"),
    [("đăng ký lại khai sinh có mất phí không", "ho-tich-dang-ky-lai-khai-sinh"),
     ("dang ky lai khai sinh co mat phi khong", "ho-tich-dang-ky-lai-khai-sinh")],
)  # fmt: skip
def test_a_case_of_a_case_not_named_gives_way_to_its_nearer_parent(
    kb: KnowledgeBase, question: str, everyday: str
) -> None:
    """«Đăng ký lại khai sinh có yếu tố nước ngoài» is a case of «Đăng ký khai sinh» the question names ("lại"), and
    of «Đăng ký lại khai sinh» it does not (nothing foreign): the re-registration is answered, the foreign case
    offered beside it."""
    result = kb.search(question)
    assert result.decision is not None and result.decision.kind == "answer"
    assert result.decision.best is not None and result.decision.best.doc_id == everyday
    assert "2.000522" in [h.doc_id for h in result.variants]


@pytest.mark.parametrize(
    ("question", "case"),
    [("làm lại giấy khai sinh bị mất", "ho-tich-dang-ky-lai-khai-sinh"),
     ("cap lai giay phep lai xe", "giao-thong-cap-lai-giay-phep-lai-xe"),
     ("cấp lại giấy phép lái xe", "giao-thong-cap-lai-giay-phep-lai-xe")],
)  # fmt: skip
def test_a_question_naming_the_case_gets_the_case(kb: KnowledgeBase, question: str, case: str) -> None:
    decision = kb.search(question).decision
    assert decision is not None and decision.kind == "answer"
    assert decision.best is not None and decision.best.doc_id == case


def test_a_procedure_named_whole_is_answered_rather_than_the_guide_on_its_aspect(kb: KnowledgeBase) -> None:
    """The guide on online services matches "online"; the procedure's own facts answer whether it can be done so."""
    decision = kb.search("đăng ký khai tử làm online được không").decision
    assert decision is not None and decision.kind == "answer"
    assert decision.best is not None and decision.best.doc_id == "ho-tich-khai-tu"


def everyday_questions(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """(question, procedure): each curated procedure that has cases in the catalogue (records whose names hold its
    name), asked with every aspect cue staff wrote (knowledge/data/vocabulary/aspects.yml), typed as phones type
    it, without diacritics: everyday questions that name no case."""
    cues = yaml.safe_load((VOCABULARY_DIR / "aspects.yml").read_text(encoding="utf-8"))
    names = {d: name_words(kb.title(d) or "") for d in kb.doc_ids() if kb.kind(d) in ("procedure", "official")}
    with_cases = [
        p for p in kb.doc_ids()
        if kb.kind(p) == "procedure" and any(d != p and holds_name(words, names[p]) for d, words in names.items())
    ]  # fmt: skip
    return [(fold(f"{kb.title(p)} {cue}"), p) for p in with_cases for phrases in cues.values() for cue in phrases]


def test_an_everyday_question_is_never_answered_with_a_case_of_its_procedure(kb: KnowledgeBase) -> None:
    """The issue's rule, on every curated procedure: a question that names the procedure and no case of it gets the
    procedure (or another reading), never one of its cases (a record whose name holds the procedure's). A case
    whose whole name the question holds is named ("cần giấy tờ" holds «… giấy tờ hộ tịch»), and a separate
    procedure on the same thing is no case."""
    with_a_case = []
    for question, procedure in everyday_questions(kb):
        result = kb.search(question)
        best = result.decision.best if result.decision else None
        answered = next((e for e in result.evidence if best is not None and e.hit.doc_id == best.doc_id), None)
        if answered is None or answered.separate or answered.whole_name:
            continue
        if holds_name(name_words(answered.hit.title), name_words(kb.title(procedure) or "")):
            with_a_case.append(f"{question} -> {answered.hit.title}")
    assert with_a_case == []


def test_an_official_procedure_typed_by_its_name_without_the_level_bracket_is_found_first(kb: KnowledgeBase) -> None:
    """The catalogue lists a procedure once per level, agency or channel ("… (thực hiện tại cấp tỉnh)"); a citizen
    types its name without that tail, with or without diacritics, and must meet that procedure first (answered, or
    first among the buttons). Before the index held names without their tails, 78 % of every 5th bracketed record
    were found typed with diacritics and 76 % without; now 93 % and 89 % of this sample. Most of the rest find a
    listing of the same procedure worded a little differently (a pre-2025 listing and its successor)."""
    listed = [d for d in kb.doc_ids() if kb.kind(d) == "official" and unlisted_name(kb.title(d) or "") != kb.title(d)]
    sample = listed[::5]
    for typed in (unlisted_name, lambda title: fold(unlisted_name(title))):
        missed = []
        for doc_id in sample:
            title = kb.title(doc_id) or ""
            decision = kb.search(typed(title)).decision
            first = (decision.best or next(iter(decision.choices), None)) if decision else None
            if first is None or procedure_name(first.title) != procedure_name(title):
                missed.append(f"{typed(title)} -> {first.title if first else None}")
        assert len(missed) <= 0.15 * len(sample), missed


def test_a_name_typed_whole_counts_a_word_folded_twice_twice() -> None:
    """Folded, "lái" and "lại" are one word: "cap giay phep lai xe" types all of «Cấp giấy phép lái xe» but not
    «Cấp lại giấy phép lái xe», whose folded name says "lai" twice; "cap lai giay phep lai xe" types both whole and
    the re-issue more fully."""
    first_issue = counted(["cap", "giay", "phep", "lai", "xe"])
    reissue = counted(["cap", "lai", "giay", "phep", "lai", "xe"])
    assert typed_name([reissue], first_issue) == frozenset()
    assert typed_name([first_issue], first_issue) == first_issue
    assert typed_name([first_issue], reissue) < typed_name([reissue], reissue)


def test_another_procedure_on_the_same_thing_is_not_offered_as_a_case(kb: KnowledgeBase) -> None:
    # "Xóa đăng ký thường trú" contains every word of "Đăng ký thường trú" but is deregistration, not a case of it
    result = kb.search("đăng ký thường trú cần gì")
    assert result.decision is not None and result.decision.best is not None
    assert result.decision.best.doc_id == "cu-tru-thuong-tru"
    assert "cu-tru-xoa-thuong-tru" not in [h.doc_id for h in result.variants]


LONG_QUESTIONS = [  # background first (dates, amounts, what an officer said), the question last
    ("Tháng trước tôi đi làm về thì phát hiện bị mất ví, trong đó có căn cước và thẻ ngân hàng. Tôi đã báo công an "
     "phường, cán bộ bảo về chờ. Giờ tôi muốn làm lại căn cước thì cần mang theo gì ạ?", "can-cuoc-cap-lai"),
    ("Mẹ tôi mất hôm 12/3 ở nhà, đã làm đám tang xong. Mẹ có lương hưu khoảng 6 triệu mỗi tháng. Bên bảo hiểm nói "
     "gia đình được nhận tiền mai táng. Vậy thủ tục nhận trợ cấp mai táng như thế nào?", "bao-hiem-tro-cap-mai-tang"),
    ("Tôi làm công nhân ở khu công nghiệp được 8 năm, đóng bảo hiểm đầy đủ. Tháng 6 vừa rồi tôi nghỉ việc về quê, "
     "đã chốt sổ. Bây giờ tôi muốn rút tiền một lần có được không?", "bao-hiem-bhxh-mot-lan"),
]


@pytest.mark.parametrize(("question", "expected"), LONG_QUESTIONS)
def test_a_long_situational_question_is_answered_not_declined(
    kb: KnowledgeBase, question: str, expected: str
) -> None:
    decision = kb.search(question).decision
    assert decision is not None and decision.kind == "answer"
    assert decision.best is not None and decision.best.doc_id == expected


def test_the_clause_that_asks_is_found_by_the_vocabulary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from knowledge.search.reading import asking_clause

    message = ("Mẹ tôi mất hôm 12/3 ở nhà. Bên bảo hiểm nói gia đình được nhận tiền. "
               "Vậy thủ tục nhận trợ cấp mai táng như thế nào")  # fmt: skip
    assert asking_clause(message) == "Vậy thủ tục nhận trợ cấp mai táng như thế nào"
    vocabulary = tmp_path / "vocabulary"
    shutil.copytree(VOCABULARY_DIR, vocabulary)
    asking = vocabulary / "questions.yml"
    asking.write_text(asking.read_text(encoding="utf-8").replace("  - thế nào\n", "").replace(
        "  - như thế nào\n", ""), encoding="utf-8")  # fmt: skip
    monkeypatch.setenv("MOCUA_VOCABULARY_DIR", str(vocabulary))
    assert asking_clause(message) is None  # staff's words, not code: without them no clause asks


# The need told as a statement amid background full of the office's own words (an officer, the hotline): no clause
# both asks and names it.
TOLD_NOT_ASKED = [
    ("Sáng nay tôi lên phường hỏi, chị cán bộ bảo về gọi tổng đài hỏi trước cho chắc. Chuyện là bố tôi mới mất tuần "
     "trước, nhà tôi cần đăng ký khai tử cho ông. Tôi gọi tổng đài mấy lần mà không ai nghe máy. Mong được hướng "
     "dẫn.", "ho-tich-khai-tu"),
    ("Tôi đã xếp hàng ở bộ phận một cửa cả buổi sáng. Nhà tôi đang lo vụ làm lại căn cước bị mất cho vợ. Anh cán "
     "bộ bảo thiếu giấy tờ mà không nói thiếu gì. Nhờ mọi người chỉ giúp.", "can-cuoc-cap-lai"),
]


@pytest.mark.parametrize(("message", "expected"), TOLD_NOT_ASKED)
def test_a_need_told_as_a_statement_amid_the_story_is_answered(kb: KnowledgeBase, message: str, expected: str) -> None:
    decision = kb.search(message).decision
    assert decision is not None and decision.kind == "answer"
    assert decision.best is not None and decision.best.doc_id == expected
    # typed without diacritics the search is less sure of the clause: never another procedure answered instead
    unaccented = kb.search(fold(message)).decision
    assert unaccented is not None and (unaccented.best is None or unaccented.best.doc_id == expected)


def test_a_story_about_the_office_alone_is_not_answered_with_a_guide(kb: KnowledgeBase) -> None:
    # the officer, the hotline and the queue are the story, not its need: what the citizen needs is not said, so the
    # bot asks which one, the guide on reaching staff first, rather than answering it
    message = ("Tôi lên ủy ban hai lần rồi mà chưa xong việc. Cán bộ bảo tôi gọi tổng đài để hỏi thêm. Tôi gọi "
               "tổng đài từ sáng tới trưa mà không ai nghe máy. Mong mọi người giúp đỡ.")  # fmt: skip
    decision = kb.search(message).decision
    assert decision is not None and decision.kind == "which_one"
    assert decision.choices[0].kind == "guide" and len(decision.choices) > 1


def test_a_very_long_story_is_read_clause_by_clause_only_so_far(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each clause read alone costs an embedding: a message of thirty sentences must not cost thirty (Telegram lets a
    # citizen send 4,096 characters), and is still answered from the clause that names the need
    from knowledge.search import engine

    embedded: list[str] = []
    real = engine.query_vector

    def counting(text: str) -> np.ndarray:
        embedded.append(text)
        return real(text)

    monkeypatch.setattr(engine, "query_vector", counting)
    filler = [f"Hôm thứ {i % 5 + 2} tôi lại lên phường lần thứ {i}, cán bộ bảo chờ thêm." for i in range(30)]
    message = " ".join(["Chuyện là nhà tôi cần đăng ký khai tử cho bố.", *filler, "Mong được giúp."])
    decision = kb.search(message).decision
    assert len(embedded) < 10  # a handful of clauses, not thirty
    assert decision is not None and decision.best is not None and decision.best.doc_id == "ho-tich-khai-tu"
