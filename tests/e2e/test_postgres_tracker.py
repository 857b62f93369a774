"""Deployment with PostgreSQL: conversations are stored there and survive a restart of the Rasa server.

Starts a throw-away PostgreSQL server (Debian's package, installed by `make test`) on a free port, with the helper
the production profile and the Telegram bridge's store tests share (scripts/services.py).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from scripts.chat import send
from scripts.stack import ROOT, Stack, free_port
from tests.helpers import postgres_database, reply_text

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    yield from postgres_database("rasa")


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-tAc", sql], capture_output=True, text=True, timeout=60, check=True).stdout


def test_conversation_is_kept_in_postgres_across_a_rasa_restart(postgres_url: str, knowledge_copy) -> None:
    stack = Stack(
        rasa_port=free_port(),
        action_port=free_port(),
        var_dir=ROOT / "var/test-postgres",
        extra_env={"TRACKER_DB_URL": postgres_url, "MOCUA_INDEX_DIR": str(knowledge_copy.index_dir)},
    )
    sender = f"pg-{uuid.uuid4().hex[:8]}"
    with stack:
        assert "kết hôn" in reply_text(send(stack.rasa_url, sender, "tôi muốn đăng ký kết hôn")).lower()
        stored = int(psql(postgres_url, f"select count(*) from events where sender_id = '{sender}'"))
        assert stored > 0, "the conversation's events are written to PostgreSQL"
        stack.stop_rasa()
        time.sleep(1)
        stack.start_rasa()
        # The follow-up names no procedure: only the conversation restored from PostgreSQL says which one.
        assert "kết hôn" in reply_text(send(stack.rasa_url, sender, "thế mất phí không?")).lower()
