"""The production profile for real: PostgreSQL, Redis, HAProxy, two Rasa and two action replicas, and two
Telegram bridge replicas in webhook mode against the Bot API emulator — started once for this package.

The bridge replicas get the balancer's URLs and tokens only: no path on this host of the index, the journal or
the knowledge files.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.production import ProductionStack, Replicas
from scripts.services import Postgres, Redis, free_port
from scripts.stack import ROOT
from tests.production.counts import FAULT_COUNTS
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import ADMIN_ID, STAFF_CHAT

PRODUCTION_VAR = ROOT / "var/test-production"
WEBHOOK_PATH = "/telegram/webhook"


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = Postgres().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    server = Redis()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def telegram() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def production(postgres: Postgres, redis_server: Redis, telegram: BotApiEmulator, knowledge_copy) -> Iterator[
    ProductionStack
]:
    bridge_port = free_port()
    stack = ProductionStack(
        rasa_port=free_port(),
        action_port=free_port(),
        bridge_port=bridge_port,
        bridge_interface="127.0.0.1",
        stats_port=free_port(),
        var_dir=PRODUCTION_VAR,
        database_url=postgres.url(),
        redis_url=redis_server.url(),
        replicas=Replicas(rasa=2, actions=2, bridge=2),
        extra_env=bridge_env(telegram, bridge_port) | {
            "MOCUA_INDEX_DIR": str(knowledge_copy.index_dir),
            "MOCUA_KNOWLEDGE_DIR": str(knowledge_copy.knowledge_dir),  # what /admin/reload builds from
        },
    )
    stack.start()
    yield stack
    stack.stop()


def bridge_env(telegram: BotApiEmulator, bridge_port: int) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_BASE_URL": telegram.base_url,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{bridge_port}{WEBHOOK_PATH}",
        "STAFF_CHAT_ID": str(STAFF_CHAT),
        "ADMIN_USER_IDS": str(ADMIN_ID),
        "BOT_RASA_NOTICE_AFTER": "20",
        "MOCUA_BOT_DB": "/nonexistent/bridge-must-use-postgresql.db",
    }


def new_sender() -> str:
    return f"prod-{uuid.uuid4().hex[:10]}"


def log_tail(stack: ProductionStack, name: str, lines: int = 40) -> str:
    path: Path = stack.log_dir / f"{name}.log"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fault suite's counts, at the end of every run that ran it (CI's log shows them)."""
    if FAULT_COUNTS:
        terminalreporter.section("fault suite: messages sent, answered, lost, duplicated")
        for count in FAULT_COUNTS:
            terminalreporter.write_line(count.line())
