"""Callback numbers kept for a handoff, a citizen's deletion and the retention purge, on real SQLite files: what each
deletes, and what it must leave alone. The conversations through the real servers are in test_conversations.py."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

import journal
from actions import dialogue
from actions.dialogue import Turn
from bot.store import Store
from channels import guard
from journal import callbacks, erasure
from knowledge.text import find_phone_numbers

NUMBER = "0912345678"
UTC = dt.timezone.utc


@pytest.fixture
def dbs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A private journal, tracker (Rasa's `events` table) and bridge database; a callback key."""
    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    monkeypatch.delenv("MOCUA_JOURNAL_URL", raising=False)
    monkeypatch.setenv("MOCUA_CALLBACK_KEY", "test-callback-key")
    tracker = f"sqlite:///{tmp_path / 'tracker.db'}"
    with sa.create_engine(tracker).begin() as con:
        con.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name "
                            "VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), "
                            "data TEXT)")  # fmt: skip
    return {"tracker": tracker, "bridge": str(tmp_path / "bot.db"), "dir": str(tmp_path)}


def tracker_event(url: str, sender: str, when: dt.datetime, text: str = "xin chào") -> None:
    with sa.create_engine(url).begin() as con:
        con.exec_driver_sql("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
                            (sender, when.timestamp(), json.dumps({"event": "user", "text": text})))  # fmt: skip


def tracker_senders(url: str) -> set[str]:
    with sa.create_engine(url).connect() as con:
        return {row[0] for row in con.exec_driver_sql("SELECT DISTINCT sender_id FROM events")}


def journal_rows(**where: str) -> list[sa.Row]:
    query = sa.select(journal.entries).where(*(journal.entries.c[k] == v for k, v in where.items()))
    with journal.engine().connect() as con:
        return list(con.execute(query))


