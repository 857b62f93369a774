"""Telegram forgets an update once the webhook answered 200, or once getUpdates was called with an offset past it:
the bridge does either only after the citizen's message is committed to its store, has the update sent again when
storing failed, and answers an update sent twice once. Real `python -m bot` (webhook and polling), its SQLite
store, the Bot API emulator (sending again like Telegram)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import RunningBridge, StartBridge
from tests.telegram.fake_rasa import FakeRasa
from tests.telegram.http_helpers import WEBHOOK_SECRET, post_update, webhook_env

CITIZEN = 84001
QUESTION = "hỏi về chứng thực bản sao"
ANSWER = f"Bạn hỏi: {QUESTION}"
STORE_DOWN_WORDS = "sự cố tạm thời"  # bot/handlers.py STORE_DOWN
# Any INSERT into the pending messages fails, as a full disk or a database going away would.
REFUSE_PENDING = "CREATE TRIGGER refuse_pending BEFORE INSERT ON bot_pending BEGIN SELECT RAISE(ABORT, 'disk I/O'); END"


def bridge_db(bridge: RunningBridge) -> sqlite3.Connection:
    return sqlite3.connect(Path(bridge.env["MOCUA_BOT_DB"]), timeout=10, isolation_level=None)


def wait_for_store(emulator: BotApiEmulator, bridge: RunningBridge) -> None:
    """The bridge creates its tables at its first look at pending messages, just after it starts."""

    def created() -> bool:
        with bridge_db(bridge) as con:
            return con.execute("SELECT 1 FROM sqlite_master WHERE name = 'bot_pending'").fetchone() is not None

    emulator.wait_for(created, 30, "the bridge's tables")


def answers(emulator: BotApiEmulator, text: str) -> list[dict]:
    return [m for m in emulator.sent(CITIZEN) if text in m["text"]]


@pytest.mark.parametrize("webhook", [True, False], ids=["webhook", "polling"])
def test_a_message_not_stored_is_not_acknowledged_and_telegram_sends_it_again(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge, webhook: bool
) -> None:
    env = webhook_env()[1] if webhook else {}
    bridge = start_bridge(fake_rasa.url, **env)
    wait_for_store(emulator, bridge)
    with bridge_db(bridge) as con:
        con.execute(REFUSE_PENDING)
    emulator.state.redeliver_after = 0.3

    emulator.send_text(CITIZEN, QUESTION)
    emulator.wait_for(lambda: "database unavailable" in bridge.log(), 30, "the store to refuse the message")
    with bridge_db(bridge) as con:
        con.execute("DROP TRIGGER refuse_pending")

    emulator.wait_for_text(CITIZEN, ANSWER)
    emulator.wait_quiet(CITIZEN)
    assert len(answers(emulator, ANSWER)) == 1
    assert answers(emulator, STORE_DOWN_WORDS) == [], "Telegram sends it again: no 'send it again later' to the citizen"
    assert fake_rasa.messages(CITIZEN) == [QUESTION]
    if webhook:
        statuses = [status for _, status in emulator.state.webhook_deliveries]  # of the one update
        assert statuses[0] == 503 and statuses[-1] == 200, statuses


def test_an_update_telegram_sends_twice_is_answered_once(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    url, env = webhook_env()
    start_bridge(fake_rasa.url, **env)
    update = {"update_id": 7001, "message": emulator.message(CITIZEN, text=QUESTION)}
    assert post_update(url, update, WEBHOOK_SECRET) == 200
    emulator.wait_for_text(CITIZEN, ANSWER)
    assert post_update(url, update, WEBHOOK_SECRET) == 200  # our 200 was lost on its way: Telegram sends it again
    emulator.wait_quiet(CITIZEN)
    assert len(answers(emulator, ANSWER)) == 1
    assert fake_rasa.messages(CITIZEN) == [QUESTION]
