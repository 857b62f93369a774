"""Fixtures shared by every test package.

`stack` starts the real action server and Rasa server once per test session, on free ports, with
their own SQLite tracker and journal, and an index built from a private copy of the knowledge base
(so a test may edit a record without touching the shipped files). It needs a trained model
(`make train`); `make test` trains first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import settings
from scripts.chat import send as rest_send
from scripts.stack import APP_PYTHON, ROOT, Stack, free_port

# MOCUA_TEST_VAR lets two test runs on one checkout keep apart (each its own servers, tracker and index copy).
TEST_VAR = Path(os.environ.get("MOCUA_TEST_VAR") or ROOT / "var/test-stack")


@dataclass(frozen=True)
class KnowledgeCopy:
    knowledge_dir: Path
    index_dir: Path

    def rebuild(self) -> subprocess.CompletedProcess[str]:
        """`make kb-build` on the copy, as staff would run it."""
        return subprocess.run(
            [str(APP_PYTHON), "-m", "knowledge.index.build", "--knowledge-dir", str(self.knowledge_dir),
             "--index-dir", str(self.index_dir)],
            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip


@pytest.fixture(autouse=True)
def settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The running code reads its settings once (settings.current()). A test that changes the environment through
    monkeypatch has them read again, and again when monkeypatch puts the environment back."""
    settings.refresh()
    for name in ("setenv", "delenv", "undo"):
        setattr(monkeypatch, name, _then_refresh(getattr(monkeypatch, name)))


def _then_refresh(change: Callable[..., None]) -> Callable[..., None]:
    def changed(*args: Any, **kwargs: Any) -> None:
        change(*args, **kwargs)
        settings.refresh()

    return changed


@pytest.fixture(scope="session")
def shipped_index() -> Path:
    """The index of the shipped knowledge, official catalogue included, built once per run: `make test` builds
    var/index first, so this is normally a no-op check; tests read it and never write to it."""
    from knowledge.index.build import DEFAULT_INDEX_DIR, KNOWLEDGE_DIR, build

    report = build(DEFAULT_INDEX_DIR, KNOWLEDGE_DIR)
    assert report.version is not None, report.problems
    return DEFAULT_INDEX_DIR


@pytest.fixture(scope="session")
def knowledge_copy() -> KnowledgeCopy:
    copy = KnowledgeCopy(TEST_VAR / "knowledge", TEST_VAR / "index")
    shutil.rmtree(copy.knowledge_dir, ignore_errors=True)
    for part in ("procedures", "guides", "official"):
        shutil.copytree(ROOT / "knowledge" / "data" / part, copy.knowledge_dir / part)
    shipped_cache = ROOT / "var/index/cache"
    if shipped_cache.is_dir() and not (copy.index_dir / "cache").exists():
        shutil.copytree(shipped_cache, copy.index_dir / "cache")  # reuse embeddings: faster, same vectors
    result = copy.rebuild()
    assert result.returncode == 0, result.stdout + result.stderr
    return copy


@pytest.fixture(scope="session")
def stack(knowledge_copy: KnowledgeCopy) -> Iterator[Stack]:
    for stale in ("tracker.db", "journal.db"):
        for part in ("", "-wal", "-shm"):  # a killed run leaves the journal's write-ahead log behind
            (TEST_VAR / f"{stale}{part}").unlink(missing_ok=True)
    servers = Stack(
        rasa_port=free_port(),
        action_port=free_port(),
        var_dir=TEST_VAR,
        # MOCUA_KNOWLEDGE_DIR: an index rebuilt through the admin API (/reload) is made from the copy too.
        extra_env={"MOCUA_INDEX_DIR": str(knowledge_copy.index_dir),
                   "MOCUA_KNOWLEDGE_DIR": str(knowledge_copy.knowledge_dir)},  # fmt: skip
    )
    servers.start()
    yield servers
    servers.stop()


Say = Callable[..., list[dict]]


@pytest.fixture
def say(stack: Stack) -> Say:
    """`say(text)` sends one message as this test's citizen through Rasa's REST channel over real HTTP
    and returns the bot's replies; each test is its own conversation (pass sender= to share one).
    `say("/ask_fee", payload=True)` presses a button."""
    default_sender = f"test-{uuid.uuid4().hex[:10]}"

    def send(message: str, sender: str = default_sender, timeout: float = 60.0, payload: bool = False) -> list[dict]:
        return rest_send(stack.rasa_url, sender, message, timeout, payload=payload)

    return send