def backdate_journal(days: int) -> None:
    old = (dt.datetime.now(UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")
    with journal.engine().begin() as con:
        con.execute(journal.entries.update().values(ts=old))


def backdate_callbacks(days: int) -> None:
    old = (dt.datetime.now(UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")
    with journal.engine().begin() as con:
        con.execute(callbacks.callback_numbers.update().values(ts=old))


def file_bytes(directory: str) -> bytes:
    return b"".join(p.read_bytes() for p in Path(directory).iterdir() if p.is_file())


# ---------------------------------------------------------------- recognising and keeping a callback number


@pytest.mark.parametrize("typed", ["0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "số tôi 0912345678"])
def test_phone_numbers_are_found_in_the_spellings_that_are_masked(typed: str) -> None:
    assert find_phone_numbers(typed) == [NUMBER]
    assert find_phone_numbers("+84 912 345 678") == ["+84912345678"]
    assert find_phone_numbers("lệ phí 100.000 đồng, ngày 01.07.2025") == []


def test_a_number_is_kept_encrypted_for_the_latest_handoff_of_its_sender_only(dbs: dict[str, str]) -> None:
    assert callbacks.keep("chat-1", f"số tôi {NUMBER}") == 0, "no request for a person: nothing is kept"
    journal.record("handoff", sender="chat-1", question="gặp cán bộ")
    journal.record("handoff", sender="chat-2", question="gặp cán bộ")
    entry = callbacks.open_request("chat-1")
    assert entry is not None
    assert callbacks.keep("chat-1", f"gọi lại giúp tôi: {NUMBER[:4]} {NUMBER[4:7]} {NUMBER[7:]}") == 1
    assert callbacks.keep("chat-1", f"nhắc lại số {NUMBER}") == 1, "the same number again is not a second row"
    assert callbacks.numbers_for(entry) == [NUMBER]
    assert callbacks.entries_with_numbers([entry, entry + 1]) == {entry}
    assert NUMBER.encode() not in file_bytes(dbs["dir"]), "stored encrypted, never raw"


def test_the_numbers_are_unreadable_under_another_key_and_gone_after_their_retention(
    dbs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    journal.record("handoff", sender="chat-1")
    entry = callbacks.open_request("chat-1")
    assert entry is not None
    callbacks.keep("chat-1", NUMBER)
    monkeypatch.setenv("MOCUA_CALLBACK_KEY", "another-key")
    assert callbacks.numbers_for(entry) == []
    monkeypatch.setenv("MOCUA_CALLBACK_KEY", "test-callback-key")
    backdate_callbacks(callbacks.DEFAULT_RETENTION_DAYS + 1)
    assert callbacks.numbers_for(entry) == [], "past the retention, not shown even before the purge"
    assert callbacks.purge() == 1


def test_the_citizen_is_told_in_vietnamese_what_the_number_is_kept_for_and_how_long() -> None:
    notice = callbacks.notice()
    assert "gọi lại" in notice and "7 ngày" in notice and "xóa" in notice


# ---------------------------------------------------------------- deletion and retention


def test_forget_deletes_everything_of_one_conversation_and_nothing_of_another(dbs: dict[str, str]) -> None:
    now = dt.datetime.now(UTC)
    store = Store(dbs["bridge"])
    for sender, chat in (("81501", 81501), ("81502", 81502)):
        journal.record("answered", sender=sender, question="làm căn cước ở đâu")
        journal.record("handoff", sender=sender, question="gặp cán bộ")
        callbacks.keep(sender, NUMBER)
        tracker_event(dbs["tracker"], sender, now)
        store.add_turn(chat, "citizen", "làm căn cước ở đâu")
        store.start_handoff(chat)
        store.link_staff_message(chat * 10, chat)
        store.add_pending(chat, None, "làm căn cước ở đâu", "làm căn cước ở đâu")
        store.flood_hits(chat, 60)
    store.close()

    deleted = erasure.forget("81501", tracker=dbs["tracker"], bridge=dbs["bridge"])

    assert deleted == {"tracker_events": 1, "journal_entries": 2, "callback_numbers": 1, "bridge_rows": 5}
    assert tracker_senders(dbs["tracker"]) == {"81502"}
    assert not journal_rows(sender=journal.hash_sender("81501"))
    assert len(journal_rows(sender=journal.hash_sender("81502"))) == 2
    kept = Store(dbs["bridge"])
    assert kept.recent_turns(81501) == [] and not kept.in_handoff(81501) and kept.citizen_for(815010) is None
    assert [p.chat_id for p in kept.pending()] == [81502]
    assert kept.recent_turns(81502) and kept.in_handoff(81502) and kept.citizen_for(815020) == 81502
    kept.close()


def test_the_retention_purge_removes_old_conversations_and_journal_rows_only(
    dbs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCUA_RETENTION_DAYS", "30")
    now = dt.datetime.now(UTC)
    tracker_event(dbs["tracker"], "old", now - dt.timedelta(days=40))
    tracker_event(dbs["tracker"], "going-on", now - dt.timedelta(days=40), "tháng trước")  # and still talking:
    tracker_event(dbs["tracker"], "going-on", now - dt.timedelta(days=1), "hôm qua")  # kept whole
    tracker_event(dbs["tracker"], "recent", now - dt.timedelta(days=2))
    journal.record("answered", sender="old", question="câu hỏi cũ")
    backdate_journal(31)
    journal.record("answered", sender="recent", question="câu hỏi mới")

    counts = erasure.purge_expired(tracker=dbs["tracker"])

    assert counts["tracker_events"] == 1 and counts["journal_entries"] == 1
    assert tracker_senders(dbs["tracker"]) == {"going-on", "recent"}
    assert [r.question for r in journal_rows()] == ["câu hỏi mới"]
    assert erasure.purge_expired(tracker=dbs["tracker"])["journal_entries"] == 0, "nothing more to purge"


# ---------------------------------------------------------------- the channel and the dialogue


def test_the_channel_reads_a_handoff_a_deletion_and_an_open_request_from_rasa() -> None:
    handoff = [{"text": "Mình đã chuyển…"}, {"custom": {"handoff": True, "question": "q"}}]
    assert guard.asks_for_person(handoff) and not guard.forget_confirmed(handoff)
    assert guard.forget_confirmed([{"text": "Đã xóa", "custom": {"forget": True}}])
    bot_handoff = {"event": "bot", "data": {"custom": {"handoff": True}}}
    open_by_tracker = callbacks.tracker_handoff_open
    assert open_by_tracker([{"event": "session_started"}, {"event": "user"}, bot_handoff, {"event": "user"}])
    assert not open_by_tracker([bot_handoff, {"event": "restart"}, {"event": "user"}])
    assert not open_by_tracker([{"event": "bot", "data": {"custom": None}}])


def tracker_handoff(url: str, sender: str) -> None:
    """Rasa's answer that handed the conversation to staff, as its tracker keeps it."""
    event = {"event": "bot", "text": "Mình đã chuyển…", "data": {"custom": {"handoff": True}}}
    with sa.create_engine(url).begin() as con:
        con.exec_driver_sql("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'bot', 0, ?)",
                            (sender, json.dumps(event)))  # fmt: skip


def test_a_number_is_kept_while_the_request_is_open_by_the_bridges_state_or_else_the_tracker(
    dbs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_DB_URL", dbs["tracker"])
    monkeypatch.setenv("MOCUA_BOT_DB", dbs["bridge"])
    monkeypatch.delenv("MOCUA_BOT_DB_URL", raising=False)
    telegram, rest = "82201", "rest-citizen"
    for sender in (telegram, rest):
        journal.record("handoff", sender=sender, question="gặp cán bộ")
        tracker_handoff(dbs["tracker"], sender)  # no restart since: Rasa's tracker alone says open
    store = Store(dbs["bridge"])
    store.start_handoff(int(telegram), "gặp cán bộ")

    assert callbacks.capture(telegram, f"số tôi {NUMBER}") == 1, "open in the bridge: kept"
    store.end_handoff(int(telegram), by="lan")  # the console's «Xong», the group's /done
    assert callbacks.capture(telegram, "số khác 0987 654 321") == 0, "closed in the bridge: not kept"
    assert callbacks.numbers_for(callbacks.open_request(telegram) or 0) == [NUMBER]
    assert callbacks.capture(telegram, "gặp cán bộ, số 0987 654 321", asked_now=True) == 1, "a new request"

    assert callbacks.capture(rest, f"số tôi {NUMBER}") == 1, "REST: open by Rasa's tracker"
    tracker_event(dbs["tracker"], rest, dt.datetime.now(UTC))
    with sa.create_engine(dbs["tracker"]).begin() as con:
        con.exec_driver_sql("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'restart', 0, ?)",
                            (rest, json.dumps({"event": "restart"})))  # fmt: skip
    assert callbacks.capture(rest, "số khác 0987 654 321") == 0, "REST: closed by a restart"
    store.close()


def test_the_channel_keeps_the_typed_text_only_when_it_holds_a_phone_number() -> None:
    def read(body: dict) -> guard.Incoming:
        return guard.read_request(json.dumps(body).encode(), "application/json")

    incoming = read({"sender": "u1", "message": f"số tôi {NUMBER}"})
    assert incoming.text == "số tôi **********" and incoming.callback_text == f"số tôi {NUMBER}"
    assert NUMBER not in repr(incoming)  # a log line printing the request never shows the number
    assert read({"sender": "u1", "message": "làm căn cước"}).callback_text == ""
    assert read({"sender": "u1", "payload": "/confirm_forget"}).text == "/confirm_forget"


def test_deletion_is_asked_first_and_only_a_yes_to_that_question_deletes() -> None:
    asked = dialogue.forget(Turn(text="đồng ý xóa", intent="confirm_forget"))
    assert asked.slots["forget_offered"] is True, "nothing asked before: ask now"
    assert all(r.custom is None for r in asked.replies)
    done = dialogue.forget(Turn(text="/confirm_forget", intent="confirm_forget", forget_offered=True))
    assert done.replies[0].custom == {"forget": True} and done.replies[0].response == "utter_forget_done"
    kept = dialogue.confirm(Turn(text="không", intent="deny", forget_offered=True))
    assert kept.replies[0].response == "utter_forget_cancelled" and kept.slots == {"forget_offered": False}
    typed_yes = dialogue.confirm(Turn(text="có", intent="affirm", forget_offered=True))
    assert typed_yes.replies[0].custom == {"forget": True}
