"""A stack's start makes what older versions left readable by all in var/ its owner's only (scripts/stack.py
make_private), but for the embedding model, which is no personal data and may be read by a bot run as another user.
The real start: tests/e2e/test_supervisor.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.stack import make_private
from tests.exposure import mode, readable_by_others


def older_file(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    return path


def test_old_data_files_are_tightened_but_not_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    var = tmp_path / "var"
    model = var / "models" / "multilingual-e5-small"
    monkeypatch.setenv("MOCUA_MODEL_DIR", str(model))
    for name in ("journal.db", "journal.db-wal", "tracker.db", "bot.db", "log/rasa.log", "index/v1/records.jsonl"):
        older_file(var / name)
    weights = older_file(model / "model.safetensors")
    outside = older_file(tmp_path / "elsewhere" / "shared.txt")
    (var / "index" / "current").symlink_to(outside)  # a link's target is not ours to change
    var.chmod(0o755)

    make_private(var)

    loose = [line for line in readable_by_others(var) if not line.startswith(("models", ". "))]
    assert loose == [], "everything but the model's directories is owner-only"
    assert mode(var / "journal.db") == mode(var / "log/rasa.log") == 0o600
    assert mode(var / "index") == mode(var / "index/v1") == 0o700
    assert mode(var) == mode(var / "models") == 0o711, "others may pass to the model, not list what is there"
    assert mode(model) == 0o755 and mode(weights) == 0o644, "the model is left as scripts/convert_e5.py made it"
    assert mode(outside) == 0o644
