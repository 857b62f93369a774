"""python -m console [serve] | staff-add USER --role viewer|editor

    serve       the staff console on CONSOLE_INTERFACE:CONSOLE_PORT (default 127.0.0.1:5080); `make run`/`make serve`
                start it beside the bot
    staff-add   create an account, or set a new password and role (password from STAFF_PASSWORD, else asked twice)
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from console.accounts import ROLES, AccountError, add_staff
from console.config import Settings, from_env
from console.db import engine


def secret_key(settings: Settings) -> str:
    """CONSOLE_SECRET_KEY from the environment, else generated once into var/secrets.env (as the bot's secrets)."""
    from scripts.stack import load_secrets

    return load_secrets(settings.var_dir / "secrets.env", ("CONSOLE_SECRET_KEY",))["CONSOLE_SECRET_KEY"]


def serve(settings: Settings) -> int:
    import uvicorn

    from console.app import create_app

    app = create_app(settings, secret_key(settings))
    app.state.rasa_token = os.environ.get("RASA_API_TOKEN", "")
    print(f"Staff console on http://{settings.interface}:{settings.port}", flush=True)
    # One process: the background index build and its status live in it. Proxy headers are trusted from
    # localhost only (uvicorn's default), so a reverse proxy on this machine may say the visitor's address.
    uvicorn.run(app, host=settings.interface, port=settings.port, log_level="warning", proxy_headers=True,
                ws="none")  # no websockets here; the env pins an old websockets for rasa-sdk
    return 0


def staff_add(settings: Settings, username: str, role: str) -> int:
    password = os.environ.get("STAFF_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("Set STAFF_PASSWORD, or run this in a terminal to type the password.", file=sys.stderr)
            return 2
        password = getpass.getpass(f"Mật khẩu cho {username}: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != password:
            print("Hai lần nhập mật khẩu không khớp.", file=sys.stderr)
            return 1
    try:
        account = add_staff(engine(settings.db_url), username, password, role)
    except AccountError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Tài khoản {account.username} ({account.role_name}) đã sẵn sàng. Đăng nhập tại "
          f"http://{settings.interface}:{settings.port}/")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the console")
    add = sub.add_parser("staff-add", help="create or update a staff account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="viewer")
    args = parser.parse_args(argv)
    settings = from_env()
    if args.command == "staff-add":
        return staff_add(settings, args.username, args.role)
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
