"""What was stored before the masking knew every spelling of a number is masked by the migration
(scripts/mask_stored.py, `make privacy-migrate`, run at every `make run`/`make serve`), on SQLite files and on
PostgreSQL (the production profile's one shared database); and the bridge's store masks on write."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import journal
import journal.store
from bot import store as bridge
from console import db as console_db
from journal.tracker import events
from scripts import mask_stored
from scripts.services import Postgres
from scripts.stack import ROOT

CHAT = 123456789  # a Telegram chat id: looks like a CMND number, and must stay as it is
SENDER = "987654321"  # a tracker sender id (the bridge's chat id)
MESSAGE_ID = "0912345678ab4cd0987654321e012345"  # Rasa's message ids are hex: digits runs that look like phones
RAW = ("0912.345.678", "079203098765", "001-203-012-345", "B1234567", "84 987 654 321")
TYPED = f"sđt {RAW[0]}, cccd{RAW[1]}, cmnd cũ {RAW[2]}, hộ chiếu {RAW[3]}, zalo {RAW[4]}: làm hộ chiếu ở đâu"
READABLE = "lệ phí 100.000 đồng từ 01.07.2025 theo 13/2023/NĐ-CP, mã 1.001613"
OFFICE_RECORD = "điện thoại: 024 3825 1234\n"  # a record's text in the audit log: kept exact, so a revert restores it
HEX_KEY = "a123456789bcdef0"  # a conversation key (journal.hash_sender): hexadecimal, never masked


def raw_left(text: str) -> list[str]:
    return [number for number in RAW if number in text or number.replace(" ", "") in text]


def user_event(text: str) -> dict:
    return {"event": "user", "timestamp": 1796556405.65, "metadata": {"model_id": "0e3744ae74714958924e93687801e9bf"},
            "text": text, "parse_data": {"intent": {"name": "ask_place", "confidence": 0.9}, "entities": [],
                                         "text": text, "text_original": text, "message_id": MESSAGE_ID},
            "input_channel": "rest", "message_id": MESSAGE_ID}  # fmt: skip


SEEDED_EVENTS = [
    user_event(TYPED),
    {"event": "bot", "timestamp": 1.0, "metadata": {"utter_action": "utter_handoff"}, "text": f"Bạn hỏi: «{TYPED}»",
     "data": {"buttons": [{"title": "Lệ phí", "payload": "/ask_fee"}], "custom": {"handoff": {"question": TYPED}}}},
    {"event": "slot", "timestamp": 2.0, "name": "last_question", "value": TYPED},
    {"event": "action", "timestamp": 3.0, "name": "action_answer", "policy": "policy_2_RulePolicy", "confidence": 1.0},
    user_event(READABLE),
]  # fmt: skip


def seed(urls: dict[str, str]) -> None:
    """Rows as the code before the fix stored them: numbers in these spellings raw."""
    engines = {name: sa.create_engine(url) for name, url in urls.items()}
    journal.store.metadata.create_all(engines["journal"])
    bridge.metadata.create_all(engines["bridge"])
    console_db.metadata.create_all(engines["console"])
    events.create(engines["tracker"], checkfirst=True)
    with engines["journal"].begin() as con:
        con.execute(journal.entries.insert(), [
            {"ts": "2026-12-01T08:00:00+00:00", "kind": "unanswered", "sender": "ab12", "question": TYPED,
             "question_key": "sdt 0912 345 678 can cuoc cong dan079203098765 cmnd cu 001 203 012 345 lam ho chieu",
             "value": None},
            {"ts": "2026-12-01T08:01:00+00:00", "kind": "answered", "sender": "ab12", "question": READABLE,
             "question_key": journal.question_key(READABLE), "value": None},
            {"ts": "2026-12-01T08:02:00+00:00", "kind": "feedback", "sender": "ab12", "question": None,
             "question_key": None, "value": "up"},
        ])  # fmt: skip
    with engines["tracker"].begin() as con:
        con.execute(events.insert(), [
            {"sender_id": SENDER, "type_name": e["event"], "timestamp": e["timestamp"], "data": json.dumps(e)}
            for e in SEEDED_EVENTS
        ])  # fmt: skip
    user = {"id": CHAT, "is_bot": False, "first_name": f"Lan {RAW[0]}", "username": "lan_hn"}
    with engines["bridge"].begin() as con:
        con.execute(bridge.pending.insert(), [
            {"chat_id": CHAT, "user_json": json.dumps(user), "message": TYPED, "shown": TYPED, "created": 1.0,
             "payload": 0},
            {"chat_id": CHAT, "user_json": None, "message": '/choose_procedure{"procedure_id":"1.001613"}',
             "shown": "[bấm nút] Lệ phí", "created": 2.0, "payload": 1},
        ])  # fmt: skip
        con.execute(bridge.history.insert(), [
            {"chat_id": CHAT, "who": "citizen", "text": TYPED, "at": 1.0},
            {"chat_id": CHAT, "who": "bot", "text": READABLE, "at": 2.0},
        ])  # fmt: skip
    with engines["console"].begin() as con:
        con.execute(console_db.audit.insert().values(
            ts="2026-12-01T09:00:00+00:00", username="lan", action="gap.out_of_scope", target=TYPED,
            summary=f"Đánh dấu ngoài phạm vi: «{TYPED}» (2 lượt hỏi)", old=OFFICE_RECORD, new=OFFICE_RECORD,
        ))  # fmt: skip
        con.execute(console_db.audit.insert().values(
            ts="2026-12-01T09:05:00+00:00", username="lan", action="privacy.forget", target=f"hội thoại {HEX_KEY}",
            summary=f"Xóa dữ liệu của cuộc trò chuyện {HEX_KEY}",
        ))  # fmt: skip
    for engine in engines.values():
        engine.dispose()


def dump(urls: dict[str, str]) -> dict[str, list[dict]]:
    """Every row of every table the migration may touch."""
    found = {}
    for name, url in urls.items():
        engine = sa.create_engine(url)
        with engine.connect() as con:
            for table in {"journal": ["entries"], "tracker": ["events"], "bridge": ["bot_pending", "bot_history"],
                          "console": ["audit"]}[name]:  # fmt: skip
                rows = con.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).mappings().all()
                found[f"{name}.{table}"] = [dict(row) for row in rows]
        engine.dispose()
    return found


def check_masked(urls: dict[str, str]) -> None:
    stored = dump(urls)
    everything = json.dumps(stored, ensure_ascii=False, default=str)
    assert not raw_left(everything), raw_left(everything)
    assert not raw_left(json.dumps(stored).encode().decode("unicode_escape")), "escaped JSON (Rasa's events) too"

    unanswered, answered, feedback = stored["journal.entries"]
    assert unanswered["question"].startswith("sđt ********** , cccd************".replace(" ,", ","))
    assert "làm hộ chiếu ở đâu" in unanswered["question"]
    assert unanswered["question_key"] == journal.question_key(unanswered["question"]), "grouped as new rows are"
    assert answered["question"] == READABLE and feedback["value"] == "up"

    tracker = stored["tracker.events"]
    assert {row["sender_id"] for row in tracker} == {SENDER}, "sender ids are no text: never masked"
    data = [json.loads(row["data"]) for row in tracker]
    typed, echo, slot, action, readable = data
    parsed = typed["parse_data"]
    assert typed["text"] == parsed["text"] == parsed["text_original"] == unanswered["question"]
    assert typed["message_id"] == typed["parse_data"]["message_id"] == MESSAGE_ID
    assert typed["parse_data"]["intent"]["name"] == "ask_place"
    assert echo["data"]["custom"]["handoff"]["question"] == unanswered["question"]
    assert echo["data"]["buttons"] == [{"title": "Lệ phí", "payload": "/ask_fee"}]
    assert slot["name"] == "last_question" and slot["value"] == unanswered["question"]
    assert action == SEEDED_EVENTS[3] and readable == SEEDED_EVENTS[4]

    typed_pending, pressed = stored["bridge.bot_pending"]
    assert typed_pending["message"] == typed_pending["shown"] == unanswered["question"]
    assert typed_pending["chat_id"] == CHAT
    user = json.loads(typed_pending["user_json"])
    assert user == {"id": CHAT, "is_bot": False, "first_name": "Lan **********", "username": "lan_hn"}
    assert pressed["message"] == '/choose_procedure{"procedure_id":"1.001613"}', "a payload stays a payload"
    citizen, bot = stored["bridge.bot_history"]
    assert citizen["text"] == unanswered["question"] and bot["text"] == READABLE

    entry, forgotten = stored["console.audit"]
    assert entry["target"] == unanswered["question"] and unanswered["question"] in entry["summary"]
    assert entry["old"] == entry["new"] == OFFICE_RECORD
    assert forgotten["target"] == f"hội thoại {HEX_KEY}" and HEX_KEY in forgotten["summary"]


def migrate_and_check(urls: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    seed(urls)
    assert raw_left(json.dumps(dump(urls), ensure_ascii=False, default=str)), "seeded raw, as the old code stored"
    changed = mask_stored.mask_stored(environment(urls))
    assert changed == {"journal": 1, "tracker": 3, "bridge": 2, "console": 1}
    check_masked(urls)
    before = dump(urls)

    assert mask_stored.mask_stored(environment(urls)) == {name: 0 for name in changed}, "a second run: nothing"
    monkeypatch.setattr(mask_stored, "MIGRATION_VERSION", "a-new-masking")  # every row is read again
    assert mask_stored.mask_stored(environment(urls)) == {name: 0 for name in changed}
    assert dump(urls) == before, "idempotent: masking masked rows changes nothing"

    with sa.create_engine(urls["tracker"]).begin() as con:  # a row the migration has not seen yet
        con.execute(events.insert().values(sender_id=SENDER, type_name="user", timestamp=9.0,
                                           data=json.dumps(user_event(TYPED))))  # fmt: skip
    assert mask_stored.mask_stored(environment(urls))["tracker"] == 1
    assert not raw_left(json.dumps(dump(urls), ensure_ascii=False, default=str))


def environment(urls: dict[str, str]) -> dict[str, str]:
    return {"MOCUA_JOURNAL_URL": urls["journal"], "TRACKER_DB_URL": urls["tracker"],
            "MOCUA_BOT_DB_URL": urls["bridge"], "MOCUA_CONSOLE_DB_URL": urls["console"]}  # fmt: skip


def test_sqlite_files_are_masked_once_and_a_second_run_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = {name: f"sqlite:///{tmp_path / f'{name}.db'}" for name in ("journal", "tracker", "bridge", "console")}
    migrate_and_check(urls, monkeypatch)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    server = Postgres().start()
    yield server
    server.stop()


def test_one_shared_postgresql_database_is_masked_like_the_production_profile_uses_it(
    postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_url = postgres.url("mocua", driver="postgresql+psycopg")
    urls = {"journal": app_url, "tracker": app_url, "bridge": app_url, "console": app_url}
    migrate_and_check(urls, monkeypatch)
    # Rasa's own URL (psycopg2 spelling) reaches the same database from this environment.
    assert mask_stored.mask_stored(environment(urls) | {"TRACKER_DB_URL": postgres.url("mocua")})["tracker"] == 0


def test_databases_not_created_yet_are_left_alone(tmp_path: Path) -> None:
    environ = {"MOCUA_VAR_DIR": str(tmp_path), "MOCUA_JOURNAL_DB": str(tmp_path / "journal.db"),
               "MOCUA_BOT_DB": str(tmp_path / "bot.db"),
               "TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}"}  # fmt: skip
    assert mask_stored.mask_stored(environ) == {}
    assert list(tmp_path.iterdir()) == [], "no empty database file made"
    assert "no personal number" in mask_stored.mask_at_start(environ)


def test_an_unreachable_database_is_reported_and_does_not_stop_the_start(tmp_path: Path) -> None:
    environ = {"MOCUA_VAR_DIR": str(tmp_path), "MOCUA_JOURNAL_DB": str(tmp_path / "none.db"),
               "MOCUA_BOT_DB": str(tmp_path / "none.db"),
               "TRACKER_DB_URL": "postgresql://nobody:x@127.0.0.1:9/none"}  # fmt: skip
    assert mask_stored.mask_at_start(environ).startswith("WARNING: stored rows not masked")


def test_the_bridge_store_masks_citizen_text_on_write() -> None:
    store = bridge.Store(":memory:")
    user = {"id": CHAT, "is_bot": False, "first_name": f"Lan {RAW[0]}", "username": "lan_hn"}
    store.add_pending(CHAT, user, TYPED, shown=TYPED)
    store.add_pending(CHAT, None, '/choose_procedure{"procedure_id":"1.001613"}', shown="[bấm nút] Lệ phí",
                      payload=True)  # fmt: skip
    store.add_turn(CHAT, "citizen", TYPED)
    typed, pressed = store.pending()
    assert not raw_left(typed.message + typed.shown + json.dumps(typed.user, ensure_ascii=False))
    assert typed.user == user | {"first_name": "Lan **********"} and typed.chat_id == CHAT
    assert pressed.message == '/choose_procedure{"procedure_id":"1.001613"}'
    (turn,) = store.recent_turns(CHAT)
    assert not raw_left(turn.text) and "làm hộ chiếu ở đâu" in turn.text
    store.close()


def test_make_privacy_migrate_masks_the_databases_the_servers_use(tmp_path: Path) -> None:
    urls = {name: f"sqlite:///{tmp_path / f'{name}.db'}" for name in ("journal", "tracker", "bridge", "console")}
    seed(urls)
    environ = os.environ | {"MOCUA_VAR_DIR": str(tmp_path), "MOCUA_JOURNAL_DB": str(tmp_path / "journal.db"),
                            "TRACKER_DB_URL": urls["tracker"], "MOCUA_BOT_DB": str(tmp_path / "bridge.db"),
                            "MOCUA_CONSOLE_DB_URL": urls["console"], "MOCUA_JOURNAL_URL": "", "MOCUA_BOT_DB_URL": "",
                            "MOCUA_PROFILE": ""}  # fmt: skip
    done = subprocess.run(["make", "--no-print-directory", "privacy-migrate"], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    assert done.stdout.strip() == "personal numbers masked in stored rows: journal 1, tracker 3, bridge 2, console 1"
    check_masked(urls)


def test_make_run_masks_what_is_stored_before_any_server_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scripts import serve
    from scripts.stack import Stack, StackError

    urls = {name: f"sqlite:///{tmp_path / f'{name}.db'}" for name in ("journal", "tracker", "bridge", "console")}
    seed(urls)
    stack = Stack(var_dir=tmp_path, extra_env={
        "MOCUA_JOURNAL_DB": str(tmp_path / "journal.db"), "MOCUA_JOURNAL_URL": "", "TRACKER_DB_URL": urls["tracker"],
        "MOCUA_BOT_DB": str(tmp_path / "bridge.db"), "MOCUA_BOT_DB_URL": "", "MOCUA_CONSOLE_DB_URL": urls["console"],
    })  # fmt: skip

    def start(*args: object, **kwargs: object) -> None:
        check_masked(urls)  # already, when the servers would start
        raise StackError("no servers in this test")

    monkeypatch.setattr(stack, "start", start)
    with pytest.raises(StackError, match="no servers"):
        serve.serve(stack, "none")
