"""Vietnamese text normalisation shared by the Rasa pipeline, the actions, the index and the bot.

Standard library only: this module is imported from both Python environments. The rules that read the vocabulary
staff edit (abbreviations, spelling variants, stop words; knowledge/data/vocabulary/) are in knowledge.language.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_LEADING_SLASHES = re.compile(r"^[\s/]+")
# Numbers that identify a person or a dossier, however they are typed: phone numbers (0…, +84, 84, "(028) 3829 1234"),
# ID card numbers (CCCD, 12 digits; CMND, 9), passport numbers ("B1234567") and dossier codes, grouped by spaces,
# dots or dashes, glued to the word before ("sdt0912345678", "cccd079203098765") or not. Dates ("01.07.2025"),
# amounts ("100.000.000 đồng"), legal references ("13/2023/NĐ-CP"), procedure codes ("1.001613") and years stay
# readable: answers need them. A masked number keeps one star per digit or letter, and never glues its stars to the
# word before, so masking twice changes nothing.
# Dossier codes of the public-service portals: "000.00.26.H34-250101-0001", "G22.99-231212-0001" (one letter at
# most before each group's digits: "sdt0912.345.678" is a word and a phone number).
_DOSSIER_CODE = re.compile(
    r"(?<![\w.-])(?=[\w.-]*[A-Za-z])(?=(?:[A-Za-z.-]*\d){6})[A-Za-z]?\d+(?:[.-][A-Za-z]?\d+){2,}(?![\w-])"
)
# Passports: one letter and 7 digits ("B1234567", "C 1234567"); the letter must start a word (see _masked_passport).
_PASSPORT = re.compile(r"(?<!\d)([A-Za-z])[^\S\n]?\d{7}(?![\d.-]\d|\d)")
_PASSPORT_WORDS = re.compile(r"(?:hochieu|passport|hc|so)\W{0,2}$")  # glued before a lower-case letter
# A stretch of digit groups, each after one separator (spaces, or a dot or dash, spaced or not) or a bracket:
# it may hold several numbers ("ngày 01.07.2025 0912 345 678"), told apart group by group in _personal_spans.
_GROUP = r"\(\+?\d{1,4}\)|\d+"
_SEPARATOR = r"[^\S\n]{0,2}[.\-–][^\S\n]{0,2}|[^\S\n]{1,2}"
_DIGIT_STRETCH = re.compile(rf"\+?(?:{_GROUP})(?:(?:{_SEPARATOR}|(?<=\))|(?=\())(?:{_GROUP}))*")
_GROUP_IN_STRETCH = re.compile(rf"\+?(?:{_GROUP})")
_LONGEST_NUMBER = 13  # digits: +84 (0) and a 10-digit landline number
_PHONE_IN_COUNTRY = re.compile(r"0[1-9]\d{8,9}")  # 0912 345 678, 028 3829 1234
_PHONE_AFTER_84 = re.compile(r"[1-9]\d{8,9}")  # +84 912 345 678, +84 (0) 28 3829 1234
_MOBILE_AFTER_BARE_84 = re.compile(r"[35789]\d{8}|2\d{9}")  # 84 912 345 678: stricter, amounts start with 84 too
_CURRENCY_AFTER = re.compile(
    r"[^\S\n]?(?:đồng|dong|vnđ|vnd|đ|d|₫|triệu|trieu|tr|nghìn|nghin|ngàn|ngan|k)(?!\w)", re.IGNORECASE
)
_CARD_BEFORE = re.compile(r"(?:cccd|cmnd|cmt|can cuoc|chung minh|dinh danh|so)\W{0,3}$")
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


def spoken(text: str) -> list[str]:
    """Lower-case word tokens with their diacritics (NFC): "lại" is not "lái"."""
    return [w.lower() for w in _WORD.findall(nfc(text))]


def mask_personal_numbers(text: str) -> str:
    """Hide phone, ID card, passport and dossier numbers before text is logged, stored or understood: one star per
    digit or letter ("0912 345 222" -> "**********", "cccd079.203.098.765" -> "cccd************")."""
    text = _DOSSIER_CODE.sub(lambda found: _stars(found.group()), text)
    text = _PASSPORT.sub(_masked_passport, text)
    return _DIGIT_STRETCH.sub(_masked_stretch, text)


def find_phone_numbers(text: str) -> list[str]:
    """The phone numbers in a text, as digits (a leading "+" kept), in order and once each: what a citizen gave for
    a callback ("số tôi 0912 345 222" -> ["0912345222"]). Read exactly as the masking reads them, so what is kept
    for a callback is exactly what is masked everywhere else."""
    text = _DOSSIER_CODE.sub(lambda found: _stars(found.group()), text)
    found = []
    for stretch in _DIGIT_STRETCH.finditer(text):
        for start, end, kind in _personal_spans(text, _groups(stretch)):
            if kind == "phone":
                found.append("+" * text[start:end].lstrip("(").startswith("+") + re.sub(r"\D", "", text[start:end]))
    return list(dict.fromkeys(found))


def _stars(text: str) -> str:
    return "*" * sum(ch.isalnum() for ch in text)


def _masked_passport(found: re.Match[str]) -> str:
    """Stars for a passport number whose letter starts a word: after a space or a sign, after a lower-case word
    it is glued to ("hochieuB1234567"), or after "hộ chiếu", "số" typed together with it."""
    text, at, letter = found.string, found.start(), found.group(1)
    before = text[at - 1] if at else " "
    starts_word = (
        not before.isalnum()
        or (letter.isupper() and before.islower())
        or _PASSPORT_WORDS.search(fold(text[max(0, at - 12) : at])) is not None
    )
    return _stars(found.group()) if starts_word else found.group()


@dataclasses.dataclass(frozen=True)
class _Group:
    start: int
    end: int
    digits: str
    plus: bool  # "+84", "(+84)": a country code
    bracketed: bool  # "(028)", "(0)"
    separator: str  # before it, spaces dropped: "" (spaces or a bracket), "." or "-"


def _masked_stretch(found: re.Match[str]) -> str:
    text, pieces, done = found.string, [], found.start()
    for start, end, _kind in _personal_spans(text, _groups(found)):
        pieces += [text[done:start], _stars(text[start:end])]
        done = end
    pieces.append(text[done : found.end()])
    return "".join(pieces)


def _groups(found: re.Match[str]) -> list[_Group]:
    text, groups, previous_end = found.string, [], found.start()
    for group in _GROUP_IN_STRETCH.finditer(text, found.start(), found.end()):
        token = group.group()
        separator = text[previous_end : group.start()].strip().replace("–", "-")
        digits = "".join(ch for ch in token if ch.isdigit())
        groups.append(_Group(group.start(), group.end(), digits, "+" in token, "(" in token, separator))
        previous_end = group.end()
    return groups


def _personal_spans(text: str, groups: list[_Group]) -> list[tuple[int, int, str]]:
    """Where the personal numbers among the groups are, longest first from the left. A number never starts or
    ends inside a dotted or dashed run ("1.050.000.000 đồng" holds no 9-digit "050.000.000"). Each span is
    (start, end, kind), kind "phone" or "id"."""
    spans, i = [], 0
    while i < len(groups):
        end, kind = _number_end(text, groups, i)
        if end:
            spans.append((groups[i].start, groups[end - 1].end, kind))
            i = end
        else:
            i += 1
    return spans


def _number_end(text: str, groups: list[_Group], first: int) -> tuple[int, str]:
    """One past the last group of the longest personal number starting at `first` (else 0), and its kind."""
    start = groups[first]
    if (first and start.separator) or (len(start.digits) < 2 and not (start.plus or start.bracketed)):
        return 0, ""  # inside a dotted or dashed run; a lone digit first starts a range ("0 - 200.000"), not a number
    found, found_kind, digits = 0, "", 0
    for last in range(first, len(groups)):
        digits += len(groups[last].digits)
        if digits > _LONGEST_NUMBER:
            break
        ends_here = last + 1 == len(groups) or not groups[last + 1].separator
        kind = _kind_of_number(text, groups[first : last + 1]) if ends_here and digits >= 9 else ""
        if kind:
            found, found_kind = last + 1, kind
    return found, found_kind


def _kind_of_number(text: str, span: list[_Group]) -> str:
    """The kind of number: "phone", "id", or "" for anything else."""
    digits = "".join(group.digits for group in span)
    if _is_phone_number(text, span, digits):
        return "phone"
    return "id" if _is_id_number(text, span, digits) else ""


def _one_separator(span: list[_Group]) -> bool:
    """One number is typed with one kind of separator; country and area codes may stand apart ("+84 912.345.678",
    "+84 (0)912-345-678")."""
    prefixes = 0
    while prefixes < len(span) and (span[prefixes].plus or span[prefixes].bracketed):
        prefixes += 1
    if not prefixes and span[0].digits == "84":
        prefixes = 1
    return len({group.separator for group in span[prefixes + 1 :]}) <= 1


def _grouped_like_a_number(span: list[_Group]) -> bool:
    """Separators mixed as typed in a hurry ("0912.345 678", "+84 912.345 678", "079 203.098-765"): only groups of two
    digits or more, after a country code or a first group of three or more starting with 0, so a date before a
    number ("01.07.2025 0912…") never joins it."""
    prefixes = 0
    while prefixes < len(span) and (span[prefixes].plus or span[prefixes].bracketed):
        prefixes += 1
    rest = span[prefixes:]
    first_is_a_prefix = bool(rest) and (prefixes > 0 or (len(rest[0].digits) >= 3 and rest[0].digits[0] == "0"))
    return first_is_a_prefix and all(len(group.digits) >= 2 for group in rest)


def _is_phone_number(text: str, span: list[_Group], digits: str) -> bool:
    if not (_one_separator(span) or _grouped_like_a_number(span)):
        return False
    if span[0].plus:
        return digits.startswith("84") and _PHONE_AFTER_84.fullmatch(digits[2:].removeprefix("0")) is not None
    if digits.startswith("0"):
        return _PHONE_IN_COUNTRY.fullmatch(digits) is not None
    return (
        digits.startswith("84")
        and _MOBILE_AFTER_BARE_84.fullmatch(digits[2:]) is not None
        and not _is_amount(text, span)
    )


def _is_id_number(text: str, span: list[_Group], digits: str) -> bool:
    """A CCCD (12 digits; they all start with 0, the province code, which years never do) or a CMND (9 digits),
    unbroken or in even groups."""
    if any(group.plus or group.bracketed for group in span):
        return False
    if not _one_separator(span):  # mixed separators: only a CCCD in groups of three or more ("079 203.098-765")
        return len(digits) == 12 and _grouped_like_a_number(span) and all(len(g.digits) >= 3 for g in span)
    if len(digits) == 12:
        return len(span) == 1 or (digits[0] == "0" and all(len(group.digits) >= 3 for group in span))
    if len(digits) == 9:
        return (len(span) == 1 or all(len(group.digits) == 3 for group in span)) and not _is_amount(text, span)
    return False


def _is_amount(text: str, span: list[_Group]) -> bool:
    """100.000.000 (đồng), 250 500 000 đ: a sum of money, unless a card names it ("cmnd 123.456.000")."""
    start, end = span[0].start, span[-1].end
    if span[0].digits.startswith("0") or _CARD_BEFORE.search(fold(text[max(0, start - 20) : start])):
        return False
    return _CURRENCY_AFTER.match(text, end) is not None or (len(span) > 1 and span[-1].digits == "000")


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
_CARD_WORDS = frozenset(
    ["cccd", "cmnd", "cmt", "căn", "cước", "chứng", "minh", "nhân", "công", "dân", "hộ", "chiếu", "hochieu", "passport"]
)
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
