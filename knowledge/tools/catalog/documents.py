"""Structured document lists: papers apart from notes, submitted or only shown, forms by code, and the
page's cases (its group headings) apart from the papers every case needs.

Read from the page's own structure and wording, for every record alike: a table's heading that names a
situation ("Trường hợp …", "Đối với …", or one of several distinct headings) is a case; a row that explains
rather than names a paper ("Lưu ý …", "Trường hợp … thì …" with nothing to hand in) is a note.
"""

from __future__ import annotations

import re

from knowledge.catalog.common import UPPER, one_line
from knowledge.catalog.model import Document, Handling, OfficialRecord
from knowledge.text import fold

# Enumerators and bullets in front of a heading or a row: "a)", "1.", "2)", "-", "*", "+", "(".
_LEAD = re.compile(r"^(?:[\s\-+*•·–(]+|(?:[a-zđ]|\d{1,2}|[ivx]{1,4})[.)]\s*)+", re.IGNORECASE)
# Headings that title the whole list rather than a situation.
_GENERIC_HEADING = re.compile(
    r"^(?:(?:các )?giấy tờ(?: phải| cần)? (?:nộp|xuất trình)|thành phần(?: hồ sơ)?|hồ sơ(?: bao)? gồm|bao gồm"
    r"|hồ sơ của|lưu ý|ghi chú|chú ý|\d+)\b",
    re.IGNORECASE,
)
_NOTE_HEADING = re.compile(r"^(?:lưu ý|ghi chú|chú ý)\b", re.IGNORECASE)
_SITUATION = re.compile(r"^(?:(?:đối với )?(?:các )?trường hợp|đối với|khi)\b", re.IGNORECASE)
_NOTE_ROW = re.compile(r"^(?:lưu ý|ghi chú|chú ý)\b", re.IGNORECASE)
# A row that explains: a condition with its consequence, a sub-heading ending in ":", a remark in brackets.
_EXPLAINS = re.compile(r"^(?:trường hợp|đối với|trong|người|các|không|việc|cá nhân|tổ chức|nếu|sau khi)\b|\bthì\b|:$",
                       re.IGNORECASE)  # fmt: skip
# A form named in the text: "mẫu CT01", "Mẫu số 14-HSB", "(Mẫu số 04B – HBQP)", "mẫu số 01/ĐK", "TK1-TS".
_FORM_NAMED = re.compile(
    rf"\b[Mm]ẫu(?:\s+[Ss]ố)?\s*:?\s*(?P<code>[{UPPER}\d][{UPPER}\d]*(?:[a-z](?![a-z]))?(?:\s?[-–/.]\s?[{UPPER}\d]+)*)"
    r"|\b(?P<bare>[A-Z]{1,4}\d{1,3}[a-z]?-[A-Z]{1,4}\d?)\b"
)
_FORM_FILE = re.compile(r"^(?:[Mm]ẫu(?:\s+[Ss]ố)?\s*)?(?P<code>[A-ZĐ]{1,6}\d{1,3}[a-z]?(?:[-_.][A-ZĐ\d]{1,6})*)\.\w+$")


def structure(documents: list[Document], procedure_name: str = "") -> list[Document]:
    """The same documents, each marked: note or paper, nộp or xuất trình, its form code, its case."""
    headings = list(dict.fromkeys(d.group for d in documents if d.group))
    cases = _case_headings(headings, procedure_name)
    return [_marked(d, cases) for d in documents]


def structured(record: OfficialRecord) -> OfficialRecord:
    if not record.documents:
        return record
    return record.model_copy(update={"documents": structure(record.documents, record.name)})


def heading_text(heading: str) -> str:
    """A heading as a case's name: no enumerator, no trailing colon or "gồm"."""
    text = _LEAD.sub("", one_line(heading))
    text = re.sub(r"(?:,?\s*(?:hồ sơ\s*)?(?:bao\s*)?gồm(?: có)?)?\s*[:;.]*\s*$", "", text, flags=re.IGNORECASE)
    return text[:1].upper() + text[1:]


def _case_headings(headings: list[str], procedure_name: str = "") -> dict[str, str]:
    """Heading → case name, for the headings that name a situation."""
    specific = [h for h in headings if _may_name_a_case(_LEAD.sub("", h), procedure_name)]
    situations = [h for h in specific if _SITUATION.match(_LEAD.sub("", h))]
    chosen = specific if len(specific) >= 2 else situations
    return {h: heading_text(h) for h in chosen if heading_text(h)}


def _may_name_a_case(heading: str, procedure_name: str) -> bool:
    """Not a title of the whole list, nor a rule ("Trường hợp … thì có thể nộp bản sao"), nor a paper ("Phiếu …",
    "Bản khai lý lịch …"), nor what the list adds to the others ("Ngoài các tài liệu …"), nor the procedure's own
    name (the papers every case needs)."""
    if _GENERIC_HEADING.match(heading) or _RULE.search(heading) or _names_a_paper(heading):
        return False
    if re.match(r"ngoài\b", heading, re.IGNORECASE):
        return False
    own_name = fold(re.sub(r"^thủ tục\s+", "", procedure_name, flags=re.IGNORECASE)).strip(" .")
    return not own_name or fold(heading_text(heading)).strip(" .") != own_name


