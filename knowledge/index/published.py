"""Where the index is and which version of it is published: all the running processes need of the index's layout.

The builder (knowledge/index/build.py) writes a new version directory and then points `current` at it; the search
(knowledge/search/engine.py) and the action server's admin API only read the pointer, here, so they never import
the builder.
"""

from __future__ import annotations

import os
from pathlib import Path

import settings
from settings import DEFAULT_INDEX_DIR as DEFAULT_INDEX_DIR  # the builder's default too


def index_dir_from_env(index_dir: Path | None = None) -> Path:
    return Path(index_dir or settings.current().index_dir)


def current_version(index_dir: Path) -> Path | None:
    """The published version directory, or None before the first build."""
    pointer = index_dir / "current"
    try:
        target = os.readlink(pointer)
    except OSError:
        return None
    path = (index_dir / target).resolve()
    return path if (path / "meta.json").is_file() else None
