"""Small text helpers shared by the source parsers: cleaning, fee and time values, lists, levels."""

from __future__ import annotations

import re

from knowledge.catalog.model import Audience, Fee, Level, Method, ProcessingTime, TimeUnit
from knowledge.text import fold, nfc

NO_INFO = "Không có thông tin"  # the portal's placeholder for an empty cell

PORTAL_METHODS: dict[str, Method] = {
    "Trực tiếp": "trực tiếp",
    "Trực tuyến": "trực tuyến",
    "Dịch vụ bưu chính": "bưu chính",
}
API_METHODS: dict[str, Method] = {"DIRECT": "trực tiếp", "ONLINE": "trực tuyến", "POSTAL": "bưu chính"}
METHOD_ORDER: dict[Method, int] = {"trực tiếp": 0, "trực tuyến": 1, "bưu chính": 2}

PORTAL_UNITS: dict[str, TimeUnit] = {
    "ngày làm việc": "ngày làm việc",
    "ngày": "ngày",
    "giờ": "giờ",
    "giờ làm việc": "giờ",
    "tuần": "tuần",
    "tháng": "tháng",
    "năm": "năm",
}
API_UNITS: dict[str, TimeUnit | None] = {
    "WORKING_DAY": "ngày làm việc",
    "DAY": "ngày",
    "HOUR": "giờ",
    "WEEK": "tuần",
    "MONTH": "tháng",
    "YEAR": "năm",
    "OTHER": None,  # the portal shows the bare number and explains in the description
}

# A duration inside prose: "Không quá 15 ngày làm việc", "trong thời hạn 05 (năm) ngày".
_DURATION = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(?:\([^)]{1,12}\)\s*)?(ngày làm việc|ngày|giờ làm việc|giờ|tuần|tháng|năm)\b", re.IGNORECASE
)
# "Miễn phí", "không thu phí", "trường hợp … được miễn lệ phí": the free case of a fee (its amount is 0 on the portal).
_FREE = re.compile(
    r"(?i)^\s*(miễn|không thu|không mất|không phải (nộp|trả)|không có phí|không phí|0\s*(đồng|đ)\b)"
    r"|miễn (thu )?(phí|lệ phí)|không (thu|mất|phải nộp) (phí|lệ phí|tiền)"
)
_HDND = re.compile(r"Hội đồng nhân dân|HĐND", re.IGNORECASE)
# "Mức lệ phí cụ thể do Hội đồng nhân dân tỉnh quyết định", "theo quy định của HĐND cấp tỉnh": each province sets
# it, whatever example amount the page lists ("HĐND tỉnh Thanh Hóa" names one province's own rate: not this).
_SET_BY_EACH_PROVINCE = re.compile(
    r"(?i)(?:do|của|theo)\s+(?:Hội đồng nhân dân|HĐND|Ủy ban nhân dân|UBND)\s+(?:cấp\s+)?tỉnh(?!\s+(?-i:[A-ZĐ]))"
)
# "Không có", "Không quy định", "Chưa quy định": the page states no fee.
NO_FEE = re.compile(
    r"(?i)^\s*[-+•]?\s*(?:không có|không quy định|chưa quy định|không được quy định)\b"
    r"|^\s*[-+•]?\s*(?:không|0\s*(?:đồng|đ|vnđ)?)\s*(?:[.;,(]|$)"
)
# A sum written in the fee's text: "2.000.000 đồng", "8.000.000/lần", "25 USD", "10 triệu đồng".
_SUM_IN_TEXT = re.compile(
    r"\d{1,3}(?:\.\d{3})+(?!\d)|\d+(?:[.,]\d+)?\s*(?:đồng|đ/|VNĐ|vnđ|USD|triệu)|\d{4,}\s*/\s*(?:lần|loại|chiếc|bộ|giấy)",
    re.IGNORECASE,
)


def clean(value: object) -> str:
    """NFC text without the portal's empty-cell placeholder, runs of blanks and stray tabs."""
    if not isinstance(value, str):
        return ""
    text = nfc(value).replace("\u00a0", " ").replace("\t", " ")
    text = "\n".join(re.sub(r" {2,}", " ", line).strip() for line in text.splitlines()).strip()
    return "" if text in (NO_INFO, "Không", ".", "-", "--") else text


def one_line(value: object) -> str:
    return re.sub(r"\s+", " ", clean(value)).strip()


def fee_from_value(value: float | None, currency: str | None, text: str) -> Fee:
    """One fee from a structured amount (or 0/None for "Miễn phí") and its description."""
    text = one_line(text)
    if value and value > 0:
        if currency == "USD":
            return Fee(kind="amount", amount=float(value), currency="USD", text=text)
        if _SET_BY_EACH_PROVINCE.search(text):  # the amount is an example: keep it, but as the province's choice
            return Fee(kind="province", amount_vnd=round(value), currency="VND", text=text)
        return _fee_in_dong(round(value), text)
    # Zero on the portal means "no fixed amount": free, left to the province, or stated only in words. Only a
    # blank or an explicit "miễn / không thu" is free: "Theo quy định của Luật phí và lệ phí" cites a fee.
    if _HDND.search(text):
        return Fee(kind="province", text=text)
    if _SUM_IN_TEXT.search(text) and not re.match(r"(?i)\s*(miễn|không thu)", text) and not NO_FEE.search(text):
        return Fee(kind="described", text=text)  # the amounts are in the words
    if not text or _FREE.search(text) or NO_FEE.search(text):
        return Fee(kind="free", text=text)
    return Fee(kind="described", text=text)


