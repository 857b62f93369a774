"""Asked which case of a procedure applies, a typed message answers it or asks something new (a bug of this
session: "khai tử cho người nhà làm ở đâu" was taken for the case «Nhà của mình», "ở đâu" folding like "đầu", the
first). The case's reading (actions/cases.typed_answer) says how clearly a message names a case; the one decision
(knowledge/search/decision.py, Context.case_answer) says whether it is about another procedure.

Pairs are generated from the index: the cases of every curated procedure whose papers depend on the case, × new
questions about the other curated procedures, each typed with and without diacritics."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from actions import cases, dialogue
from knowledge.records.facts import ProcedureFacts
from knowledge.search import KnowledgeBase
from knowledge.text import fold

ROOT = Path(__file__).resolve().parents[2]
RESIDENCE = "cu-tru-thuong-tru"
TENANT = "Đăng ký thường trú vào chỗ ở hợp pháp do thuê, mượn, ở nhờ"
ASKING = ["{} cần giấy tờ gì", "{} làm ở đâu", "cho tôi hỏi {} mất bao lâu", "{} hết bao nhiêu tiền"]
# New questions citizens typed in the middle of a case question (the first is the bug's).
TYPED = ["khai tử cho người nhà làm ở đâu", "nhà thuê thì đăng ký tạm trú thế nào", "thuê nhà xong còn khai tử thì sao"]


@pytest.fixture(scope="module")
def kb(built_index: Path) -> KnowledgeBase:
    return KnowledgeBase(built_index, watch=False)


@pytest.fixture(scope="module")
def curated(kb: KnowledgeBase) -> list[str]:
    return [doc for doc in kb.doc_ids() if kb.kind(doc) == "procedure"]


@pytest.fixture(scope="module")
def with_cases(kb: KnowledgeBase, curated: list[str]) -> list[str]:
    found = [doc for doc in curated if cases.needs_case(facts(kb, doc))]
    assert RESIDENCE in found and len(found) >= 10, found
    return found


def facts(kb: KnowledgeBase, procedure: str) -> ProcedureFacts:
    found = kb.facts(procedure)
    assert found is not None, procedure
    return found


def kept_case(kb: KnowledgeBase, procedure: str, text: str) -> str | None:
    """What the case form keeps for this message (actions.ValidateCaseForm): the case, or None (it leaves and the
    message is answered as the question it is)."""
    turn = dialogue.Turn(text=text, intent="nlu_fallback", procedure_id=procedure)
    return dialogue.typed_case(kb, turn, facts(kb, procedure))


def test_a_new_question_about_another_procedure_is_never_taken_for_a_case(
    kb: KnowledgeBase, curated: list[str], with_cases: list[str]
) -> None:
    rng = random.Random(17)
    pairs = [(procedure, question) for procedure in with_cases for question in TYPED]
    for procedure in with_cases:
        others = rng.sample([doc for doc in curated if doc != procedure], 8)
        pairs += [(procedure, rng.choice(ASKING).format(facts(kb, doc).name.lower())) for doc in others]
    taken = [
        (procedure, said, kept_case(kb, procedure, said))
        for procedure, question in pairs for said in (question, fold(question))
    ]  # fmt: skip
    assert len(taken) >= 300
    assert [t for t in taken if t[2] is not None] == []


def test_a_case_typed_as_its_button_reads_or_in_own_words_is_the_case(kb: KnowledgeBase, with_cases: list[str]) -> None:
    # A button's words typed, where the case's words read them (many buttons keep too few words of their own:
    # "Tôn giáo" beside "Tín ngưỡng" under one heading); the decision must keep every case so read.
    pairs = [
        (procedure, said, case.name)
        for procedure in with_cases for case in facts(kb, procedure).cases[: cases.MAX_CASE_BUTTONS - 1]
        for title in [cases.button_title(facts(kb, procedure), case)] for said in (title, fold(title))
        if cases.match_case(said, facts(kb, procedure)) == case.name
    ]  # fmt: skip
    assert len(pairs) >= 40
    residence = facts(kb, RESIDENCE).cases
    own_words = [("tôi ở nhà thuê", TENANT), ("nhà tôi đi thuê", TENANT), ("tôi ở nhờ nhà người thân", TENANT),
                 ("về ở với chồng", residence[2].name), ("trường hợp thứ hai", residence[1].name),
                 ("cái đầu tiên", residence[0].name), ("trường hợp khác", cases.OTHER)]  # fmt: skip
    pairs += [(RESIDENCE, said, expected) for typed, expected in own_words for said in (typed, fold(typed))]
    read = [(procedure, said, expected, kept_case(kb, procedure, said)) for procedure, said, expected in pairs]
    assert [r for r in read if r[2] != r[3]] == []


@pytest.mark.parametrize("said", ["làm ở đâu", "lam o dau", "một tuần có xong không", "nộp ở nơi khác được không"])
def test_a_question_with_an_ordinal_other_or_a_case_word_inside_is_not_a_case(kb: KnowledgeBase, said: str) -> None:
    """«ở đâu» folds like «đầu» (the first), «một» is one, «khác» other, «nơi» is a word of the case of a military
    unit's place: inside a question they pick nothing."""
    assert kept_case(kb, RESIDENCE, said) is None


@pytest.mark.parametrize(("said", "position"), [("trường hợp thứ hai", 2), ("số 3", 3), ("chọn cái đầu tiên", 1),
                                                ("truong hop thu 4", 4), ("khác", 0)])  # fmt: skip
def test_an_ordinal_said_alone_picks_that_case(kb: KnowledgeBase, said: str, position: int) -> None:
    residence = facts(kb, RESIDENCE)
    expected = residence.cases[position - 1].name if position else cases.OTHER
    assert cases.typed_answer(said, residence) == cases.TypedCase(expected, 1.0)


def test_every_typed_pick_nlu_learnt_names_a_position_and_a_question_none() -> None:
    """One reader of a typed pick for procedures offered and for cases (actions/cases.typed_position): every
    "which one?" answer NLU learnt (data/nlu/buttons.yml) names its position; questions holding an ordinal none."""
    data = yaml.safe_load((ROOT / "data/nlu/buttons.yml").read_text(encoding="utf-8"))
    picks = [
        line.lstrip("- ").strip()
        for item in data["nlu"] if item.get("intent") == "choose_procedure"
        for line in item["examples"].splitlines() if line.strip()
    ]  # fmt: skip
    assert len(picks) >= 20
    assert [p for p in picks if cases.typed_position(p) is None] == []
    assert cases.typed_position("cái thứ hai") == 2 and cases.typed_position("cai cuoi cung") == -1
    questions = ["khai tử làm ở đâu", "nộp ở đâu", "một tuần có xong không", "cho ba tôi đăng ký được không"]
    assert [q for q in questions for said in (q, fold(q)) if cases.typed_position(said) is not None] == []
