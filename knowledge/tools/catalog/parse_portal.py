"""The 2026 pages crawled from dichvucong.gov.vn (`national-portal-2026/raw/<ministry>/<code>.json`).

The crawler stored each table of the page as its text with the cells run together, e.g.
`Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp7 Ngày làm việc70,000 Việt Nam Đồng(…)…`. The parsers
below cut those strings back into cells using what each cell can look like, and say what they could
not read so the import report can count it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.catalog.common import (
    METHOD_ORDER,
    NO_INFO,
    PORTAL_METHODS,
    PORTAL_UNITS,
    UPPER,
    audiences_of,
    clean,
    fee_from_value,
    legal_numbers,
    levels_from_text,
    one_line,
    portal_url,
    split_list,
    split_steps,
    time_from_prose,
)
from knowledge.catalog.model import Channel, Document, Fee, LegalBasis, OfficialRecord, ProcessingTime, Source
from knowledge.catalog.values import with_fee_periods

SOURCE: Source = "national-portal-2026"

CHANNEL_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
DOCUMENT_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"

_METHOD = re.compile("|".join(PORTAL_METHODS))
# The fee cell: "Miễn phí", the empty-cell placeholder, or an amount the portal formats as 2,000,000.
_FEE = re.compile(
    r"Miễn phí|" + NO_INFO + r"|(?P<amount>[1-9]\d{0,2}(?:,\d{3})*(?:\.\d+)?) ?(?P<currency>Việt Nam Đồng|VNĐ|Đồng|USD)"
)
_UNIT = re.compile(r"\s*(Ngày làm việc|Ngày|Giờ làm việc|Giờ|Tuần|Tháng|Năm)", re.IGNORECASE)
_DIGITS = re.compile(r"\d[\d.,]*")
_TEXT_TIME = re.compile(r"(?s)(?P<time>.{1,300}?)(?=" + _FEE.pattern + ")")


@dataclass
class Row:
    """One row of the channels table, before it becomes a Channel."""

    method: str
    time: ProcessingTime | None
    fee: Fee | None
    fee_cell: str
    end: int  # where the fee cell (and its bracketed description) ends
    ambiguous: bool = False  # the time and the amount ran together in more than one readable way
    note: str = ""


@dataclass
class ChannelParse:
    channels: list[Channel]
    leftover: str = ""  # text before the first row that no rule explained
    ambiguous: int = 0
    has_time_cell: bool = False  # some row states a time (not the empty-cell placeholder)
    has_fee_cell: bool = False


def parse_channels(cell: str) -> ChannelParse:
    text = cell.split(CHANNEL_HEADER, 1)[1] if CHANNEL_HEADER in cell else cell
    rows: list[tuple[int, Row]] = []
    pos = 0
    while (found := _next_row(text, pos)) is not None:
        start, row = found
        if rows:
            rows[-1][1].note = text[rows[-1][1].end : start]
        rows.append((start, row))
        pos = row.end
    if rows:
        rows[-1][1].note = text[rows[-1][1].end :]
    leftover = one_line(text[: rows[0][0]]) if rows else one_line(text)
    channels = sorted((_channel(row) for _, row in rows), key=lambda channel: METHOD_ORDER[channel.method])
    return ChannelParse(
        channels=channels,
        leftover=leftover,
        ambiguous=sum(row.ambiguous for _, row in rows),
        has_time_cell=any(row.time is not None for _, row in rows),
        has_fee_cell=any(row.fee_cell != NO_INFO for _, row in rows),
    )


def _channel(row: Row) -> Channel:
    return with_fee_periods(Channel(
        method=PORTAL_METHODS[row.method],
        time=row.time,
        fees=[row.fee] if row.fee else [],
        note=one_line(row.note),
    ))  # fmt: skip


def _next_row(text: str, pos: int) -> tuple[int, Row] | None:
    """The next method name that starts a real row: its time cell follows with no space, then a fee cell."""
    for match in _METHOD.finditer(text, pos):
        after = text[match.end() : match.end() + 1]
        if not after or not (after.isdigit() or after.isupper()):
            continue  # "Trực tiếp tại…", "Trực tuyến: …" are prose inside a description
        row = _read_row(match.group(0), text, match.end())
        if row is not None:
            return match.start(), row
    return None


def _read_row(method: str, text: str, pos: int) -> Row | None:
    if text[pos].isdigit():
        row = _numeric_row(method, text, pos)
        if row is not None:
            return row
    found = _TEXT_TIME.match(text, pos)
    if found is None:
        return None
    cell = clean(found.group("time"))
    time = time_from_prose(cell) if cell else None
    return _with_fee(method, time, text, found.end())


def _numeric_row(method: str, text: str, pos: int) -> Row | None:
    digits = _DIGITS.match(text, pos)
    assert digits is not None
    unit = _UNIT.match(text, digits.end())
    if unit is not None and _number(digits.group(0)) is not None:
        # "5 Ngày làm việc" then the fee: the unit separates the two numbers.
        time = ProcessingTime(value=_number(digits.group(0)), unit=PORTAL_UNITS[unit.group(1).lower()],
                              text=one_line(text[pos : unit.end()]))  # fmt: skip
        if _FEE.match(text, unit.end()):
            return _with_fee(method, time, text, unit.end())
        return None
    # No unit: the time ("1") and an amount ("20,000") may have run together ("120,000 VNĐ").
    candidates = []
    run = digits.group(0)
    for cut in range(1, len(run) + 1):
        value = _number(run[:cut])
        if value is None or not _FEE.match(text, pos + cut):
            continue
        time = ProcessingTime(value=value, unit=None, text=run[:cut])
        candidates.append(_with_fee(method, time, text, pos + cut))
    if not candidates:
        return None
    best = _most_plausible(candidates)
    best.ambiguous = len(candidates) > 1
    return best


def _most_plausible(candidates: list[Row]) -> Row:
    """Prefer the reading whose amount the fee's own description repeats ("(20.000 vnđ/tờ khai)")."""
    for row in candidates:
        if row.fee and row.fee.amount_vnd:
            written = f"{row.fee.amount_vnd:,}".replace(",", ".")
            if written in row.fee.text or str(row.fee.amount_vnd) in row.fee.text:
                return row
    return candidates[0]  # the shortest time: a bare time is a small number


