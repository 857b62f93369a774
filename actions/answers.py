"""What the citizen reads: pure functions from knowledge records to short, phone-sized replies.

No Rasa, no I/O: every function takes records or plain values and returns `Reply` objects, so the wording is
tested on its own (tests/actions/test_answers.py). Plain text only (no Markdown): the Telegram bridge sends it as is.

The answers built from record fields have their templates here. Fixed replies (greeting, help, fallback, handoff,
out of scope, restart, feedback thanks...) are `responses` in domain.yml, with their variations and static buttons:
a `Reply(response="utter_...")` names one, and Rasa renders it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from actions import cases
from knowledge import clock
from knowledge.records.facts import ProcedureFacts, format_date
from knowledge.records.schema import Guide, Reform2025
from knowledge.text import fold


@dataclass(frozen=True)
class Aspect:
    key: str
    intent: str  # the intent a button sends ("/ask_fee")
    button: str  # short button label
    heading: str  # what the answer's first line says


ASPECTS: dict[str, Aspect] = {
    a.key: a
    for a in (
        Aspect("documents", "ask_documents", "Hồ sơ cần gì", "hồ sơ cần chuẩn bị"),
        Aspect("fee", "ask_fee", "Lệ phí", "lệ phí"),
        Aspect("time", "ask_time", "Thời gian", "thời gian giải quyết"),
        Aspect("place", "ask_place", "Nộp ở đâu", "nơi nộp hồ sơ"),
        Aspect("online", "ask_online", "Nộp trực tuyến", "nộp trực tuyến"),
        Aspect("steps", "ask_steps", "Các bước", "các bước thực hiện"),
        Aspect("eligibility", "ask_eligibility", "Ai được làm", "đối tượng, điều kiện"),
        Aspect("legal_basis", "ask_legal_basis", "Căn cứ pháp lý", "căn cứ pháp lý"),
        Aspect("result", "ask_result", "Kết quả", "kết quả nhận được"),
        Aspect("deadline", "ask_deadline", "Hạn phải làm", "hạn phải đi làm thủ tục"),
    )
}
INTENT_TO_ASPECT: dict[str, str] = {a.intent: a.key for a in ASPECTS.values()}
# The questions citizens ask next most often: offered as buttons under every answer.
NEXT_ASPECTS: tuple[str, ...] = ("documents", "fee", "time", "place", "online")
MAX_CHOICES = 4

FEEDBACK_QUESTION = "Câu trả lời có hữu ích không?"
HUMAN_BUTTON = {"title": "Gặp cán bộ", "payload": "/request_human"}
FEE_LOCALITY = "Mức thu (nếu có) do HĐND cấp tỉnh quyết định nên có thể khác nhau giữa các địa phương."
ONLINE_LOCALITY = "Một số tỉnh còn có cổng dịch vụ công riêng; cách nộp có thể khác đôi chút theo địa phương."


@dataclass
class Reply:
    """One bot message: text or a domain response (`utter_*`, filled with `variables`), optional buttons (after the
    response's own), optional custom JSON for the Telegram bridge."""

    text: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    custom: dict[str, Any] | None = None
    response: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    def as_kwargs(self) -> dict[str, Any]:
        """Arguments for rasa_sdk's `dispatcher.utter_message`."""
        kwargs: dict[str, Any] = dict(self.variables)
        if self.response is not None:
            kwargs["response"] = self.response
        if self.text is not None:
            kwargs["text"] = self.text
        if self.buttons:
            kwargs["buttons"] = self.buttons
        if self.custom is not None:
            kwargs["json_message"] = self.custom
        return kwargs


def utter(response: str, **variables: Any) -> Reply:
    """A fixed reply written in domain.yml `responses`."""
    return Reply(response=response, variables=variables)


# ---------------------------------------------------------------- small pieces


def footer(source: str, last_reviewed: dt.date) -> str:
    return f"Nguồn: {source} · cập nhật {format_date(last_reviewed)}"


REFORM_CAUTION = (
    "⚠️ Thông tin này chưa được xác minh lại sau sắp xếp chính quyền hai cấp (từ 1/7/2025): "
    "bạn nên hỏi lại Bộ phận Một cửa nơi nộp trước khi đi."
)


def reform_caution(reform: Reform2025 | None) -> str | None:
    """A visible warning when staff have not yet confirmed the record after the 1/7/2025 reorganisation.

    The record's own note is written for staff (what to check), so the citizen gets a fixed short caution.
    """
    if reform is None or reform.status != "unverified":
        return None
    return REFORM_CAUTION


def choose_payload(doc_id: str) -> str:
    return "/choose_procedure" + json.dumps({"procedure_id": doc_id}, separators=(",", ":"))


def aspect_buttons(skip: str | None) -> list[dict[str, str]]:
    return [{"title": ASPECTS[k].button, "payload": f"/{ASPECTS[k].intent}"} for k in NEXT_ASPECTS if k != skip]


def feedback_prompt() -> Reply:
    return Reply(
        FEEDBACK_QUESTION,
        [
            {"title": "👍", "payload": '/feedback{"feedback":"up"}'},
            {"title": "👎", "payload": '/feedback{"feedback":"down"}'},
        ],
    )


def _pointer(skip: str | None) -> str:
    rest = [ASPECTS[k].heading for k in NEXT_ASPECTS if k != skip]
    return "👉 Xem thêm " + ", ".join(rest) + ": bấm nút bên dưới."


# ---------------------------------------------------------------- procedure aspects

ASSUMED_NOTE = "(Mình hiểu là bạn hỏi tiếp về thủ tục này; nếu không phải, bạn gõ rõ tên thủ tục giúp mình nhé.)"
PAGE_SIZE = 6  # list items (documents, steps, legal texts) per message: a phone screen, not a wall of text
NO_DETAILS = (
    "Danh mục thủ tục chính thức có thủ tục này nhưng mình chưa có chi tiết (hồ sơ, thời gian, lệ phí). "
    "Bạn xem đầy đủ trên Cổng Dịch vụ công hoặc hỏi Bộ phận Một cửa."
)


def _page(items: list[str], page: int) -> tuple[list[str], bool]:
    """Items of one page, numbered across pages, and whether more follow."""
    start = (page - 1) * PAGE_SIZE
    shown = [f"{start + i}. {item}" for i, item in enumerate(items[start : start + PAGE_SIZE], 1)]
    return shown, start + PAGE_SIZE < len(items)


DOCUMENT_CHARS = 200  # one paper's line; the official wording runs to 400 characters, the portal link has it all
SCREEN_CHARS = 900  # a documents page: about one phone screen


def _document_items(facts: ProcedureFacts, case: str | None = None) -> tuple[str | None, list[str]]:
    """(the line naming the citizen's case, the papers in the order they need them: actions/cases.py)."""
    label, documents = cases.case_documents(facts, case)
    items = []
    for doc in documents:
        item = doc.name.lstrip("-–• ").strip()  # the portal's cells often start with a dash of their own
        if len(item) > DOCUMENT_CHARS:
            item = item[:DOCUMENT_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " …"
        if doc.copies:
            item += f" ({doc.copies})"
        if doc.handling == "xuất trình":
            item += " — chỉ xuất trình, không nộp"
        if doc.note:
            item += f" — {doc.note}"
        items.append(item)
    return label, items


def _screen_pages(items: list[str]) -> list[list[str]]:
    """Items split into pages of at most PAGE_SIZE items and about SCREEN_CHARS characters (at least one each)."""
    pages: list[list[str]] = [[]]
    for item in items:
        used = sum(len(line) + 4 for line in pages[-1])  # "12. " and the line break
        if pages[-1] and (len(pages[-1]) >= PAGE_SIZE or used + len(item) + 4 > SCREEN_CHARS):
            pages.append([])
        pages[-1].append(item)
    return pages


def _document_page(facts: ProcedureFacts, case: str | None, page: int) -> tuple[list[str], bool]:
    label, items = _document_items(facts, case)
    pages = _screen_pages(items)
    page = min(page, len(pages))
    start = sum(len(p) for p in pages[: page - 1])
    lines = [f"{start + i}. {item}" for i, item in enumerate(pages[page - 1], 1)]
    return ([label] if label and page == 1 else []) + lines, page < len(pages)


def _by_channel(facts: ProcedureFacts, value: str, day: dt.date | None = None) -> list[str]:
    """One line per way of submitting, or a single line when every way says the same (fees: on `day`)."""
    values = [(c.method, c.fee_on(day) if value == "fee" and day else getattr(c, value)) for c in facts.channels]
    pairs = [(method, v) for method, v in values if v]
    if not pairs:
        return []
    if len({v for _, v in pairs}) == 1:
        return [pairs[0][1]]
    return [f"• {method.capitalize()}: {v}" for method, v in pairs]


def fee_varies_by_locality(fee: str) -> bool:
    """Fees set by each province's People's Council vary; national fees (căn cước, hộ chiếu) do not."""
    return any(marker in fold(fee) for marker in ("hdnd", "tinh quy dinh", "dia phuong", "dia ban", "moi tinh"))


def _fee(facts: ProcedureFacts, day: dt.date | None = None) -> list[str]:
    """What to pay on the day asked: reductions in force applied, ended ones dropped (knowledge/records/facts.py)."""
    lines = _by_channel(facts, "fee", day or clock.today()) or [
        "Hồ sơ thủ tục không ghi lệ phí; bạn hỏi lại nơi nộp giúp mình nhé."
    ]
    if facts.fee_by_province or any(fee_varies_by_locality(c.fee or "") for c in facts.channels):
        lines.append(FEE_LOCALITY)
    return lines


def _time(facts: ProcedureFacts) -> list[str]:
    return _by_channel(facts, "time") or ["Hồ sơ thủ tục không ghi thời hạn giải quyết."]


def _place(facts: ProcedureFacts) -> list[str]:
    lines = [f"Nơi nộp: {facts.where}."] if facts.where else []
    if facts.agency:
        # the level only when the agency's name does not already say it ("Ủy ban nhân dân cấp xã")
        level = f" ({facts.level_text})" if facts.level_text and "cấp" not in facts.agency.lower() else ""
        lines.append(f"Cơ quan giải quyết: {facts.agency}{level}.")
    if facts.channels:
        lines.append("Cách nộp: " + ", ".join(c.method for c in facts.channels) + ".")
    if facts.level_note and lines:
        lines.append(facts.level_note)
    return lines or ["Hồ sơ thủ tục không ghi nơi nộp; bạn hỏi Bộ phận Một cửa cấp xã gần nhất giúp mình nhé."]


def _online(facts: ProcedureFacts) -> list[str]:
    if not facts.online:
        where = f" Bạn nộp tại: {facts.where}." if facts.where else ""
        return [f"Thủ tục này chưa nộp trực tuyến được.{where}"]
    level = {"toàn trình": " — toàn trình (không phải đến nộp giấy)", "một phần": " — một phần"}
    lines = [f"Có, nộp trực tuyến được{level.get(facts.online_note or '', '')}."]
    if facts.online_where:
        lines.append(f"Nộp tại: {facts.online_where}")
    return [*lines, ONLINE_LOCALITY]


DEADLINE_UNKNOWN = "Hồ sơ thủ tục không nêu thời hạn bạn phải đi làm thủ tục này (tính từ khi có sự việc)."
DEADLINE_APART = "Thời gian giải quyết (tính từ khi nộp đủ hồ sơ, là việc khác): "


def _deadline(facts: ProcedureFacts) -> list[str]:
    """By when the citizen must apply: from the record, never its processing time, which comes apart and labelled."""
    lines = [facts.deadline] if facts.deadline else [DEADLINE_UNKNOWN]
    time = "; ".join(t.lstrip("• ") for t in _by_channel(facts, "time"))
    if time:
        lines.append(DEADLINE_APART + time + ".")
    return lines


def _overview(facts: ProcedureFacts, day: dt.date | None = None) -> list[str]:
    lines = [f"Tên chính thức: {_cut(facts.official_name)}"] if facts.official_name else []
    lines += [line for line in _place(facts) if line != facts.level_note][:2]  # the note once, below
    if facts.level_note and lines:
        lines.append(facts.level_note)
    time, fee = _time(facts), _fee(facts, day)
    lines.append("Thời gian: " + ("; ".join(t.lstrip("• ") for t in time)))
    lines.append("Lệ phí: " + ("; ".join(f.lstrip("• ") for f in fee if f != FEE_LOCALITY)))
    if facts.documents:
        lines.append(f"Hồ sơ: {len(facts.documents)} loại giấy tờ — bấm «{ASPECTS['documents'].button}» để xem.")
    online = "chưa nộp trực tuyến được"
    if facts.online:
        online = f"có, tại {facts.online_where}"
        if facts.portal_url:  # the link closes the answer; not twice
            online = "có, trên Cổng Dịch vụ công (đường dẫn bên dưới)"
    lines.append(f"Trực tuyến: {online}")
    if facts.legal_basis:
        more = " và văn bản liên quan." if len(facts.legal_basis) > 1 else "."
        lines.append(f"Căn cứ: {facts.legal_basis[0]}{more}")
    return lines


def aspect_lines(
    facts: ProcedureFacts, aspect: str | None, page: int = 1, day: dt.date | None = None, case: str | None = None
) -> tuple[list[str], bool]:
    """The body of an answer about one aspect (or an overview), and whether a list goes on to another page.

    `case`: the citizen's case (actions/cases.py): its papers first, then those every case needs.
    `day`: the date of the question (default: knowledge.clock.today()), for fees that depend on it."""
    day = day or clock.today()
    if aspect == "documents" and facts.documents:
        return _document_page(facts, case, page)
    if aspect == "eligibility" and cases.find_case(facts, case):
        return cases.case_eligibility(facts, case), False
    lists = {"steps": list(facts.steps), "legal_basis": list(facts.legal_basis)}
    if aspect in lists and lists[aspect]:
        return _page(lists[aspect], page)
    simple = {
        "fee": lambda f: _fee(f, day), "time": _time, "place": _place, "online": _online, "deadline": _deadline,
        "documents": lambda f: ["Hồ sơ thủ tục không liệt kê giấy tờ; bạn hỏi lại nơi nộp giúp mình nhé."],
        "steps": lambda f: [f"Chưa có hướng dẫn từng bước cho thủ tục này. Nơi nộp: {f.where or 'Bộ phận Một cửa'}."],
        "legal_basis": lambda f: ["Hồ sơ thủ tục không ghi căn cứ pháp lý."],
        "eligibility": lambda f: [f.eligibility or "Hồ sơ thủ tục không nêu điều kiện riêng."],
        "result": lambda f: [f.result or "Hồ sơ thủ tục không ghi kết quả."],
    }  # fmt: skip
    return (simple[aspect](facts) if aspect in simple else _overview(facts, day)), False


TITLE_CHARS = 160  # some official names run to several hundred characters: a phone shows the start


def procedure_title(facts: ProcedureFacts) -> str:
    code = f" (mã {facts.code})" if facts.code else ""
    return f"📄 {_cut(facts.name)}{code}"


def _cut(name: str) -> str:
    return name if len(name) <= TITLE_CHARS else name[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def more_button(aspect: str, page: int) -> dict[str, str]:
    payload = f"/{ASPECTS[aspect].intent}" + json.dumps({"page": str(page + 1)}, separators=(",", ":"))
    return {"title": f"Xem tiếp ({ASPECTS[aspect].heading})", "payload": payload}


def variant_buttons(variants: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"title": f"Trường hợp: {title}", "payload": choose_payload(doc_id)} for doc_id, title in variants]


def procedure_answer(
    facts: ProcedureFacts,
    aspect: str | None,
    assumed: bool = False,
    page: int = 1,
    variants: list[tuple[str, str]] | None = None,
    day: dt.date | None = None,
    case: str | None = None,
) -> list[Reply]:
    """Name and code, the asked aspect, a pointer to the rest, caution, source and portal link; then feedback.

    `assumed`: the message named nothing the search recognised and was read as a follow-up; say so.
    `variants`: other cases of the same procedure (doc_id, title), offered as buttons ("which case?").
    `day`: the date of the question (default: today by knowledge.clock), for fees reduced for a period.
    `case`: the citizen's case of a procedure whose papers depend on it (actions/cases.py).
    """
    title = procedure_title(facts)
    if not facts.has_details:
        lines = [title, NO_DETAILS]
        if facts.portal_url:
            lines.append(f"Xem trên Cổng: {facts.portal_url}")
        lines.append(facts.source_line)
        return [Reply("\n".join(lines), [HUMAN_BUTTON]), feedback_prompt()]
    if aspect in ASPECTS:
        title += f" — {ASPECTS[aspect].heading}" + (f" (trang {page})" if page > 1 else "") + ":"
    body, more = aspect_lines(facts, aspect, page, day, case)
    lines = [title, *body]
    if assumed:
        lines.append(ASSUMED_NOTE)
    if variants:
        lines.append("Nếu bạn thuộc trường hợp khác, chọn ở nút bên dưới.")
    lines.append(_pointer(aspect))
    lines += [line for line in (facts.caution,) if line]
    if facts.portal_url:
        lines.append(f"Xem trên Cổng: {facts.portal_url}")
    lines.append(facts.source_line)
    buttons = [more_button(aspect, page)] if more and aspect else []
    if aspect == "documents" and cases.find_case(facts, case):  # the whole list, for another case
        buttons.append(cases.other_case_button())
    buttons += variant_buttons((variants or [])[:MAX_CHOICES - 1]) + aspect_buttons(aspect)
    return [Reply("\n".join(lines), buttons), feedback_prompt()]


# ---------------------------------------------------------------- guides, choices, not sure


def guide_answer(guide: Guide, passage: str) -> list[Reply]:
    """A guide (one-stop shop, online services, reform facts): title and the short matching passage."""
    passage = passage.strip()
    if passage.startswith(guide.title):  # index views repeat the title before the section text
        passage = passage[len(guide.title):].lstrip(" —-:").strip() or passage
    lines = [f"ℹ️ {guide.title}", passage]
    caution = reform_caution(guide.reform_2025)
    if caution:
        lines.append(caution)
    lines.append(footer(guide.source, guide.last_reviewed))
    return [Reply("\n".join(lines), [HUMAN_BUTTON]), feedback_prompt()]


def clarify(choices: list[tuple[str, str]], aspect: str | None) -> Reply:
    """Several procedures fit: ask which one, one button per candidate (doc_id, title)."""
    about = f" (về {ASPECTS[aspect].heading})" if aspect in ASPECTS else ""
    buttons = [{"title": title, "payload": choose_payload(doc_id)} for doc_id, title in choices[:MAX_CHOICES]]
    return Reply(f"Bạn muốn hỏi thủ tục nào{about}?", [*buttons, HUMAN_BUTTON])


def which_procedure(aspect: str | None) -> Reply:
    """A follow-up ("mất phí không?") arrived before any procedure was discussed."""
    about = ASPECTS[aspect].heading if aspect in ASPECTS else "thông tin"
    return Reply(
        f"Bạn muốn hỏi {about} của thủ tục nào? Bạn gõ tên thủ tục giúp mình, "
        "ví dụ: «lệ phí đăng ký khai sinh», «sang tên xe nộp ở đâu»."
    )


def not_sure(nearest: list[tuple[str, str]]) -> Reply:
    """No confident match: say so, show the nearest topics and offer a person."""
    text = "Xin lỗi, mình chưa chắc chắn về câu hỏi này nên không muốn trả lời sai."
    if nearest:
        text += " Có thể bạn đang hỏi một trong các chủ đề dưới đây."
    text += " Bạn cũng có thể gặp cán bộ để được giải đáp trực tiếp."
    buttons = [{"title": title, "payload": choose_payload(doc_id)} for doc_id, title in nearest[:3]]
    return Reply(text, [*buttons, HUMAN_BUTTON])


# ---------------------------------------------------------------- handoff and help (their text is in domain.yml)


def handoff(question: str | None) -> Reply:
    """Tell the citizen a person will answer (utter_handoff); the custom JSON makes the bridge relay to staff."""
    return Reply(response="utter_handoff", custom={"handoff": True, "question": question or ""})


def forget_done() -> Reply:
    """Deletion confirmed (utter_forget_done); the custom JSON tells the channel to delete once Rasa answered."""
    return Reply(response="utter_forget_done", custom={"forget": True})


def help_reply(procedure_count: int, domains: list[str], examples: list[tuple[str, str]]) -> Reply:
    """What the bot can do, drawn from the knowledge base itself (grows as staff add procedures)."""
    buttons = [{"title": title, "payload": choose_payload(doc_id)} for doc_id, title in examples[:MAX_CHOICES]]
    if not procedure_count:  # no index yet: still explain what to ask
        return Reply(response="utter_help_no_index", buttons=[HUMAN_BUTTON])
    variables = {"procedure_count": procedure_count, "fields": ", ".join(domains)}
    return Reply(response="utter_help", buttons=[*buttons, HUMAN_BUTTON], variables=variables)
