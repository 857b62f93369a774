"""Citizens waiting for a person: the queue, and its steps (take, reply, release, done) worked from the console
beside the Telegram staff group (bot.handoff_state keeps who has which request)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import handoff_state
from console import audit, conversations, records
from console.routes.deps import SIGNED_IN, Change, RowEdit, RowId, app_settings, editor_change
from console.routes.responses import back, confirm_first, one_change_at_a_time, page
from console.web import Forbidden, flash
from journal import callbacks
from knowledge.text import clean, mask_personal_numbers

router = APIRouter()
MAX_REPLY = 3000  # characters of an officer's reply (Telegram splits anything over 4096 anyway)
# A handoff's steps in the console: what the citizen is told, the confirmation asked first, the audit line, the notice.
HANDOFF_STEPS = ("take", "reply", "release", "done")
HANDOFF_TOLD = {"take": handoff_state.CITIZEN_CLAIMED, "release": handoff_state.CITIZEN_RELEASED,
                "done": handoff_state.CITIZEN_BACK_TO_BOT}  # fmt: skip
HANDOFF_CONFIRM = {"release": "Trả lại yêu cầu #{entry_id} cho cán bộ khác?",
                   "done": "Kết thúc hỗ trợ yêu cầu #{entry_id}?"}  # fmt: skip
HANDOFF_BUTTON = {"release": "Trả lại yêu cầu", "done": "Kết thúc, trả người dân về trợ lý"}
HANDOFF_AUDIT = {
    "take": "{username} nhận yêu cầu gặp cán bộ #{entry_id}",
    "reply": "{username} trả lời người dân (yêu cầu #{entry_id}): «{text}»",
    "release": "{username} trả lại yêu cầu gặp cán bộ #{entry_id} cho cán bộ khác",
    "done": "{username} kết thúc hỗ trợ yêu cầu #{entry_id}; người dân được trả về trợ lý tự động",
}
HANDOFF_DONE = {
    "take": "Bạn đã nhận yêu cầu #{entry_id}. Người dân được báo trên Telegram.",
    "reply": "Đã gửi câu trả lời cho người dân (yêu cầu #{entry_id}).",
    "release": "Đã trả lại yêu cầu #{entry_id}; yêu cầu đang chờ cán bộ khác nhận.",
    "done": "Đã kết thúc yêu cầu #{entry_id}; người dân được trả về trợ lý tự động.",
}


@router.get("/handoffs", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def handoffs_page(request: Request) -> Response:
    return queue_page(request, {})


def queue_page(request: Request, revealed: dict[int, list[str]]) -> Response:
    """The queue; `revealed`: the callback numbers the officer asked to see, by request."""
    queue = conversations.handoffs()
    names = records.titles(app_settings(request)) if any(h.procedure_id for h in queue) else {}
    # Only ids here: whether a callback number exists, never the number (see /handoffs/{id}/callback).
    with_numbers = callbacks.entries_with_numbers([h.id for h in queue])
    response = page(request, "handoffs.html", queue=queue, names=names, with_numbers=with_numbers,
                    revealed=revealed, bridge=conversations.bridge_store() is not None,
                    told=HANDOFF_TOLD, officer_name=handoff_state.officer_name, active="handoffs")  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/handoffs/{entry_id}/callback", response_class=HTMLResponse)
async def reveal_callback(request: Request, entry_id: RowId, change: RowEdit) -> Response:
    return await run_in_threadpool(callback_numbers, request, change.username, entry_id)


def callback_numbers(request: Request, username: str, entry_id: int) -> Response:
    """The citizen's callback number, to the staff member who took the request only; each look is audited."""
    if conversations.claimed_by(entry_id) != username:
        raise Forbidden("Chỉ cán bộ đã nhận yêu cầu này mới xem được số gọi lại của người dân.")
    numbers = callbacks.numbers_for(entry_id)
    if not numbers:
        flash(request, "info", f"Yêu cầu #{entry_id} không còn số gọi lại (đã quá hạn lưu hoặc đã bị xóa).")
        return back("/handoffs")
    summary = f"{username} xem số gọi lại của yêu cầu gặp cán bộ #{entry_id}"
    audit.log(request.app.state.db, username, "handoff.callback_reveal", f"handoff #{entry_id}", summary, None,
              {"entry_id": entry_id})  # fmt: skip
    return queue_page(request, {entry_id: numbers})


