"""Setup is idempotent and its failures say what to do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.stack import ROOT, Stack, StackError, free_port


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=os.environ | env, capture_output=True, text=True, timeout=300, check=False
    )


def test_second_setup_does_no_work() -> None:
    result = run(["bash", "scripts/setup.sh"])
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert "installing" not in result.stdout


def test_unchanged_dialogue_data_is_not_retrained() -> None:
    result = run(["bash", "scripts/train.sh"])
    assert result.returncode == 0, result.stderr
    assert "Rasa model is up to date" in result.stdout


def test_wrong_python_310_is_named_in_the_error() -> None:
    result = run(["bash", "scripts/setup.sh"], MOCUA_PYTHON310=sys.executable)
    assert result.returncode != 0
    assert "is not a Python 3.10 interpreter" in result.stderr


def test_missing_python_310_says_what_to_install(tmp_path: Path) -> None:
    # A PATH with only the basic tools and no pyenv: nothing provides python3.10.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "sha256sum", "cut", "cat", "mkdir", "dirname", "grep", "printf"):
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if found:
            (bin_dir / tool).symlink_to(found)
    result = run(["bash", "scripts/setup.sh"], PATH=str(bin_dir), HOME=str(tmp_path))
    assert result.returncode != 0
    assert "Python 3.10 not found" in result.stderr
    assert "pyenv install" in result.stderr


def test_port_in_use_is_reported_with_the_port(tmp_path: Path) -> None:
    model = tmp_path / "model.tar.gz"
    model.touch()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        stack = Stack(rasa_port=port, action_port=free_port(), model=model)
        with pytest.raises(StackError, match=f"Port {port} for the Rasa server is already in use"):
            stack.check_ready_to_start()


def test_missing_model_says_to_train(tmp_path: Path) -> None:
    stack = Stack(rasa_port=free_port(), action_port=free_port(), model=tmp_path / "none.tar.gz")
    with pytest.raises(StackError, match="make train"):
        stack.check_ready_to_start()
