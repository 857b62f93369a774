"""Personal numbers in many spellings (tests/spellings.py), sent through the REST channel of the real Rasa server and
through the Telegram bridge (Bot API emulator -> `python -m bot` -> real Rasa -> real actions), are nowhere raw
afterwards: not in Rasa's tracker store, the journal, the bridge's store, or any log of the stack and the bridge."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import journal
from scripts.mask_stored import IDENTIFIER_KEYS
from scripts.stack import Stack
from tests.spellings import Spelling, leaks, spellings
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import StartBridge

pytestmark = pytest.mark.stack

REST_CASES = list(spellings(32, seed=21))
TELEGRAM_CASES = list(spellings(12, seed=22))
FIRST_CHAT = 82100


def strings_in(value: object, key: str | None = None) -> Iterator[str]:
    """Every string of a tracker event that holds words (not ids: message ids are hex, full of digit runs)."""
    if isinstance(value, str) and key not in IDENTIFIER_KEYS:
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item, key)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings_in(v, k)


def sqlite_rows(path: str | Path, query: str, *args: object) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(query, args).fetchall()


def file_text(path: Path) -> str:
    """A database or log file as text, with its write-ahead log (rows not yet checkpointed live there)."""
    parts = [path, path.with_name(path.name + "-wal")]
    return "".join(p.read_bytes().decode("latin-1") for p in parts if p.exists())


def check_tracker(stack: Stack, senders: list[str], cases: list[Spelling]) -> None:
    database = stack.environment()["TRACKER_DB_URL"].removeprefix("sqlite:///")
    marks = ",".join("?" * len(senders))
    rows = sqlite_rows(database, f"SELECT type_name, data FROM events WHERE sender_id IN ({marks})", *senders)
    user_texts = [json.loads(data)["text"] for kind, data in rows if kind == "user"]
    assert len(user_texts) >= len(cases), "every message reached the tracker"
    assert [t for t in user_texts if re.search(r"\d", t)] == [], "the citizen's words are stored without a digit"
    stored = "\n".join(s for _, data in rows for s in strings_in(json.loads(data)))
    assert "*****" in stored and leaks(stored, cases) == []


def check_journal(stack: Stack, senders: list[str], cases: list[Spelling]) -> None:
    hashes = [journal.hash_sender(sender) for sender in senders]
    marks = ",".join("?" * len(hashes))
    rows = sqlite_rows(stack.environment()["MOCUA_JOURNAL_DB"],
                       f"SELECT question, question_key FROM entries WHERE sender IN ({marks})", *hashes)  # fmt: skip
    questions = [text for row in rows for text in row if text]
    assert questions, "the journal recorded these questions"
    assert [q for q in questions if re.search(r"\d", q)] == []
    assert leaks("\n".join(questions), cases) == []


def test_numbers_sent_through_rest_are_stored_and_logged_masked(stack: Stack, say) -> None:
    sender = f"numbers-{uuid.uuid4().hex[:8]}"
    for case in REST_CASES:
        say(case.text, sender=sender)
    check_tracker(stack, [sender], REST_CASES)
    check_journal(stack, [sender], REST_CASES)
    for name in ("tracker.db", "journal.db"):
        assert leaks(file_text(stack.var_dir / name), REST_CASES, whole_file=True) == [], name
    for log in sorted(stack.log_dir.glob("*.log")):
        assert leaks(log.read_text(encoding="utf-8", errors="replace"), REST_CASES) == [], log.name


def test_numbers_sent_through_telegram_are_stored_and_logged_masked(
    stack: Stack, emulator: BotApiEmulator, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(stack.rasa_url)
    chats = [FIRST_CHAT + i for i in range(len(TELEGRAM_CASES))]  # one each: repeated misunderstandings hand over
    for chat, case in zip(chats, TELEGRAM_CASES, strict=True):
        emulator.send_text(chat, case.text)
    for chat in chats:
        emulator.wait_for_messages(chat, 1, timeout=90)
    bot_db = bridge.env["MOCUA_BOT_DB"]
    marks = ",".join("?" * len(chats))
    emulator.wait_for(lambda: not sqlite_rows(bot_db, f"SELECT id FROM bot_pending WHERE chat_id IN ({marks})",
                                              *chats), 90, "every message answered")  # fmt: skip
    turns = sqlite_rows(bot_db, f"SELECT who, text FROM bot_history WHERE chat_id IN ({marks})", *chats)
    citizen = [text for who, text in turns if who == "citizen"]
    assert len(citizen) == len(chats) and [t for t in citizen if re.search(r"\d", t)] == []
    assert leaks("\n".join(text for _, text in turns), TELEGRAM_CASES) == []

    senders = [str(chat) for chat in chats]  # the bridge's sender id is the chat id: kept, it is no citizen text
    check_tracker(stack, senders, TELEGRAM_CASES)
    check_journal(stack, senders, TELEGRAM_CASES)
    assert f"chat {chats[0]}" in bridge.log(), "the bridge logs chat ids as they are"
    assert leaks(bridge.log(), TELEGRAM_CASES) == []
    for log in sorted(stack.log_dir.glob("*.log")):
        assert leaks(log.read_text(encoding="utf-8", errors="replace"), TELEGRAM_CASES) == [], log.name
    bridge.stop()
    assert leaks(file_text(Path(bot_db)), TELEGRAM_CASES, whole_file=True) == [], "not even in its free pages"
