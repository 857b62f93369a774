"""The bridge's shared store (bot/store.py) on SQLite and on a real throw-away PostgreSQL server.

Two Store objects on one database stand for two bridge replicas: what one of them writes, the other must see,
and a pending message must be claimed by exactly one of them.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from bot.handlers import FloodGuard
from bot.render import Button
from bot.store import Store, StoreUnavailable
from scripts.services import Postgres
from tests.telegram.conftest import OpenStore


def button_id(payload: str) -> str:
    return Button("", payload).callback_data[2:]


def test_buttons_are_bounded_and_kept_most_recent_first(open_store: OpenStore) -> None:
    store = open_store(max_buttons=3)
    for n in range(5):
        store.remember_buttons([Button(f"nút {n}", f"/payload_{n}"), Button(f"nút {n}", f"/payload_{n}")])
    assert store.button_count() == 3
    assert store.button(button_id("/payload_0")) is None
    assert store.button(button_id("/payload_4")) == Button("nút 4", "/payload_4")


def test_history_keeps_the_last_turns_of_each_chat(open_store: OpenStore) -> None:
    store = open_store(history_turns=4)
    for n in range(6):
        store.add_turn(1, "citizen", f"câu {n}")
    store.add_turn(2, "bot", "chat khác")
    assert [t.text for t in store.recent_turns(1)] == ["câu 2", "câu 3", "câu 4", "câu 5"]
    assert [(t.who, t.text) for t in store.recent_turns(2)] == [("bot", "chat khác")]


def test_two_replicas_see_each_others_state(open_store: OpenStore) -> None:
    a, b = open_store(), open_store()
    a.remember_buttons([Button("Lệ phí", "/ask_fee")])
    assert b.button(button_id("/ask_fee")) == Button("Lệ phí", "/ask_fee"), "a button pressed on the other replica"

    a.start_handoff(501)
    assert b.in_handoff(501) and b.handoff_count() == 1, "no per-process cache of handoffs"
    assert b.end_handoff(501) is True
    assert not a.in_handoff(501) and a.end_handoff(501) is False

    a.link_staff_message(9001, 501)
    assert b.citizen_for(9001) == 501

    a.add_turn(501, "citizen", "làm khai sinh ở đâu")
    b.add_turn(501, "bot", "Tại UBND cấp xã.")
    a.add_turn(501, "citizen", "gặp cán bộ")
    assert [t.text for t in b.recent_turns(501)] == ["làm khai sinh ở đâu", "Tại UBND cấp xã.", "gặp cán bộ"]

    guards = [FloodGuard(a, limit=3, window=60), FloodGuard(b, limit=3, window=60)]
    verdicts = [guards[n % 2].check(77, now=1000.0 + n) for n in range(6)]
    assert verdicts == ["ok", "ok", "ok", "warn", "drop", "drop"], "one count for the user across replicas"
    assert guards[1].check(77, now=1061.0) == "ok", "a new window once the first one is over"


def test_each_pending_message_is_claimed_by_one_replica_only(open_store: OpenStore) -> None:
    writer = open_store()
    for n in range(40):
        writer.add_pending(1000 + n % 8, {"id": n, "first_name": "Dân"}, f"tin {n}", f"tin {n}")
    writer.release_pending()  # as at a clean shutdown: now anyone may answer them

    replicas = [open_store(), open_store()]
    claimed: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def claim(n: int) -> None:
        start.wait()
        claimed[n] = [p.id for p in replicas[n].claim_pending()]

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not set(claimed[0]) & set(claimed[1]), "no message claimed twice"
    assert sorted(claimed[0] + claimed[1]) == [p.id for p in writer.pending()], "and none left behind"
    assert replicas[0].claim_pending() == [] and replicas[1].claim_pending() == []


def test_a_dead_replicas_messages_are_taken_over_when_its_lease_ends(open_store: OpenStore) -> None:
    dead, alive = open_store(lease=30.0), open_store(lease=30.0)
    pending_id = dead.add_pending(7, None, "hỏi", "hỏi")
    now = time.time()
    assert alive.claim_pending(now=now + 10) == [], "the owner's lease still runs"
    dead.renew_leases(now=now + 20)
    assert alive.claim_pending(now=now + 40) == [], "renewed: still the owner's"
    taken = alive.claim_pending(now=now + 51)
    assert [(p.id, p.chat_id, p.message, p.payload) for p in taken] == [(pending_id, 7, "hỏi", False)]
    assert dead.claim_pending(now=now + 52) == [], "the taker now holds it"
    restarted = open_store(lease=30.0)  # a single bridge after a crash takes over at once, not after the lease
    assert [p.id for p in restarted.claim_pending(now=now + 53, from_anyone=True)] == [pending_id]
    assert restarted.claim_pending(now=now + 54, from_anyone=True) == [], "but not its own messages again"


def test_pending_messages_keep_their_fields_and_order(open_store: OpenStore) -> None:
    store = open_store()
    first = store.add_pending(5, {"id": 5}, "/ask_fee", "[bấm nút] Lệ phí", payload=True)
    second = store.add_pending(5, None, "còn gì nữa", "còn gì nữa")
    assert [(p.id, p.user, p.payload) for p in store.pending()] == [(first, {"id": 5}, True), (second, None, False)]
    store.done_pending(first)
    store.mark_notified(second)  # told "the answer is delayed": whoever answers it does not say it again
    assert [(p.id, p.notified) for p in store.pending()] == [(second, True)]


def test_database_calls_run_in_a_thread_and_errors_become_store_unavailable(tmp_path: Path) -> None:
    store = Store(tmp_path / "bot.db")

    async def scenario() -> tuple[bool, str]:
        found = await store.run(store.in_handoff, 1)
        store.engine.dispose()
        (tmp_path / "bot.db").unlink()
        (tmp_path / "bot.db").mkdir()  # the file is gone and cannot be created: the database "is down"
        try:
            await store.run(store.in_handoff, 1)
        except StoreUnavailable as error:
            return found, str(error)
        return found, ""

    found, error = asyncio.run(scenario())
    assert found is False and error.startswith("OperationalError")
    store.close()


def test_a_first_release_sqlite_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE buttons (id TEXT PRIMARY KEY, title TEXT NOT NULL, payload TEXT NOT NULL, used REAL NOT NULL);
        CREATE INDEX buttons_used ON buttons(used);
        CREATE TABLE staff_messages (message_id INTEGER PRIMARY KEY, citizen_chat INTEGER NOT NULL,
                                     created REAL NOT NULL);
        CREATE TABLE handoffs (chat_id INTEGER PRIMARY KEY, since REAL NOT NULL);
        CREATE TABLE pending (id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL, user_json TEXT,
                              message TEXT NOT NULL, shown TEXT NOT NULL, created REAL NOT NULL);
    """)
    old.execute("INSERT INTO buttons VALUES (?, 'Lệ phí', '/ask_fee', 1.0)", (button_id("/ask_fee"),))
    old.execute("INSERT INTO staff_messages VALUES (300, 42, 1.0)")
    old.execute("INSERT INTO handoffs VALUES (42, 1.0)")
    old.execute("INSERT INTO pending(chat_id, user_json, message, shown, created) VALUES (42, NULL, 'a', 'a', 1)")
    old.commit()
    old.close()

    store = Store(path)
    assert store.button(button_id("/ask_fee")) == Button("Lệ phí", "/ask_fee")
    assert store.citizen_for(300) == 42 and store.in_handoff(42)
    assert [(p.chat_id, p.message, p.payload) for p in store.claim_pending()] == [(42, "a", False)]
    store.close()


