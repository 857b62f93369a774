"""Conversations: the list (searched by words and day, filtered by marker), a transcript, and a citizen's data
deleted on request."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

import journal
from console import audit, conversation_search, conversations
from console.routes.deps import SIGNED_IN, AppSettings, Edit, PageNo, app_settings
from console.routes.responses import back, page
from console.web import flash
from journal import erasure
from knowledge.text import clean

router = APIRouter()
CONVERSATION_KEY = re.compile(r"^[0-9a-f]{16}$")
CONVERSATIONS_PER_PAGE = 50


@router.get("/conversations", response_class=HTMLResponse)
def conversations_page(request: Request, settings: AppSettings, page_no: PageNo, q: str = "", day: str = "",
                       marker: str = "") -> Response:  # fmt: skip
    words, problem = clean(q)[: conversation_search.MAX_WORDS], ""
    try:
        on_day = conversation_search.parse_day(day[:20])
    except conversation_search.BadDay as bad:
        on_day, problem = None, str(bad)
    filters = conversation_search.Filters(words, on_day, marker if marker in conversation_search.MARKERS else "")
    per_page = CONVERSATIONS_PER_PAGE
    found = conversation_search.listing(settings.tracker_url, filters, per_page, (page_no - 1) * per_page)
    query = {"q": words, "day": day.strip()[:20], "marker": filters.marker}
    return page(request, "conversations.html", conversations=found, page_no=page_no, filters=filters,
                query=query, markers=conversation_search.MARKERS, day_problem=problem, per_page=per_page,
                active="conversations")  # fmt: skip


@router.get("/conversations/{key}", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def conversation_page(request: Request, settings: AppSettings, key: str) -> Response:
    turns = conversations.transcript(settings.tracker_url, key) if CONVERSATION_KEY.match(key) else None
    if turns is None:
        raise StarletteHTTPException(404)
    return page(request, "conversation.html", key=key, turns=turns, active="conversations")


@router.post("/conversations/forget")
async def forget_citizen(request: Request, change: Edit) -> Response:
    return await run_in_threadpool(forget, request, change.username, change.form)


def forget(request: Request, username: str, form: FormData) -> Response:
    """A citizen's deletion request made to staff: the same deletion as the bot's (journal/erasure.py)."""
    chat = clean(str(form.get("chat") or ""))
    if not chat or len(chat) > 128:
        flash(request, "error", "Hãy nhập mã cuộc trò chuyện (số chat Telegram, hoặc mã người gửi) cần xóa.")
        return back("/conversations")
    if form.get("confirm") != "yes":
        flash(request, "error", "Hãy đánh dấu ô xác nhận trước khi xóa: dữ liệu đã xóa không khôi phục được.")
        return back("/conversations")
    deleted = erasure.forget(chat, tracker=app_settings(request).tracker_url)
    key = journal.hash_sender(chat)
    summary = (f"Xóa dữ liệu của người dân (mã hội thoại {key}) theo yêu cầu: {deleted['tracker_events']} sự "
               f"kiện hội thoại, {deleted['journal_entries']} dòng nhật ký, {deleted['callback_numbers']} số gọi "
               f"lại, {deleted['bridge_rows']} dòng của cầu nối Telegram")  # fmt: skip
    audit.log(request.app.state.db, username, "privacy.forget", f"hội thoại {key}", summary, None, deleted)
    flash(request, "ok", f"Đã xóa dữ liệu của cuộc trò chuyện {key}.")
    return back("/conversations")