def _with_fee(method: str, time: ProcessingTime | None, text: str, pos: int) -> Row:
    fee_match = _FEE.match(text, pos)
    assert fee_match is not None
    end = fee_match.end()
    description = ""
    if text.startswith("(", end):
        close = _closing_bracket(text, end)
        if close is None:  # unbalanced: the description stops where the next row starts
            following = _next_row(text, end + 1)
            close = following[0] if following else len(text)
            description, end = text[end + 1 : close], close
        else:
            description, end = text[end + 1 : close], close + 1
    cell = fee_match.group(0)
    fee = _fee(fee_match, description)
    return Row(method=method, time=time, fee=fee, fee_cell=cell, end=end)


def _fee(match: re.Match[str], description: str) -> Fee | None:
    if match.group(0) == NO_INFO:
        return None
    if match.group("amount") is None:  # "Miễn phí"
        return fee_from_value(0, None, description)
    amount = float(match.group("amount").replace(",", ""))
    currency = "USD" if match.group("currency") == "USD" else "VND"
    return fee_from_value(amount, currency, description)


def _closing_bracket(text: str, start: int) -> int | None:
    """Index of the bracket closing the one at `start` (descriptions nest brackets); None if unbalanced."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


def _number(text: str) -> float | None:
    text = text.rstrip(".,")
    if not re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return None
    return float(text.replace(",", "."))


# ---------------------------------------------------------------------------------------------- documents

# One digit: the name's last characters can be digits ("…ngày 24/07/2023" + "1 bản chính"); counts stay under 10.
_QUANTITY = re.compile(r"(\d) bản chính(?:,\s*(\d) bản sao)?|(\d) bản sao")
_FORM_EXT = re.compile(r"\.(?:docx?|pdf|xlsx?|rar|zip|odt|rtf|jpe?g|png)$", re.IGNORECASE)


@dataclass
class DocumentParse:
    documents: list[Document]
    unparsed: list[str] = field(default_factory=list)  # table text with no quantity to anchor a row
    from_page_text: bool = False  # read from raw_text: the documents cell held something else


def parse_documents(cell: str) -> DocumentParse:
    text = clean(cell)
    if not text:
        return DocumentParse([])
    parts = text.split(DOCUMENT_HEADER)
    heading = _heading(parts[0])
    documents: list[Document] = []
    unparsed: list[str] = []
    if len(parts) == 1:
        return DocumentParse([], [one_line(text)])
    for table in parts[1:]:
        rows, tail = _document_rows(table, heading)
        documents.extend(rows)
        heading = _heading(tail)  # text after a table's last row is the next table's heading
        if not rows and tail:
            unparsed.append(one_line(tail))
    return DocumentParse(documents, unparsed)


def _document_rows(table: str, heading: str | None) -> tuple[list[Document], str]:
    rows, pos = [], 0
    for quantity in _QUANTITY.finditer(table):
        label = table[pos : quantity.start()]
        pos = quantity.end()
        if not label.strip():
            continue
        originals, copies = _quantities(quantity)
        name, form = split_form(label)
        if name:
            rows.append(Document(name=name, originals=originals, copies=copies, form=form, group=heading))
    return rows, table[pos:]


def _quantities(match: re.Match[str]) -> tuple[int, int]:
    if match.group(3) is not None:
        return 0, int(match.group(3))
    return int(match.group(1)), int(match.group(2) or 0)


def split_form(label: str) -> tuple[str, str | None]:
    """Separate "Tờ khai theo mẫuMẫu TP-LS-02.docx" into the document's name and the form's file name."""
    label = one_line(label)
    if not _FORM_EXT.search(label):
        return _strip_digit_tail(label), None
    start = _form_start(label)
    name, form = label[:start].strip(), label[start:].strip()
    return (name or form), form


def _form_start(label: str) -> int:
    """Where the file name begins: the first cell boundary (a word or bracket glued to a capital or digit)."""
    ext_at = _FORM_EXT.search(label).start()  # type: ignore[union-attr]
    for index in range(1, ext_at):
        before, here = label[index - 1], label[index]
        if not (here.isupper() or here.isdigit()):
            continue
        glued_word = before.isalpha() and before.islower()
        after_sentence = before == "." and index > 1 and (label[index - 2].isalpha() or label[index - 2] in ")]")
        glued_bracket = before in ")];" or after_sentence  # "Đơn xin nhận con nuôi;1.nxinnhnconnui.doc"
        if glued_word or glued_bracket:
            return index
    # No visible boundary: the file name is the last word(s) without spaces.
    return label.rfind(" ", 0, ext_at) + 1


def _strip_digit_tail(name: str) -> str:
    return name.strip(" ;,")


def _heading(text: str) -> str | None:
    text = one_line(text).strip(" :-*")
    return text or None


# ----------------------------------------------------------------------------------------------- legal basis


@dataclass
class LegalParse:
    items: list[LegalBasis]
    unparsed: str = ""  # text after the last document number


def parse_legal(cell: str) -> LegalParse:
    text = clean(cell)
    if LEGAL_HEADER in text:
        text = text.split(LEGAL_HEADER, 1)[1]
    text = _unglue_dates(one_line(text).translate(_CYRILLIC))
    if not text:
        return LegalParse([])
    items: list[LegalBasis] = []
    pos, last_start = 0, 0
    for number, start, end in legal_numbers(text):
        same_as_last = bool(items) and items[-1].number == number  # "Thông tư 87/2017/NĐ-CP" in both cells
        if start < pos or not _ends_row(text, start, end):
            continue  # a number quoted inside a title ("Nghị định số 123/2015/NĐ-CP ngày …")
        if not text[pos:start].strip(" .;,-"):  # no title: the previous row's number cell, or a title's start
            if same_as_last:  # the previous row's title was its number ("Luật 60/2014/QH13" + "60/2014/QH13")
                items[-1] = _legal_item(text[last_start:start], number)
                pos = end
            continue
        last_start = pos
        if not same_as_last:
            items.append(_legal_item(text[pos:start], number))
        pos = end
    leftover = one_line(text[pos:])
    bare = legal_numbers(leftover)
    if items and len(bare) == 1 and bare[0][0] == leftover:
        # A number with no title after the last row: that row's title ended with the number it quotes
        # ("… bởi Thông tư số 01/2022/TT-BNNPTNT" + "17/2026/TT-BNNMT"), and this is its number cell.
        last = items.pop()
        items.append(LegalBasis(number=leftover, title=f"{last.title} {last.number}"))
        leftover = ""
    leftover = _without_debris(leftover, items[-1].number if items else None)
    if leftover and len(leftover) < 300 and not _METHOD.search(leftover):
        # A last row whose number cell the page cut short ("…NĐ-CP46/2020"): the title's own number stands in.
        quoted = legal_numbers(leftover)
        items.append(LegalBasis(number=quoted[-1][0] if quoted else None, title=leftover))
        leftover = ""
    return LegalParse(items, leftover)


# Cyrillic capitals some pages use inside numbers ("85/2024/TT-BTС"): the Latin letter they look like.
_CYRILLIC = str.maketrans("АВСЕНКМОРТХ", "ABCEHKMOPTX")
_NEXT_SECTION = re.compile(r"Không có thông tin|Cơ quan thực hiện|Yêu cầu, điều kiện")


def _without_debris(leftover: str, last_number: str | None) -> str:
    """Text after the last row without the page's next section and without the rest of a number the page
    printed twice and cut short ("…NĐ-CP" + "46/2020"); empty when no title is left."""
    leftover = _NEXT_SECTION.split(leftover)[0].strip()
    if last_number:
        head = re.match(r"[\d.]+(?:/\d{4})?", leftover)
        if head and last_number.startswith(head.group(0)):
            leftover = leftover[head.end() :].strip()
    return leftover if len(re.findall(r"[^\W\d_]", leftover)) >= 3 else ""


# A date run into the next cell's number: "ngày 29/6/2024" + "43/2024/QH15", "năm 2022" + "3510/QĐ-BHXH".
_GLUED_DATE = re.compile(
    rf"(\d{{1,2}}/\d{{1,2}}/(?:19|20)\d{{2}}|(?i:năm) (?:19|20)\d{{2}})(?=\.?\d{{1,4}}(?:/\d{{4}})?/[{UPPER}])"
)


# "21/2008/TTLT- BQP-BLĐTBXH-BTC", "165/2024/NĐ- CP", "250/QĐ - TTg": a number cell with blanks around a dash.
_SPACED_DASH = re.compile(r"(/(?:TTLT|TT|NĐ|QĐ|NQ|NQLT))\s*-\s*(?=[A-ZĐ]{2}|TTg)")


def _unglue_dates(text: str) -> str:
    return _SPACED_DASH.sub(r"\1-", _GLUED_DATE.sub(r"\1 ", text))


def _ends_row(text: str, start: int, end: int) -> bool:
    """A number ends its row when the next cell is glued to it, or when it stands alone: a title quotes a number
    after "số" or the document's type ("Nghị định số 100/2016/NĐ-CP ngày …", "THÔNG TƯ SỐ 245/2016/TT-BTC NGÀY")."""
    rest = text[end:]
    if not rest.lstrip(" .;,") or rest[0].isdigit() or (rest[0].isalpha() and not _TITLE_GOES_ON.match(rest)):
        return True
    return not _QUOTED_AFTER.search(text[:start])


