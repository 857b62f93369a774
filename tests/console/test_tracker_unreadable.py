"""The console's conversation pages when Rasa's tracker cannot be read: before Rasa's first conversation (no table
yet) they are quietly empty; a tracker they cannot read otherwise is an error in the log, not 'nobody wrote yet'."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from console import conversation_search, conversations

NOT_READ = "the tracker store could not be read"


def tracker_file(path: Path, columns: str | None) -> str:
    """A SQLite tracker store: with an `events` table of these columns, or none (Rasa has not written yet)."""
    with sqlite3.connect(path) as con:
        if columns is not None:
            con.execute(f"CREATE TABLE events ({columns})")
    return f"sqlite:///{path}"


def test_a_tracker_rasa_has_not_created_yet_is_an_empty_list_and_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = tracker_file(tmp_path / "tracker.db", columns=None)
    with caplog.at_level(logging.ERROR):
        assert conversations.conversations(url) == []
        assert conversation_search.listing(url, conversation_search.Filters()) == []
        assert conversations.sender_of(url, "any-key") is None
    assert NOT_READ not in caplog.text


def test_a_tracker_the_console_cannot_read_is_logged_as_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A column Rasa renamed in an upgrade: the pages still answer, but the log says why they show nothing.
    url = tracker_file(tmp_path / "tracker.db", columns="id INTEGER PRIMARY KEY, sender_id TEXT, kind TEXT, data TEXT")
    with caplog.at_level(logging.ERROR):
        assert conversations.conversations(url) == []
    assert NOT_READ in caplog.text and "type_name" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        assert conversation_search.listing(url, conversation_search.Filters()) == []
    assert NOT_READ in caplog.text
