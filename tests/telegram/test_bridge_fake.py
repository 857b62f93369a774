"""The bridge as a real process between the Bot API emulator and a fake Rasa, all over real HTTP.

Fast checks of Telegram behaviour that does not depend on what Rasa answers; the round trips through the
real Rasa and action servers are in test_bridge_stack.py.
"""

from __future__ import annotations

import time

from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import StartBridge
from tests.telegram.fake_rasa import LONG_PARAGRAPH, LONG_PAYLOAD, FakeRasa
from tests.telegram.http_helpers import WEBHOOK_SECRET, post_update, webhook_env

CITIZEN = 5001


def test_question_gets_answer_with_inline_keyboard(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                   start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "làm giấy khai sinh ở đâu")
    reply = emulator.wait_for_text(CITIZEN, "khai sinh")
    assert "UBND cấp xã" in reply["text"]
    titles = [b["text"] for row in reply["reply_markup"]["inline_keyboard"] for b in row]
    assert titles == ["Lệ phí", "Khai sinh có yếu tố nước ngoài"]
    assert fake_rasa.messages(CITIZEN) == ["làm giấy khai sinh ở đâu"]


def test_typing_action_is_shown_while_rasa_works(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                 start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "hỏi chậm thôi")  # the fake Rasa takes 3 s for it (an instant answer needs none)
    emulator.wait_for_text(CITIZEN, "Bạn hỏi")
    actions = emulator.calls("sendChatAction")
    assert actions and actions[0].params["action"] == "typing"
    allowed = emulator.calls("getUpdates")[-1].params["allowed_updates"]
    assert {"message", "edited_message", "callback_query"} <= set(allowed)


def test_button_with_long_vietnamese_payload_round_trips_and_survives_restart(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "khai sinh")
    menu = emulator.wait_for_text(CITIZEN, "khai sinh")
    buttons = [b for row in menu["reply_markup"]["inline_keyboard"] for b in row]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    assert len(LONG_PAYLOAD.encode()) > 64

    emulator.press_button(menu, buttons[1]["callback_data"])
    emulator.wait_for_text(CITIZEN, "yếu tố nước ngoài: nộp")
    assert emulator.calls("answerCallbackQuery"), "the spinner on the button must stop"
    assert fake_rasa.messages(CITIZEN)[-1] == LONG_PAYLOAD

    bridge.stop()  # a restart must not break buttons already on the citizen's screen
    start_bridge(fake_rasa.url)
    before = len(emulator.sent(CITIZEN))
    emulator.press_button(menu, buttons[0]["callback_data"])
    reply = emulator.wait_for_messages(CITIZEN, 1, after=before)[0]
    assert "miễn lệ phí" in reply["text"]


def test_unknown_button_id_gets_polite_answer(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                              start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "xin chào")
    message = emulator.wait_for_text(CITIZEN, "Bạn hỏi")
    emulator.press_button(message, "b:0000000000000000")
    emulator.wait_for_text(CITIZEN, "Nút này đã cũ")


