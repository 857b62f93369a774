"""Fixtures for the knowledge search tests: a real index built once per session from the shipped knowledge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.index.build import KNOWLEDGE_DIR, current_version
from knowledge.index.encoder import model_dir_from_env

ROOT = Path(__file__).resolve().parents[2]


def _require_model() -> None:
    if not (model_dir_from_env() / "modules.json").is_file():
        pytest.skip("embedding model missing: run `make model` first")


@pytest.fixture(scope="session")
def built_index(shipped_index: Path) -> Path:
    """Index of the shipped knowledge, official catalogue included (read only)."""
    _require_model()
    assert current_version(shipped_index) is not None
    return shipped_index


def copy_knowledge(target: Path) -> Path:
    """A private copy of the shipped records that a test may edit or break."""
    for part in ("procedures", "guides"):
        shutil.copytree(KNOWLEDGE_DIR / part, target / part)
    return target


@pytest.fixture
def knowledge_and_index(tmp_path: Path, built_index: Path) -> tuple[Path, Path]:
    """(knowledge copy, index dir seeded with the session's embedding cache so nothing needs embedding)."""
    knowledge_dir = copy_knowledge(tmp_path / "knowledge")
    index_dir = tmp_path / "index"
    shutil.copytree(built_index / "cache", index_dir / "cache")
    return knowledge_dir, index_dir
