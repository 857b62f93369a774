"""Publishing: the index builds (current, queued, past) in staff's words (console.publications), the progress line
every page polls, and a rebuild on demand."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from console import records
from console.builds import status as build_status
from console.publications import publication, publications, published_at
from console.routes.deps import SIGNED_IN, AppBuilder, Edit, app_settings
from console.routes.responses import back, confirm_first, page
from console.web import flash

router = APIRouter()
REBUILD_LINES = [
    "Chỉ mục tìm kiếm được dựng lại từ kho tri thức hiện tại, rồi trợ lý trả lời người dân theo chỉ mục mới. "
    "Trong lúc dựng, trợ lý vẫn trả lời theo chỉ mục cũ.",
    "Thường không cần làm việc này: mỗi thay đổi lưu từ bảng điều khiển đã tự được xuất bản.",
]


@router.get("/publish", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def publish_page(request: Request, builder: AppBuilder) -> Response:
    settings = app_settings(request)
    names, version = records.titles(settings), builder.index_version
    running = builder.current
    return page(request, "publish.html", active="publish", queued=builder.queued, version=version,
                serving_since=published_at(version),
                current=publication(running, names, settings.knowledge_dir) if running else None,
                history=publications(builder.history, names, settings.knowledge_dir))  # fmt: skip


@router.get("/publish/status", dependencies=[SIGNED_IN])
def publish_status(builder: AppBuilder) -> JSONResponse:
    """The progress line every page shows while a change is being published (static/build_status.js)."""
    return JSONResponse(build_status(builder))


@router.post("/publish")
async def publish(request: Request, change: Edit, builder: AppBuilder) -> Response:
    asking = confirm_first(request, change.form, "Dựng lại và xuất bản chỉ mục ngay?", REBUILD_LINES,
                           "Dựng lại và xuất bản", "/publish")  # fmt: skip
    if asking:
        return asking
    builder.request(f"Xuất bản theo yêu cầu của {change.username}")
    flash(request, "info", "Đã bắt đầu dựng lại chỉ mục.")
    return back("/publish")