def _fee_in_dong(amount: int, text: str) -> Fee:
    # Some entries lost their thousands ("20 VNĐ" for a 20.000 đồng customs fee); when the fee's own text
    # states the full sum, use it, otherwise keep the figure and mark it for a human to check.
    if amount < 1000 and re.search(rf"(?<![\d.]){amount}\s*USD", text):
        return Fee(kind="amount", amount=float(amount), currency="USD", text=text, listed_vnd=amount)
    if amount < 1000:
        thousands = f"{amount * 1000:,}".replace(",", ".")
        if re.search(rf"(?<![\d.]){re.escape(thousands)}(?![\d.])", text):
            return Fee(kind="amount", amount_vnd=amount * 1000, currency="VND", text=text, listed_vnd=amount)
        return Fee(kind="amount", amount_vnd=amount, currency="VND", text=text, suspect=True)
    return Fee(kind="amount", amount_vnd=amount, currency="VND", text=text)


def time_from_value(value: object, unit: TimeUnit | None, text: str = "") -> ProcessingTime:
    number = _number(value)
    if number is None:
        # Prose: keep it, and read a number from it when it names exactly one duration.
        prose = one_line(value if isinstance(value, str) else text)
        return time_from_prose(prose)
    return ProcessingTime(value=number, unit=unit, text=one_line(text) or _fmt(number, unit))


def time_from_prose(prose: str) -> ProcessingTime:
    found = {(float(n.replace(",", ".")), PORTAL_UNITS[u.lower()]) for n, u in _DURATION.findall(prose)}
    if len(found) == 1:
        value, unit = found.pop()
        return ProcessingTime(value=value, unit=unit, text=prose)
    return ProcessingTime(text=prose)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(?:[.,]\d+)?\s*", value):
        return float(value.strip().replace(",", "."))
    return None


def _fmt(value: float, unit: TimeUnit | None) -> str:
    number = f"{value:g}"
    return f"{number} {unit}" if unit else number


def split_list(text: str) -> list[str]:
    """Split "A, B (x, y), C" at top-level commas and line breaks, keeping bracketed commas."""
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        if (ch == "," and depth == 0) or ch == "\n":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return unique(one_line(item) for item in items if one_line(item))


def unique(items: object) -> list:
    seen: dict = {}
    for item in items:  # type: ignore[attr-defined]
        seen.setdefault(item, None)
    return list(seen)


_LEVELS: tuple[tuple[str, Level], ...] = (
    ("cap bo", "trung ương"),
    ("trung uong", "trung ương"),
    ("cap tinh", "tỉnh"),
    ("cap huyen", "huyện"),
    ("cap xa", "xã"),
    ("co quan khac", "khác"),
)


def levels_from_text(text: str) -> list[Level]:
    folded = fold(text)
    found = [level for words, level in _LEVELS if words in folded]
    return sorted(unique(found), key=_level_rank)


def _level_rank(level: Level) -> int:
    return ["trung ương", "tỉnh", "huyện", "xã", "khác"].index(level)


def sort_levels(levels: list[Level]) -> list[Level]:
    return sorted(unique(levels), key=_level_rank)


_AUDIENCES: tuple[tuple[str, Audience], ...] = (
    ("nguoi nuoc ngoai", "foreigner"),
    ("to chuc nuoc ngoai", "organisation"),
    ("nguoi viet nam dinh cu", "citizen"),
    ("cong dan", "citizen"),
    ("ca nhan", "citizen"),
    ("ho gia dinh", "citizen"),
    ("doanh nghiep", "enterprise"),
    ("ho kinh doanh", "enterprise"),
    ("hop tac xa", "cooperative"),
    ("to chuc dang", "party"),
    ("dang vien", "party"),
    ("can bo", "official"),
    ("cong chuc", "official"),
    ("vien chuc", "official"),
    ("to chuc", "organisation"),
)


def audiences_of(groups: list[str]) -> list[Audience]:
    """Group the portal's target labels ("Doanh nghiệp có vốn đầu tư nước ngoài"…) into a few audiences."""
    found: list[Audience] = []
    for group in groups:
        folded = fold(group).split("(")[0]  # "Tổ chức (không bao gồm doanh nghiệp, HTX)" is an organisation
        found.extend(audience for words, audience in _AUDIENCES if words in folded)
    order = ["citizen", "foreigner", "enterprise", "cooperative", "organisation", "official", "party"]
    return sorted(unique(found), key=order.index)


