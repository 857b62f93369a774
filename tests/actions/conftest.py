"""Fixtures for the custom actions: the real knowledge index, a private journal, trackers from JSON.

The index is the shipped knowledge with the official catalogue (the session's `shipped_index`, or MOCUA_INDEX_DIR
when it points at a published index), so these tests see exactly what citizens would see.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def index_dir(shipped_index: Path) -> Path:
    given = os.environ.get("MOCUA_INDEX_DIR")
    if given and (Path(given) / "current").exists():
        return Path(given)
    return shipped_index


@pytest.fixture(autouse=True)
def knowledge(index_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every action test: the real index, and a fresh journal of its own."""
    from knowledge.search import forget_knowledge_base

    monkeypatch.setenv("MOCUA_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    forget_knowledge_base(unless_serving=index_dir)
    yield


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def domain() -> dict[str, Any]:
    return {}
