"""Vietnamese text normalisation shared by the Rasa pipeline, the actions, the index and the bot.

Standard library only: this module is imported from both Python environments. The rules that read the vocabulary
staff edit (abbreviations, spelling variants, stop words; knowledge/vocabulary/) are in knowledge.language.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_LEADING_SLASHES = re.compile(r"^[\s/]+")
# Numbers that identify a person or a dossier. Each pattern starts and ends on a digit or letter, so masking
# never glues the star run to the word before it, and dates ("01.07.2025") or amounts ("100.000") stay readable.
_PERSONAL_NUMBERS = (
    # Dossier codes of the public-service portals: "000.00.26.H34-250101-0001", "G22.99-231212-0001".
    re.compile(r"(?<![\w.-])(?=[\w.-]*[A-Za-z])(?=(?:[A-Za-z.-]*\d){6})[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+){2,}(?![\w-])"),
    # CCCD (12 digits, possibly in groups of 3) and old CMND (9 digits).
    re.compile(r"(?<!\w)(?:\d{3}(?:[\s.]?\d{3}){3}|\d{9})(?!\w)"),
    # Phone numbers: 0 or +84 and 8 to 10 more digits, grouped by spaces, dots or dashes ("0912 345 222").
    re.compile(r"(?<![\w+])(?:\+?84[\s.-]?|0)\d(?:[\s.-]?\d){7,9}(?!\w)"),
)
_PHONE = _PERSONAL_NUMBERS[-1]  # the phone pattern, also read by find_phone_numbers
# Longest message the Rasa server reads. The REST channel (channels/) answers longer ones with a polite request
# to shorten, and the NLU normaliser truncates as a last resort: NLU time and memory grow faster than the length
# (10,000 characters took 2 s and 0.4 GB; 30,000 took 11 s and 3.5 GB), and Rasa does it on its one event loop.
# 2,000 is twice the Telegram bridge's own limit and half of Telegram's longest message.
MAX_MESSAGE_CHARS = 2000


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
    """Hide phone, ID card and dossier numbers before text is logged, stored or understood: one star per digit
    or letter ("0912 345 222" -> "**********")."""
    for pattern in _PERSONAL_NUMBERS:
        text = pattern.sub(lambda m: "*" * sum(ch.isalnum() for ch in m.group(0)), text)
    return text


def find_phone_numbers(text: str) -> list[str]:
    """The phone numbers in a text, as digits (a leading "+" kept), in order and once each: what a citizen gave for
    a callback ("số tôi 0912 345 222" -> ["0912345222"]). Same pattern as the masking above, so what is kept for
    a callback is exactly what is masked everywhere else."""
    found = ("+" * m.group(0).startswith("+") + re.sub(r"\D", "", m.group(0)) for m in _PHONE.finditer(text))
    return list(dict.fromkeys(found))


_MASKED_RUN = re.compile(r"\*{6,}")
_LOOK_BACK = 40  # characters searched before a position for the previous word: keeps long texts linear
_LAST_WORD = re.compile(r"(\w+)[\s:;,.-]*$")
_CLAUSE_START = re.compile(r"(?:^|[,;.!?])\s*$")
_CLAUSE_END = re.compile(r"\s*(?:$|[,;.!?])")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:?!])")
# Words that only introduce a number ("gọi tôi", "sđt", "liên hệ số"), always dropped with it.
_LEAD_WORDS = frozenset(
    ["gọi", "liên", "hệ", "lạc", "lh", "nhắn", "call", "alo", "hotline", "zalo", "tel", "phone", "sđt", "sdt", "đt",
     "dt", "điện", "thoại", "số", "mã", "là", "tôi", "mình", "em", "anh", "chị", "cho", "lại", "qua", "với", "tới",
     "theo", "nhé", "nha"]
)  # fmt: skip
# Words naming the card a number belongs to: dropped only when the card and its number are a clause of their own
# (", cccd 0012…"), since in "làm lại cccd số 0012…" or "căn cước số 0012… bị mất" they are what is asked about.
_CARD_WORDS = frozenset(["cccd", "cmnd", "cmt", "căn", "cước", "chứng", "minh", "nhân", "công", "dân"])
# Typed without diacritics, "so", "ma", "la" may be "sơ", "má", "lá" ("ho so" is a dossier): those stay.
_AMBIGUOUS_UNACCENTED = frozenset(["so", "ma", "la"])


@functools.cache
def _folded(vocabulary: frozenset[str]) -> frozenset[str]:
    return frozenset(fold(word) for word in vocabulary)


def _walk_back(text: str, start: int, vocabulary: frozenset[str]) -> int:
    """Where the run of `vocabulary` words ending at `start` begins (typed with or without diacritics)."""
    while word := _LAST_WORD.search(text, max(0, start - _LOOK_BACK), start):
        typed = word.group(1).lower()
        known = typed in vocabulary or (
            not has_diacritics(typed) and typed not in _AMBIGUOUS_UNACCENTED and typed in _folded(vocabulary)
        )
        if not known:
            break
        start = word.start()
    return start


def drop_personal_numbers(text: str) -> str:
    """The text without personal numbers and the words that only introduce them, for understanding the question:
    "lệ phí khai sinh, gọi tôi 0912 345 222" -> "lệ phí khai sinh". A number says nothing about which procedure
    or what about it is asked, but its digits and "gọi tôi", "sđt" pulled NLU and search elsewhere."""
    text = mask_personal_numbers(text)
    pieces, end = [], len(text)
    for run in reversed(list(_MASKED_RUN.finditer(text))):
        start = _walk_back(text, run.start(), _LEAD_WORDS)
        whole_clause = _walk_back(text, run.start(), _LEAD_WORDS | _CARD_WORDS)
        own_clause = _CLAUSE_START.search(text, max(0, whole_clause - _LOOK_BACK), whole_clause)
        if whole_clause < start and own_clause and _CLAUSE_END.match(text, run.end()):
            start = whole_clause
        pieces.append(text[run.end() : end])
        end = start
    if not pieces:
        return text
    pieces.append(text[:end])
    dropped = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", " ".join(reversed(pieces))))
    return dropped.strip(" ,;:.-") or text


def as_typed_text(text: str) -> str:
    """Cleaned text that can never pass for a Rasa intent payload: Rasa reads any message starting with "/"
    (after white space) as `/intent{"entity": ...}`, so leading slashes of typed text are dropped."""
    return _LEADING_SLASHES.sub("", clean(text))
