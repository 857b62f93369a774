"""Sessions that really end, against the real console process: a copy of the session cookie opens nothing once its
session was signed out, outlived its idle or absolute limit, or its account changed password or was disabled or
removed (through the page and through the real `python -m console` commands `make staff-*` runs); forwarded
addresses believed only from a configured proxy; bad parameters answered with a Vietnamese 400 page."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from console.db import audit, engine, login_failures, staff, staff_sessions
from tests.console.support import Console, console_command, csrf_of

pytestmark = pytest.mark.stack

COOKIE = "mocua_console"
PASSWORD, NEW_PASSWORD = "mat-khau-phien-cu-1", "mat-khau-phien-moi-2"
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."
LOCKED = "thử lại sau 15 phút"


def new_account(console: Console, role: str = "editor") -> str:
    """A fresh account made with the real command, so no test shares one (or a lockout) with another."""
    username = f"t{uuid.uuid4().hex[:10]}"
    made = console_command(console.env, "staff-add", username, "--role", role, password=PASSWORD)
    assert made.returncode == 0, made.stdout + made.stderr
    return username


def sign_in(console: Console, username: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    client = httpx.Client(base_url=console.url, follow_redirects=False, timeout=60)
    with client:
        token = csrf_of(client, "/")
        return client.post("/login", data={"csrf": token, "username": username, "password": password},
                           headers=headers)  # fmt: skip


@pytest.fixture
def session_of(console: Console) -> Iterator:
    """`session_of(username)`: a signed-in client, and a copy of its cookie and CSRF token as an attacker has them."""
    clients: list[httpx.Client] = []

    def open_one(username: str) -> tuple[httpx.Client, Copy]:
        client = httpx.Client(base_url=console.url, follow_redirects=False, timeout=60)
        clients.append(client)
        signed = client.post("/login", data={"csrf": csrf_of(client, "/"), "username": username, "password": PASSWORD})
        assert signed.status_code == 303, signed.text
        copy = Copy(console, client.cookies[COOKIE], csrf_of(client, "/dashboard"))
        assert copy.opens_pages() and copy.may_post()  # the copy works as long as the session lives
        return client, copy

    yield open_one
    for client in clients:
        client.close()


class Copy:
    """A copied session cookie and the CSRF token of its pages, used from another client."""

    def __init__(self, console: Console, cookie: str, csrf: str) -> None:
        self.console, self.cookie, self.csrf = console, cookie, csrf

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.console.url, follow_redirects=False, timeout=60,
                            cookies={COOKIE: self.cookie})  # fmt: skip

    def opens_pages(self) -> bool:
        with self.client() as client:
            response = client.get("/dashboard")
        if response.status_code == 303:
            assert response.headers["location"].startswith("/?next=")  # sent to the sign-in page
            return False
        assert response.status_code == 200, response.text
        return True

    def may_post(self) -> bool:
        """A change an editor may make: marking a (missing) group of questions out of scope. Harmless if accepted."""
        with self.client() as client:
            response = client.post("/unanswered/out-of-scope", data={"csrf": self.csrf, "group": "x"})
        assert response.status_code in (303, 403), response.text
        return response.status_code == 303

    def refused(self) -> bool:
        return not self.opens_pages() and not self.may_post()


def db(console: Console) -> sa.Engine:
    return engine(console.env["MOCUA_CONSOLE_DB_URL"])


def audit_rows(console: Console, username: str) -> list[tuple[str, str]]:
    """(action, who) of the audit log's entries about this account, oldest first."""
    query = sa.select(audit.c.action, audit.c.username).where(audit.c.target == username).order_by(audit.c.id)
    with db(console).connect() as con:
        return [(row.action, row.username) for row in con.execute(query)]


def audit_page_row(client: httpx.Client, text: str) -> str:
    page = client.get("/audit").text
    rows = [row for row in page.split('<tr id="audit-')[1:] if text in row]
    assert rows, f"no audit row with {text!r}"
    return rows[0]


