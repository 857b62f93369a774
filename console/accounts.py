"""Staff accounts: argon2 password hashes, two roles, a limit on failed sign-ins per user and address, and the
server-side sessions a sign-in opens (ended by signing out, by time, or by a change to the account)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from console.db import login_failures, now, staff, staff_sessions

ROLES = ("viewer", "editor")
ROLE_NAMES = {"viewer": "Xem", "editor": "Biên tập"}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 8
MAX_FAILURES = 5  # failed sign-ins per user and address…
FAILURE_WINDOW = dt.timedelta(minutes=15)  # …within this window: further attempts are refused until it passes
SESSION_LIFETIME = dt.timedelta(hours=12)  # a working day; then sign in again
SEEN_EVERY = dt.timedelta(minutes=1)  # last_seen is written at most this often (not on every page)

_hasher = PasswordHasher()
# Verified when the user does not exist, so a wrong name costs as long as a wrong password (no user enumeration).
_DUMMY_HASH = _hasher.hash("not a real password")


class AccountError(ValueError):
    """What is wrong with a new account, in Vietnamese."""


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    role: str

    @property
    def can_edit(self) -> bool:
        return self.role == "editor"

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")


def add_staff(engine: sa.Engine, username: str, password: str, role: str) -> Staff:
    """Create an account, or set a new password and role for an existing one (its sessions end)."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError("Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang; 2–32 ký tự.")
    if role not in ROLES:
        raise AccountError(f"Vai trò phải là một trong: {', '.join(ROLES)}.")
    _check_password(password)
    row = {"password_hash": _hasher.hash(password), "role": role}
    with engine.begin() as con:
        found = con.execute(sa.select(staff.c.id).where(staff.c.username == username)).scalar()
        if found is None:
            inserted = con.execute(staff.insert().values(username=username, created_at=now(), **row))
            found = inserted.inserted_primary_key[0]  # type: ignore[index]
        else:
            con.execute(staff.update().where(staff.c.id == found).values(**row))
            _end_sessions(con, int(found))
    return Staff(int(found), username, role)


def find_staff(engine: sa.Engine, username: str) -> Staff | None:
    """The account of this name, disabled or not."""
    with engine.connect() as con:
        row = con.execute(sa.select(staff.c.id, staff.c.username, staff.c.role)
                          .where(staff.c.username == username.strip().lower())).first()  # fmt: skip
    return Staff(row.id, row.username, row.role) if row else None


def set_password(engine: sa.Engine, staff_id: int, password: str) -> None:
    """A new password; every session of the account ends (the caller may open a fresh one)."""
    _check_password(password)
    with engine.begin() as con:
        con.execute(staff.update().where(staff.c.id == staff_id).values(password_hash=_hasher.hash(password)))
        _end_sessions(con, staff_id)


def set_disabled(engine: sa.Engine, staff_id: int, disabled: bool) -> None:
    """A disabled account cannot sign in, and its sessions end at once."""
    with engine.begin() as con:
        con.execute(staff.update().where(staff.c.id == staff_id).values(disabled=disabled))
        if disabled:
            _end_sessions(con, staff_id)


def remove_staff(engine: sa.Engine, staff_id: int) -> None:
    """The account and its sessions go; what it did stays in the audit log under its name."""
    with engine.begin() as con:
        _end_sessions(con, staff_id)
        con.execute(staff.delete().where(staff.c.id == staff_id))


# ---------------------------------------------------------------- sessions


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _end_sessions(con: sa.Connection, staff_id: int) -> None:
    con.execute(staff_sessions.delete().where(staff_sessions.c.staff_id == staff_id))


def _stamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def open_session(engine: sa.Engine, staff_id: int, idle: dt.timedelta) -> str:
    """A new session for a signed-in account: the random id for its cookie (only its hash is stored)."""
    session_id = secrets.token_urlsafe(32)
    moment = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as con:
        old = staff_sessions.c.expires_at <= _stamp(moment), staff_sessions.c.last_seen < _stamp(moment - idle)
        con.execute(staff_sessions.delete().where(sa.or_(*old)))  # ended sessions go, so the table stays small
        con.execute(staff_sessions.insert().values(
            id_hash=_digest(session_id), staff_id=staff_id, created_at=_stamp(moment), last_seen=_stamp(moment),
            expires_at=_stamp(moment + SESSION_LIFETIME)))  # fmt: skip
    return session_id


def session_staff(engine: sa.Engine, session_id: str, idle: dt.timedelta) -> Staff | None:
    """The account of a live session (enabled, not expired, used within `idle`); an ended session is deleted."""
    key, moment = _digest(session_id), dt.datetime.now(dt.timezone.utc)
    query = (
        sa.select(staff.c.id, staff.c.username, staff.c.role, staff.c.disabled, staff_sessions.c.last_seen,
                  staff_sessions.c.expires_at)
        .join(staff, staff.c.id == staff_sessions.c.staff_id)
        .where(staff_sessions.c.id_hash == key)
    )  # fmt: skip
    with engine.begin() as con:
        row = con.execute(query).first()
        if row is None:
            return None
        if row.disabled or row.expires_at <= _stamp(moment) or row.last_seen < _stamp(moment - idle):
            con.execute(staff_sessions.delete().where(staff_sessions.c.id_hash == key))
            return None
        if row.last_seen < _stamp(moment - SEEN_EVERY):
            con.execute(staff_sessions.update().where(staff_sessions.c.id_hash == key).values(last_seen=_stamp(moment)))
    return Staff(row.id, row.username, row.role)


def end_session(engine: sa.Engine, session_id: str) -> None:
    with engine.begin() as con:
        con.execute(staff_sessions.delete().where(staff_sessions.c.id_hash == _digest(session_id)))


def _window_start() -> str:
    return (dt.datetime.now(dt.timezone.utc) - FAILURE_WINDOW).isoformat(timespec="seconds")


def locked_out(engine: sa.Engine, username: str, ip: str) -> bool:
    query = sa.select(sa.func.count()).where(
        login_failures.c.username == username, login_failures.c.ip == ip, login_failures.c.ts >= _window_start()
    )
    with engine.connect() as con:
        return int(con.execute(query).scalar() or 0) >= MAX_FAILURES


def authenticate(engine: sa.Engine, username: str, password: str, ip: str) -> Staff | None:
    """The account when the password is right; a failure is recorded (callers check `locked_out` first)."""
    username = username.strip().lower()[:64]
    with engine.connect() as con:
        row = con.execute(sa.select(staff).where(staff.c.username == username)).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        ok = row is not None and not row.disabled  # disabled: refused as a wrong password is (no enumeration)
    except (VerificationError, InvalidHashError):
        ok = False
    with engine.begin() as con:
        if not ok or row is None:
            con.execute(login_failures.insert().values(username=username, ip=ip, ts=now()))
            # only the window's failures matter: older ones go, so the table stays small
            con.execute(login_failures.delete().where(login_failures.c.ts < _window_start()))
            return None
        con.execute(login_failures.delete().where(login_failures.c.username == username, login_failures.c.ip == ip))
        if _hasher.check_needs_rehash(row.password_hash):
            con.execute(staff.update().where(staff.c.id == row.id).values(password_hash=_hasher.hash(password)))
    return Staff(row.id, row.username, row.role)
