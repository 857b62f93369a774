"""Deployment with PostgreSQL: conversations are stored there and survive a restart of the Rasa server.

Starts a throw-away PostgreSQL server (Debian's package, installed by `make test`) on a free port.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.chat import send
from scripts.stack import ROOT, Stack, free_port
from tests.helpers import reply_text

pytestmark = pytest.mark.stack


def pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    assert found, "PostgreSQL server not installed: run scripts/install-test-services.sh"
    return found[-1]


RUNNING_AS_ROOT = os.geteuid() == 0


def as_postgres(*command: str) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root; Debian's package provides the `postgres` user.
    prefix = ["runuser", "-u", "postgres", "--"] if RUNNING_AS_ROOT else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    base = Path("/tmp") / f"mocua-pg-{uuid.uuid4().hex[:8]}"  # short: it also holds the server's socket
    data = base / "data"
    base.mkdir()
    if RUNNING_AS_ROOT:
        shutil.chown(base, "postgres")
    as_postgres(pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    port = free_port()
    as_postgres(pg_bin("pg_ctl"), "-D", str(data), "-w", "-l", str(base / "server.log"),
                "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start")  # fmt: skip
    try:
        as_postgres(pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "rasa")
        yield f"postgresql://postgres@127.0.0.1:{port}/rasa"
    finally:
        as_postgres(pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


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
