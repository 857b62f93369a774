"""The console's pages never show a personal number, in any spelling, even from rows stored raw before the masking
knew it (and before `make privacy-migrate` ran): the dashboard (table and chart), the unanswered questions (also the
wording pre-filled for an alias), the conversation list and transcripts. A console of its own, on a journal and a
tracker seeded as the old code stored them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import journal
import journal.store
from journal.tracker import events
from knowledge.text import words
from scripts.stack import free_port
from tests.console.conftest import running_console
from tests.console.support import PASSWORDS, ROLES, Console, console_command
from tests.spellings import leaks, spellings

CASES = list(spellings(24, seed=23))
SENDER = "numbers-console"


def seed(journal_db: Path, tracker_db: Path) -> None:
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")  # today: on the dashboard too
    engine = sa.create_engine(f"sqlite:///{journal_db}")
    journal.store.metadata.create_all(engine)
    with engine.begin() as con:
        con.execute(journal.entries.insert(), [
            {"ts": now, "kind": "unanswered", "sender": journal.hash_sender(SENDER), "question": case.text,
             "question_key": " ".join(words(case.text)), "intent": "ask_place"}
            for n, case in enumerate(CASES) for _ in range(1 + n % 3)
        ])  # fmt: skip
    engine.dispose()
    tracker = sa.create_engine(f"sqlite:///{tracker_db}")
    events.create(tracker)
    turns = [(kind, text) for case in CASES for kind, text in (("user", case.text), ("bot", f"Bạn hỏi: {case.text}"))]
    with tracker.begin() as con:
        con.execute(events.insert(), [
            {"sender_id": SENDER, "type_name": kind, "timestamp": 1796556405.0 + n,
             "data": json.dumps({"event": kind, "timestamp": 1796556405.0 + n, "text": text})}
            for n, (kind, text) in enumerate(turns)
        ])  # fmt: skip
    tracker.dispose()


@pytest.fixture
def seeded_console(console: Console, tmp_path: Path) -> Iterator[Console]:
    seed(tmp_path / "journal.db", tmp_path / "tracker.db")
    env = console.env | {
        "CONSOLE_PORT": str(free_port()),
        "MOCUA_VAR_DIR": str(tmp_path),
        "MOCUA_CONSOLE_DB_URL": f"sqlite:///{tmp_path / 'console.db'}",
        "MOCUA_JOURNAL_DB": str(tmp_path / "journal.db"),
        "MOCUA_JOURNAL_URL": "",
        "TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
    }
    made = console_command(env, "staff-add", "minh", "--role", ROLES["minh"], password=PASSWORDS["minh"])
    assert made.returncode == 0, made.stdout + made.stderr
    with running_console(env, tmp_path / "console.log") as (url, process):
        yield Console(url, env, console.knowledge, console.dev_questions, process)


def test_no_console_page_shows_a_personal_number_stored_raw(seeded_console: Console) -> None:
    client = seeded_console.client("minh")
    key = journal.hash_sender(SENDER)
    paths = ("/dashboard", "/unanswered", "/conversations", f"/conversations/{key}")
    pages = {path: client.get(path) for path in paths}
    assert all(page.status_code == 200 for page in pages.values()), {p: r.status_code for p, r in pages.items()}
    assert "*****" in pages["/unanswered"].text and "*****" in pages["/dashboard"].text, "the questions are shown"
    assert "*****" in pages[f"/conversations/{key}"].text, "the transcript is shown"
    for path, page in pages.items():
        assert leaks(page.text, CASES) == [], path
    client.close()