def split_steps(text: str) -> list[str]:
    """The procedure's steps as the portal wrote them, one paragraph per item."""
    return [line for line in (one_line(part) for part in clean(text).split("\n")) if line]


def portal_url(uuid: str | None) -> str | None:
    if not uuid or not re.fullmatch(r"[0-9a-f-]{36}", uuid):
        return None
    return f"https://dichvucong.gov.vn/thu-tuc-hanh-chinh/{uuid}"


# Vietnamese letters by case: code-point ranges mix upper and lower case (Đ is U+0110, đ U+0111), so
# the classes are listed rather than written as ranges.
_VI_LETTERS = [chr(c) for c in range(0xC0, 0x1EFA) if chr(c).isalpha()]
UPPER = "A-Z" + "".join(ch for ch in _VI_LETTERS if ch.isupper())
LOWER = "a-z" + "".join(ch for ch in _VI_LETTERS if ch.islower())

# A legal document's number: 123/2015/NĐ-CP, 60/2014/QH13, 66.7/2025/NQ-CP, 163/QĐ-BTP, 01/VBHN-BTP.
# It ends before a non-letter or before the capital of the next title's first word ("…NĐ-CPNghị định").
LEGAL_NUMBER = re.compile(
    rf"(?<!\d\.)(?<!/)\d+(?:\.\d+|\.?[a-z](?=/))?(?:/\d{{4}})?/(?:[{UPPER}]*QH\d{{2}}|TTg|[{UPPER}]+?)"
    rf"(?:[-/](?:[{UPPER}]*QH\d{{2}}|TTg|[{UPPER}]+?))*"
    rf"(?:(?<=QH\d{{2}})|(?=$|[^{UPPER}{LOWER}]|[{UPPER}][{LOWER}]))"  # "58/2014/QH13" + "BAN HÀNH…"
)
_YEAR_GLUED = re.compile(r"^(?:19|20)\d{2}(?=\d{1,4}/\d{4}/)")


# Issuers' abbreviations that can run into a following lower-case word ("53/2025/TT-BCAngày").
ISSUERS = ("CP", "BCA", "BTC", "BTP", "BXD", "BYT", "BCT", "BNV", "BQP", "BNG", "NHNN", "BNNMT", "BTNMT",
           "BNNPTNT", "BGTVT", "BLĐTBXH", "BKHĐT", "BGDĐT", "BTTTT", "BKHCN", "BVHTTDL", "VPCP")  # fmt: skip


# Further issuers and document types, to recognise where an issuer ends and an upper-case title begins
# ("166/2016/NĐ-CP" + "LUẬT Bảo hiểm xã hội" read as "166/2016/NĐ-CPLUẬT").
_KNOWN_ISSUERS = ISSUERS + ("BHXH", "UBND", "HĐND", "TTLT", "NQLT", "TANDTC", "VKSNDTC", "TTCP", "VBHN", "VPQH",
                            "CTN", "BNN", "BKH", "CSXH", "UBTƯMTTQVN", "QĐ", "NĐ", "NQ", "TT", "PL", "TTg")  # fmt: skip
_ISSUER_AND_WORD = re.compile(rf"^({'|'.join(sorted(_KNOWN_ISSUERS, key=len, reverse=True))})([{UPPER}]{{2,}})$")


def _without_glued_word(number: str) -> str:
    """"166/2016/NĐ-CPLUẬT" → "166/2016/NĐ-CP": an upper-case word run into the last issuer is the next title."""
    head, _, last = number.rpartition("-") if "-" in number.rsplit("/", 1)[-1] else number.rpartition("/")
    found = _ISSUER_AND_WORD.match(last)
    if found is None or last in _KNOWN_ISSUERS or re.fullmatch(r"[A-Z]*QH\d{2}", last):
        return number
    return number[: len(head) + 1] + found.group(1)


def legal_numbers(text: str) -> list[tuple[str, int, int]]:
    """Every document number in `text` as (number, start, end), an issuer cut short by a glued word restored."""
    found = []
    for match in LEGAL_NUMBER.finditer(text):
        number, end = match.group(0), match.end()
        cut = _without_glued_word(number)
        number, end = cut, end - (len(number) - len(cut))
        if number.endswith("/NĐ-C"):  # the portal cut "NĐ-CP" short in some number cells
            number += "P"
        last = re.split(r"[-/]", number)[-1]
        for issuer in ISSUERS:
            if len(issuer) > len(last) and issuer.startswith(last) and text.startswith(issuer[len(last):], end):
                number, end = number + issuer[len(last) :], end + len(issuer) - len(last)
                break
        year = _YEAR_GLUED.match(number)
        if year:  # "Luật Cư trú 2020" + "68/2020/QH14": the year belongs to the title
            number = number[year.end() :]
        found.append((number, match.start() + (year.end() if year else 0), end))
    return found


def legal_number(text: str) -> str | None:
    """The first document number in `text`, without a year glued in front ("Luật Cư trú 2020" + "68/2020/QH14")."""
    found = legal_numbers(text)
    return found[0][0] if found else None
