"""Bot API calls with the retries Telegram asks for: wait `retry_after` on 429, back off on 5xx/network errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.render import Outgoing
from settings.retry import Backoff

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 6
MAX_RETRY_AFTER = 120.0  # longer waits than this are not worth holding a citizen's chat for
BACKOFF = Backoff(first=1.0, most=30.0)  # after a network error or a 5xx answer


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about int vs timedelta; either is fine here
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def call_with_retry(call: Callable[[], Awaitable[T]], what: str = "Bot API call") -> T:
    waits = BACKOFF.delays()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            if attempt == MAX_ATTEMPTS or wait > MAX_RETRY_AFTER:
                raise
            log.warning("%s: Telegram asks to retry after %.0fs (attempt %d)", what, wait, attempt)
            await asyncio.sleep(wait)
        except BadRequest:  # our request is wrong: retrying cannot help
            raise
        except NetworkError as error:  # includes TimedOut and 5xx answers
            if attempt == MAX_ATTEMPTS:
                raise
            wait = next(waits)
            log.warning("%s failed (%s); retrying in %.0fs (attempt %d)", what, error, wait, attempt)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")


def markup(outgoing: Outgoing) -> InlineKeyboardMarkup | None:
    if not outgoing.keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.title, callback_data=b.callback_data) for b in row] for row in outgoing.keyboard]
    )


async def send(bot: Bot, chat_id: int, outgoing: Outgoing | str, reply_to: int | None = None) -> Message:
    """Send one plain-text message (never a parse_mode: no user or knowledge text can break it)."""
    if isinstance(outgoing, str):
        outgoing = Outgoing(outgoing)
    return await call_with_retry(
        lambda: bot.send_message(
            chat_id,
            outgoing.text,
            reply_markup=markup(outgoing),
            reply_to_message_id=reply_to,
            allow_sending_without_reply=True if reply_to else None,
        ),
        what=f"sendMessage to {chat_id}",
    )
