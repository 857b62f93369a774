"""Helpers of the personal-data tests: what Rasa's tracker (HTTP API and database), the journal and the files of the
test stack hold about a conversation."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

import journal
from journal import callbacks
from scripts.stack import Stack


def read_stack_journal(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test process reads the stack's journal and callback numbers, with the stack's own key."""
    monkeypatch.setenv("MOCUA_JOURNAL_DB", stack.environment()["MOCUA_JOURNAL_DB"])
    monkeypatch.delenv("MOCUA_JOURNAL_URL", raising=False)
    monkeypatch.setenv("MOCUA_CALLBACK_KEY", stack.secrets["MOCUA_CALLBACK_KEY"])


def sender(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def tracker_events(stack: Stack, who: str) -> list[dict]:
    """The conversation as Rasa's HTTP API gives it."""
    with urllib.request.urlopen(stack.api(f"/conversations/{who}/tracker"), timeout=30) as response:
        return json.load(response).get("events") or []


def tracker_rows(stack: Stack, who: str) -> int:
    """Rows of the conversation in Rasa's tracker database."""
    url = stack.environment()["TRACKER_DB_URL"]
    with sa.create_engine(url).connect() as con:
        return int(con.exec_driver_sql("SELECT COUNT(*) FROM events WHERE sender_id = ?", (who,)).scalar_one())


def journal_rows(who: str) -> int:
    query = sa.select(sa.func.count()).select_from(journal.entries).where(
        journal.entries.c.sender == journal.hash_sender(who))
    with journal.engine().connect() as con:
        return int(con.execute(query).scalar_one())


def texts(replies: list[dict]) -> list[str]:
    return [r["text"] for r in replies if r.get("text")]


def raw_anywhere(directory: Path, *spellings: str) -> list[str]:
    """Databases (with their write-ahead logs) and logs under `directory` holding a spelling of a number."""
    files = [p for p in directory.rglob("*") if p.is_file() and (".db" in p.name or p.parent.name == "log")]
    return [str(p) for p in files if any(s.encode() in p.read_bytes() for s in spellings)]


def numbers_kept(who: str) -> list[str]:
    """The callback numbers kept for any of the sender's requests for a person, oldest first."""
    entries = journal.entries
    query = sa.select(entries.c.id).where(entries.c.kind == "handoff", entries.c.sender == journal.hash_sender(who))
    with journal.engine().connect() as con:
        ids = con.execute(query.order_by(entries.c.id)).scalars().all()
    return [number for entry in ids for number in callbacks.numbers_for(entry)]