_TITLE_GOES_ON = re.compile(r"(?:ngày|của|về|do|ban hành)\b")  # "Thông tư số 53/2025/TT-BCAngày 01/7/2025"
_QUOTED_AFTER = re.compile(r"(?i)(?:\b(?:số|của|theo|tại|và|bởi)|luật|nghị định|nghị quyết|thông tư(?: liên tịch)?"
                           r"|quyết định|pháp lệnh|chỉ thị|công văn|văn bản)\s*$")  # fmt: skip


_NUMBER_PREFIX = re.compile(r"(?:Luật|Bộ luật|Nghị định|Nghị quyết|Thông tư liên tịch|Thông tư|Quyết định|Pháp lệnh)"
                            r"(?: số)?\s*$")  # fmt: skip


def _legal_item(title: str, number: str) -> LegalBasis:
    # The number cell sometimes reads "Thông tư số 03/2023/TT-BTP": its words stick to the title's end.
    prefix = _NUMBER_PREFIX.search(title)
    if prefix and prefix.start() > 0 and not title[prefix.start() - 1].isspace():
        title = title[: prefix.start()]
    return LegalBasis(number=number, title=one_line(title) or number)


# ------------------------------------------------------------------------------------------------- the page


_INNER_CODE = re.compile(r"Mã thủ tục\s*(\d+\.\d+)")
_RESULT_CODE = re.compile(r"Mã:\s*KQ[\w.\-]*")