# ---------------------------------------------------------------- sessions end


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(console, session_of) -> None:
    username = new_account(console)
    client, copy = session_of(username)
    client.post("/logout", data={"csrf": copy.csrf})
    assert copy.refused()
    assert client.get("/dashboard").status_code == 303
    with db(console).connect() as con:  # the server keeps only a hash of the session id, and not after sign-out
        ids = [row.id for row in con.execute(sa.select(staff.c.id).where(staff.c.username == username))]
        assert con.execute(sa.select(staff_sessions).where(staff_sessions.c.staff_id.in_(ids))).first() is None


def test_a_password_change_ends_every_other_session_of_the_account(console, session_of) -> None:
    username = new_account(console)
    _, elsewhere = session_of(username)  # the same account signed in on another computer
    client, mine = session_of(username)
    page = client.get("/password")
    assert page.status_code == 200 and "Đổi mật khẩu" in page.text
    change = {"csrf": mine.csrf, "current": PASSWORD, "new": NEW_PASSWORD, "again": NEW_PASSWORD}
    assert client.post("/password", data=change | {"csrf": "not-the-token"}).status_code == 403
    wrong = client.post("/password", data=change | {"current": "khong-phai-mat-khau"})
    assert wrong.status_code == 400 and "Mật khẩu hiện tại không đúng" in wrong.text
    mismatch = client.post("/password", data=change | {"again": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400 and "không khớp" in mismatch.text
    assert elsewhere.opens_pages()  # nothing changed yet
    done = client.post("/password", data=change)
    assert done.status_code == 303, done.text
    assert elsewhere.refused() and mine.refused()
    after = client.get("/dashboard")  # the one who changed it goes on, in a fresh session
    assert after.status_code == 200 and "Đã đổi mật khẩu" in after.text
    assert sign_in(console, username, PASSWORD).status_code == 401
    assert sign_in(console, username, NEW_PASSWORD).status_code == 303
    assert audit_rows(console, username)[-1] == ("staff.password", username)
    row = audit_page_row(client, f"{username} đổi mật khẩu")
    assert "Đổi mật khẩu" in row and "revert" not in row  # recorded, not something to undo


def test_a_new_password_set_with_staff_add_ends_the_sessions(console, session_of) -> None:
    username = new_account(console)
    _, copy = session_of(username)
    made = console_command(console.env, "staff-add", username, "--role", "viewer", password=NEW_PASSWORD)
    assert made.returncode == 0, made.stderr
    assert copy.refused()
    assert sign_in(console, username, NEW_PASSWORD).status_code == 303
    action, who = audit_rows(console, username)[-1]
    assert action == "staff.reset" and who.endswith("(dòng lệnh)")


def test_a_disabled_account_is_signed_out_and_cannot_sign_in_until_enabled(console, session_of) -> None:
    username = new_account(console)
    client, copy = session_of(username)
    disabled = console_command(console.env, "staff-disable", username)
    assert disabled.returncode == 0 and "Khoá tài khoản" in disabled.stdout, disabled.stderr
    assert copy.refused()
    refused, unknown = sign_in(console, username), sign_in(console, f"khong-co-{username}")
    assert refused.status_code == unknown.status_code == 401  # the right password, told apart from nothing
    assert WRONG in refused.text and WRONG in unknown.text
    enabled = console_command(console.env, "staff-enable", username)
    assert enabled.returncode == 0, enabled.stderr
    assert sign_in(console, username).status_code == 303
    assert [a for a, _ in audit_rows(console, username)] == ["staff.add", "staff.disable", "staff.enable"]
    other, _ = session_of(new_account(console))
    row = audit_page_row(other, f"Khoá tài khoản {username}")
    assert "(dòng lệnh)" in row and "revert" not in row


def test_a_removed_account_is_signed_out_and_gone(console, session_of) -> None:
    username = new_account(console)
    _, copy = session_of(username)
    removed = console_command(console.env, "staff-remove", username)
    assert removed.returncode == 0, removed.stderr
    assert copy.refused()
    assert WRONG in sign_in(console, username).text
    again = console_command(console.env, "staff-remove", username)
    assert again.returncode == 1 and f"Không có tài khoản «{username}»" in again.stderr
    assert audit_rows(console, username)[-1][0] == "staff.remove"


def _age_session(console: Console, username: str, **columns: dt.timedelta) -> None:
    """Move the account's session back in time (last_seen, expires_at), as if hours had passed."""
    moment = dt.datetime.now(dt.timezone.utc)
    values = {name: (moment - ago).isoformat(timespec="seconds") for name, ago in columns.items()}
    ids = sa.select(staff.c.id).where(staff.c.username == username).scalar_subquery()
    with db(console).begin() as con:
        assert con.execute(staff_sessions.update().where(staff_sessions.c.staff_id == ids).values(**values)).rowcount


def test_a_session_unused_for_two_hours_or_older_than_twelve_ends(console, session_of) -> None:
    username = new_account(console)
    _, copy = session_of(username)
    _age_session(console, username, last_seen=dt.timedelta(minutes=100))
    assert copy.opens_pages()  # idle for less than two hours: still open
    _age_session(console, username, last_seen=dt.timedelta(minutes=125))
    assert copy.refused()
    _, copy = session_of(username)
    _age_session(console, username, expires_at=dt.timedelta(seconds=1))  # in use, but its 12 hours are over
    assert copy.refused()


# ---------------------------------------------------------------- forwarded addresses


def _failures(console: Console, username: str) -> set[str]:
    query = sa.select(login_failures.c.ip).where(login_failures.c.username == username)
    with db(console).connect() as con:
        return {row.ip for row in con.execute(query)}


def test_a_made_up_forwarded_address_neither_hides_nor_moves_the_guesses(console) -> None:
    username = new_account(console)
    for i in range(5):
        wrong = sign_in(console, username, "sai-mat-khau", **{"X-Forwarded-For": f"198.51.100.{i + 1}"})
        assert wrong.status_code == 401
    assert _failures(console, username) == {"127.0.0.1"}  # counted against the client's real address
    locked = sign_in(console, username, PASSWORD, **{"X-Forwarded-For": "198.51.100.99"})
    assert locked.status_code == 429 and LOCKED in locked.text


def test_a_trusted_proxy_names_the_visitor(proxied_console) -> None:
    username = new_account(proxied_console)
    for _ in range(5):
        wrong = sign_in(proxied_console, username, "sai-mat-khau", **{"X-Forwarded-For": "203.0.113.7"})
        assert wrong.status_code == 401
    assert _failures(proxied_console, username) == {"203.0.113.7"}
    locked = sign_in(proxied_console, username, PASSWORD, **{"X-Forwarded-For": "203.0.113.7"})
    assert locked.status_code == 429 and LOCKED in locked.text
    assert sign_in(proxied_console, username, PASSWORD, **{"X-Forwarded-For": "203.0.113.8"}).status_code == 303


# ---------------------------------------------------------------- bad parameters

HUGE = "99999999999999999999"
BAD = ("/audit?page_no=abc", "/audit?page_no=1.5", "/audit?page_no=" + "9" * 5000, "/conversations?page_no=abc",
       "/conversations?page_no=", "/audit/abc/revert", "/handoffs/abc/take", f"/audit/{HUGE}/revert",
       f"/handoffs/{HUGE}/take", "/handoffs/-1/take")  # fmt: skip


@pytest.fixture(scope="module")
def viewer(console: Console) -> Iterator[httpx.Client]:
    username = new_account(console, "viewer")
    client = httpx.Client(base_url=console.url, follow_redirects=False, timeout=60)
    assert client.post("/login", data={"csrf": csrf_of(client, "/"), "username": username,
                                       "password": PASSWORD}).status_code == 303  # fmt: skip
    yield client
    client.close()


@pytest.mark.parametrize("path", BAD)
def test_a_bad_parameter_gets_a_vietnamese_400_page(console, viewer, path: str) -> None:
    if re.search(r"/(revert|take)$", path):
        response = viewer.post(path, data={"csrf": csrf_of(viewer, "/dashboard")})
    else:
        response = viewer.get(path)
    assert response.status_code == 400, (path, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    assert "Yêu cầu không hợp lệ" in response.text and "tham số không hợp lệ" in response.text
    assert '"detail"' not in response.text


@pytest.mark.parametrize("path", (f"/audit?page_no={HUGE}", f"/conversations?page_no={HUGE}", "/audit?page_no=-3"))
def test_a_page_number_out_of_range_shows_a_page(console, viewer, path: str) -> None:
    response = viewer.get(path)
    assert response.status_code == 200, (path, response.text[:300])
    assert "<h1>" in response.text
