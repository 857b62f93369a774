"""The audit log: every change, by whom and when, and its revert (itself logged)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from console import audit, dashboard, records
from console.routes.deps import AppSettings, PageNo, RowEdit, RowId, app_settings
from console.routes.responses import back, confirm_first, one_change_at_a_time, page
from console.web import flash

router = APIRouter()
ENTRIES_PER_PAGE = 50


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, settings: AppSettings, page_no: PageNo) -> Response:
    found = audit.entries(request.app.state.db, ENTRIES_PER_PAGE, (page_no - 1) * ENTRIES_PER_PAGE)
    return page(request, "audit.html", entries=found, page_no=page_no, names=records.titles(settings),
                active="audit")  # fmt: skip


@router.post("/audit/{entry_id}/revert")
async def revert(request: Request, entry_id: RowId, change: RowEdit) -> Response:
    return await one_change_at_a_time(request, revert_entry, change.username, entry_id, change.form)


def revert_entry(request: Request, username: str, entry_id: int, form: FormData) -> Response:
    asking = confirm_revert(request, entry_id, form)
    if asking:
        return asking
    try:
        done = audit.revert(request.app.state.db, app_settings(request), entry_id, username)
    except audit.RevertRefused as refused:
        flash(request, "error", f"Không hoàn tác được #{entry_id}: {refused}")
        return back("/audit")
    if done.rebuild:
        publish_revert(request, username, entry_id)
    flash(request, "ok", f"Đã hoàn tác thay đổi #{entry_id}" + (" và đang xuất bản lại." if done.rebuild else "."))
    return back("/audit")


def publish_revert(request: Request, username: str, entry_id: int) -> None:
    """Publish a revert, saying on the publish page which change was undone and for which record."""
    names = records.titles(app_settings(request))
    reverted = audit.entry(request.app.state.db, entry_id)
    what = f": {reverted.headline(names)}" if reverted else ""
    name = names.get(reverted.target) if reverted else None
    told = [f"«{name}»: trở lại như trước thay đổi #{entry_id}"] if name else []
    request.app.state.builder.request(f"Hoàn tác thay đổi #{entry_id}{what} ({username})", told)


def confirm_revert(request: Request, entry_id: int, form: FormData) -> Response | None:
    """What the revert removes and brings back, asked first (None: confirmed, or nothing that can be reverted)."""
    found = audit.entry(request.app.state.db, entry_id)
    if found is None or not found.revertible:
        return None  # audit.revert says why
    changes = [change.reversed() for change in found.field_changes()]
    return confirm_first(request, form, f"Hoàn tác thay đổi #{entry_id}?", [
        f"{found.action_name} lúc {dashboard.show_time(found.ts)}, do {found.username}: "
        f"{found.headline(records.titles(app_settings(request)))}.",
        "Hoàn tác là trả lại nội dung như trước thay đổi này"
        + (" (bên dưới: nội dung đang dùng và nội dung sẽ trở lại)." if changes else ".")
        + " Việc hoàn tác cũng được ghi vào nhật ký."],
        "Hoàn tác thay đổi này", "/audit", changes=changes)  # fmt: skip