@dataclass
class PageParse:
    claimed_code: str
    page_code: str | None
    record: OfficialRecord | None  # None when the page is another procedure's
    channels: ChannelParse | None = None
    documents: DocumentParse | None = None
    legal: LegalParse | None = None

    @property
    def mismatched(self) -> bool:
        return self.record is None


def page_code(data: dict) -> str | None:
    """The code printed on the page itself (raw_text), which is what the page really describes."""
    found = _INNER_CODE.search(data.get("raw_text") or "")
    return found.group(1) if found else None


def parse_page(data: dict, claimed_code: str, crawled: str) -> PageParse:
    inner = page_code(data)
    if inner != claimed_code or clean(data.get("ma_thu_tuc")) != claimed_code:
        return PageParse(claimed_code, inner, None)  # the crawler saved another procedure's page here
    channels = parse_channels(data.get("cach_thuc_thuc_hien") or "")
    documents = page_documents(data)
    legal = parse_legal(data.get("can_cu_phap_ly") or "")
    groups = split_list(clean(data.get("doi_tuong_thuc_hien")))
    record = OfficialRecord(
        code=claimed_code,
        name=one_line(data.get("ten_thu_tuc")),
        levels=levels_from_text(clean(data.get("cap_thuc_hien"))),
        fields=[one_line(data.get("linh_vuc"))] if one_line(data.get("linh_vuc")) else [],  # names may hold commas
        target_groups=groups,
        audiences=audiences_of(groups),
        agency=one_line(strip_chrome(data.get("co_quan_thuc_hien"))) or None,
        competent_authority=one_line(strip_chrome(data.get("co_quan_co_tham_quyen"))) or None,
        where=strip_chrome(data.get("dia_chi_tiep_nhan")) or None,
        channels=channels.channels,
        documents=documents.documents,
        steps=split_steps(strip_chrome(data.get("trinh_tu_thuc_hien"))),
        conditions=strip_chrome(data.get("yeu_cau_dieu_kien")) or None,
        result=parse_results(data.get("ket_qua_xu_ly") or ""),
        legal_basis=legal.items,
        decision=one_line(data.get("so_quyet_dinh")) or None,
        portal_url=_page_url(data),
        source=SOURCE,
        crawled=crawled,
        detail="full",
    )
    return PageParse(claimed_code, inner, record, channels, documents, legal)


