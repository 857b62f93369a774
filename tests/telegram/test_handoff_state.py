"""One handoff, worked from the staff console and from the Telegram staff group (bot/handoff_state.py): its steps on
SQLite and on a real PostgreSQL with two Store objects standing for the console and a bridge replica, and the real
bridge (`python -m bot`, Bot API emulator) delivering what the console says and recording what the group does."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import handoff_state
from bot.handoff import question_for_staff
from bot.store import Store, Turn, outbox
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import STAFF_CHAT, OpenStore, StartBridge
from tests.telegram.fake_rasa import FakeRasa
from tests.telegram.test_bridge_replicas import start_replica

CITIZEN = 83001
STAFF_MEMBER = 7007
NONE = handoff_state.HandoffState(0, 0.0, "", None, None, None, None)


def said(store: Store) -> list[tuple[str | None, str | None]]:
    """What waits in the outbox, delivered once (as a bridge replica does)."""
    found = [o for chat in handoff_state.chats_with_outgoing(store) for o in handoff_state.take_outgoing(store, chat)]
    for item in found:
        handoff_state.delivered(store, item.id)
    return [(item.to_citizen, item.to_staff) for item in found]


def test_a_handoff_taken_answered_given_back_and_finished_in_the_console(open_store: OpenStore) -> None:
    bridge, console = open_store(), open_store()
    assert bridge.start_handoff(CITIZEN, "làm giấy khai sinh cho con cần gì, sđt 0912 345 678") is True
    waiting = handoff_state.state(console, CITIZEN)
    assert waiting and waiting.open and waiting.claimed_by is None
    assert "0912 345 678" not in waiting.question and "khai sinh" in waiting.question, "stored masked"

    handoff_state.claim(console, CITIZEN, "lan")
    with pytest.raises(handoff_state.TakenByAnother) as taken:
        handoff_state.claim(console, CITIZEN, "hoa")
    assert taken.value.officer == "lan"
    with pytest.raises(handoff_state.TakenByAnother):
        handoff_state.reply(console, CITIZEN, "hoa", "tôi trả lời thay")
    ((citizen, staff),) = said(bridge)
    assert citizen == "Cán bộ Lan của Bộ phận Một cửa đã nhận yêu cầu của bạn và sẽ trả lời bạn ngay tại đây."
    assert staff and staff.startswith("✋ Lan đã nhận") and staff.endswith(f"chat {CITIZEN}")

    handoff_state.reply(console, CITIZEN, "lan", "Chị mang giấy chứng sinh, gọi 0236 3822 111 nếu cần.")
    ((citizen, staff),) = said(bridge)
    assert citizen == "👩‍💼 Cán bộ Một cửa: Chị mang giấy chứng sinh, gọi 0236 3822 111 nếu cần."
    assert staff and "giấy chứng sinh" in staff and "0236 3822 111" not in staff, "the group's copy is masked"
    assert bridge.recent_turns(CITIZEN)[-1].who == "staff", "the reply is among the turns both views show"

    handoff_state.release(console, CITIZEN, "lan")
    again = handoff_state.state(bridge, CITIZEN)
    assert again and again.open and again.claimed_by is None and bridge.in_handoff(CITIZEN)
    ((citizen, staff),) = said(bridge)
    assert citizen and "sẽ có cán bộ khác trả lời" in citizen and staff and "trả lại" in staff

    handoff_state.claim(console, CITIZEN, "hoa")
    said(bridge)
    handoff_state.finish(console, CITIZEN, "hoa")
    assert not bridge.in_handoff(CITIZEN), "the bridge sends the citizen's next message to the bot"
    closed = handoff_state.state(console, CITIZEN)
    assert closed and not closed.open and closed.closed_by == "hoa" and closed.claimed_by == "hoa"
    ((citizen, staff),) = said(bridge)
    assert citizen and citizen.startswith("Cuộc trò chuyện với cán bộ đã kết thúc") and staff and "kết thúc" in staff
    with pytest.raises(handoff_state.NotOpen):
        handoff_state.reply(console, CITIZEN, "hoa", "còn gì nữa không?")
    assert said(bridge) == []

    assert bridge.start_handoff(CITIZEN, "hỏi lại") is True, "asking again opens a fresh request"
    fresh = handoff_state.state(console, CITIZEN)
    assert fresh and fresh.open and fresh.claimed_by is None and fresh.question == "hỏi lại"
    assert bridge.start_handoff(CITIZEN, "lần nữa") is False and handoff_state.state(console, CITIZEN) == fresh


def test_what_the_group_does_is_the_same_state(open_store: OpenStore) -> None:
    bridge, console = open_store(), open_store()
    bridge.start_handoff(CITIZEN, "hồ sơ đất bị trễ hẹn")
    handoff_state.claim_for_group_reply(bridge, CITIZEN, "Nguyễn Văn Hùng (nhóm Telegram)")
    taken = handoff_state.state(console, CITIZEN)
    assert taken and taken.claimed_by == "Nguyễn Văn Hùng (nhóm Telegram)"
    with pytest.raises(handoff_state.TakenByAnother):
        handoff_state.claim(console, CITIZEN, "lan")
    handoff_state.claim_for_group_reply(bridge, CITIZEN, "Trần Thị B (nhóm Telegram)")
    assert handoff_state.state(console, CITIZEN) == taken, "another member's reply leaves the claim as it is"
    assert bridge.end_handoff(CITIZEN, "Nguyễn Văn Hùng (nhóm Telegram)") is True
    assert [h.open for h in handoff_state.listed(console, closed_since=0)] == [False]
    assert handoff_state.listed(console) == [], "closed handoffs only when asked for"
    assert bridge.handoff_count() == 0


def test_each_console_message_is_delivered_by_one_replica(open_store: OpenStore) -> None:
    console, first, second = open_store(), open_store(lease=30.0), open_store(lease=30.0)
    for chat in (1, 2, 3):
        first.start_handoff(chat, "câu hỏi")
        handoff_state.claim(console, chat, "lan")
    handoff_state.reply(console, 1, "lan", "thêm một câu")
    assert handoff_state.chats_with_outgoing(second) == [1, 2, 3]
    taken = handoff_state.take_outgoing(first, 1)
    assert [o.to_citizen for o in taken][1:] == ["👩‍💼 Cán bộ Một cửa: thêm một câu"], "a chat's messages in order"
    assert handoff_state.take_outgoing(second, 1) == [] and handoff_state.chats_with_outgoing(second) == [2, 3]
    handoff_state.delivered(first, taken[0].id)
    later = handoff_state.take_outgoing(second, 1, now=first.lease + 10**10)  # the first replica died: lease ran out
    assert [o.id for o in later] == [taken[1].id]


def test_the_staff_see_the_question_asked_before_asking_for_a_person() -> None:
    turns = [Turn("citizen", "làm giấy khai sinh cho con cần gì"), Turn("bot", "📄 Đăng ký khai sinh…"),
             Turn("citizen", "cho tôi gặp cán bộ"), Turn("bot", "Mình đã chuyển…")]  # fmt: skip
    assert question_for_staff("cho tôi gặp cán bộ", turns) == "làm giấy khai sinh cho con cần gì"
    pressed = [*turns[:2], Turn("citizen", "[bấm nút] Gặp cán bộ")]
    assert question_for_staff("[bấm nút] Gặp cán bộ", pressed) == "làm giấy khai sinh cho con cần gì"
    long = "tôi cần gặp cán bộ để hỏi hồ sơ đất nhà tôi nộp tháng trước"
    assert question_for_staff(long, [*turns[:2], Turn("citizen", long)]) == long, "a request that says what it is"
    missed = [Turn("citizen", "xin giấy chào đời"), Turn("citizen", "có")]
    assert question_for_staff("xin giấy chào đời", missed) == "xin giấy chào đời", "the question the bot missed"
    assert question_for_staff("gặp cán bộ", [Turn("citizen", "gặp cán bộ")]) == "gặp cán bộ", "nothing before it"


def test_the_bridge_delivers_the_console_and_the_console_sees_the_group(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge, tmp_path: Path
) -> None:
    bridge = start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "tôi muốn gặp cán bộ")
    emulator.wait_for_text(STAFF_CHAT, "Yêu cầu gặp cán bộ")
    console = Store(bridge.env["MOCUA_BOT_DB"])
    try:
        emulator.wait_for(lambda: handoff_state.state(console, CITIZEN), 30, "the handoff in the store")
        handoff_state.claim(console, CITIZEN, "lan")
        emulator.wait_for_text(CITIZEN, "Cán bộ Lan của Bộ phận Một cửa đã nhận yêu cầu")
        note = emulator.wait_for_text(STAFF_CHAT, "Lan đã nhận yêu cầu trên bảng điều khiển")
        handoff_state.reply(console, CITIZEN, "lan", "Anh mang CCCD đến bộ phận Một cửa nhé.")
        emulator.wait_for_text(CITIZEN, "👩‍💼 Cán bộ Một cửa: Anh mang CCCD đến bộ phận Một cửa nhé.")
        emulator.wait_for_text(STAFF_CHAT, "Lan trả lời từ bảng điều khiển")

        emulator.send_text(STAFF_CHAT, "Em bổ sung: nhớ mang sổ hộ khẩu cũ.", user_id=STAFF_MEMBER,
                           chat_type="supergroup", reply_to=note)  # fmt: skip
        emulator.wait_for_text(CITIZEN, "nhớ mang sổ hộ khẩu cũ")
        emulator.wait_for(lambda: any(t.who == "staff" and "sổ hộ khẩu" in t.text
                                      for t in console.recent_turns(CITIZEN)), 30, "the group's reply in the turns")
        still = handoff_state.state(console, CITIZEN)
        assert still and still.claimed_by == "lan", "the group answering alongside leaves the officer in charge"

        handoff_state.finish(console, CITIZEN, "lan")
        emulator.wait_for_text(CITIZEN, "Cuộc trò chuyện với cán bộ đã kết thúc")
        emulator.wait_for_text(STAFF_CHAT, "Lan đã kết thúc hỗ trợ trên bảng điều khiển")
        emulator.send_text(CITIZEN, "cảm ơn")
        emulator.wait_for_text(CITIZEN, "Bạn hỏi: cảm ơn")

        before = len(emulator.sent(STAFF_CHAT))
        emulator.send_text(CITIZEN, "gặp cán bộ")
        again = emulator.wait_for_text(STAFF_CHAT, "Yêu cầu gặp cán bộ", after=before)
        emulator.send_text(STAFF_CHAT, "Chào anh, em nghe.", user_id=STAFF_MEMBER, chat_type="supergroup",
                           reply_to=again)  # fmt: skip
        emulator.wait_for_text(CITIZEN, "Chào anh, em nghe.")
        claimer = emulator.wait_for(lambda: (handoff_state.state(console, CITIZEN) or NONE).claimed_by, 30,
                                    "the group member's claim")  # fmt: skip
        assert claimer.endswith("(nhóm Telegram)"), "the console shows who answers in the group"
        emulator.send_text(STAFF_CHAT, "/done", user_id=STAFF_MEMBER, chat_type="supergroup", reply_to=again)
        emulator.wait_for(lambda: not console.in_handoff(CITIZEN), 30, "the group's /done in the store")
        closed = handoff_state.state(console, CITIZEN)
        assert closed and closed.closed_by and closed.closed_by.endswith("(nhóm Telegram)")
    finally:
        console.close()


def waiting(store: Store) -> int:
    with store.engine.connect() as con:
        return int(con.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one())


def test_two_replicas_deliver_each_console_message_once(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge, bot_db_url: str
) -> None:
    """Two bridges on one PostgreSQL store (webhook mode, as behind a load balancer): both look at the outbox, the
    citizen gets every console message once and in order, and the group's reply to the console's note works."""
    for _ in range(2):
        start_replica(emulator, fake_rasa, start_bridge, bot_db_url)
    emulator.send_text(CITIZEN, "gặp cán bộ")
    emulator.wait_for_text(STAFF_CHAT, "Yêu cầu gặp cán bộ")
    console = Store(bot_db_url)
    try:
        emulator.wait_for(lambda: handoff_state.state(console, CITIZEN), 30, "the handoff in the store")
        handoff_state.claim(console, CITIZEN, "lan")
        replies = [f"Câu trả lời số {n} của cán bộ." for n in range(1, 6)]
        for text in replies:
            handoff_state.reply(console, CITIZEN, "lan", text)
        emulator.wait_for_text(CITIZEN, replies[-1])
        emulator.wait_for(lambda: waiting(console) == 0, 30, "the outbox emptied")
        got = [m["text"] for m in emulator.sent(CITIZEN) if "Câu trả lời số" in m["text"]]
        assert got == [handoff_state.TO_CITIZEN_PREFIX + text for text in replies], "each once, in order"
        claimed = [m for m in emulator.sent(CITIZEN) if "đã nhận yêu cầu" in m["text"]]
        assert len(claimed) == 1
    finally:
        console.close()