def test_sticker_photo_and_edit_get_polite_vietnamese_and_bot_keeps_working(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(fake_rasa.url)
    emulator.send_sticker(CITIZEN)
    emulator.wait_for_text(CITIZEN, "chỉ đọc được tin nhắn chữ")
    emulator.send_photo(CITIZEN)
    emulator.wait_for_messages(CITIZEN, 2)
    original = emulator.send_text(CITIZEN, "xin chào")
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: xin chào")
    emulator.edit_message(original, "xin chào, sửa lại")
    emulator.wait_for_text(CITIZEN, "tin nhắn đã sửa")
    emulator.send_text(CITIZEN, "còn đó không")
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: còn đó không")
    assert fake_rasa.messages(CITIZEN) == ["xin chào", "còn đó không"], "stickers and edits never reach Rasa"
    assert bridge.alive()


def test_very_long_message_is_refused_politely(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                               start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, ("xin hỏi " * 1250).strip() + "?")  # 10,000 characters
    reply = emulator.wait_for_text(CITIZEN, "dài quá")
    assert "10.000 ký tự" in reply["text"]
    time.sleep(0.5)
    assert fake_rasa.messages(CITIZEN) == []


def test_long_reply_is_split_on_paragraphs_under_telegram_limit(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                                start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "cho câu trả lời dài")
    parts = emulator.wait_for(lambda: (lambda m: m if m and "Đoạn 12" in m[-1]["text"] else None)(
        emulator.sent(CITIZEN)), 20, "the last paragraph")  # fmt: skip
    assert len(parts) >= 2
    assert all(len(p["text"]) <= 4096 for p in parts)
    assert all(p["text"].startswith("Đoạn ") for p in parts), "each part starts at a paragraph"
    for n in range(1, 13):  # every paragraph arrives whole, in exactly one part
        paragraph = LONG_PARAGRAPH.format(n=n).strip()
        assert sum(paragraph in p["text"] for p in parts) == 1


def test_reply_text_with_markup_characters_arrives_verbatim_as_plain_text(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "mẫu html <script>")
    reply = emulator.wait_for_text(CITIZEN, "tờ khai")
    assert reply["text"] == "Mẫu <b>tờ khai</b> & phụ lục <i>số 1</i> — dùng dấu < và >."
    assert all("parse_mode" not in c.params for c in emulator.calls("sendMessage"))


def test_decomposed_unicode_reaches_rasa_as_nfc(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                start_bridge: StartBridge) -> None:  # fmt: skip
    import unicodedata

    start_bridge(fake_rasa.url)
    nfd = unicodedata.normalize("NFD", "tôi bị mất căn cước")
    emulator.send_text(CITIZEN, nfd)
    emulator.wait_for_text(CITIZEN, "Bạn hỏi")
    assert fake_rasa.messages(CITIZEN) == ["tôi bị mất căn cước"]


def test_group_messages_only_when_addressed_and_channel_posts_ignored(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    start_bridge(fake_rasa.url)
    group = -2002
    emulator.send_text(group, "mọi người ơi họp lúc mấy giờ", user_id=6001, chat_type="group")
    emulator.channel_post(-3003, "thông báo của kênh")
    emulator.send_text(group, "@mocua_test_bot khai sinh cần gì", user_id=6001, chat_type="group")
    reply = emulator.wait_for_text(group, "khai sinh")
    assert "UBND" in reply["text"]
    emulator.send_text(group, "còn lệ phí?", user_id=6002, chat_type="group", reply_to=reply)  # reply to the bot
    emulator.wait_for_text(group, "Bạn hỏi: còn lệ phí?")
    time.sleep(0.5)
    assert fake_rasa.messages(group) == ["khai sinh cần gì", "còn lệ phí?"]
    assert emulator.sent(-3003) == []
    assert len(emulator.sent(group)) == 2


def test_one_chat_in_order_other_chats_concurrently(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                    start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url, BOT_RASA_NOTICE_AFTER="30")
    slow_chat, quick_chat = 5101, 5102
    emulator.send_text(slow_chat, "câu một chậm")
    emulator.send_text(slow_chat, "câu hai")
    emulator.send_text(slow_chat, "câu ba")
    emulator.send_text(quick_chat, "câu nhanh")
    emulator.wait_for_text(quick_chat, "câu nhanh", timeout=10)
    assert not any("câu một" in m["text"] for m in emulator.sent(slow_chat)), "the other chat did not wait"
    replies = emulator.wait_for_messages(slow_chat, 3, timeout=20)
    assert [m["text"] for m in replies] == ["Bạn hỏi: câu một chậm", "Bạn hỏi: câu hai", "Bạn hỏi: câu ba"]


def test_rasa_down_then_back_citizen_told_once_and_answered_once(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    start_bridge(fake_rasa.url)
    fake_rasa.stop()
    emulator.send_text(CITIZEN, "câu hỏi lúc hệ thống tắt")
    emulator.send_text(CITIZEN, "câu hỏi thứ hai")
    emulator.wait_for_text(CITIZEN, "chậm hơn", timeout=15)
    time.sleep(4)  # a few retries happen meanwhile
    fake_rasa.start()
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: câu hỏi thứ hai", timeout=60)
    texts = [m["text"] for m in emulator.sent(CITIZEN)]
    assert sum("chậm hơn" in t for t in texts) == 1
    assert texts[1:] == ["Bạn hỏi: câu hỏi lúc hệ thống tắt", "Bạn hỏi: câu hỏi thứ hai"]
    assert fake_rasa.messages(CITIZEN) == ["câu hỏi lúc hệ thống tắt", "câu hỏi thứ hai"]


def test_slow_rasa_citizen_told_once_and_message_not_resent(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                           start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url, BOT_RASA_NOTICE_AFTER="1")
    emulator.send_text(CITIZEN, "câu hỏi chậm")  # the fake takes 3 s
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: câu hỏi chậm", timeout=15)
    texts = [m["text"] for m in emulator.sent(CITIZEN)]
    assert len(texts) == 2 and "chậm hơn" in texts[0]
    assert fake_rasa.messages(CITIZEN) == ["câu hỏi chậm"]


def test_bot_api_429_is_waited_out_and_message_delivered_once(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                             start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.fail_next("sendMessage", 2, status=429, retry_after=1)
    started = time.monotonic()
    emulator.send_text(CITIZEN, "xin chào")
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: xin chào", timeout=20)
    assert time.monotonic() - started >= 2, "the bridge waited retry_after each time"
    statuses = [c.status for c in emulator.calls("sendMessage")]
    assert statuses == [429, 429, 200]
    assert len(emulator.sent(CITIZEN)) == 1


def test_bot_api_502_is_retried(emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge) -> None:
    start_bridge(fake_rasa.url)
    emulator.fail_next("sendMessage", 1, status=502)
    emulator.send_text(CITIZEN, "xin chào")
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: xin chào", timeout=20)
    assert [c.status for c in emulator.calls("sendMessage")] == [502, 200]
    assert len(emulator.sent(CITIZEN)) == 1


def test_flood_limit_answers_once_and_drops_the_rest(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                     start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url, BOT_FLOOD_LIMIT="3")
    for n in range(6):
        emulator.send_text(CITIZEN, f"tin {n}")
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: tin 2")
    emulator.wait_for_text(CITIZEN, "hơi nhanh")
    time.sleep(1.0)
    texts = [m["text"] for m in emulator.sent(CITIZEN)]
    assert sum("hơi nhanh" in t for t in texts) == 1
    assert fake_rasa.messages(CITIZEN) == ["tin 0", "tin 1", "tin 2"]


def test_start_and_reset_restart_the_rasa_conversation(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                       start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "/start")
    welcome = emulator.wait_for_text(CITIZEN, "Xin chào")
    assert "thủ tục" in welcome["text"]
    emulator.send_text(CITIZEN, "/reset")
    emulator.wait_for_text(CITIZEN, "cuộc trò chuyện mới")
    emulator.send_text(CITIZEN, "/help")
    emulator.wait_for_text(CITIZEN, "/reset")
    assert fake_rasa.messages(CITIZEN) == ["/restart", "/restart"]
    commands = emulator.calls("setMyCommands")
    assert commands
    assert {c["command"] for c in commands[0].params["commands"]} == {"start", "help", "reset", "xoadulieu"}


# ---------------------------------------------------------------- webhook mode


def test_webhook_rejects_missing_or_wrong_secret_and_accepts_the_right_one(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    url, env = webhook_env()
    bridge = start_bridge(fake_rasa.url, **env)
    assert emulator.state.webhook["url"] == url
    assert emulator.state.webhook["secret"] == WEBHOOK_SECRET

    def update(update_id: int, text: str) -> dict:
        return {"update_id": update_id, "message": emulator.message(CITIZEN, text=text)}

    assert post_update(url, update(9001, "không có mật khẩu"), None) == 403
    assert post_update(url, update(9002, "sai mật khẩu"), "wrong-secret") == 403
    assert post_update(url, update(9003, "đúng mật khẩu"), WEBHOOK_SECRET) == 200
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: đúng mật khẩu")
    time.sleep(0.5)
    assert fake_rasa.messages(CITIZEN) == ["đúng mật khẩu"], "rejected requests never reach Rasa"
    assert bridge.log().count("webhook: rejected") == 2

    emulator.send_text(CITIZEN, "gửi như Telegram")  # the emulator POSTs with the registered secret
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: gửi như Telegram")
    assert emulator.state.webhook_deliveries[-1][1] == 200


# ---------------------------------------------------------------- handoff to staff
STAFF = -100777  # tests/telegram/conftest.py STAFF_CHAT_ID
STAFF_MEMBER = 7007


def _staff_reply(emulator: BotApiEmulator, to: dict, text: str, chat: int = STAFF) -> dict:
    return emulator.send_text(chat, text, user_id=STAFF_MEMBER, chat_type="supergroup", reply_to=to)


def test_handoff_relays_both_ways_and_done_returns_citizen_to_bot(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "hồ sơ đất của tôi bị trễ hẹn")
    emulator.wait_for_text(CITIZEN, "Bạn hỏi")
    emulator.send_text(CITIZEN, "tôi muốn gặp cán bộ")
    emulator.wait_for_text(CITIZEN, "đã chuyển câu hỏi")
    request = emulator.wait_for_text(STAFF, "Yêu cầu gặp cán bộ")
    assert f"chat {CITIZEN}" in request["text"]
    assert "hỏi về đất đai" in request["text"], "the question from Rasa's handoff payload"
    assert "hồ sơ đất của tôi bị trễ hẹn" in request["text"], "the recent conversation"

    emulator.send_text(CITIZEN, "số hồ sơ của tôi là H123")
    relayed = emulator.wait_for_text(STAFF, "số hồ sơ của tôi là H123")
    assert "H123" not in " ".join(fake_rasa.messages(CITIZEN)), "in handoff, messages go to staff, not Rasa"

    emulator.send_text(STAFF, "ai trực hôm nay?", user_id=STAFF_MEMBER, chat_type="supergroup")  # staff chatter
    _staff_reply(emulator, relayed, "Chào anh, hồ sơ H123 sẽ có kết quả thứ Sáu.")
    answer = emulator.wait_for_text(CITIZEN, "thứ Sáu")
    assert answer["text"].startswith("👩‍💼 Cán bộ")

    _staff_reply(emulator, request, "/done")
    emulator.wait_for_text(CITIZEN, "trợ lý tự động tiếp tục")
    emulator.wait_for_text(STAFF, "Đã trả công dân về trợ lý")
    emulator.send_text(CITIZEN, "cảm ơn")
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: cảm ơn")
    assert not any("ai trực" in m["text"] for m in emulator.sent(CITIZEN))
    assert all(sender != str(STAFF) for sender, _ in fake_rasa.received), "staff talk never reaches Rasa"


def test_only_the_staff_chat_can_answer_citizens(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                 start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "gặp cán bộ")
    request = emulator.wait_for_text(STAFF, "Yêu cầu gặp cán bộ")
    before = len(emulator.sent(CITIZEN))
    _staff_reply(emulator, request, "tôi giả làm cán bộ", chat=-100888)  # another group, same message id
    _staff_reply(emulator, request, "/done", chat=-100888)
    time.sleep(1.5)
    assert not any("giả làm" in m["text"] for m in emulator.sent(CITIZEN))
    assert len(emulator.sent(CITIZEN)) == before
    emulator.send_text(CITIZEN, "vẫn chờ cán bộ")
    emulator.wait_for_text(STAFF, "vẫn chờ cán bộ")


def test_handoff_survives_a_bridge_restart(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                           start_bridge: StartBridge) -> None:  # fmt: skip
    bridge = start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "gặp cán bộ")
    request = emulator.wait_for_text(STAFF, "Yêu cầu gặp cán bộ")
    bridge.stop()
    start_bridge(fake_rasa.url)
    _staff_reply(emulator, request, "Cán bộ đây, anh cần gì?")
    emulator.wait_for_text(CITIZEN, "anh cần gì")


# ---------------------------------------------------------------- admin commands


def test_admin_commands_refused_for_other_users(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "/stats")
    emulator.send_text(CITIZEN, "/reload")
    emulator.wait_for_messages(CITIZEN, 2)
    assert [m["text"] for m in emulator.sent(CITIZEN)] == ["Bạn không có quyền dùng lệnh này."] * 2


def test_admin_stats_counts_the_bridge_traffic(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                               start_bridge: StartBridge, tmp_path) -> None:  # fmt: skip
    from tests.telegram.conftest import ADMIN_ID

    start_bridge(fake_rasa.url, MOCUA_JOURNAL_DB=str(tmp_path / "journal.db"))
    emulator.send_text(CITIZEN, "xin chào")
    emulator.wait_for_text(CITIZEN, "Bạn hỏi")
    emulator.send_sticker(CITIZEN)
    emulator.wait_for_text(CITIZEN, "chỉ đọc được")
    emulator.send_text(ADMIN_ID, "/stats")
    stats = emulator.wait_for_text(ADMIN_ID, "Cầu nối Telegram")["text"]
    assert "Tin nhắn nhận: 1" in stats
    assert "Đã trả lời: 1" in stats
    assert "Không phải chữ: 1" in stats
    assert "Nhật ký hội thoại" in stats
    assert "Không kết nối được máy chủ hành động" in stats, "a dead admin endpoint is said plainly"

    emulator.send_text(ADMIN_ID, "/reload")
    failed = emulator.wait_for_text(ADMIN_ID, "Chưa dựng lại được chỉ mục")["text"]
    assert "Không kết nối được máy chủ hành động" in failed


# ---------------------------------------------------------------- start-up and privacy


def test_missing_token_gives_a_clear_message() -> None:
    import os
    import subprocess
    import sys

    from tests.telegram.conftest import ROOT

    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_logs_keep_chat_ids_but_mask_personal_numbers_and_token(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "số căn cước của tôi là 001203004567, điện thoại 0912 345 678")
    emulator.wait_for_text(CITIZEN, "Bạn hỏi")
    log = bridge.log()
    assert f"chat {CITIZEN}" in log
    assert "************" in log, "the message text is logged, masked"
    assert "001203004567" not in log and "0912 345 678" not in log
    assert emulator.token.split(":")[1] not in log


def test_token_rejected_by_the_bot_api_gives_a_clear_message(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                             start_bridge: StartBridge) -> None:  # fmt: skip
    bridge = start_bridge(fake_rasa.url, wait=False, TELEGRAM_BOT_TOKEN="111:not-the-emulator-token")
    assert bridge.process.wait(30) == 2
    assert "rejected TELEGRAM_BOT_TOKEN" in bridge.log()
    assert "not-the-emulator-token" not in bridge.log()


def test_done_without_reply_gets_a_hint_for_staff(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                  start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.send_text(STAFF, "/done", user_id=STAFF_MEMBER, chat_type="supergroup")
    emulator.wait_for_text(STAFF, "Reply")


def test_handoff_without_staff_chat_tells_citizen_where_to_go(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                              start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url, STAFF_CHAT_ID="")
    emulator.send_text(CITIZEN, "gặp cán bộ")
    emulator.wait_for_text(CITIZEN, "chưa kết nối được với cán bộ")
    emulator.send_text(CITIZEN, "khai sinh")
    emulator.wait_for_text(CITIZEN, "UBND cấp xã")  # the citizen stays with the bot


def test_bridge_waits_for_telegram_when_unreachable_at_start(fake_rasa: FakeRasa, start_bridge: StartBridge) -> None:
    from scripts.stack import free_port

    port = free_port()
    bridge = start_bridge(fake_rasa.url, wait=False, TELEGRAM_BASE_URL=f"http://127.0.0.1:{port}/bot")
    time.sleep(4)
    assert bridge.alive(), f"the bridge must keep trying, not exit:\n{bridge.log()}"
    with BotApiEmulator(port=port) as late:
        late.wait_for(lambda: late.calls("getUpdates"), 30, "the bridge to connect")
        late.send_text(CITIZEN, "xin chào")
        late.wait_for_text(CITIZEN, "Bạn hỏi: xin chào", timeout=30)


def test_staff_editing_a_reply_does_not_send_it_twice(emulator: BotApiEmulator, fake_rasa: FakeRasa,
                                                      start_bridge: StartBridge) -> None:  # fmt: skip
    start_bridge(fake_rasa.url)
    emulator.send_text(CITIZEN, "gặp cán bộ")
    request = emulator.wait_for_text(STAFF, "Yêu cầu gặp cán bộ")
    reply = _staff_reply(emulator, request, "Hồ sơ của anh đã xong.")
    emulator.wait_for_text(CITIZEN, "đã xong")
    emulator.edit_message(reply, "Hồ sơ của anh đã xong, mời anh đến nhận.")
    time.sleep(1.5)
    assert sum("Hồ sơ của anh" in m["text"] for m in emulator.sent(CITIZEN)) == 1
    assert not any("Hồ sơ của anh" in m["text"] for m in emulator.sent(STAFF)), "no reply in the staff group"


def test_bridge_stopped_while_rasa_is_down_answers_after_its_restart(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(fake_rasa.url)
    fake_rasa.stop()
    emulator.send_text(CITIZEN, "hỏi trước khi khởi động lại")
    emulator.wait_for_text(CITIZEN, "chậm hơn", timeout=15)
    started = time.monotonic()
    bridge.stop()
    assert time.monotonic() - started < 10, "SIGTERM does not wait for Rasa's retries"
    assert bridge.process.returncode == 0
    assert "Traceback" not in bridge.log() and "destroyed but it is pending" not in bridge.log()

    fake_rasa.start()
    start_bridge(fake_rasa.url)  # same var/bot.db
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: hỏi trước khi khởi động lại", timeout=30)
    time.sleep(1)
    texts = [m["text"] for m in emulator.sent(CITIZEN)]
    assert sum("chậm hơn" in t for t in texts) == 1
    assert texts.count("Bạn hỏi: hỏi trước khi khởi động lại") == 1
    assert fake_rasa.messages(CITIZEN) == ["hỏi trước khi khởi động lại"]


def test_bridge_killed_while_rasa_is_down_answers_at_once_after_its_restart(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge
) -> None:
    import os
    import signal

    bridge = start_bridge(fake_rasa.url)
    fake_rasa.stop()
    emulator.send_text(CITIZEN, "hỏi trước khi bị tắt đột ngột")
    emulator.wait_for_text(CITIZEN, "chậm hơn", timeout=15)
    os.killpg(bridge.process.pid, signal.SIGKILL)  # a crash: the message is still owned by the dead process
    bridge.process.wait()
    fake_rasa.start()
    start_bridge(fake_rasa.url)  # same var/bot.db: one bridge, so it takes the message over at once
    emulator.wait_for_text(CITIZEN, "Bạn hỏi: hỏi trước khi bị tắt đột ngột", timeout=10)
    time.sleep(1)
    texts = [m["text"] for m in emulator.sent(CITIZEN)]
    assert sum("chậm hơn" in t for t in texts) == 1, "told once, also across the restart"
    assert fake_rasa.messages(CITIZEN) == ["hỏi trước khi bị tắt đột ngột"]