def page_documents(data: dict) -> DocumentParse:
    """The documents table; read from the page's whole text when the crawler stored another section in the
    documents cell (1.001613 kept its steps there) or a shorter table than the page shows."""
    from_cell = parse_documents(data.get("thanh_phan_ho_so") or "")
    raw_text = data.get("raw_text") or ""
    section = _page_section(raw_text, "Thành phần hồ sơ", "Căn cứ pháp lý", after="Cách Thức Thực Hiện")
    if not section:
        return from_cell
    from_page = parse_documents(section)
    if len(from_page.documents) <= len(from_cell.documents):
        return from_cell
    from_page.from_page_text = True
    return from_page


def _page_section(text: str, title: str, next_title: str, after: str) -> str:
    """The text between a section's title and the next one's, looked for after `after` (steps may quote titles)."""
    start = text.find(title, max(text.find(after), 0))
    end = text.find(next_title, start)
    return text[start + len(title) : end] if start >= 0 and end > start else ""


def parse_results(cell: str) -> list[str]:
    text = strip_chrome(cell)
    return [name for name in (one_line(part) for part in _RESULT_CODE.split(text)) if name]


_CHROME = re.compile(
    "|".join(re.escape(marker) for marker in (CHANNEL_HEADER, DOCUMENT_HEADER, LEGAL_HEADER, "Chọn cơ quan thực hiện"))
    + r"|Từ khóa.{0,400}?Mô tả"
)


def strip_chrome(cell: object) -> str:
    """The cell without what the crawler caught from elsewhere on the page: the page's keyword/description
    footer and agency picker, or another section's table run into this one."""
    text = cell if isinstance(cell, str) else ""
    found = _CHROME.search(text)
    return clean(text[: found.start()] if found else text)


def _page_url(data: dict) -> str | None:
    url = clean(data.get("detail_url"))
    uuid = url.rsplit("/", 1)[-1] if url else clean(data.get("formality_id"))
    return portal_url(uuid)


def read_pages(raw_dir: Path) -> list[tuple[str, str, dict]]:
    """(ministry folder, claimed code, page) for every file, in a stable order."""
    import json

    pages = []
    for path in sorted(raw_dir.glob("*/*.json")):
        pages.append((path.parent.name, path.stem, json.loads(path.read_text(encoding="utf-8"))))
    return pages
