"""A citizen's question travels the real path: REST → Rasa server → action server → knowledge search."""

from __future__ import annotations

import unicodedata

import pytest

from knowledge.text import fold
from tests.helpers import reply_text

pytestmark = pytest.mark.stack

BIRTH_QUESTION = "con mới sinh làm giấy khai sinh ở đâu"


def test_birth_registration_question_names_procedure_and_commune_committee(say) -> None:
    text = reply_text(say(BIRTH_QUESTION))
    assert "khai sinh" in text.lower()
    assert "xã" in text.lower(), "birth registration is received by the commune-level People's Committee"


def test_decomposed_unicode_gets_the_same_answer(say) -> None:
    nfd = unicodedata.normalize("NFD", BIRTH_QUESTION)
    assert nfd != BIRTH_QUESTION
    assert reply_text(say(nfd)) == reply_text(say(BIRTH_QUESTION))


def test_question_without_diacritics_finds_identity_card_procedure(say) -> None:
    text = fold(reply_text(say("lam can cuoc can gi")))
    assert "can cuoc" in text


def test_replies_are_natural_vietnamese_with_diacritics(say) -> None:
    text = reply_text(say("lam can cuoc can gi"))
    assert text != fold(text), "a citizen must see Vietnamese with diacritics even when typing without"