# ---------------------------------------------------------------- PostgreSQL only


def test_tables_are_created_by_replicas_starting_together(bot_db_url: str) -> None:
    stores = [Store(bot_db_url) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def first_use(store: Store) -> None:
        start.wait()
        try:
            store.start_handoff(1)
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=first_use, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert all(store.in_handoff(1) for store in stores)
    for store in stores:
        store.close()


def test_one_chat_is_locked_across_replicas(bot_db_url: str) -> None:
    a, b = Store(bot_db_url), Store(bot_db_url)
    assert a.try_lock_chat(-100123456789)
    assert not b.try_lock_chat(-100123456789), "the other replica waits for this chat"
    assert b.try_lock_chat(42), "other chats are not held up"
    a.unlock_chat(-100123456789)
    assert b.try_lock_chat(-100123456789)
    a.close()
    b.close()
    c = Store(bot_db_url)
    assert c.try_lock_chat(42), "a closed replica's locks are gone with its connection"
    c.close()


def test_a_database_restart_is_survived(postgres: Postgres, bot_db_url: str) -> None:
    store = Store(bot_db_url)
    store.start_handoff(8)
    assert store.try_lock_chat(8)
    postgres.restart()  # every open connection is cut, the chat lock's too
    assert store.in_handoff(8), "the pool reconnects"
    assert store.try_lock_chat(8), "the lock connection too (its locks went with the old one)"
    store.close()
