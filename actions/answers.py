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

from knowledge.records.schema import Guide, Procedure, Reform2025
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


def format_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


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


def _documents(proc: Procedure) -> list[str]:
    lines = []
    for i, doc in enumerate(proc.documents, 1):
        line = f"{i}. {doc.name}"
        if doc.copies > 1:
            line += f" ({doc.copies} bản)"
        if doc.note:
            line += f" — {doc.note}"
        lines.append(line)
    return lines


def _place(proc: Procedure) -> list[str]:
    return [
        proc.submission.where,
        f"Cơ quan giải quyết: {proc.agency}.",
        "Cách nộp: " + ", ".join(proc.submission.channels) + ".",
    ]


def _online(proc: Procedure) -> list[str]:
    online = proc.submission.online
    if not online.available or online.level == "không":
        return [f"Thủ tục này chưa nộp trực tuyến được; bạn nộp tại: {proc.submission.where}."]
    level = "toàn trình (không phải đến nộp giấy)" if online.level == "toàn trình" else "một phần"
    lines = [f"Có, nộp trực tuyến được — mức {level}."]
    if online.portal:
        lines.append(f"Nộp tại: {online.portal}.")
    return lines


def _steps(proc: Procedure) -> list[str]:
    if not proc.steps:
        return [f"Chưa có hướng dẫn từng bước cho thủ tục này. Nơi nộp: {proc.submission.where}."]
    return [f"{i}. {step}" for i, step in enumerate(proc.steps, 1)]


def _eligibility(proc: Procedure) -> list[str]:
    if not proc.eligibility:
        return ["Hồ sơ thủ tục không nêu điều kiện riêng; người có nhu cầu nộp hồ sơ theo hướng dẫn."]
    return [proc.eligibility]


def _overview(proc: Procedure) -> list[str]:
    return [
        f"Nơi nộp: {proc.submission.where}.",
        f"Thời gian: {proc.processing_time}",
        f"Lệ phí: {proc.fee}",
        f"Hồ sơ: {len(proc.documents)} loại giấy tờ — bấm «{ASPECTS['documents'].button}» để xem.",
        f"Trực tuyến: {_online_summary(proc)}.",
        f"Căn cứ: {proc.legal_basis[0]}" + (" và văn bản liên quan." if len(proc.legal_basis) > 1 else "."),
    ]


def _online_summary(proc: Procedure) -> str:
    online = proc.submission.online
    if not online.available or online.level == "không":
        return "chưa nộp trực tuyến được"
    return f"có, mức {online.level}"


def fee_varies_by_locality(fee: str) -> bool:
    """Fees set by each province's People's Council vary; national fees (căn cước, hộ chiếu) do not."""
    return any(marker in fold(fee) for marker in ("hdnd", "tinh quy dinh", "dia phuong", "dia ban", "moi tinh"))


def aspect_lines(proc: Procedure, aspect: str | None) -> list[str]:
    """The body of an answer about one aspect (or an overview when no aspect was asked)."""
    if aspect == "documents":
        return _documents(proc)
    if aspect == "fee":
        return [proc.fee, FEE_LOCALITY] if fee_varies_by_locality(proc.fee) else [proc.fee]
    if aspect == "time":
        return [proc.processing_time]
    if aspect == "place":
        return _place(proc)
    if aspect == "online":
        return _online(proc) + [ONLINE_LOCALITY]
    if aspect == "steps":
        return _steps(proc)
    if aspect == "eligibility":
        return _eligibility(proc)
    if aspect == "legal_basis":
        return ["• " + item for item in proc.legal_basis]
    if aspect == "result":
        return [proc.result]
    return _overview(proc)


ASSUMED_NOTE = "(Mình hiểu là bạn hỏi tiếp về thủ tục này; nếu không phải, bạn gõ rõ tên thủ tục giúp mình nhé.)"


def procedure_answer(proc: Procedure, aspect: str | None, assumed: bool = False) -> list[Reply]:
    """Procedure name and the asked aspect first, one line pointing to the rest, caution, source; then feedback.

    `assumed`: the message named nothing the search recognised and was read as a follow-up; say so.
    """
    title = f"📄 {proc.name}"
    if aspect in ASPECTS:
        title += f" — {ASPECTS[aspect].heading}:"
    lines = [title, *aspect_lines(proc, aspect)]
    if assumed:
        lines.append(ASSUMED_NOTE)
    lines.append(_pointer(aspect))
    caution = reform_caution(proc.reform_2025)
    if caution:
        lines.append(caution)
    lines.append(footer(proc.source, proc.last_reviewed))
    return [Reply("\n".join(lines), aspect_buttons(aspect)), feedback_prompt()]


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


def help_reply(procedure_count: int, domains: list[str], examples: list[tuple[str, str]]) -> Reply:
    """What the bot can do, drawn from the knowledge base itself (grows as staff add procedures)."""
    buttons = [{"title": title, "payload": choose_payload(doc_id)} for doc_id, title in examples[:MAX_CHOICES]]
    if not procedure_count:  # no index yet: still explain what to ask
        return Reply(response="utter_help_no_index", buttons=[HUMAN_BUTTON])
    variables = {"procedure_count": procedure_count, "fields": ", ".join(domains)}
    return Reply(response="utter_help", buttons=[*buttons, HUMAN_BUTTON], variables=variables)