def _marked(document: Document, cases: dict[str, str]) -> Document:
    kind = "note" if _is_note(document) else "document"
    return document.model_copy(update={
        "kind": kind,
        "handling": _handling(document) if kind == "document" else "nộp",
        "form_code": form_code(document) if kind == "document" else None,
        "case": cases.get(document.group or ""),
        "condition": condition(document.name) if kind == "document" else None,
    })  # fmt: skip


# "Trường hợp trẻ em bị bỏ rơi thì phải có …", "Đối với người ra nước ngoài định cư phải nộp thêm …"
_CONDITION = re.compile(
    r"^(?P<when>(?:trường hợp|đối với|nếu)\b.{3,200}?)(?:,?\s+thì\b|:\s|\s+(?:phải|cần) (?:nộp|có|kèm|bổ sung))",
    re.IGNORECASE,
)


def condition(name: str) -> str | None:
    """The situation a paper is asked for in, when its own wording limits it; None for a paper every applicant needs."""
    found = _CONDITION.match(_LEAD.sub("", name)) or _CONDITION_AFTER.search(name)
    if found:
        return found.group("when").strip(" ,")
    return "nếu có" if re.search(r"\(nếu có\)", name, re.IGNORECASE) else None


# "Văn bản ủy quyền (được chứng thực) trong trường hợp ủy quyền"
_CONDITION_AFTER = re.compile(r"\b(?:trong|đối với) (?P<when>trường hợp [^;()]{3,160}?)[.;]?$", re.IGNORECASE)


def _is_note(document: Document) -> bool:
    text = _LEAD.sub("", document.name)
    if _NOTE_ROW.match(text) or (document.group and _NOTE_HEADING.match(_LEAD.sub("", document.group))):
        return True
    if text.rstrip().endswith(":"):
        return True  # a sub-heading inside a table ("Thành phần hồ sơ đối với phương tiện thương mại:")
    if _PERMISSION.search(text) and not _ADDS_A_PAPER.search(text):
        return True  # "Trường hợp … thì có thể nộp bản sao": a rule about the papers, whatever its count
    nothing_to_hand_in = not document.originals and not document.copies
    if nothing_to_hand_in and _OBLIGATION.search(text):
        return True  # "Tài liệu … phải được gửi kèm bản dịch": a rule about the papers
    return nothing_to_hand_in and bool(_EXPLAINS.search(text)) and not _names_a_paper(text)


_OBLIGATION = re.compile(r"\bphải (?:được|có|kèm|nộp|gửi)\b", re.IGNORECASE)


_RULE = re.compile(r"\bthì\b", re.IGNORECASE)
_PERMISSION = re.compile(r"^(?:trường hợp|đối với)\b.*\bthì (?:có thể|được|không (?:phải|cần|yêu cầu))", re.IGNORECASE)
_ADDS_A_PAPER = re.compile(r"\bthì (?:có thêm|phải (?:nộp|có|kèm)|nộp thêm|kèm theo|bổ sung)", re.IGNORECASE)


_PAPER_START = re.compile(
    r"^(?:bản|giấy|tờ khai|đơn|văn bản|hợp đồng|hóa đơn|chứng từ|sổ|thẻ|hộ chiếu|quyết định|biên bản|danh sách"
    r"|báo cáo|phiếu|ảnh|chứng chỉ|chứng nhận|bằng|trích lục|bản sao|bản chính|tài liệu|giấy tờ)\b",
    re.IGNORECASE,
)


def _names_a_paper(text: str) -> bool:
    return bool(_PAPER_START.match(text)) and not re.search(r"\bthì\b", text)


def _handling(document: Document) -> Handling:
    name = fold(document.name)
    heading = fold(document.group or "")
    shown = re.search(r"(?<!khong phai )(?<!khong yeu cau )(?<!khong can )xuat trinh", name)
    if re.search(r"nop hoac xuat trinh|xuat trinh hoac nop|nop hoac gui|nop, xuat trinh", name):
        return "nộp hoặc xuất trình"
    if shown and not re.search(r"\bnop\b", name.split("xuat trinh")[0][-40:]):
        return "xuất trình"
    if "xuat trinh" in heading and "nop" not in heading:
        return "xuất trình"
    return "nộp"


def form_code(document: Document) -> str | None:
    """The code of the form the document names ("Tờ khai … (mẫu CT01 …)") or attaches ("TP-LS-02.docx")."""
    found = _FORM_NAMED.search(document.name)
    if found:
        code = found.group("code") or found.group("bare")
        return re.sub(r"\s*([-–/.])\s*", lambda m: "-" if m.group(1) == "–" else m.group(1), code).strip(".-/")
    if document.form:
        found = _FORM_FILE.match(document.form.strip())
        if found:
            return found.group("code")
    return None
