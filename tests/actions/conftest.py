"""Fixtures for the custom actions: the real knowledge index, a private journal, trackers from JSON.

The index is the shipped knowledge built by knowledge.index.build into a temporary directory (or MOCUA_INDEX_DIR
when it points at a published index), so these tests see exactly what citizens would see.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("MOCUA_INDEX_DIR")
    if given and (Path(given) / "current").exists():
        return Path(given)
    target = tmp_path_factory.mktemp("index")
    shipped_cache = ROOT / "var/index/cache"
    if shipped_cache.is_dir():
        shutil.copytree(shipped_cache, target / "cache")  # same embeddings, no re-encoding
    result = subprocess.run(
        [sys.executable, "-m", "knowledge.index.build", "--index-dir", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return target


@pytest.fixture(autouse=True)
def knowledge(index_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every action test: the real index, and a fresh journal of its own."""
    import knowledge.search.engine as search

    monkeypatch.setenv("MOCUA_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    if search._KB is None or search._KB.index_dir != index_dir:
        search._KB = None
    yield


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def domain() -> dict[str, Any]:
    return {}
