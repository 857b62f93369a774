"""python -m console [serve] | staff-add USER --role viewer|editor | staff-disable|staff-enable|staff-remove USER

    serve          the staff console on CONSOLE_INTERFACE:CONSOLE_PORT (default 127.0.0.1:5080); `make run`/`make serve`
                   start it beside the bot
    staff-add      create an account, or set a new password and role (password from STAFF_PASSWORD, else asked
                   twice); a new password ends the account's sessions
    staff-disable  the account can no longer sign in, and its sessions end now; staff-enable lets it in again
    staff-remove   delete the account and end its sessions (its changes stay in the audit log under its name)
Each change to an existing account is recorded in the audit log.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading

import settings as shared_settings
from console import audit
from console.accounts import ROLES, AccountError, add_staff, find_staff, remove_staff, set_disabled
from console.config import Settings, from_env
from console.db import engine
from settings import load_secrets


def secret_key(settings: Settings) -> str:
    """CONSOLE_SECRET_KEY from the environment, else generated once into var/secrets.env (as the bot's secrets)."""
    return load_secrets(settings.var_dir / "secrets.env", ("CONSOLE_SECRET_KEY",))["CONSOLE_SECRET_KEY"]


def serve(settings: Settings) -> int:
    import uvicorn

    from console.app import create_app
    from console.preview import warm_up

    app = create_app(settings, secret_key(settings))
    app.state.rasa_token = shared_settings.current().rasa_api_token
    # The editor's preview searches in this process: load the index and the model now, not at the first preview.
    threading.Thread(target=warm_up, args=(settings,), name="preview-warm-up", daemon=True).start()
    print(f"Staff console on http://{settings.interface}:{settings.port}", flush=True)
    # One process: the background index build and its status live in it. X-Forwarded-For/-Proto are believed only
    # from CONSOLE_TRUSTED_PROXIES (none by default): anyone else could name any address, and the sign-in lockout
    # counts failures per address.
    trusted = ",".join(settings.trusted_proxies)
    uvicorn.run(app, host=settings.interface, port=settings.port, log_level="warning", proxy_headers=bool(trusted),
                forwarded_allow_ips=trusted or None, ws="none")  # fmt: skip
    # (no websockets here; the env pins an old websockets for rasa-sdk)
    return 0


def staff_add(settings: Settings, username: str, role: str) -> int:
    password = shared_settings.current().staff_password
    if not password:
        if not sys.stdin.isatty():
            print("Set STAFF_PASSWORD, or run this in a terminal to type the password.", file=sys.stderr)
            return 2
        password = getpass.getpass(f"Mật khẩu cho {username}: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != password:
            print("Hai lần nhập mật khẩu không khớp.", file=sys.stderr)
            return 1
    db = engine(settings.db_url)
    existing = find_staff(db, username)
    try:
        account = add_staff(db, username, password, role)
    except AccountError as error:
        print(error, file=sys.stderr)
        return 1
    if existing:
        audit.log(db, _operator(), "staff.reset", account.username, f"Đặt mật khẩu mới cho {account.username}, vai "
                  f"trò {account.role_name}; mọi phiên đăng nhập của tài khoản đã kết thúc",
                  {"role": existing.role}, {"role": account.role})  # fmt: skip
    else:
        summary = f"Tạo tài khoản {account.username}, vai trò {account.role_name}"
        audit.log(db, _operator(), "staff.add", account.username, summary, None, {"role": account.role})
    print(f"Tài khoản {account.username} ({account.role_name}) đã sẵn sàng. Đăng nhập tại "
          f"http://{settings.interface}:{settings.port}/")  # fmt: skip
    return 0


def change_account(settings: Settings, command: str, username: str) -> int:
    """staff-disable, staff-enable, staff-remove: the change, its audit entry, and what it did, in Vietnamese."""
    db = engine(settings.db_url)
    account = find_staff(db, username)
    if account is None:
        print(f"Không có tài khoản «{username}».", file=sys.stderr)
        return 1
    name = account.username
    if command == "staff-remove":
        remove_staff(db, account.id)
        action, summary = "staff.remove", f"Xoá tài khoản {name}; mọi phiên đăng nhập của tài khoản đã kết thúc"
    elif command == "staff-disable":
        set_disabled(db, account.id, True)
        action, summary = "staff.disable", f"Khoá tài khoản {name}; mọi phiên đăng nhập của tài khoản đã kết thúc"
    else:
        set_disabled(db, account.id, False)
        action, summary = "staff.enable", f"Mở khoá tài khoản {name}"
    audit.log(db, _operator(), action, name, summary)
    print(summary + ".")
    return 0


def _operator() -> str:
    """Who ran the command, as the audit log shows it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = str(os.getuid())
    return f"{user} (dòng lệnh)"[:64]


def main(argv: list[str] | None = None) -> int:
    os.umask(0o077)  # accounts (console.db), backups and anything else it writes: readable by its owner only
    parser = argparse.ArgumentParser(prog="python -m console", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the console")
    add = sub.add_parser("staff-add", help="create or update a staff account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="viewer")
    for command, what in (("staff-disable", "stop an account signing in and end its sessions"),
                          ("staff-enable", "let a disabled account sign in again"),
                          ("staff-remove", "delete an account and end its sessions")):  # fmt: skip
        sub.add_parser(command, help=what).add_argument("username")
    args = parser.parse_args(argv)
    settings = from_env()
    if args.command == "staff-add":
        return staff_add(settings, args.username, args.role)
    if args.command in ("staff-disable", "staff-enable", "staff-remove"):
        return change_account(settings, args.command, args.username)
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
