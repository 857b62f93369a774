"""Vietnamese text normalisation shared by the Rasa pipeline, the actions, the index and the bot.

Standard library only: this module is imported from both Python environments. The rules that read the vocabulary
staff edit (abbreviations, spelling variants, stop words; knowledge/vocabulary/) are in knowledge.language.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")
# 9 to 12 digits, optionally grouped: CCCD numbers (12), old CMND (9), phone numbers (10-11).
_PERSONAL_NUMBER = re.compile(r"(?<!\d)(?:\+?84|0)?(?:[\s.-]?\d){8,11}(?!\d)")


def nfc(text: str) -> str:
    """Unicode NFC, the one form we store and compare (some keyboards send NFD)."""
    return unicodedata.normalize("NFC", text)


def clean(text: str) -> str:
    """NFC with collapsed white space and no control characters."""
    text = nfc(text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower case without diacritics: "Đăng ký" -> "dang ky". Used to compare unaccented input."""
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", text)


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese diacritic (or đ)."""
    return fold(text) != text.lower()


def words(text: str) -> list[str]:
    """Folded word tokens, for lexical matching."""
    return _WORD.findall(fold(text))


def mask_personal_numbers(text: str) -> str:
    """Hide ID and phone numbers before text is logged or stored."""
    return _PERSONAL_NUMBER.sub(lambda m: "*" * len(re.sub(r"\D", "", m.group(0))), text)
