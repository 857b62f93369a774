"""Signing in and out, and changing one's own password (accounts themselves are made with `python -m console`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from console import audit
from console.accounts import AccountError, authenticate, locked_out, set_password
from console.routes.deps import SIGNED_IN, CheckedForm, Db, StaffChange
from console.routes.responses import back, page
from console.web import current_user, flash, sign_in, sign_out
from knowledge.text import clean

router = APIRouter()
TOO_MANY_FAILURES = "Bạn đã nhập sai mật khẩu quá nhiều lần. Vui lòng thử lại sau 15 phút."


@router.get("/health", include_in_schema=False)
async def health() -> PlainTextResponse:
    return PlainTextResponse("ok")


@router.get("/", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: str = "") -> Response:
    if current_user(request):
        return back("/dashboard")
    return page(request, "login.html", next=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, form: CheckedForm, db: Db) -> Response:
    username = clean(str(form.get("username") or "")).lower()[:64]
    password = str(form.get("password") or "")
    ip = client_ip(request)
    target = safe_next(str(form.get("next") or ""))
    if await run_in_threadpool(locked_out, db, username, ip):
        return page(request, "login.html", 429, error=TOO_MANY_FAILURES, username=username, next=target)
    user = await run_in_threadpool(authenticate, db, username, password, ip)
    if user is None:
        return page(request, "login.html", 401, error="Tên đăng nhập hoặc mật khẩu không đúng.",
                    username=username, next=target)  # fmt: skip
    sign_in(request, user)
    return back(target or "/dashboard")


@router.post("/logout")
async def logout(request: Request, form: CheckedForm) -> Response:
    sign_out(request)
    return back("/")


@router.get("/password", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def password_page(request: Request) -> Response:
    return page(request, "password.html")


@router.post("/password", response_class=HTMLResponse)
async def change_password(request: Request, change: StaffChange, db: Db) -> Response:
    user, form, ip = change.user, change.form, client_ip(request)
    current, new = str(form.get("current") or ""), str(form.get("new") or "")
    if new != str(form.get("again") or ""):
        return page(request, "password.html", 400, error="Hai lần nhập mật khẩu mới không khớp.")
    if await run_in_threadpool(locked_out, db, user.username, ip):
        return page(request, "password.html", 429, error=TOO_MANY_FAILURES)
    if await run_in_threadpool(authenticate, db, user.username, current, ip) is None:
        return page(request, "password.html", 400, error="Mật khẩu hiện tại không đúng.")
    try:
        await run_in_threadpool(set_password, db, user.id, new)  # every session of the account ends…
    except AccountError as error:
        return page(request, "password.html", 400, error=str(error))
    audit.log(db, user.username, "staff.password", user.username,
              f"{user.username} đổi mật khẩu; mọi phiên đăng nhập của tài khoản đã kết thúc")  # fmt: skip
    sign_in(request, user)  # …but this one, which gets a fresh session
    flash(request, "ok", "Đã đổi mật khẩu. Mọi phiên đăng nhập khác của tài khoản này đã kết thúc.")
    return back("/dashboard")


def client_ip(request: Request) -> str:
    """The peer's address; a proxy's X-Forwarded-For only when it is in CONSOLE_TRUSTED_PROXIES (console.__main__)."""
    return request.client.host if request.client else "?"


def safe_next(target: str) -> str:
    """Only a path of this site (never //evil.example or https://…) after signing in."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else ""
