"""The official catalogue's sync, reviewed before it is applied: what is new, withdrawn or changed, and which curated
records it touches."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from console import audit, catalog_review, records
from console.config import Settings
from console.routes.deps import SIGNED_IN, AppSettings, Edit, app_settings
from console.routes.responses import back, confirm_first, one_change_at_a_time, page
from console.web import flash

router = APIRouter()


@router.get("/catalog", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def catalog_page(request: Request, settings: AppSettings) -> Response:
    found = catalog_review.review(settings, linked_codes(settings))
    return page(request, "catalog.html", review=found, names=records.titles(settings), what=catalog_review.CHANGED,
                active="catalog")  # fmt: skip


@router.post("/catalog/apply")
async def catalog_apply(request: Request, change: Edit) -> Response:
    return await one_change_at_a_time(request, apply_sync, change.username, change.form)


def apply_sync(request: Request, username: str, form: FormData) -> Response:
    settings = app_settings(request)
    found = catalog_review.review(settings, linked_codes(settings))
    if found is None:
        flash(request, "error", "Không có bản đồng bộ nào đang chờ duyệt.")
        return back("/catalog")
    asking = confirm_first(request, form, "Áp dụng bản đồng bộ danh mục?", what_applying_does(found),
                           "Áp dụng bản đồng bộ", "/catalog")  # fmt: skip
    if asking:
        return asking
    old_digest = catalog_review.file_digest(settings.snapshot)
    try:
        backup, digest, _output = catalog_review.apply_candidate(settings)
    except RuntimeError as error:
        flash(request, "error", f"Chưa áp dụng được: {error}")
        return back("/catalog")
    r = found.report
    summary = (f"Áp dụng đồng bộ danh mục ngày {r.day}: {len(r.new)} thủ tục mới, {len(r.withdrawn)} bãi bỏ, "
               f"{len(r.changes)} thay đổi")  # fmt: skip
    audit.log(request.app.state.db, username, "catalog.apply", "knowledge/data/official/catalog.jsonl.gz",
              summary, {"backup": backup, "sha256": old_digest}, {"sha256": digest})  # fmt: skip
    request.app.state.builder.request(f"{summary} ({username})", catalog_review.told_changes(r))
    flash(request, "ok", "Đã áp dụng bản đồng bộ. Đang dựng lại chỉ mục với danh mục mới.")
    return back("/publish")


def what_applying_does(found: catalog_review.Review) -> list[str]:
    """The confirmation's lines: what the sync changes, who reads again, and that it can be undone."""
    r = found.report
    return [
        f"Danh mục chính thức ngày {r.day}: {len(r.new)} thủ tục mới, {len(r.withdrawn)} thủ tục không còn niêm "
        f"yết, {len(r.changes)} thay đổi (phí, thời hạn, cơ quan, tên).",
        "Sau khi áp dụng, trợ lý trả lời người dân theo danh mục mới"
        + (f"; {len(found.linked)} thủ tục của Trung tâm bị ảnh hưởng cần đọc lại." if found.linked else "."),
        "Bản danh mục cũ được giữ lại: có thể hoàn tác ở trang Nhật ký thay đổi.",
    ]


def linked_codes(settings: Settings) -> dict[str, list[str]]:
    """Each official code and the curated records that link it."""
    found: dict[str, list[str]] = {}
    for row in records.curated_rows(settings):
        for code in row.codes:
            found.setdefault(code, []).append(row.id)
    return found
