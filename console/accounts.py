"""Staff accounts: argon2 password hashes, two roles, and a limit on failed sign-ins per user and address."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from console.db import login_failures, now, staff

ROLES = ("viewer", "editor")
ROLE_NAMES = {"viewer": "Xem", "editor": "Biên tập"}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 8
MAX_FAILURES = 5  # failed sign-ins per user and address…
FAILURE_WINDOW = dt.timedelta(minutes=15)  # …within this window: further attempts are refused until it passes

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


def add_staff(engine: sa.Engine, username: str, password: str, role: str) -> Staff:
    """Create an account, or set a new password and role for an existing one."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError("Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang; 2–32 ký tự.")
    if role not in ROLES:
        raise AccountError(f"Vai trò phải là một trong: {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
    row = {"password_hash": _hasher.hash(password), "role": role}
    with engine.begin() as con:
        found = con.execute(sa.select(staff.c.id).where(staff.c.username == username)).scalar()
        if found is None:
            inserted = con.execute(staff.insert().values(username=username, created_at=now(), **row))
            found = inserted.inserted_primary_key[0]  # type: ignore[index]
        else:
            con.execute(staff.update().where(staff.c.id == found).values(**row))
    return Staff(int(found), username, role)


def get_staff(engine: sa.Engine, staff_id: int) -> Staff | None:
    with engine.connect() as con:
        row = con.execute(sa.select(staff.c.id, staff.c.username, staff.c.role).where(staff.c.id == staff_id)).first()
    return Staff(row.id, row.username, row.role) if row else None


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
        ok = row is not None
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
