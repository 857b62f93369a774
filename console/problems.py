"""The checker's problems as the editor shows them: plain Vietnamese naming each field by its label in the form.

The checker (knowledge.tools.records.lint) speaks to staff who edit the YAML files by hand: it names fields by their
keys ("official_codes", "documents[2].name"), points at files and lines, and reports a disagreement with the official
record as "curated says X, official <code> says Y". Someone using the form sees none of that: the same advice,
worded for the form.
"""

from __future__ import annotations

import re

from console.labels import field_label
from console.records import CHOICE_LABELS, FORM, form_field
from knowledge.records.loader import Problem
from knowledge.text import has_diacritics

# Fields the form does not show, as staff know them (the rest: the form's own labels, console.labels).
OTHER_FIELDS = {"deadline": "Hạn người dân phải làm thủ tục", "cases": "Tên các trường hợp", "file": "Tệp thủ tục",
                "YAML": "Tệp thủ tục"}  # fmt: skip
NUMBERED = ("aliases", "documents", "steps", "legal_basis", "official_codes")

_DISAGREEMENT = re.compile(r"^curated says (?P<ours>.*), official (?P<code>[\d.]+) says (?P<theirs>.*)$", re.S)
# The checker's words for people editing the files -> the same advice for people using the form.
_FILE_WORDS = (
    (re.compile(r" ?\((xem )?[\w./-]+\.(md|yml|gz)\)"), ""),  # "(xem knowledge/README.md)", a file's path
    (re.compile(r"thêm dòng «[a-z_]+: \.\.\.»"), "điền mục này"),
    (re.compile(r"xóa hẳn dòng này"), "xóa hết nội dung ô"),
    (re.compile(r"mỗi mục một dòng bắt đầu bằng «- »"), "mỗi mục một dòng"),
    (re.compile(r"xóa dòng này"), "xóa dòng đó trong ô"),
    (re.compile(r"đổi status thành unverified"), f"chọn «{CHOICE_LABELS['unverified']}»"),
    (re.compile(r"«confirmed»"), f"«{CHOICE_LABELS['confirmed']}»"),
    (re.compile(r" ?\(?official_codes\)?"), " «Mã thủ tục chính thức»"),
)
UNEXPLAINED = "nội dung chưa đúng dạng — kiểm tra lại ô này"


def problem_label(problem_field: str) -> str:
    """A checker's field path as staff know it: "documents[2].name" -> "Giấy tờ cần chuẩn bị, dòng 2"."""
    name = form_field(problem_field)
    head = re.split(r"[.\[]", problem_field, maxsplit=1)[0]
    label = next((f.label for f in FORM if f.name == name), None) or OTHER_FIELDS.get(head) or field_label(head)
    item = re.match(r"^[a-z_]+\[(\d+)\]", problem_field)
    return f"{label}, dòng {item.group(1)}" if item and name in NUMBERED else label


def explain(problem: Problem) -> str:
    """"<label>: <what is wrong and what to do>", for the form."""
    message = problem.message
    found = _DISAGREEMENT.match(message)
    if found:
        theirs = re.sub(r"^only ", "chỉ có ", found["theirs"])
        theirs = re.sub(r"^no such document \(it lists (.*)\)$", r"không có giấy tờ này (bản đó ghi: \1)", theirs)
        message = (f"khác bản ghi chính thức {found['code']}: ở đây ghi {found['ours']}, bản chính thức ghi {theirs} — "
                   "sửa cho khớp, hoặc xóa nội dung ô để trợ lý dùng giá trị chính thức")  # fmt: skip
    elif form_field(problem.field) == "last_reviewed" and "không phải ngày" in message:
        message = "không đọc được ngày — ghi theo dạng ngày/tháng/năm, ví dụ 27/11/2026"
    for pattern, words in _FILE_WORDS:
        message = pattern.sub(words, message)
    message = message.strip()
    if not has_diacritics(message):  # a validator's English that no rule above words for staff
        message = UNEXPLAINED
    return f"{problem_label(problem.field)}: {message}"


def by_field(problems: list[Problem]) -> dict[str, list[dict[str, str]]]:
    """The problems to show beside each form field ("_general": above the form), explained."""
    shown: dict[str, list[dict[str, str]]] = {}
    for problem in problems:
        shown.setdefault(form_field(problem.field), []).append(
            {"severity": problem.severity, "field": problem.field, "text": explain(problem)}
        )
    return shown
