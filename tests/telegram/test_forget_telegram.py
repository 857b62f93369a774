"""A Telegram citizen deletes their data (Decree 13/2023/NĐ-CP): Bot API emulator -> bridge (`python -m bot`) -> real
Rasa and action servers. The help's button asks first and "Không" keeps everything; /xoadulieu and "Đồng ý xóa"
delete the conversation from Rasa's tracker, the journal and the bridge's store, and nothing of another chat."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.privacy.support import journal_rows, read_stack_journal, tracker_events, tracker_rows
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import StartBridge

pytestmark = pytest.mark.stack

BIRTH_QUESTION = "con mới sinh làm giấy khai sinh ở đâu"
LEAVING, STAYING = 82101, 82102


def buttons_of(message: dict) -> dict[str, str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def bridge_rows(db_file: str, chat: int) -> int:
    """What the bridge's store holds about a chat (excerpt for staff, messages waiting, handoff)."""
    with sa.create_engine(f"sqlite:///{db_file}").connect() as con:
        return sum(int(con.exec_driver_sql(f"SELECT COUNT(*) FROM {table} WHERE chat_id = ?", (chat,)).scalar_one())
                   for table in ("bot_history", "bot_pending", "bot_handoffs"))  # fmt: skip


def press(emulator: BotApiEmulator, chat: int, message: dict, title: str, expect: str) -> dict:
    before = len(emulator.sent(chat))
    emulator.press_button(message, next(data for text, data in buttons_of(message).items() if title in text))
    return emulator.wait_for_text(chat, expect, after=before, timeout=60)


def test_a_telegram_citizen_deletes_their_data_and_another_chat_keeps_its_own(
    emulator: BotApiEmulator, stack, start_bridge: StartBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_stack_journal(stack, monkeypatch)
    bridge = start_bridge(stack.rasa_url, ACTION_ADMIN_URL=stack.action_url,
                          ADMIN_API_TOKEN=stack.secrets["ADMIN_API_TOKEN"])  # fmt: skip
    bot_db = bridge.env["MOCUA_BOT_DB"]
    for chat in (LEAVING, STAYING):
        emulator.send_text(chat, BIRTH_QUESTION)
        emulator.wait_for_text(chat, "khai sinh", timeout=60)
        emulator.wait_quiet(chat)
    assert journal_rows(str(LEAVING)) and tracker_rows(stack, str(LEAVING)) and bridge_rows(bot_db, LEAVING)

    emulator.send_text(LEAVING, "/help")
    help_message = emulator.wait_for_text(LEAVING, "/xoadulieu")
    question = press(emulator, LEAVING, help_message, "Xóa dữ liệu của tôi", "Bạn muốn xóa toàn bộ dữ liệu")
    press(emulator, LEAVING, question, "Không", "giữ nguyên dữ liệu")
    emulator.wait_quiet(LEAVING)
    assert journal_rows(str(LEAVING)) and tracker_rows(stack, str(LEAVING)), "«Không» deletes nothing"

    before = len(emulator.sent(LEAVING))
    emulator.send_text(LEAVING, "/xoadulieu")
    question = emulator.wait_for_text(LEAVING, "Bạn muốn xóa toàn bộ dữ liệu", after=before, timeout=60)
    press(emulator, LEAVING, question, "Đồng ý xóa", "Đã xóa toàn bộ dữ liệu của bạn")
    emulator.wait_quiet(LEAVING)

    assert tracker_rows(stack, str(LEAVING)) == 0
    assert journal_rows(str(LEAVING)) == 0
    assert bridge_rows(bot_db, LEAVING) == 0
    assert not [e for e in tracker_events(stack, str(LEAVING)) if e.get("event") in ("user", "bot")]
    assert tracker_rows(stack, str(STAYING)) and journal_rows(str(STAYING)) and bridge_rows(bot_db, STAYING)
