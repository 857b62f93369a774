"""Personal numbers typed the ways citizens type them, generated: every kind of number (phone, ID card, passport,
dossier code) × prefixes (0, +84, 84, brackets) × groupings × separators × the word before it, glued or not ×
the sentence around it. Deterministic (a seeded generator), so a failure names a case that fails again.

Also the texts that must stay readable because answers need them: dates, amounts, legal references, procedure
codes, years. Used by the unit tests of knowledge.text and by the end-to-end tests of what is stored.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

SEPARATORS = (" ", ".", "-", " - ", "  ", ". ")
PHONE_LEADS = ("", "sdt", "sđt", "SĐT", "so", "số", "đt", "gọi", "zalo", "hotline", "tel", "liên hệ", "số tôi là")
ID_LEADS = ("", "cccd", "CCCD", "cmnd", "CMND", "số cccd", "căn cước", "so", "số định danh", "cmt")
PASSPORT_LEADS = ("", "hộ chiếu", "hochieu", "HC", "passport", "số hộ chiếu", "so")
DOSSIER_LEADS = ("", "hồ sơ", "mã", "mã hồ sơ", "ma ho so")
GLUES = ("", " ", ": ", ":", " số ")
# The sentence around a number; without digits, so that any digit left after masking is a leak.
FRAMES = (
    "{n}",
    "{n}.",
    "cho tôi hỏi, {n} nhé",
    "{n}, làm hộ chiếu cần gì?",
    "lệ phí khai sinh ({n})",
    "tôi là Lan, {n}, cần hỏi về tạm trú",
    "{n}\nxin cảm ơn",
)


@dataclass(frozen=True)
class Spelling:
    kind: str  # phone | id | passport | dossier
    digits: str  # the number's digits, as a check that none of them survives
    typed: str  # the number as typed, without the word before it
    text: str  # the whole message

    @property
    def masked(self) -> str:
        """The message as it must be stored: the number replaced by one star per digit or letter, the rest as is."""
        return self.text.replace(self.typed, "*" * sum(ch.isalnum() for ch in self.typed), 1)


def grouped(digits: str, sizes: list[int], separator: str | list[str]) -> str:
    """The digits in groups of `sizes`, joined by one separator, or by a list of them taken in turn (mixed)."""
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    if isinstance(separator, str):
        return separator.join(parts)
    return parts[0] + "".join(separator[i % len(separator)] + part for i, part in enumerate(parts[1:]))


def mixed_separators(rng: random.Random, sizes: list[int], first_at_least: int) -> str | list[str]:
    """Now and then separators mixed as typed in a hurry ("0912.345 678"), when the groups allow reading them as one
    number (knowledge.text: groups of 2 or more, the first long enough to be no date)."""
    if len(sizes) < 3 or sizes[0] < first_at_least or min(sizes) < 2 or rng.random() < 0.7:
        return rng.choice(SEPARATORS)
    chosen = [rng.choice(SEPARATORS) for _ in sizes[1:]]
    return chosen if len(set(chosen)) > 1 else [".", " "]


def sizes_of(length: int, rng: random.Random, common: list[list[int]]) -> list[int]:
    """A common grouping of `length` digits, or a random one in groups of 2 to 4 (the first of at least 2)."""
    if rng.random() < 0.6:
        return rng.choice([c for c in common if sum(c) == length])
    sizes: list[int] = []
    while sum(sizes) < length:
        sizes.append(min(rng.randint(2, 4), length - sum(sizes)))
    if sizes[-1] < 2 and len(sizes) > 1:  # "…45 6": a lone last digit is how nobody types a number
        sizes[-2:] = [sizes[-2] + sizes[-1]]
    return sizes


def phone(rng: random.Random) -> tuple[str, str]:
    """(digits, typed): mobile or landline, national or international."""
    mobile = rng.random() < 0.75
    national = (
        "0" + rng.choice("35789") + "".join(rng.choices("0123456789", k=8))
        if mobile
        else "02" + rng.choice("0123456789") + "".join(rng.choices("0123456789", k=8))
    )
    separator = rng.choice(SEPARATORS)
    common = [[10], [4, 3, 3], [3, 3, 4], [4, 6], [2, 2, 2, 2, 2], [3, 4, 3], [11], [3, 4, 4], [4, 3, 4], [2, 4, 5]]
    form = rng.choice(["national", "national", "plus", "bare84", "bracket84", "bracket84zero", "plus_zero", "area"])
    if form == "area" and not mobile:  # (028) 3829 1234
        local = grouped(national[3:], sizes_of(8, rng, [[4, 4], [8]]), separator)
        return national, f"({national[:3]}){rng.choice(['', ' '])}{local}"
    if form == "national" or form == "area":
        sizes = sizes_of(len(national), rng, common)
        return national, grouped(national, sizes, mixed_separators(rng, sizes, first_at_least=3))
    if form == "bare84" and (not mobile or national.endswith("000")):
        form = "plus"  # 84 and a landline, or "84 799 442 000": too close to amounts to read as a phone
    rest = national[1:]
    sizes = sizes_of(len(rest), rng, [[9], [3, 3, 3], [2, 3, 4], [10], [2, 4, 4], [3, 3, 4]])
    body = grouped(rest, sizes, mixed_separators(rng, sizes, first_at_least=2) if form != "bare84" else separator)
    after = rng.choice(["", " ", separator])
    typed = {
        "plus": f"+84{after}{body}",
        "bare84": f"84{rng.choice(['', ' ', separator])}{body}",
        "bracket84": f"(+84){rng.choice(['', ' '])}{body}",
        "bracket84zero": f"(+84){rng.choice(['', ' '])}0{body}",
        "plus_zero": f"+84{rng.choice(['', ' '])}(0){rng.choice(['', ' '])}{body}",
    }[form]
    return "84" + ("0" if "zero" in form else "") + rest, typed


def id_number(rng: random.Random) -> tuple[str, str]:
    """(digits, typed): a CCCD (12 digits, starting with a province code 001-096) or a CMND (9 digits)."""
    separator = rng.choice(SEPARATORS)
    if rng.random() < 0.65:
        digits = f"0{rng.randint(1, 96):02d}" + "".join(rng.choices("0123456789", k=9))
        sizes = rng.choice([[12], [3, 3, 3, 3], [4, 4, 4], [6, 6], [3, 3, 6], [6, 3, 3]])
        return digits, grouped(digits, sizes, mixed_separators(rng, sizes, first_at_least=3))
    else:
        digits = rng.choice("0123") + "".join(rng.choices("0123456789", k=8))
        if digits.endswith("000"):  # 123.456.000 reads as an amount of money unless a card names it
            return id_number(rng)
        sizes = rng.choice([[9], [3, 3, 3]])
    return digits, grouped(digits, sizes, separator)


def passport(rng: random.Random) -> tuple[str, str]:
    digits = "".join(rng.choices("0123456789", k=7))
    letter = rng.choice("BCNPK")
    return digits, rng.choice([f"{letter}{digits}", f"{letter} {digits}", f"{letter.lower()}{digits}"])


def dossier(rng: random.Random) -> tuple[str, str]:
    def d(k: int) -> str:
        return "".join(rng.choices("0123456789", k=k))

    typed = rng.choice([
        f"000.00.{d(2)}.H{d(2)}-{d(6)}-{d(4)}",
        f"G{d(2)}.{d(2)}-{d(6)}-{d(4)}",
        f"H{d(2)}.{d(2)}.{d(2)}-{d(6)}-{d(4)}",
    ])  # fmt: skip
    return "".join(ch for ch in typed if ch.isdigit()), typed


KINDS = {"phone": (phone, PHONE_LEADS), "id": (id_number, ID_LEADS), "passport": (passport, PASSPORT_LEADS),
         "dossier": (dossier, DOSSIER_LEADS)}  # fmt: skip


def spellings(count: int, seed: int = 16, kinds: tuple[str, ...] = tuple(KINDS)) -> Iterator[Spelling]:
    """`count` messages with one personal number each, the kinds in turn."""
    rng = random.Random(seed)
    for i in range(count):
        kind = kinds[i % len(kinds)]
        make, leads = KINDS[kind]
        digits, typed = make(rng)
        lead = rng.choice(leads)
        glue = rng.choice(GLUES) if lead else ""
        if kind == "passport" and typed[0].islower() and glue == "" and lead not in ("hochieu", "so", "passport"):
            glue = " "  # "hộ chiếub1234567": a lower-case letter glued to a word is a word, not a passport
        if kind == "dossier" and glue in ("", ":"):
            glue = " "  # dossier codes are recognised as a word of their own (knowledge.text's existing pattern)
        frame = rng.choice(FRAMES)
        yield Spelling(kind, digits, typed, frame.format(n=f"{lead}{glue}{typed}"))


def needles(case: Spelling) -> set[str]:
    """What would betray the number: as typed, its digits alone, and what follows its first group ("-203-012-345":
    the old masking left the end of a dashed number)."""
    found = {case.typed, case.digits}
    tail = re.sub(r"^\D*\d+", "", case.typed)
    if sum(ch.isdigit() for ch in tail) >= 6:
        found.add(tail)
    return found


def leaks(text: str, cases: list[Spelling], whole_file: bool = False) -> list[str]:
    """The needles found in `text`. In a whole database file, only those with a separator or a letter: a bare run
    of 9 to 12 digits could by chance be part of a stored timestamp (rows are checked one by one for those)."""
    found = {needle for case in cases for needle in needles(case) if needle in text}
    return sorted(needle for needle in found if not (whole_file and needle.isdigit()))


# Texts the answers need, which masking must leave as they are.
READABLE = (
    "ngày 01.07.2025",
    "từ 01.07.2025 đến 31.12.2025",
    "ngày 1/7/2025",
    "ngày 01-07-2025",
    "hạn 2025-07-01",
    "ngày 05.07.2025 01 bản chính",
    "lệ phí 100.000 đồng",
    "lệ phí 100.000",
    "phí 1.000.000 đồng",
    "phạt 100.000.000 đ",
    "phạt 100.000.000đ",
    "200.000.000 VNĐ",
    "500 000 000 đồng",
    "250.500.000",
    "mức phạt 2.000.000 - 4.000.000 đồng",
    "phí 1.050.000 - 2.050.000 đồng",
    "từ 0 - 200.000.000 đồng",
    "1.050.000.000 đồng",
    "84.500.000.000 đồng",
    "Nghị định 13/2023/NĐ-CP",
    "Thông tư 64/2025/TT-BTC",
    "Luật 25/2008/QH12",
    "Quyết định 1234/QĐ-UBND năm 2024",
    "mã thủ tục 1.001613",
    "thủ tục 2.000986 và 1.001613",
    "1.001613 2.000986 1.000894",
    "năm 2025 2026 2027",
    "năm 2024, 2025",
    "đường 3/2 số 12",
    "số 12 ngõ 34 đường 56",
    "lúc 07:30 sáng",
    "tổng đài 1900 1234",
    "điều 5 khoản 2",
    "mẫu TK01",
    "15 ngày làm việc",
    "từ 18 tuổi",
    "3 bản sao",
)
