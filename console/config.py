"""The console's settings, read from the environment when the application is created.

Every path the console writes to can be pointed elsewhere, so the tests run it on a private copy of the
knowledge, the index, the journal and the tracker of the test stack.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import settings as shared_settings
from settings.environment import environ

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 5080


@dataclass(frozen=True)
class Settings:
    interface: str
    port: int
    db_url: str
    knowledge_dir: Path
    index_dir: Path
    dev_questions: Path
    tracker_url: str
    sync_state: Path
    secure_cookies: bool
    rasa_url: str
    var_dir: Path
    session_idle: dt.timedelta = dt.timedelta(hours=2)  # a session unused this long ends (12 h at most in any case)
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For/-Proto are believed; none: no header is

    @property
    def procedures_dir(self) -> Path:
        return self.knowledge_dir / "procedures"

    @property
    def snapshot(self) -> Path:
        return self.knowledge_dir / "official" / "catalog.jsonl.gz"

    @property
    def backups(self) -> Path:
        """Copies of replaced catalogue snapshots, so applying a sync can be reverted."""
        return self.var_dir / "console-backups"


def from_env() -> Settings:
    """The console's settings; paths and databases it shares with the other processes come from `settings`."""
    env = environ()
    shared = shared_settings.Settings.from_environ(env)
    var_dir = shared.var_dir

    def path(name: str, default: Path) -> Path:
        return Path(env.get(name) or default)

    return Settings(
        interface=env.get("CONSOLE_INTERFACE") or "127.0.0.1",
        port=int(env.get("CONSOLE_PORT") or DEFAULT_PORT),
        db_url=shared.console_db_url,
        knowledge_dir=shared.knowledge_dir or ROOT / "knowledge" / "data",
        index_dir=shared.index_dir,
        dev_questions=path("MOCUA_DEV_QUESTIONS", ROOT / "tests" / "data" / "questions" / "dev.yml"),
        tracker_url=shared.tracker_url,
        sync_state=path("MOCUA_CATALOG_SYNC_DIR", var_dir / "catalog-sync"),
        secure_cookies=env.get("CONSOLE_SECURE_COOKIES", "") == "1",
        rasa_url=env.get("RASA_URL") or f"http://127.0.0.1:{env.get('RASA_PORT') or 5005}",
        var_dir=var_dir,
        session_idle=dt.timedelta(minutes=int(env.get("CONSOLE_SESSION_IDLE_MINUTES") or 120)),
        trusted_proxies=tuple(a.strip() for a in env.get("CONSOLE_TRUSTED_PROXIES", "").split(",") if a.strip()),
    )