async def step_change(request: Request, entry_id: RowId, action: str) -> Change:
    """An editor's step on a handoff: a bad id (400) or an unknown step (404) is refused before the form's checks."""
    if action not in HANDOFF_STEPS:
        raise StarletteHTTPException(404)
    return await editor_change(request)


@router.post("/handoffs/{entry_id}/{action}")
async def handoff_step(request: Request, entry_id: RowId, action: str,
                       change: Annotated[Change, Depends(step_change)]) -> Response:  # fmt: skip
    return await one_change_at_a_time(request, take_step, change.username, entry_id, action, change.form)


def take_step(request: Request, username: str, entry_id: int, action: str, form: FormData) -> Response:
    """Claim, reply, give back or finish a handoff (bot.handoff_state): the citizen is told on Telegram, the
    staff group sees it, the audit log keeps it (masked)."""
    text = reply_text(str(form.get("text") or "")) if action == "reply" else ""
    if action == "reply" and not text:
        flash(request, "error", "Hãy viết câu trả lời trước khi gửi.")
        return back(f"/handoffs#handoff-{entry_id}")
    asking = confirm_step(request, form, username, entry_id, action)
    if asking:
        return asking
    refused = step_refused(request, username, entry_id, action, text)
    if refused:
        return refused
    summary = HANDOFF_AUDIT[action].format(username=username, entry_id=entry_id, text=mask_personal_numbers(text))
    audit.log(request.app.state.db, username, f"handoff.{action}", f"handoff #{entry_id}", summary, None,
              {"entry_id": entry_id})  # fmt: skip
    flash(request, "ok", HANDOFF_DONE[action].format(entry_id=entry_id))
    return back(f"/handoffs#handoff-{entry_id}")


def confirm_step(request: Request, form: FormData, username: str, entry_id: int, action: str) -> Response | None:
    """Giving a request back or finishing it is confirmed first, with what the citizen will be told."""
    if action not in ("release", "done"):
        return None
    told = HANDOFF_TOLD[action].format(officer=handoff_state.officer_name(username))
    return confirm_first(request, form, HANDOFF_CONFIRM[action].format(entry_id=entry_id),
                         ["Người dân sẽ nhận trên Telegram: «" + told + "»"], HANDOFF_BUTTON[action],
                         f"/handoffs#handoff-{entry_id}")  # fmt: skip


def step_refused(request: Request, username: str, entry_id: int, action: str, text: str) -> Response | None:
    """The step taken through the bridge's state; why it could not be (None: it was)."""
    try:
        conversations.step(entry_id, username, action, text)
    except conversations.NoBridge:
        flash(request, "error", "Bảng điều khiển chưa kết nối được với cầu nối Telegram: hãy xử lý yêu cầu trong "
                                "nhóm cán bộ trên Telegram.")  # fmt: skip
        return back("/handoffs")
    except (LookupError, handoff_state.NotOpen):
        flash(request, "error", f"Yêu cầu #{entry_id} đã kết thúc: người dân đang được trợ lý tự động trả lời.")
        return back("/handoffs")
    except handoff_state.TakenByAnother as taken:
        who = taken.officer or "không ai"
        flash(request, "error", f"Yêu cầu #{entry_id} đang do {who} phụ trách; bạn chưa thao tác được.")
        return back(f"/handoffs#handoff-{entry_id}")
    return None


def reply_text(typed: str) -> str:
    """An officer's reply, cleaned line by line (its paragraphs kept), at most MAX_REPLY characters."""
    return "\n".join(clean(line) for line in typed.splitlines()).strip()[:MAX_REPLY]
