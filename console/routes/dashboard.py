"""The dashboard: questions per day, satisfaction, the procedures and the unanswered questions asked most."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from console import dashboard, svg
from console.routes.deps import SIGNED_IN, AppSettings, Db
from console.routes.responses import page
from console.svg import Series

router = APIRouter()


@router.get("/dashboard", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def dashboard_page(request: Request, settings: AppSettings, db: Db) -> Response:
    board = dashboard.build(settings, db)
    return page(request, "dashboard.html", board=board, charts=charts(board), active="dashboard")


def charts(board: dashboard.Dashboard) -> dict[str, Markup]:
    labels = [d.label for d in board.days]
    return {
        "per_day": svg.stacked_bars("Số câu hỏi mỗi ngày", labels, [
            Series("Trả lời được", [d.answered for d in board.days], "s1"),
            Series("Chưa trả lời được", [d.unanswered for d in board.days], "s2"),
        ]),
        "satisfaction": svg.share_line("Tỉ lệ đánh giá hữu ích mỗi ngày", labels, [d.up_share for d in board.days],
                                       board.target, "mục tiêu 90 %"),
        "procedures": svg.horizontal_bars("Thủ tục được hỏi nhiều nhất",
                                          [(title, n) for _, title, n in board.top_procedures]),
        "gaps": svg.horizontal_bars("Câu hỏi chưa trả lời được nhiều nhất",
                                    [(g.example, g.count) for g in board.top_gaps], css="s2"),
    }  # fmt: skip
