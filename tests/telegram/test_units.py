"""Pure parts of the bridge: rendering, splitting, configuration, retry policies, flood guard, log masking."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot import sending
from bot.config import Config, ConfigError, load_dotenv
from bot.handlers import FloodGuard
from bot.privacy import PrivacyFilter
from bot.rasa_client import RasaError, RasaUnavailable, send_with_retry
from bot.render import Button, keyboard_rows, render, split_text, utf16_len
from bot.store import Store

# ---------------------------------------------------------------- render


def test_callback_data_fits_64_bytes_for_long_vietnamese_payloads() -> None:
    payload = '/chọn{"thủ_tục":"đăng-ký-khai-sinh-có-yếu-tố-nước-ngoài-ở-ủy-ban-nhân-dân-cấp-xã-phường"}'
    assert len(payload.encode()) > 64
    button = Button("Khai sinh", payload)
    assert len(button.callback_data.encode()) <= 64
    assert Button("x", payload).callback_data == button.callback_data, "stable: same payload, same id"
    assert Button("x", payload + "!").callback_data != button.callback_data


def test_split_prefers_paragraphs_and_keeps_every_word() -> None:
    paragraphs = [f"Đoạn {n}. " + "chữ " * 300 for n in range(10)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = split_text(text, limit=4096)
    assert len(parts) > 1
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert all(p.startswith("Đoạn") for p in parts)
    assert " ".join(parts).split() == text.split()


def test_split_counts_utf16_units_for_emoji() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units
    parts = split_text(text)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts) == text


def test_split_cuts_a_paragraph_without_breaks() -> None:
    parts = split_text("a" * 9000)
    assert [len(p) for p in parts] == [4096, 4096, 808]


def test_buttons_hang_under_the_last_part_and_custom_is_collected() -> None:
    replies = [
        {"recipient_id": "1", "text": "x " * 3000, "buttons": [{"title": "Lệ phí", "payload": "/ask_fee"}]},
        {"recipient_id": "1", "custom": {"handoff": True, "question": "đất"}},
        {"recipient_id": "1", "buttons": [{"title": "Có", "payload": "/affirm"}]},
    ]
    rendered = render(replies)
    assert len(rendered.messages) == 3
    assert rendered.messages[0].keyboard == []
    assert rendered.messages[1].keyboard == [[Button("Lệ phí", "/ask_fee")]]
    assert rendered.messages[2].text and rendered.messages[2].keyboard == [[Button("Có", "/affirm")]]
    assert rendered.handoff == {"handoff": True, "question": "đất"}


def test_keyboard_puts_short_titles_in_pairs_and_long_titles_alone() -> None:
    buttons = [Button(t, t) for t in ("Hồ sơ", "Lệ phí", "Khai sinh có yếu tố nước ngoài", "Nộp ở đâu")]
    rows = keyboard_rows(buttons)
    assert [[b.title for b in row] for row in rows] == [
        ["Hồ sơ", "Lệ phí"], ["Khai sinh có yếu tố nước ngoài"], ["Nộp ở đâu"]]  # fmt: skip


# ---------------------------------------------------------------- config


def test_config_reads_dotenv_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\nTELEGRAM_BOT_TOKEN='1:abc'\nexport STAFF_CHAT_ID=-100123\nADMIN_USER_IDS=1, 2,3\n"
        "RASA_URL=http://from-dotenv:5005/\n",
        encoding="utf-8",
    )
    assert load_dotenv(dotenv)["TELEGRAM_BOT_TOKEN"] == "1:abc"
    config = Config.from_env({"RASA_URL": "http://rasa:5005"}, dotenv)
    assert config.token == "1:abc"
    assert config.staff_chat_id == -100123
    assert config.admin_user_ids == {1, 2, 3}
    assert config.rasa_url == "http://rasa:5005"
    assert config.base_url == "https://api.telegram.org/bot"
    assert config.webhook_url is None


def test_config_emulator_base_url_and_webhook_path() -> None:
    config = Config.from_env({"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_BASE_URL": "http://127.0.0.1:9000/bot",
                              "TELEGRAM_WEBHOOK_URL": "https://bot.example.vn/tg/hook"}, None)  # fmt: skip
    assert config.base_file_url == "http://127.0.0.1:9000/file/bot"
    assert config.webhook_path == "/tg/hook"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "1:a", "ADMIN_USER_IDS": "an, binh"}, "ADMIN_USER_IDS"),
        ({"TELEGRAM_BOT_TOKEN": "1:a", "STAFF_CHAT_ID": "nhóm cán bộ"}, "STAFF_CHAT_ID"),
        ({"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_WEBHOOK_SECRET": "có dấu"}, "TELEGRAM_WEBHOOK_SECRET"),
    ],
)
def test_config_errors_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env(env, None)


# ---------------------------------------------------------------- retry policies


def test_rasa_retry_notices_once_and_returns_when_rasa_is_back() -> None:
    attempts, notices = [], []

    async def send() -> list[dict]:
        attempts.append(1)
        if len(attempts) < 4:
            raise RasaUnavailable("connection refused")
        return [{"text": "ok"}]

    async def on_delay() -> None:
        notices.append(1)

    result = asyncio.run(send_with_retry(send, on_delay, notice_after=5, give_up_after=10, first_backoff=0.01))
    assert result == [{"text": "ok"}]
    assert len(attempts) == 4 and len(notices) == 1


def test_rasa_retry_gives_up_after_the_deadline_and_never_retries_a_non_retryable_error() -> None:
    async def down() -> list[dict]:
        raise RasaUnavailable("refused")

    async def broken() -> list[dict]:
        calls.append(1)
        raise RasaError("HTTP 500")

    async def nothing() -> None:
        return None

    with pytest.raises(RasaError, match="unreachable"):
        asyncio.run(send_with_retry(down, nothing, give_up_after=0.2, first_backoff=0.05))
    calls: list[int] = []
    with pytest.raises(RasaError, match="500"):
        asyncio.run(send_with_retry(broken, nothing, give_up_after=10))
    assert calls == [1]


def test_slow_rasa_is_awaited_not_resent() -> None:
    calls, notices = [], []

    async def slow() -> list[dict]:
        calls.append(1)
        await asyncio.sleep(0.3)
        return [{"text": "xong"}]

    async def on_delay() -> None:
        notices.append(1)

    assert asyncio.run(send_with_retry(slow, on_delay, notice_after=0.05)) == [{"text": "xong"}]
    assert calls == [1] and notices == [1]


@pytest.mark.filterwarnings("ignore:.*retry_after")  # PTB 22 constructor warns about int vs timedelta
def test_bot_api_retry_waits_retry_after_and_does_not_retry_bad_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(sending.asyncio, "sleep", fake_sleep)
    outcomes: list[Exception | str] = [RetryAfter(7), NetworkError("Bad Gateway"), "sent"]

    async def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert asyncio.run(sending.call_with_retry(call)) == "sent"
    assert waits == [7.0, 1.0]

    async def bad() -> str:
        raise BadRequest("Message text is empty")

    waits.clear()
    with pytest.raises(BadRequest):
        asyncio.run(sending.call_with_retry(bad))
    assert waits == []


# ---------------------------------------------------------------- flood guard, store, privacy


def test_flood_guard_warns_once_then_drops_until_the_window_passes() -> None:
    guard = FloodGuard(Store(":memory:"), limit=2, window=60)
    assert [guard.check(1, now=t) for t in (0, 1, 2, 3)] == ["ok", "ok", "warn", "drop"]
    assert guard.check(2, now=3) == "ok", "other users are not affected"
    assert guard.check(1, now=61.5) == "ok"


def test_button_store_is_bounded_and_keeps_recent_buttons(tmp_path: Path) -> None:
    store = Store(tmp_path / "bot.db", max_buttons=3)
    for n in range(5):
        store.remember_buttons([Button(f"nút {n}", f"/payload_{n}")])
    assert store.button_count() == 3
    assert store.button(Button("", "/payload_0").callback_data[2:]) is None
    assert store.button(Button("", "/payload_4").callback_data[2:]) == Button("nút 4", "/payload_4")
    store.close()
    assert Store(tmp_path / "bot.db").button(Button("", "/payload_4").callback_data[2:]) is not None


def test_privacy_filter_masks_numbers_and_tokens_but_keeps_chat_ids() -> None:
    secret = "CCCD 001203004567, gọi 0912.345.678, token 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "chat %s: message: %s", (5001, secret), None)
    PrivacyFilter().filter(record)
    text = record.getMessage()
    assert "chat 5001" in text
    assert "001203004567" not in text and "345.678" not in text
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in text


def test_rasa_retry_stops_at_once_when_the_bridge_shuts_down() -> None:
    from bot.rasa_client import Stopping

    async def down() -> list[dict]:
        raise RasaUnavailable("refused")

    async def nothing() -> None:
        return None

    async def scenario() -> float:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.2, stop.set)
        started = asyncio.get_running_loop().time()
        with pytest.raises(Stopping):
            await send_with_retry(down, nothing, give_up_after=300, first_backoff=30, stop=stop)
        return asyncio.get_running_loop().time() - started

    assert asyncio.run(scenario()) < 2


def test_the_bridge_imports_neither_the_journal_nor_the_index() -> None:
    """The bridge may run on a host without them: /stats and /reload go through the action server's admin API."""
    import subprocess
    import sys

    code = (
        "import sys, bot.app, bot.__main__; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('journal', 'knowledge', 'actions')))"
    )
    root = str(Path(__file__).resolve().parents[2])
    result = subprocess.run([sys.executable, "-c", code], cwd="/", env={"PYTHONPATH": root}, capture_output=True,
                            text=True, timeout=60, check=True)  # fmt: skip
    assert result.stdout.strip() == "['knowledge', 'knowledge.text']", "only the text helpers (NFC, typed text)"


def test_staff_messages_name_their_citizen_even_when_the_name_imitates_a_chat_id() -> None:
    from telegram import User

    from bot.handoff import citizen_named_in, staff_relay_text, staff_request_text

    sly = User(id=501, first_name="Lan (chat 777)", is_bot=False)
    assert citizen_named_in(staff_relay_text(501, sly, "xin chào (chat 888)")) == 501
    assert citizen_named_in(staff_request_text(-42, None, "gặp cán bộ", [])) == -42
    assert citizen_named_in("Một tin nhắn khác của nhóm") is None
