"""The 2024 procedure pages (`rag4publicsector/docs/<code>.txt`): `Label:` lines, values below, Markdown tables.

They predate the 1 July 2025 reorganisation (district level, former ministries), so every record from here
is marked `predates_2025_reform` and is used only for codes the 2026 sources lack.
"""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.catalog.common import (
    METHOD_ORDER,
    PORTAL_METHODS,
    audiences_of,
    clean,
    fee_from_value,
    fold,
    legal_number,
    levels_from_text,
    one_line,
    split_list,
    split_steps,
    time_from_prose,
)
from knowledge.catalog.model import Channel, Document, Fee, LegalBasis, OfficialRecord, Source

SOURCE: Source = "rag4publicsector-2024"
CRAWLED = "2024"  # the pages carry no date; the collection was made during 2024

LABELS = (
    "Mã thủ tục", "Số quyết định", "Tên thủ tục", "Cấp thực hiện", "Loại thủ tục", "Lĩnh vực",
    "Trình tự thực hiện", "Cách thức thực hiện", "Thành phần hồ sơ", "Đối tượng thực hiện",
    "Cơ quan thực hiện", "Cơ quan có thẩm quyền", "Địa chỉ tiếp nhận HS", "Cơ quan được ủy quyền",
    "Cơ quan phối hợp", "Kết quả thực hiện", "Căn cứ pháp lý", "Yêu cầu, điều kiện thực hiện", "Từ khóa", "Mô tả",
)  # fmt: skip


def split_labels(text: str) -> dict[str, str]:
    """Values by label, reading the labels in their fixed order (values may quote a label's words)."""
    values: dict[str, str] = {}
    pos, current = 0, None
    for label in LABELS:
        found = re.compile(rf"^{re.escape(label)}:[ \t]*$", re.MULTILINE).search(text, pos)
        if found is None:
            continue
        if current is not None:
            values[current] = text[pos : found.start()]
        current, pos = label, found.end()
    if current is not None:
        values[current] = text[pos:]
    return {label: value.strip("\n") for label, value in values.items()}


def parse_doc(text: str, code: str) -> OfficialRecord | None:
    values = split_labels(text)
    if clean(values.get("Mã thủ tục")) != code or not one_line(values.get("Tên thủ tục")):
        return None
    groups = split_list(clean(values.get("Đối tượng thực hiện")))
    return OfficialRecord(
        code=code,
        name=one_line(values["Tên thủ tục"]),
        levels=levels_from_text(clean(values.get("Cấp thực hiện"))),
        fields=[one_line(values.get("Lĩnh vực"))] if one_line(values.get("Lĩnh vực")) else [],
        target_groups=groups,
        audiences=audiences_of(groups),
        agency=one_line(values.get("Cơ quan thực hiện")) or None,
        competent_authority=one_line(values.get("Cơ quan có thẩm quyền")) or None,
        where=clean(values.get("Địa chỉ tiếp nhận HS")) or None,
        channels=parse_channel_table(values.get("Cách thức thực hiện", "")),
        documents=parse_document_list(values.get("Thành phần hồ sơ", "")),
        steps=split_steps(values.get("Trình tự thực hiện", "")),
        conditions=clean(values.get("Yêu cầu, điều kiện thực hiện")) or None,
        result=split_list(clean(values.get("Kết quả thực hiện")).replace(";", "\n")),
        legal_basis=parse_legal_table(values.get("Căn cứ pháp lý", "")),
        decision=re.sub(r"\s*/\s*", "/", one_line(values.get("Số quyết định"))) or None,
        source=SOURCE,
        crawled=CRAWLED,
        detail="full",
        predates_2025_reform=True,
    )


def _table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|") or re.fullmatch(r"\|[-|\s]*\|?", line):
            continue
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows[1:] if rows else []  # the first row is the header


