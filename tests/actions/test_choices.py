"""Buttons of "which one?" a citizen can tell apart on a phone (actions/choices.py), on the shipped catalogue."""

from __future__ import annotations

from collections import defaultdict

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from actions.choices import BUTTON_CHARS, Choice, clip, labels
from knowledge.text import fold
from tests.actions.test_actions import ForcedVerdict, run, tracker


def shown(label: str) -> str:
    """What a phone shows of a button, folded: two labels that read the same here cannot be told apart."""
    return fold(clip(label)).lower()


def catalogue_lookalikes() -> list[list[Choice]]:
    """Every group of official records whose names a phone shows alike (the first BUTTON_CHARS characters)."""
    from knowledge.search import get_knowledge_base

    kb = get_knowledge_base()
    groups: dict[str, list[str]] = defaultdict(list)
    for doc_id in kb.doc_ids():
        if kb.kind(doc_id) == "official":
            groups[shown(kb.title(doc_id) or "")].append(doc_id)
    out = []
    for ids in groups.values():
        if len(ids) >= 2:
            facts = [kb.facts(d) for d in ids[:3]]  # "which one?" offers at most three
            out.append([Choice(f.name, f.agency, f.codes[0] if f.codes else None) for f in facts if f])
    return out


def test_lookalike_names_in_the_catalogue_get_buttons_a_phone_shows_apart() -> None:
    groups = catalogue_lookalikes()
    assert len(groups) > 100, "the catalogue has many procedures whose names start alike"
    alike = []
    for group in groups:
        got = labels(group)
        if len({shown(label) for label in got}) < len(got) or any(len(label) > BUTTON_CHARS for label in got):
            alike.append((group[0].title, got))
    assert not alike, alike[:5]


def test_names_that_differ_at_the_end_show_their_start_and_their_end() -> None:
    got = labels([
        Choice("Cấp thẻ thường trú cho người nước ngoài tại Việt Nam (thực hiện tại cấp tỉnh)"),
        Choice("Cấp thẻ thường trú cho người nước ngoài tại Việt Nam (thực hiện tại cấp Trung ương)"),
    ])  # fmt: skip
    assert got == ["Cấp thẻ … (thực hiện tại cấp tỉnh)", "Cấp thẻ … (thực hiện tại cấp Trung ương)"]


def test_the_same_name_at_two_agencies_shows_the_agency_then_the_code() -> None:
    tax = Choice("Nộp dần tiền thuế nợ", "Cục Thuế - Bộ Tài chính, Thuế tỉnh, thành phố", "1.008588")
    customs = Choice("Nộp dần tiền thuế nợ", "Cục Hải quan, Chi cục Hải quan khu vực", "1.011636")
    assert labels([tax, customs]) == ["Nộp dần tiền thuế nợ (Cục Thuế)", "Nộp dần tiền thuế nợ (Cục Hải quan)"]
    same_agency = [tax, Choice(tax.title, tax.agency, "1.000001")]
    assert labels(same_agency) == ["Nộp dần tiền thuế nợ (mã 1.008588)", "Nộp dần tiền thuế nợ (mã 1.000001)"]


def test_names_a_phone_already_shows_apart_are_kept_whole() -> None:
    long_name = "Đăng ký đất đai, cấp Giấy chứng nhận quyền sử dụng đất lần đầu"
    assert labels([Choice(long_name), Choice("Đăng ký khai tử")]) == [long_name, "Đăng ký khai tử"]


def test_which_one_between_two_lookalike_procedures_offers_buttons_that_differ(
    dispatcher: CollectingDispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.search import get_knowledge_base

    kb = get_knowledge_base()
    by_name: dict[str, list[str]] = defaultdict(list)
    for doc_id in kb.doc_ids():
        if kb.kind(doc_id) == "official":
            by_name[kb.title(doc_id) or ""].append(doc_id)
    twins = next(ids[:2] for ids in by_name.values() if len(ids) >= 2)
    monkeypatch.setattr(actions, "knowledge_base", lambda: ForcedVerdict("ambiguous", twins))
    run(actions.ActionAnswer(), dispatcher, tracker("thủ tục vụ xyzw", "ask_procedure"))
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]][:2]
    assert len({shown(t) for t in titles}) == 2, titles
    name = kb.title(twins[0]) or ""
    assert all(t[:8] == name[:8] for t in titles), titles  # each still says what it is about


def test_the_same_procedure_offered_beside_an_answer_shows_what_tells_it_apart() -> None:
    # The decision answers one of a procedure's listings and offers the others beside it ("Trường hợp: …" buttons)
    from actions import answers, dialogue
    from knowledge.search import Hit, get_knowledge_base

    kb = get_knowledge_base()
    by_name: dict[str, list[str]] = defaultdict(list)
    for doc_id in kb.doc_ids():
        if kb.kind(doc_id) == "official":
            by_name[kb.title(doc_id) or ""].append(doc_id)
    answered, other = next(ids[:2] for ids in by_name.values() if len(ids) >= 2)
    beside = [Hit(other, "official", kb.title(other) or "", 0.4, "")]
    button = answers.variant_buttons(dialogue._variant_labels(kb, kb.facts(answered), beside))[0]["title"]
    assert len(button) <= BUTTON_CHARS, button  # all of it shows on a phone
    assert button != answers.VARIANT_BUTTON.format(title=kb.title(other)), "the bare name says nothing apart"
