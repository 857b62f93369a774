"""The settings of the running system, typed and read once: `settings.current()`.

One frozen `Settings` for what the action server, the Rasa server's channel, the journal and the knowledge search
share (paths, database URLs, secrets, the deployment's province…), with every default written once, here. The
bridge's own settings are bot/config.py, the console's console/config.py; both start from the same environment
(settings/environment.py, the only module that reads it). A process reads its settings when it starts; tests that
change the environment call `refresh()` (tests/conftest.py does it for monkeypatch).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from settings.environment import SECRET_NAMES, environ, load_dotenv, load_secrets, write_private

__all__ = ["ROOT", "SECRET_NAMES", "Settings", "app_db_url", "current", "load_dotenv", "load_secrets", "refresh",
           "write_private"]  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = ROOT / "var"
DEFAULT_INDEX_DIR = DEFAULT_VAR_DIR / "index"
DEFAULT_RETENTION_DAYS = 365
DEFAULT_CALLBACK_RETENTION_DAYS = 7
DEFAULT_WORDING_FILE = ROOT / "wording.yml"


@dataclass(frozen=True)
class Settings:
    # ----------------------------------------------------------------- where the system keeps its state
    var_dir: Path  # MOCUA_VAR_DIR: secrets.env, tracker, console database, logs
    journal_db: Path  # MOCUA_JOURNAL_DB: the journal's SQLite file, unless journal_url
    journal_url: str  # MOCUA_JOURNAL_URL: any SQLAlchemy URL (PostgreSQL in production), "" for the SQLite file
    tracker_url: str  # TRACKER_DB_URL: Rasa's tracker store
    bridge_db: Path  # MOCUA_BOT_DB: the Telegram bridge's SQLite file, unless bridge_db_url
    bridge_db_url: str  # MOCUA_BOT_DB_URL
    console_db_url: str  # MOCUA_CONSOLE_DB_URL
    # ----------------------------------------------------------------- personal data
    journal_salt: str  # MOCUA_JOURNAL_SALT: the journal stores senders hashed with it
    retention_days: int  # MOCUA_RETENTION_DAYS: conversations and journal entries older than this are purged
    callback_retention_days: int  # MOCUA_CALLBACK_RETENTION_DAYS: a citizen's callback number is kept this long
    callback_key: str  # MOCUA_CALLBACK_KEY (secret): encrypts callback numbers; "" = generated into secrets.env
    # ----------------------------------------------------------------- knowledge
    knowledge_dir: Path | None  # MOCUA_KNOWLEDGE_DIR, None: knowledge/data/ of this checkout
    index_dir: Path  # MOCUA_INDEX_DIR
    model_dir: Path | None  # MOCUA_MODEL_DIR, None: knowledge/index/encoder.py's default
    vocabulary_dir: Path | None  # MOCUA_VOCABULARY_DIR, None: knowledge/language.py's default
    torch_threads: int  # MOCUA_TORCH_THREADS
    province: str  # MOCUA_PROVINCE: the deployment's province (any spelling), whose own procedures are offered
    today: str  # MOCUA_TODAY=YYYY-MM-DD freezes the answers' day (tests, testers); "" = today in Vietnam
    portal_url: str  # MOCUA_PORTAL_URL: the national portal the catalogue sync reads, "" = the real one
    # ----------------------------------------------------------------- the action server
    action_port: int  # ACTION_PORT
    action_interface: str  # ACTION_INTERFACE
    action_secret: str  # ACTION_SERVER_SECRET (secret): Rasa sends it, nothing else may run actions
    admin_api_token: str  # ADMIN_API_TOKEN (secret): the admin API (/admin/stats, /admin/reload), off when ""
    admin_reload_timeout: float  # ADMIN_RELOAD_TIMEOUT seconds for an index build of /admin/reload
    log_level: str  # LOG_LEVEL
    # ----------------------------------------------------------------- the Rasa server and its REST channel
    rasa_api_token: str  # RASA_API_TOKEN (secret): Rasa's HTTP API
    action_admin_url: str  # ACTION_ADMIN_URL, else ACTION_ENDPOINT_URL without /webhook: where /reload goes
    # ----------------------------------------------------------------- staff tools
    staff_password: str  # STAFF_PASSWORD: `make staff-add` without a terminal
    # ----------------------------------------------------------------- what a citizen reads
    wording_file: Path  # MOCUA_WORDING_FILE: the fixed wording outside domain.yml (settings/wording.py)

    @property
    def secrets_file(self) -> Path:
        return self.var_dir / "secrets.env"

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> Settings:
        def text(name: str, default: str = "") -> str:
            return (env.get(name) or "").strip() or default

        def path(name: str) -> Path | None:
            return Path(text(name)) if text(name) else None

        var_dir = Path(env.get("MOCUA_VAR_DIR") or DEFAULT_VAR_DIR)
        return cls(
            var_dir=var_dir,
            journal_db=Path(env.get("MOCUA_JOURNAL_DB") or DEFAULT_VAR_DIR / "journal.db"),
            journal_url=text("MOCUA_JOURNAL_URL"),
            tracker_url=env.get("TRACKER_DB_URL") or f"sqlite:///{var_dir / 'tracker.db'}",
            bridge_db=path("MOCUA_BOT_DB") or DEFAULT_VAR_DIR / "bot.db",
            bridge_db_url=text("MOCUA_BOT_DB_URL"),
            console_db_url=env.get("MOCUA_CONSOLE_DB_URL") or f"sqlite:///{var_dir / 'console.db'}",
            journal_salt=env.get("MOCUA_JOURNAL_SALT", "mocua"),
            retention_days=int(env.get("MOCUA_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS),
            callback_retention_days=int(env.get("MOCUA_CALLBACK_RETENTION_DAYS") or DEFAULT_CALLBACK_RETENTION_DAYS),
            callback_key=env.get("MOCUA_CALLBACK_KEY", ""),
            knowledge_dir=path("MOCUA_KNOWLEDGE_DIR"),
            index_dir=Path(env.get("MOCUA_INDEX_DIR") or DEFAULT_INDEX_DIR),
            model_dir=Path(env["MOCUA_MODEL_DIR"]) if env.get("MOCUA_MODEL_DIR") else None,
            vocabulary_dir=Path(env["MOCUA_VOCABULARY_DIR"]) if env.get("MOCUA_VOCABULARY_DIR") else None,
            torch_threads=int(env.get("MOCUA_TORCH_THREADS") or 1),
            province=env.get("MOCUA_PROVINCE") or "",
            today=text("MOCUA_TODAY"),
            portal_url=env.get("MOCUA_PORTAL_URL") or "",
            action_port=int(env.get("ACTION_PORT") or 5055),
            action_interface=env.get("ACTION_INTERFACE") or "127.0.0.1",
            action_secret=env.get("ACTION_SERVER_SECRET", ""),
            admin_api_token=env.get("ADMIN_API_TOKEN", ""),
            admin_reload_timeout=float(env.get("ADMIN_RELOAD_TIMEOUT") or 1200),  # a full build, no cache: ~6 min
            log_level=env.get("LOG_LEVEL", "INFO"),
            rasa_api_token=env.get("RASA_API_TOKEN", ""),
            action_admin_url=env.get("ACTION_ADMIN_URL") or env.get("ACTION_ENDPOINT_URL", "").removesuffix("/webhook"),
            staff_password=env.get("STAFF_PASSWORD") or "",
            wording_file=path("MOCUA_WORDING_FILE") or DEFAULT_WORDING_FILE,
        )


_current: Settings | None = None


def current() -> Settings:
    """This process's settings, read from the environment the first time they are asked for."""
    global _current
    if _current is None:
        _current = Settings.from_environ(environ())
    return _current


def refresh() -> Settings:
    """Read the environment again (a test that changed it; a launcher that loaded .env into it)."""
    global _current
    _current = Settings.from_environ(environ())
    return _current


def app_db_url(url: str) -> str:
    """The same database for the app env's SQLAlchemy, which has psycopg 3 (Rasa's env has psycopg2)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url
