"""Telegram round trips on the real system for the holes found from outside: a typed `/intent{…}` is text, an
action-server outage is waited out like a Rasa outage (the handoff is delivered after it, once), and buttons still
reach Rasa as intents. Bot API emulator -> bridge -> real Rasa -> real action server."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from scripts.stack import Stack
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import STAFF_CHAT, RunningBridge, StartBridge

pytestmark = pytest.mark.stack

DELAYED_WORDS = "chậm hơn"
HANDOFF_REQUEST = "Yêu cầu gặp cán bộ"


@pytest.fixture
def bridge(stack: Stack, start_bridge: StartBridge) -> Iterator[RunningBridge]:
    yield start_bridge(stack.rasa_url)


def user_events(stack: Stack, chat_id: int) -> list[dict]:
    with urllib.request.urlopen(stack.api(f"/conversations/{chat_id}/tracker"), timeout=30) as response:
        return [e for e in json.load(response)["events"] if e["event"] == "user"]


def staff_requests_about(emulator: BotApiEmulator, chat_id: int) -> list[dict]:
    return [m for m in emulator.sent(STAFF_CHAT) if HANDOFF_REQUEST in m["text"] and f"chat {chat_id}" in m["text"]]


def test_a_typed_intent_with_a_leading_space_is_text_not_a_handoff(emulator: BotApiEmulator, bridge,
                                                                   stack: Stack) -> None:  # fmt: skip
    chat = 83001
    emulator.send_text(chat, ' /request_human{"x":1}')
    emulator.wait_for_messages(chat, 1, timeout=60)
    emulator.wait_quiet(chat)
    assert staff_requests_about(emulator, chat) == []
    (typed,) = user_events(stack, chat)
    assert typed["parse_data"]["intent"]["name"] != "request_human" and not typed["text"].startswith("/")


def test_handoff_during_an_action_server_outage_is_delivered_once_after_it(emulator: BotApiEmulator, bridge,
                                                                           stack: Stack) -> None:  # fmt: skip
    chat = 83002
    stack.stop_process("actions")
    try:
        emulator.send_text(chat, "tôi muốn gặp cán bộ")
        emulator.wait_for_text(chat, DELAYED_WORDS, timeout=30)
        assert staff_requests_about(emulator, chat) == [], "no handoff while nothing could record it"
        assert user_events(stack, chat) == [], "the failed turn was not recorded as done"
    finally:
        stack.restart("actions")
    emulator.wait_for_text(STAFF_CHAT, f"chat {chat}", timeout=120)
    emulator.wait_quiet(chat, quiet=3)
    texts = [m["text"] for m in emulator.sent(chat)]
    assert sum(DELAYED_WORDS in t for t in texts) == 1, texts
    assert sum("đã chuyển câu hỏi" in t for t in texts) == 1, texts
    assert len(staff_requests_about(emulator, chat)) == 1
    assert [e["text"] for e in user_events(stack, chat)] == ["tôi muốn gặp cán bộ"], "handled exactly once"


def test_buttons_still_reach_rasa_as_intents(emulator: BotApiEmulator, bridge, stack: Stack) -> None:
    chat = 83003
    emulator.send_text(chat, "con mới sinh làm giấy khai sinh ở đâu")
    turn = emulator.wait_quiet(chat)
    menu = next(m for m in turn if "reply_markup" in m)
    buttons = {b["text"]: b["callback_data"] for row in menu["reply_markup"]["inline_keyboard"] for b in row}
    fee = next(title for title in buttons if "phí" in title.lower())
    emulator.press_button(menu, buttons[fee])
    emulator.wait_for_text(chat, "lệ phí", after=len(turn), timeout=60)
    assert user_events(stack, chat)[-1]["parse_data"]["intent"]["name"] == "ask_fee"
