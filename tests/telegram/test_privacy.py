"""Log masking keeps Telegram's chat and user ids readable (README: logs keep chat ids), even when they are 9 or
10 digits long like an ID card or a phone number, and masks those numbers in the text."""

from __future__ import annotations

import logging

from bot.privacy import PrivacyFilter

CHAT, USER = 123456789, 1234567890  # real Telegram ids have 9 to 10 digits


def masked(msg: str, *args: object, exc_info: object = None) -> str:
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, msg, args, exc_info)  # type: ignore[arg-type]
    PrivacyFilter(("s3cret",)).filter(record)
    return record.getMessage() + (record.exc_text or "")


def test_nine_and_ten_digit_chat_and_user_ids_stay_readable() -> None:
    text = "số căn cước 001203004567, gọi 0912 345 678"
    line = masked("chat %s: message from user %s (%d chars): %s", CHAT, USER, len(text), text)
    assert f"chat {CHAT}" in line and f"user {USER}" in line
    assert "001203004567" not in line and "0912 345 678" not in line
    assert "************" in line


def test_numbers_inside_text_arguments_exceptions_and_secrets_are_masked() -> None:
    try:
        raise ValueError("người dùng gửi 0912345678 với khóa s3cret")
    except ValueError as error:
        line = masked("chat %s: failed: %s", CHAT, error, exc_info=(ValueError, error, error.__traceback__))
    assert f"chat {CHAT}" in line
    assert "0912345678" not in line and "s3cret" not in line


def test_preformatted_messages_are_masked_as_a_whole() -> None:
    assert "0912345678" not in masked("a library said: call 0912345678")


def test_mapping_arguments_are_masked_too() -> None:
    line = masked("%(chat)s %(text)s", {"chat": CHAT, "text": "sđt 0912345678"})
    assert line == f"{CHAT} sđt **********"
