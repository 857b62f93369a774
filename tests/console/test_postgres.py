"""The console on PostgreSQL, as in the production profile: its own database, the journal (MOCUA_JOURNAL_URL) and
Rasa's tracker store (written by Rasa through psycopg2, read here through psycopg 3), on a throw-away server
(scripts/services.py)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa

import journal
from bot import handoff_state
from bot.store import Store
from console.config import Settings
from journal.tracker import events
from scripts.services import Postgres
from tests.console.support import app_client, check_first_release_accounts_upgrade, csrf_of


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    server = Postgres().start(("console", "journal", "tracker", "bridge"))
    yield server
    server.stop()


def _tracker(url: str, sender: str) -> None:
    """A conversation as Rasa's SQL tracker store keeps it (its `events` table)."""
    engine = sa.create_engine(url)
    events.metadata.create_all(engine)
    now = time.time()
    asked = {"text": "xin giấy chào đời cho con, sđt **********", "parse_data": {"intent": {"name": "ask_procedure"}}}
    answer = {"text": "Xin lỗi, mình chưa chắc chắn về câu hỏi này.", "data": {"buttons": [{"title": "Gặp cán bộ"}]}}
    with engine.begin() as con:
        for i, (kind, data) in enumerate((("user", asked), ("bot", answer))):
            row = {"sender_id": sender, "type_name": kind, "timestamp": now + i, "data": json.dumps(data)}
            con.execute(events.insert().values(**row))
    engine.dispose()


def test_dashboard_questions_handoffs_and_transcripts_on_postgresql(postgres, settings: Settings, monkeypatch) -> None:
    monkeypatch.setenv("MOCUA_JOURNAL_URL", postgres.url("journal", driver="postgresql+psycopg"))
    for kind, sender, question, extra in (
        ("answered", "c1", "làm giấy khai sinh ở đâu", {"procedure_id": "ho-tich-khai-sinh"}),
        ("feedback", "c1", None, {"value": "up", "procedure_id": "ho-tich-khai-sinh"}),
        ("unanswered", "c2", "xin giấy chào đời cho con", {}),
        ("unanswered", "c3", "giấy chào đời cho con gái", {}),
        ("handoff", "82002", "cho tôi gặp cán bộ", {}),
    ):
        journal.record(kind, sender=sender, question=question, **extra)
    bridge_url = postgres.url("bridge", driver="postgresql+psycopg")  # the Telegram bridge's store: the handoffs
    monkeypatch.setenv("MOCUA_BOT_DB_URL", bridge_url)
    bridge = Store(bridge_url)
    bridge.add_turn(82002, "citizen", "xin giấy chào đời cho con, sđt 0912 345 678")
    bridge.start_handoff(82002, "xin giấy chào đời cho con")
    _tracker(postgres.url("tracker", driver="postgresql+psycopg"), "c2")
    on_postgres = replace(settings, db_url=postgres.url("console", driver="postgresql+psycopg"),
                          tracker_url=postgres.url("tracker"))  # Rasa's own URL (psycopg2)  # fmt: skip
    client, _ = app_client(on_postgres)
    try:
        board = client.get("/dashboard").text
        assert re.search(r'id="total-questions">3<', board) and re.search(r'id="answered-share">33 %<', board)
        assert re.search(r'id="handoffs-waiting">1<', board)
        unanswered = client.get("/unanswered").text
        assert unanswered.count('class="card gap"') == 1 and "giấy chào đời cho con gái" in unanswered
        queue = client.get("/handoffs").text
        handoff = re.search(r'action="/handoffs/(\d+)/take"', queue)
        assert handoff and "xin giấy chào đời cho con" in queue and "0912 345 678" not in queue
        taken = client.post(f"/handoffs/{handoff.group(1)}/take", data={"csrf": csrf_of(client, "/handoffs")})
        assert taken.status_code == 303
        assert re.search(r'id="handoffs-handled">1<', client.get("/dashboard").text)
        assert handoff_state.state(bridge, 82002).claimed_by == "lan"  # type: ignore[union-attr]
        transcript = client.get(f"/conversations/{journal.hash_sender('c2')}").text
        assert "xin giấy chào đời cho con" in transcript and "Gặp cán bộ" in transcript
        group = re.search(r'name="group" value="([0-9a-f]+)"', unanswered)
        assert group
        client.post("/unanswered/out-of-scope", data={"csrf": csrf_of(client, "/unanswered"), "group": group.group(1),
                                                      "confirmed": "yes"})  # fmt: skip
        assert 'class="card gap"' not in client.get("/unanswered").text
        entry = re.search(r'action="/audit/(\d+)/revert"', client.get("/audit").text)  # the latest change first
        assert entry
        client.post(f"/audit/{entry.group(1)}/revert", data={"csrf": csrf_of(client, "/audit"), "confirmed": "yes"})
        assert 'class="card gap"' in client.get("/unanswered").text
    finally:
        client.close()
        bridge.close()
        journal.store.dispose()


def test_an_earlier_release_console_database_gets_the_disabled_column_on_postgresql(postgres) -> None:
    server = sa.create_engine(postgres.url("console", driver="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with server.connect() as con:
        con.exec_driver_sql("CREATE DATABASE console_first_release")
    server.dispose()
    check_first_release_accounts_upgrade(postgres.url("console_first_release", driver="postgresql+psycopg"))
