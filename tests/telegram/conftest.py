"""Fixtures: the Bot API emulator, a fake Rasa, and the bridge (`python -m bot`) as a real subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.store import Store
from scripts.services import Postgres
from scripts.stack import free_port
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.fake_rasa import FakeRasa

OpenStore = Callable[..., Store]

ROOT = Path(__file__).resolve().parents[2]
STAFF_CHAT = -100777
ADMIN_ID = 4242


@dataclass
class RunningBridge:
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throw-away PostgreSQL server (scripts/services.py) for the bridge's shared store."""
    server = Postgres().start()
    yield server
    server.stop()


@pytest.fixture
def bot_db_url(postgres: Postgres) -> str:
    """A fresh, empty database on that server, as a SQLAlchemy URL (what MOCUA_BOT_DB_URL takes)."""
    name = f"bot_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres.url("postgres", driver="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return postgres.url(name, driver="postgresql+psycopg")


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """open_store(**options) -> a Store on this test's database; every call is another process (a bridge replica,
    the console)."""
    target = str(tmp_path / "bot.db") if request.param == "sqlite" else request.getfixturevalue("bot_db_url")
    opened: list[Store] = []

    def open_one(**options: Any) -> Store:
        opened.append(Store(target, **options))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as emu:
        yield emu


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    rasa = FakeRasa().start()
    yield rasa
    rasa.close()


StartBridge = Callable[..., RunningBridge]


@pytest.fixture
def start_bridge(emulator: BotApiEmulator, tmp_path: Path) -> Iterator[StartBridge]:
    """start_bridge(rasa_url, **env) runs `python -m bot` against the emulator and waits until it polls
    (or, in webhook mode, until it registered its webhook). A setting given as None is removed from the
    environment; `cwd` runs the bridge from another directory."""
    running: list[RunningBridge] = []
    no_admin_api = f"http://127.0.0.1:{free_port()}"  # nothing listens there: the admin endpoint is dead

    def start(rasa_url: str, wait: bool = True, cwd: Path = ROOT, **extra: str | None) -> RunningBridge:
        env = dict(os.environ)
        env.update({
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_BASE_URL": emulator.base_url,
            "RASA_URL": rasa_url,
            "TELEGRAM_WEBHOOK_URL": "",
            "TELEGRAM_WEBHOOK_SECRET": "",
            "STAFF_CHAT_ID": str(STAFF_CHAT),
            "ADMIN_USER_IDS": str(ADMIN_ID),
            "MOCUA_BOT_DB": str(tmp_path / "bot.db"),
            "MOCUA_BOT_DB_URL": "",
            "ACTION_ADMIN_URL": no_admin_api,
            "ADMIN_API_TOKEN": "test-admin-token",
            "BOT_POLL_TIMEOUT": "1",
            "BOT_RASA_NOTICE_AFTER": "2",
            "BOT_RASA_GIVE_UP_AFTER": "240",
        })  # fmt: skip
        env.update({key: value for key, value in extra.items() if value is not None})
        for key in [key for key, value in extra.items() if value is None]:
            env.pop(key, None)
        log_path = tmp_path / f"bot-{len(running)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=cwd, env=env, start_new_session=True,
            stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        bridge = RunningBridge(process, log_path, env)
        running.append(bridge)
        if wait:
            ready = (lambda: emulator.state.webhook.get("url")) if extra.get("TELEGRAM_WEBHOOK_URL") else (
                lambda: emulator.calls("getUpdates"))  # fmt: skip
            try:
                emulator.wait_for(lambda: ready() or not bridge.alive(), 30, "the bridge to start")
            except AssertionError:
                raise AssertionError(f"bridge did not start:\n{bridge.log()}") from None
            assert bridge.alive(), f"bridge exited:\n{bridge.log()}"
        return bridge

    yield start
    for bridge in running:
        bridge.stop()
