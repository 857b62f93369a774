"""Staff edit wording.yml and the bridge says the new words: the bridge as a real process with an edited copy
(MOCUA_WORDING_FILE), between the Bot API emulator and a fake Rasa."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import ROOT, StartBridge
from tests.telegram.fake_rasa import FakeRasa

CITIZEN = 5301


def test_an_edited_wording_file_changes_what_the_bridge_sends(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge, tmp_path: Path
) -> None:
    data = yaml.safe_load((ROOT / "wording.yml").read_text(encoding="utf-8"))
    shipped_sticker, shipped_start = data["bridge"]["not_text"], data["bridge"]["welcome"]
    data["bridge"]["not_text"] = "Trợ lý chưa xem được hình dán, bạn gõ chữ giúp mình nhé."
    data["bridge"]["welcome"] = "Chào bạn, đây là Trợ lý Một Cửa của xã Tân Phú."
    data["bridge"]["too_long"] = "Bạn gửi {length} ký tự, mình chỉ đọc được {limit} ký tự thôi."
    edited = tmp_path / "wording-edited.yml"
    edited.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    start_bridge(fake_rasa.url, MOCUA_WORDING_FILE=str(edited))

    emulator.send_sticker(CITIZEN)
    assert emulator.wait_for_text(CITIZEN, "hình dán")["text"] == data["bridge"]["not_text"]
    emulator.send_text(CITIZEN, "/start")
    assert emulator.wait_for_text(CITIZEN, "xã Tân Phú")["text"] == data["bridge"]["welcome"]
    emulator.send_text(CITIZEN, ("xin hỏi " * 200).strip() + "?")  # 1,600 characters; the bridge reads 1,000
    refusal = emulator.wait_for_text(CITIZEN, "Bạn gửi")["text"]
    assert refusal == "Bạn gửi 1.600 ký tự, mình chỉ đọc được 1000 ký tự thôi."
    sent = [message["text"] for message in emulator.sent(CITIZEN)]
    assert shipped_sticker not in sent and shipped_start not in sent
