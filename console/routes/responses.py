"""How the console's routes answer: a page from a template, a redirect after a form, a confirmation first, and one
change at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from console import dashboard
from console.builds import Builder
from console.web import current_user, session, take_flashes

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

NAV = (
    ("dashboard", "/dashboard", "Tổng quan"),
    ("unanswered", "/unanswered", "Câu hỏi chưa trả lời"),
    ("records", "/records", "Kho tri thức"),
    ("catalog", "/catalog", "Đồng bộ danh mục"),
    ("conversations", "/conversations", "Hội thoại"),
    ("handoffs", "/handoffs", "Gặp cán bộ"),
    ("audit", "/audit", "Nhật ký thay đổi"),
    ("publish", "/publish", "Xuất bản"),
)


def templates() -> Jinja2Templates:
    """The pages' templates, with what every page uses: the menu, times in Vietnam's zone, percentages."""
    found = Jinja2Templates(directory=str(TEMPLATES))
    found.env.globals.update(show_time=dashboard.show_time, NAV=NAV, percent=percent)
    return found


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %".replace(".", ",")


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """`template` with `context` and what every page shows: the account, the form token, messages, the build."""
    builder: Builder = request.app.state.builder
    context.update(
        request=request, user=current_user(request), csrf=session(request).get("csrf", ""),
        flashes=take_flashes(request), building=builder.running,
        last_build=builder.history[0] if builder.history else None,
    )  # fmt: skip
    found: Jinja2Templates = request.app.state.templates
    return found.TemplateResponse(request, template, context, status_code=status)


def back(path: str) -> RedirectResponse:
    """After a form: the page to show next (303, so reloading it does not post again)."""
    return RedirectResponse(path, status_code=303)


def confirm_first(request: Request, form: FormData, heading: str, lines: list[str], button: str,
                  cancel: str, **extra: Any) -> Response | None:  # fmt: skip
    """A plain confirmation page before a change to what citizens are told (None once the person confirmed)."""
    if form.get("confirmed") == "yes":
        return None
    fields = {k: str(v) for k, v in form.items() if k not in ("csrf", "confirmed")}
    return page(request, "confirm.html", heading=heading, lines=lines, button=button, cancel=cancel,
                action=request.url.path, fields=fields, **extra)  # fmt: skip


async def one_change_at_a_time(request: Request, work: Callable[..., Response], *args: Any) -> Response:
    """`work(request, *args)` in a worker thread, alone: each change reads a file, checks it and writes it back."""

    def run() -> Response:
        with request.app.state.changing:
            return work(request, *args)

    return await run_in_threadpool(run)
