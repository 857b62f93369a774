"""Two bridge replicas behind a load balancer, sharing one PostgreSQL store (MOCUA_BOT_DB_URL).

Real `python -m bot` processes in webhook mode against a real throw-away PostgreSQL server and the Bot API emulator,
which delivers each update to the replica a test picks, as a load balancer may; Rasa is the small fake.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest

from scripts.services import Postgres
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import STAFF_CHAT, RunningBridge, StartBridge
from tests.telegram.fake_rasa import FakeRasa
from tests.telegram.http_helpers import webhook_env

T = TypeVar("T")
STAFF_MEMBER = 7007
DELAYED_WORDS = "chậm hơn"


@dataclass
class Replica:
    url: str
    bridge: RunningBridge


def start_replica(emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge, bot_db_url: str,
                  **settings: str) -> Replica:  # fmt: skip
    """A bridge replica in webhook mode on the shared store, as behind a load balancer, once its webhook is set."""
    url, env = webhook_env()
    bridge = start_bridge(fake_rasa.url, wait=False, MOCUA_BOT_DB_URL=bot_db_url, **settings, **env)
    emulator.wait_for(lambda: emulator.state.webhook.get("url") == url or not bridge.alive(), 30,
                      "the replica to register its webhook")  # fmt: skip
    assert bridge.alive(), bridge.log()
    return Replica(url, bridge)


@pytest.fixture
def replicas(emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge,
             bot_db_url: str) -> list[Replica]:  # fmt: skip
    return [start_replica(emulator, fake_rasa, start_bridge, bot_db_url, BOT_FLOOD_LIMIT="6") for _ in range(2)]


def via(emulator: BotApiEmulator, replica: Replica, send: Callable[[], T]) -> T:
    """Deliver the next update to `replica`, as the load balancer would, and wait until it took it."""
    delivered = len(emulator.state.webhook_deliveries)
    emulator.state.webhook["url"] = replica.url
    result = send()
    emulator.wait_for(lambda: len(emulator.state.webhook_deliveries) > delivered, 10, "the delivery")
    assert emulator.state.webhook_deliveries[-1][1] == 200
    return result


def buttons_of(message: dict) -> dict[str, str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def staff_says(emulator: BotApiEmulator, text: str, reply_to: dict) -> dict:
    return emulator.send_text(STAFF_CHAT, text, user_id=STAFF_MEMBER, chat_type="supergroup", reply_to=reply_to)


def test_buttons_handoff_and_excerpt_work_whichever_replica_gets_the_update(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, replicas: list[Replica]
) -> None:
    a, b = replicas
    citizen = 82001
    via(emulator, a, lambda: emulator.send_text(citizen, "khai sinh ở đâu"))
    answer = emulator.wait_for_text(citizen, "Đăng ký khai sinh")
    via(emulator, b, lambda: emulator.press_button(answer, buttons_of(answer)["Lệ phí"]))
    emulator.wait_for_text(citizen, "Lệ phí đăng ký khai sinh")  # the payload A stored, found by B

    via(emulator, a, lambda: emulator.send_text(citizen, "gặp cán bộ"))
    request = emulator.wait_for_text(STAFF_CHAT, "Yêu cầu gặp cán bộ")
    assert "khai sinh ở đâu" in request["text"] and "[bấm nút] Lệ phí" in request["text"], "turns of both replicas"

    via(emulator, b, lambda: emulator.send_text(citizen, "hồ sơ của tôi đến đâu rồi"))
    emulator.wait_for_text(STAFF_CHAT, "hồ sơ của tôi đến đâu rồi")
    assert "hồ sơ của tôi đến đâu rồi" not in fake_rasa.messages(citizen), "B knows the handoff A opened"
    via(emulator, b, lambda: staff_says(emulator, "Hồ sơ đang được xử lý.", request))
    emulator.wait_for_text(citizen, "Hồ sơ đang được xử lý.")  # B finds the citizen behind A's staff message

    via(emulator, a, lambda: staff_says(emulator, "/done", request))
    emulator.wait_for_text(citizen, "trợ lý tự động tiếp tục")
    via(emulator, b, lambda: emulator.send_text(citizen, "cảm ơn"))
    emulator.wait_for_text(citizen, "Bạn hỏi: cảm ơn")


def test_flood_limit_counts_a_user_once_across_replicas(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, replicas: list[Replica]
) -> None:
    citizen = 82002
    for n in range(9):
        via(emulator, replicas[n % 2], lambda n=n: emulator.send_text(citizen, f"tin {n}"))
    emulator.wait_for_text(citizen, "hơi nhanh")
    # Answers to one chat go out about one a second (Telegram's limit, bot/pacing.py): wait for the six.
    emulator.wait_for(lambda: len([m for m in emulator.sent(citizen) if m["text"].startswith("Bạn hỏi")]) >= 6, 60,
                      "six answers")  # fmt: skip
    emulator.wait_quiet(citizen, quiet=4)
    assert len(fake_rasa.messages(citizen)) == 6, "BOT_FLOOD_LIMIT=6 for the two replicas together"
    assert sum("hơi nhanh" in m["text"] for m in emulator.sent(citizen)) == 1


def test_one_chat_stays_in_order_across_replicas(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, replicas: list[Replica]
) -> None:
    a, b = replicas
    citizen = 82003
    via(emulator, a, lambda: emulator.send_text(citizen, "hỏi chậm thôi"))  # the fake Rasa takes 3 s for it
    time.sleep(1.0)
    via(emulator, b, lambda: emulator.send_text(citizen, "câu thứ hai"))
    emulator.wait_for_text(citizen, "Bạn hỏi: câu thứ hai", timeout=30)
    assert fake_rasa.messages(citizen) == ["hỏi chậm thôi", "câu thứ hai"], "B waited for A to finish the chat"
    answers = [m["text"] for m in emulator.sent(citizen) if m["text"].startswith("Bạn hỏi")]
    assert answers == ["Bạn hỏi: hỏi chậm thôi", "Bạn hỏi: câu thứ hai"]


def test_a_stopped_replicas_pending_message_is_answered_once_by_the_other(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, replicas: list[Replica]
) -> None:
    a, b = replicas
    citizen = 82004
    fake_rasa.stop()
    via(emulator, a, lambda: emulator.send_text(citizen, "hỏi khi Rasa tắt"))
    emulator.wait_for_text(citizen, DELAYED_WORDS, timeout=15)
    a.bridge.stop()  # SIGTERM: A hands the message back
    assert "left for the next start or another replica" in a.bridge.log()
    fake_rasa.start()
    emulator.wait_for_text(citizen, "Bạn hỏi: hỏi khi Rasa tắt", timeout=40)  # B looks every 10 s
    emulator.wait_quiet(citizen, quiet=2)
    texts = [m["text"] for m in emulator.sent(citizen)]
    assert texts.count("Bạn hỏi: hỏi khi Rasa tắt") == 1 and sum(DELAYED_WORDS in t for t in texts) == 1
    assert fake_rasa.messages(citizen) == ["hỏi khi Rasa tắt"]
    assert "left unanswered" in b.bridge.log()


def test_a_database_outage_gets_a_polite_reply_and_the_bridge_carries_on(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, replicas: list[Replica], postgres: Postgres
) -> None:
    a, _ = replicas
    citizen = 82005
    emulator.state.webhook["url"] = a.url
    emulator.state.redeliver_after = 0.5  # as Telegram, until the bridge says the update is stored
    postgres._ctl("stop", "-m", "fast")  # scripts/services.py has no stop-and-keep-the-data of its own
    try:
        emulator.send_text(citizen, "xin chào")
        emulator.wait_for_text(citizen, DELAYED_WORDS, timeout=30)
        emulator.wait_for(lambda: len(emulator.state.webhook_deliveries) >= 3, 30, "Telegram to send it again")
    finally:
        postgres._ctl("start")
    emulator.wait_for_text(citizen, "Bạn hỏi: xin chào", timeout=60)
    statuses = [status for _, status in emulator.state.webhook_deliveries]
    assert statuses[0] == 503 and statuses[-1] == 200, "not stored: not acknowledged, so Telegram sent it again"
    assert len([m for m in emulator.sent(citizen) if DELAYED_WORDS in m["text"]]) == 1, "told once, not each time"
    via(emulator, a, lambda: emulator.send_text(citizen, "xin chào lần nữa"))
    emulator.wait_for_text(citizen, "Bạn hỏi: xin chào lần nữa", timeout=30)
    assert fake_rasa.messages(citizen) == ["xin chào", "xin chào lần nữa"], "each answered once"
    assert a.bridge.alive() and "Traceback" not in a.bridge.log()
