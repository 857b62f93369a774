"""Bridge settings from the environment and a git-ignored `.env` (the real environment wins)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import settings
from settings.environment import environ as process_environment
from settings.environment import load_dotenv

__all__ = ["Config", "ConfigError", "load_dotenv"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
_SECRET_OK = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(ValueError):
    """A setting a person must fix; the message says which and how."""


def _int_list(text: str, name: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError as error:
        raise ConfigError(f"{name} must be a comma-separated list of numeric Telegram ids, got {text!r}") from error


def _optional_int(text: str, name: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError as error:
        raise ConfigError(f"{name} must be a numeric Telegram chat id (groups are negative), got {text!r}") from error


def _float(env: dict[str, str], name: str, default: float) -> float:
    try:
        return float(env.get(name) or default)
    except ValueError as error:
        raise ConfigError(f"{name} must be a number, got {env.get(name)!r}") from error


@dataclass(frozen=True)
class Config:
    token: str
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = "https://api.telegram.org/file/bot"
    rasa_url: str = "http://localhost:5005"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    staff_chat_id: int | None = None
    admin_user_ids: frozenset[int] = field(default_factory=frozenset)
    db_path: Path = settings.DEFAULT_VAR_DIR / "bot.db"
    db_url: str | None = None  # any SQLAlchemy URL; wins over db_path (PostgreSQL, shared by replicas)
    # The action server's admin API, for /stats and /reload (actions/admin.py).
    action_admin_url: str = "http://127.0.0.1:5055"
    admin_api_token: str = ""
    # Rasa outage handling: tell the citizen after `rasa_notice_after` s, keep retrying for `rasa_give_up_after` s.
    rasa_notice_after: float = 8.0
    rasa_give_up_after: float = 300.0
    rasa_timeout: float = 120.0
    max_message_chars: int = 1000
    flood_limit: int = 20  # messages per user per `flood_window` seconds
    flood_window: float = 60.0
    poll_timeout: float = 10.0
    send_limits: str = ""  # BOT_SEND_LIMITS (bot/pacing.py): '' Telegram's, 'bot=30/1,chat=3/3,group=20/60', 'off'

    @property
    def db_target(self) -> str:
        """What the store opens: the URL if one is set, else the SQLite file."""
        return self.db_url or str(self.db_path)

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url or "").path or "/"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, dotenv: Path | None = ROOT / ".env") -> Config:
        env = {**(load_dotenv(dotenv) if dotenv else {}), **(process_environment() if environ is None else environ)}
        shared = settings.Settings.from_environ(env)
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram, then put "
                "TELEGRAM_BOT_TOKEN=123456:ABC... in the environment or in the file .env at the project root."
            )
        base_url = env.get("TELEGRAM_BASE_URL", "").strip() or DEFAULT_BASE_URL
        webhook_url = env.get("TELEGRAM_WEBHOOK_URL", "").strip() or None
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
        if secret is not None and not _SECRET_OK.match(secret):
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and - (1 to 256 characters).")
        try:
            port = int(env.get("TELEGRAM_WEBHOOK_PORT") or 8443)
        except ValueError as error:
            raise ConfigError("TELEGRAM_WEBHOOK_PORT must be a port number.") from error
        return cls(
            token=token,
            base_url=base_url,
            base_file_url=env.get("TELEGRAM_BASE_FILE_URL", "").strip() or _file_url(base_url),
            rasa_url=(env.get("RASA_URL", "").strip() or "http://localhost:5005").rstrip("/"),
            webhook_url=webhook_url,
            webhook_secret=secret,
            webhook_listen=env.get("TELEGRAM_WEBHOOK_LISTEN", "").strip() or "0.0.0.0",
            webhook_port=port,
            staff_chat_id=_optional_int(env.get("STAFF_CHAT_ID", ""), "STAFF_CHAT_ID"),
            admin_user_ids=_int_list(env.get("ADMIN_USER_IDS", ""), "ADMIN_USER_IDS"),
            db_path=shared.bridge_db,
            db_url=shared.bridge_db_url or None,
            action_admin_url=(env.get("ACTION_ADMIN_URL", "").strip() or "http://127.0.0.1:5055").rstrip("/"),
            admin_api_token=env.get("ADMIN_API_TOKEN", "").strip(),
            rasa_notice_after=_float(env, "BOT_RASA_NOTICE_AFTER", 8.0),
            rasa_give_up_after=_float(env, "BOT_RASA_GIVE_UP_AFTER", 300.0),
            rasa_timeout=_float(env, "BOT_RASA_TIMEOUT", 120.0),
            max_message_chars=int(_float(env, "BOT_MAX_MESSAGE_CHARS", 1000)),
            flood_limit=int(_float(env, "BOT_FLOOD_LIMIT", 20)),
            flood_window=_float(env, "BOT_FLOOD_WINDOW", 60.0),
            poll_timeout=_float(env, "BOT_POLL_TIMEOUT", 10.0),
            send_limits=env.get("BOT_SEND_LIMITS", "").strip(),
        )


def _file_url(base_url: str) -> str:
    """https://api.telegram.org/bot -> https://api.telegram.org/file/bot (same rule for an emulator)."""
    if base_url.endswith("/bot"):
        return base_url[: -len("/bot")] + "/file/bot"
    return base_url.rstrip("/") + "/file/bot"
