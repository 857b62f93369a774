"""Sessions, CSRF tokens and the guards every page and form goes through.

The cookie is small, signed (itsdangerous, HMAC) and time-limited: HttpOnly, SameSite=Lax, and Secure when the
console is reached over https or CONSOLE_SECURE_COOKIES=1. It holds the CSRF token every form carries (an anonymous
visitor gets one too, so the sign-in form is protected like the others) and, once signed in, a random session id
whose hash is the server's `staff_sessions` row (console.accounts): deleting that row ends the session, whatever
copies of the cookie exist. The account and its role are read from the database on every request, so a changed role
applies at once.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.accounts import SESSION_LIFETIME, Staff, end_session, open_session, session_staff

COOKIE = "mocua_console"
SESSION_SECONDS = int(SESSION_LIFETIME.total_seconds())
_UNKNOWN = object()  # the request's account not looked up yet


class NotSignedIn(Exception):
    """A page asked for without a session: the handler sends the visitor to the sign-in page."""


class Forbidden(Exception):
    """Refused (HTTP 403), with the reason shown to the person."""


class SessionMiddleware:
    """Loads the session into request.state.session; writes the cookie back when a handler changed it."""

    def __init__(self, app: ASGIApp, secret: str, secure: bool) -> None:
        self.app = app
        self.secure = secure
        self.serializer = URLSafeTimedSerializer(secret, salt="mocua-console-session")

    def load(self, cookie: str | None) -> dict[str, Any]:
        if not cookie:
            return {}
        try:
            data = self.serializer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:  # also expired
            return {}
        return data if isinstance(data, dict) else {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        data = self.load(Request(scope).cookies.get(COOKIE))
        fresh = not isinstance(data.get("csrf"), str)
        if fresh:
            data = {"csrf": secrets.token_urlsafe(32)}
        state = scope.setdefault("state", {})
        state["session"], state["session_dirty"] = data, fresh
        secure = self.secure or scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.get("session_dirty"):
                headers = MutableHeaders(scope=message)
                value = self.serializer.dumps(state["session"])
                flags = f"Path=/; Max-Age={SESSION_SECONDS}; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
                headers.append("set-cookie", f"{COOKIE}={value}; {flags}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages hold citizens' questions: not kept after signing out
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ---------------------------------------------------------------- session helpers


def session(request: Request) -> dict[str, Any]:
    return request.state.session


def replace_session(request: Request, data: dict[str, Any]) -> None:
    """A new session (sign-in, sign-out): a fresh CSRF token, so a token seen before cannot be replayed."""
    request.state.session = {**data, "csrf": secrets.token_urlsafe(32)}
    request.state.session_dirty = True
    request.state.staff = _UNKNOWN


def sign_in(request: Request, user: Staff) -> None:
    """A new server-side session for `user`; the one this browser had before ends."""
    sign_out(request)
    settings = request.app.state.settings
    replace_session(request, {"sid": open_session(request.app.state.db, user.id, settings.session_idle)})


def sign_out(request: Request) -> None:
    session_id = session(request).get("sid")
    if isinstance(session_id, str):
        end_session(request.app.state.db, session_id)
    replace_session(request, {})


def flash(request: Request, kind: str, text: str) -> None:
    """A message shown once on the next page (kind: ok | error | info)."""
    data = session(request)
    data["flash"] = [*data.get("flash", [])[-4:], [kind, text]]
    request.state.session_dirty = True


def take_flashes(request: Request) -> list[list[str]]:
    data = session(request)
    found = data.pop("flash", [])
    if found:
        request.state.session_dirty = True
    return found


def current_user(request: Request) -> Staff | None:
    """The account of the request's live session (looked up once per request)."""
    known = getattr(request.state, "staff", _UNKNOWN)
    if known is not _UNKNOWN:
        return known  # type: ignore[return-value]
    user, data = None, session(request)
    if isinstance(data.get("sid"), str):
        user = session_staff(request.app.state.db, data["sid"], request.app.state.settings.session_idle)
        if user is None:  # ended (signed out, expired, account changed): the cookie forgets it
            data.pop("sid")
            request.state.session_dirty = True
    request.state.staff = user
    return user


def signed_in(request: Request) -> Staff:
    user = current_user(request)
    if user is None:
        raise NotSignedIn()
    return user


async def checked_form(request: Request) -> FormData:
    """The posted form once its CSRF token matches the session's (else 403)."""
    form = await request.form()
    token = form.get("csrf")
    expected = session(request).get("csrf", "")
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), str(expected).encode()):
        raise Forbidden("Biểu mẫu đã hết hạn hoặc không hợp lệ (thiếu mã bảo vệ CSRF). Hãy tải lại trang rồi thử lại.")
    return form
