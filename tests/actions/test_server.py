"""The action server's start (actions/server.py main): what it refuses to serve without."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import utils

from actions import server
from knowledge.search import Calibration, forget_knowledge_base


@pytest.fixture
def starting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """main() as `python -m actions.server` runs it, in this process: its umask put back, no logging set up, and a
    test failure rather than a server listening if it goes as far as serving."""
    monkeypatch.setenv("ACTION_SERVER_SECRET", "test-secret")
    monkeypatch.setattr(sys, "argv", ["actions.server"])
    monkeypatch.setattr(utils, "configure_colored_logging", lambda *_: None)
    monkeypatch.setattr(utils, "update_sanic_log_level", lambda *_: None)

    def serving(*_: Any) -> None:
        pytest.fail("the action server went on to serve")

    monkeypatch.setattr(server, "guarded_app", serving)
    umask = os.umask(0o022)
    os.umask(umask)
    forget_knowledge_base()
    yield
    os.umask(umask)
    forget_knowledge_base()


def test_a_missing_calibration_stops_the_start_naming_the_file(
    starting: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without calibration.json every question would fail: the server must not start and seem healthy."""
    missing = tmp_path / "calibration.json"
    shipped = Calibration.load.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(Calibration, "load", classmethod(lambda cls, path=missing, check=True: shipped(cls, missing)))

    assert server.main() == 2
    said = capsys.readouterr().err
    assert str(missing) in said and "make kb-calibrate" in said