def parse_channel_table(text: str) -> list[Channel]:
    channels = []
    for cells in _table_rows(text):
        if len(cells) < 3 or cells[0] not in PORTAL_METHODS:
            continue
        time_cell = clean(cells[1])
        channels.append(Channel(
            method=PORTAL_METHODS[cells[0]],
            time=time_from_prose(time_cell) if time_cell else None,
            fees=parse_fee_cell(cells[2]),
            note=one_line(cells[3]) if len(cells) > 3 else "",
        ))  # fmt: skip
    return sorted(channels, key=lambda channel: METHOD_ORDER[channel.method])


_FEE_LABEL = re.compile(r"(?:Lệ phí|Phí|Mức giá)\s*:\s*")
_FEE_VALUE = re.compile(r"^(?P<amount>\d{1,3}(?:\.\d{3})+|\d+)?\s*(?P<currency>Đồng|USD)?\s*(?P<text>.*)$", re.S)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def parse_fee_cell(cell: str) -> list[Fee]:
    """"Phí : 600000 Đồng text  Phí : 2400000 Đồng text" → one Fee per "Phí :" part."""
    parts = [part for part in _FEE_LABEL.split(_LINK.sub(r"\1", cell)) if part.strip()]
    return [fee for fee in (_fee_part(part) for part in parts) if fee is not None]


def _fee_part(part: str) -> Fee | None:
    found = _FEE_VALUE.match(part.strip())
    assert found is not None  # every group is optional
    text = one_line(found.group("text"))
    if found.group("amount"):
        amount = float(found.group("amount").replace(".", ""))
        return fee_from_value(amount, "USD" if found.group("currency") == "USD" else "VND", text)
    if not text:
        return None
    if re.match(r"(?i)(miễn|không)", text) or fold(text).startswith("mien phi"):
        return Fee(kind="free", text=text)
    fee = fee_from_value(0, None, text)
    # Without an amount or an explicit "free", a reference to a regulation is not a promise of free service.
    return fee if fee.kind == "province" else Fee(kind="described", text=text)


_DOC_LINE = re.compile(
    r"^-\s*(?P<originals>\d+)\s*Bản chính(?:\s*,\s*(?P<copies>\d+)\s*Bản sao)?\s*[-+]?\s*(?P<name>.*)$"
    r"|^-\s*(?P<only_copies>\d+)\s*Bản sao\s*[-+]?\s*(?P<copy_name>.*)$",
    re.IGNORECASE,
)
_FORM_LINK = re.compile(r"\(\[([^\]]+)\]\([^)]*\)\)")


def parse_document_list(text: str) -> list[Document]:
    documents, group = [], None
    for line in text.splitlines():
        line = line.strip()
        found = _DOC_LINE.match(line)
        if found is None:
            if line and line != "Bao gồm" and not line.startswith("-"):
                group = one_line(line).strip(" :") or group  # "1. Hồ sơ đăng ký thương nhân gồm:", "Trường hợp 1"
            continue
        raw_name = found.group("name") if found.group("name") is not None else found.group("copy_name")
        forms = _FORM_LINK.findall(raw_name)
        name = one_line(_FORM_LINK.sub("", raw_name)).strip(" ;")
        if not name:
            continue
        originals = int(found.group("originals")) if found.group("originals") else 0
        copies = int(found.group("copies") or found.group("only_copies") or 0)
        documents.append(Document(name=name, originals=originals, copies=copies,
                                  form=forms[0] if forms else None, group=group))  # fmt: skip
    return documents


def parse_legal_table(text: str) -> list[LegalBasis]:
    items = []
    for cells in _table_rows(text):
        if not cells or not cells[0]:
            continue
        number = legal_number(cells[0])
        title = one_line(cells[1]) if len(cells) > 1 else ""
        items.append(LegalBasis(number=number or one_line(cells[0]), title=title or cells[0]))
    return items


def read_docs(docs_dir: Path) -> list[tuple[str, str]]:
    return [(path.stem, path.read_text(encoding="utf-8")) for path in sorted(docs_dir.glob("*.txt"))]
