"""A phone number is kept for the officer only while the citizen's request for a person is open, as the bridge's
handoff state says: once staff finished it (the group's /done, the console's «Xong»), a number typed later is not
kept for the old request, although Rasa's tracker still holds that request. Bot API emulator -> bridge -> real Rasa
and action server, sharing the bridge's store (scripts/stack.py MOCUA_BOT_DB)."""

from __future__ import annotations

import pytest

from journal import callbacks
from tests.privacy.support import read_stack_journal
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import STAFF_CHAT, StartBridge

pytestmark = pytest.mark.stack

CITIZEN = 82301
STAFF_MEMBER = 7007
NUMBER, TYPED = "0912345673", "0912 345 673"
LATER_TYPED = "0987 654 321"
KEPT_WORDS = "ghi nhận số điện thoại"  # journal/callbacks.py notice
BACK_TO_BOT = "Cuộc trò chuyện với cán bộ đã kết thúc"  # bot/handoff_state.py CITIZEN_BACK_TO_BOT


def test_a_number_typed_after_staff_finished_the_handoff_is_not_kept(
    emulator: BotApiEmulator, stack, start_bridge: StartBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_stack_journal(stack, monkeypatch)
    start_bridge(stack.rasa_url, ACTION_ADMIN_URL=stack.action_url, MOCUA_BOT_DB=stack.environment()["MOCUA_BOT_DB"],
                 ADMIN_API_TOKEN=stack.secrets["ADMIN_API_TOKEN"])  # fmt: skip
    emulator.send_text(CITIZEN, "tôi muốn gặp cán bộ")
    request = emulator.wait_for_text(STAFF_CHAT, "Yêu cầu gặp cán bộ", timeout=60)
    emulator.wait_quiet(CITIZEN)
    emulator.send_text(CITIZEN, f"số tôi {TYPED}, cán bộ gọi lại giúp tôi")
    emulator.wait_for_text(CITIZEN, KEPT_WORDS, timeout=30)
    entry = callbacks.open_request(str(CITIZEN))
    assert entry is not None and callbacks.numbers_for(entry) == [NUMBER], "while the request is open: kept"

    emulator.send_text(STAFF_CHAT, "/done", user_id=STAFF_MEMBER, chat_type="supergroup", reply_to=request)
    emulator.wait_for_text(CITIZEN, BACK_TO_BOT, timeout=30)
    emulator.wait_quiet(CITIZEN)
    before = len(emulator.sent(CITIZEN))
    emulator.send_text(CITIZEN, f"làm hộ chiếu cần giấy tờ gì? số mình {LATER_TYPED}")
    emulator.wait_for_messages(CITIZEN, 1, after=before, timeout=60)
    later = emulator.wait_quiet(CITIZEN)[before:]
    assert not [m for m in later if KEPT_WORDS in m["text"]], "the citizen is not told a number was kept"
    assert callbacks.numbers_for(entry) == [NUMBER], "the finished request does not get the later number"
    assert callbacks.open_request(str(CITIZEN)) == entry, "the answer was no new request for a person"
