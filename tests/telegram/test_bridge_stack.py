"""Telegram round trips on the real system: Bot API emulator -> bridge (`python -m bot`, a subprocess) ->
real Rasa server -> real action server -> knowledge search, all over HTTP. Uses the session `stack` fixture."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest

from knowledge.text import fold
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import ADMIN_ID, STAFF_CHAT, RunningBridge, StartBridge
from tests.telegram.http_helpers import post_update, webhook_env

pytestmark = pytest.mark.stack

BIRTH_QUESTION = "con mới sinh làm giấy khai sinh ở đâu"
DELAYED_WORDS = "chậm hơn"


@pytest.fixture
def bridge(stack, start_bridge: StartBridge) -> Iterator[RunningBridge]:
    yield start_bridge(stack.rasa_url)


def user_texts_in_rasa(stack, chat_id: int) -> list[str]:
    """What Rasa's tracker recorded as this chat's user messages (Rasa's HTTP API, which needs the token)."""
    with urllib.request.urlopen(stack.api(f"/conversations/{chat_id}/tracker"), timeout=30) as response:
        tracker = json.load(response)
    return [e.get("text") for e in tracker.get("events", []) if e.get("event") == "user"]


def texts(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    return [m["text"] for m in emulator.sent(chat_id)]


def test_vietnamese_question_is_answered_with_the_right_procedure(emulator: BotApiEmulator, bridge) -> None:
    chat = 81001
    emulator.send_text(chat, BIRTH_QUESTION)
    reply = emulator.wait_for_text(chat, "khai sinh", timeout=60)
    assert "xã" in reply["text"].lower(), "birth registration is done at the commune-level People's Committee"
    assert reply["text"] != fold(reply["text"]), "Vietnamese with diacritics"


def test_button_press_asks_rasa_the_follow_up(emulator: BotApiEmulator, bridge) -> None:
    chat = 81002
    emulator.send_text(chat, BIRTH_QUESTION)
    turn = emulator.wait_quiet(chat)

    def buttons_of(message: dict) -> dict[str, str]:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return {b["text"]: b["callback_data"] for row in rows for b in row}

    assert all(len(data.encode()) <= 64 for m in turn for data in buttons_of(m).values())
    menu = next(m for m in turn if any("phí" in title.lower() for title in buttons_of(m)))
    buttons = buttons_of(menu)
    fee = next(title for title in buttons if "phí" in title.lower())
    before = len(emulator.sent(chat))
    emulator.press_button(menu, buttons[fee])
    reply = emulator.wait_for_messages(chat, 1, after=before, timeout=60)[0]
    assert "phí" in reply["text"].lower()
    assert "khai sinh" in reply["text"].lower(), "the follow-up stays on the procedure of the conversation"
    assert emulator.calls("answerCallbackQuery")


def test_sticker_edit_and_huge_message_are_declined_and_the_conversation_goes_on(
    emulator: BotApiEmulator, bridge: RunningBridge, stack
) -> None:
    chat = 81003
    emulator.send_sticker(chat)
    emulator.wait_for_text(chat, "chỉ đọc được tin nhắn chữ", timeout=30)
    original = emulator.send_text(chat, BIRTH_QUESTION)
    emulator.wait_for_text(chat, "khai sinh", timeout=60)
    emulator.wait_quiet(chat)
    emulator.edit_message(original, "làm căn cước ở đâu")
    emulator.wait_for_text(chat, "tin nhắn đã sửa", timeout=30)
    emulator.send_text(chat, ("cho tôi hỏi " * 910)[:10_000])
    emulator.wait_for_text(chat, "dài quá", timeout=30)
    before = len(emulator.sent(chat))
    emulator.send_text(chat, "lam can cuoc can gi")
    reply = emulator.wait_for_messages(chat, 1, after=before, timeout=60)[0]
    assert "can cuoc" in fold(reply["text"])
    assert user_texts_in_rasa(stack, chat) == [BIRTH_QUESTION, "lam can cuoc can gi"]
    assert bridge.alive()


def test_rasa_restart_mid_conversation_answer_arrives_once(emulator: BotApiEmulator, bridge, stack) -> None:
    chat = 81004
    emulator.send_text(chat, BIRTH_QUESTION)
    answered = len(emulator.wait_quiet(chat))
    stack.stop_rasa()
    try:
        emulator.send_text(chat, "lệ phí bao nhiêu")
        emulator.wait_for_text(chat, DELAYED_WORDS, after=answered, timeout=30)
    finally:
        stack.start_rasa()
    emulator.wait_for_text(chat, "phí", after=answered + 1, timeout=120)
    emulator.wait_quiet(chat, quiet=3)  # anything sent twice would show up now
    after = texts(emulator, chat)[answered:]
    assert sum(DELAYED_WORDS in t for t in after) == 1, after
    answers = [t for t in after if DELAYED_WORDS not in t]
    assert len([t for t in answers if "phí" in t.lower()]) == 1, after
    assert user_texts_in_rasa(stack, chat).count("lệ phí bao nhiêu") == 1, "Rasa processed it exactly once"


def test_bot_api_429_is_retried_and_the_answer_arrives_once(emulator: BotApiEmulator, bridge) -> None:
    chat = 81005
    emulator.fail_next("sendMessage", 1, status=429, retry_after=2)
    emulator.send_text(chat, BIRTH_QUESTION)
    answer = emulator.wait_for_text(chat, "khai sinh", timeout=60)["text"]
    emulator.wait_quiet(chat)
    calls = emulator.calls("sendMessage")
    assert calls[0].status == 429 and calls[1].status == 200
    assert calls[1].at - calls[0].at >= 2, "waited retry_after"
    assert texts(emulator, chat).count(answer) == 1, "delivered once"


def test_webhook_secret_is_checked_on_real_http(emulator: BotApiEmulator, stack, start_bridge: StartBridge) -> None:
    chat = 81006
    url, env = webhook_env()
    bridge = start_bridge(stack.rasa_url, **env)
    update = {"update_id": 1, "message": emulator.message(chat, text=BIRTH_QUESTION)}
    assert post_update(url, update, None) == 403
    assert post_update(url, update, "not-the-secret") == 403
    time.sleep(1)
    assert emulator.sent(chat) == []
    assert post_update(url, update, env["TELEGRAM_WEBHOOK_SECRET"]) == 200
    emulator.wait_for_text(chat, "khai sinh", timeout=60)
    assert "webhook: rejected a request" in bridge.log()


def test_handoff_to_staff_and_back(emulator: BotApiEmulator, bridge, stack) -> None:
    chat = 81007
    emulator.send_text(chat, BIRTH_QUESTION)
    emulator.wait_for_text(chat, "khai sinh", timeout=60)
    emulator.wait_quiet(chat)
    emulator.send_text(chat, "tôi muốn gặp cán bộ")
    emulator.wait_for_text(chat, "cán bộ", timeout=60)
    request = emulator.wait_for_text(STAFF_CHAT, "Yêu cầu gặp cán bộ", timeout=30)
    assert f"chat {chat}" in request["text"] and BIRTH_QUESTION in request["text"]

    emulator.send_text(chat, "con tôi sinh ở nước ngoài thì sao")
    relayed = emulator.wait_for_text(STAFF_CHAT, "sinh ở nước ngoài", timeout=30)
    emulator.send_text(STAFF_CHAT, "Chị nộp tại UBND xã nhé.", user_id=7007, chat_type="supergroup",
                       reply_to=relayed)  # fmt: skip
    emulator.wait_for_text(chat, "Chị nộp tại UBND xã nhé.", timeout=30)
    assert "con tôi sinh ở nước ngoài thì sao" not in user_texts_in_rasa(stack, chat)

    emulator.send_text(STAFF_CHAT, "/done", user_id=7007, chat_type="supergroup", reply_to=request)
    emulator.wait_for_text(chat, "trợ lý tự động tiếp tục", timeout=30)
    before = len(emulator.wait_quiet(chat))
    emulator.send_text(chat, "lam can cuoc can gi")
    reply = emulator.wait_for_messages(chat, 1, after=before, timeout=60)[0]
    assert "can cuoc" in fold(reply["text"]), "back with the bot"


def test_admin_commands_from_a_non_admin_are_refused(emulator: BotApiEmulator, bridge) -> None:
    chat = 81008
    assert chat != ADMIN_ID
    emulator.send_text(chat, "/reload")
    emulator.send_text(chat, "/stats")
    emulator.wait_for_messages(chat, 2, timeout=30)
    assert texts(emulator, chat) == ["Bạn không có quyền dùng lệnh này."] * 2


def admin_api(stack, path: str, method: str = "GET", timeout: float = 600) -> dict:
    request = urllib.request.Request(f"{stack.action_url}{path}", method=method, headers={
        "Authorization": f"Bearer {stack.secrets['ADMIN_API_TOKEN']}"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def test_admin_stats_and_reload_through_the_admin_api_with_only_urls_and_tokens(
    emulator: BotApiEmulator, stack, start_bridge: StartBridge, tmp_path
) -> None:
    """The bridge has no index, no journal and not even the project as its working directory: /stats and /reload
    are answered by the action server's admin API, as when the bridge runs on another host."""
    start_bridge(
        stack.rasa_url, cwd=tmp_path, ACTION_ADMIN_URL=stack.action_url,
        ADMIN_API_TOKEN=stack.secrets["ADMIN_API_TOKEN"],
        MOCUA_INDEX_DIR=None, MOCUA_KNOWLEDGE_DIR=None, MOCUA_JOURNAL_DB=None, MOCUA_JOURNAL_URL=None,
    )  # fmt: skip
    emulator.send_text(81009, BIRTH_QUESTION)
    emulator.wait_for_text(81009, "khai sinh", timeout=60)
    emulator.wait_quiet(81009)  # the whole turn (answer, buttons, feedback question) was delivered

    emulator.send_text(ADMIN_ID, "/stats")
    stats = emulator.wait_for_text(ADMIN_ID, "Cầu nối Telegram", timeout=30)["text"]
    server = admin_api(stack, "/admin/stats")
    assert "Đã trả lời: 1" in stats
    assert server["journal_report"] in stats, "the dialogue journal's counts, as the action server reads them"
    assert f"Chỉ mục tri thức đang dùng: {server['index_version']}" in stats

    emulator.send_text(ADMIN_ID, "/reload")
    report = emulator.wait_for_text(ADMIN_ID, "Đã dựng lại chỉ mục", timeout=600)["text"]
    after = admin_api(stack, "/admin/stats")
    assert f"phiên bản {after['published_version']}" in report
    assert after["index_version"] == after["published_version"], "the action server serves what was published"
    assert "index up to date" in report or "published" in report, "the build's own output closes the report"
