"""Telegram's flood limits kept in advance, by every bridge replica together.

Telegram lets a bot send about 30 messages per second overall, about one per second to one chat (short bursts
allowed) and 20 per minute to a group; beyond that it answers 429 and the bot waits `retry_after`. Here a replica
about to send a message first takes its turn in the shared store (`Store.take_send_turn`), which counts the
messages every replica sent in each limit's window, and those still on their way; when a budget is full, the
message waits until it has room: replies queue, in order per chat, instead of being refused. A message counts from
when Telegram answered it (`Store.sent_at`), not from when it was meant to go, so a request held up on a busy
machine cannot crowd a window after the fact. The 429 handling in `bot.sending` stays as the last resort (clocks
apart, another program using the same token).

It plugs into python-telegram-bot as its rate limiter (`BaseRateLimiter`, like its per-process AIORateLimiter), so
every call that posts a message is paced, whoever makes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.ext import BaseRateLimiter

from bot.store import Store

log = logging.getLogger(__name__)

# Bot API methods that post or change a message: the ones Telegram's flood limits count.
PACED_METHODS = frozenset({
    "sendMessage", "editMessageText", "forwardMessage", "copyMessage", "sendPhoto", "sendDocument",
    "sendAudio", "sendVideo", "sendVoice", "sendSticker", "sendLocation", "sendContact", "sendMediaGroup",
})  # fmt: skip
# Windows are this much longer than Telegram's: our clock and Telegram's are not the same.
MARGIN = 0.05
IN_FLIGHT = 10.0  # seconds a message counts as on its way at most (a replica dying mid-request frees its rows then)
GATE_WIDTH = 4  # messages of a replica asking the store again at once while the overall budget is full
QUEUED_LOG_AFTER = 2.0  # seconds of queueing worth a log line (a burst beyond the limits)


@dataclass(frozen=True)
class Limit:
    """At most `count` messages in any `window` seconds."""

    count: int
    window: float

    def __str__(self) -> str:
        return f"{self.count}/{self.window:g}"


@dataclass(frozen=True)
class Limits:
    """Telegram's limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this)."""

    bot: Limit = Limit(30, 1.0)  # every chat together
    chat: Limit = Limit(3, 3.0)  # one chat: one a second on average, a short burst (an answer in parts) at once
    group: Limit = Limit(20, 60.0)  # a group or channel (the staff group), on top of its chat limit

    def scopes(self, chat_id: int | str | None, margin: float = MARGIN) -> list[tuple[str, int, float]]:
        """(scope, count, window) of every budget a message to `chat_id` spends, windows widened by `margin`."""
        found = [("bot", self.bot.count, self.bot.window + margin)]
        if chat_id is None:
            return found
        found.append((f"chat:{chat_id}", self.chat.count, self.chat.window + margin))
        if is_group(chat_id):
            found.append((f"group:{chat_id}", self.group.count, self.group.window + margin))
        return found

    @classmethod
    def parse(cls, text: str) -> Limits | None:
        """'bot=30/1,chat=3/3,group=20/60' (any of them; the others keep Telegram's); 'off': no pacing."""
        text = text.strip()
        if text.lower() == "off":
            return None
        values: dict[str, Limit] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, spec = part.partition("=")
            count, _, window = spec.partition("/")
            if name.strip() not in ("bot", "chat", "group") or not count.strip().isdigit():
                raise ValueError(f"not a limit: {part!r} (expected e.g. bot=30/1, chat=3/3, group=20/60)")
            values[name.strip()] = Limit(int(count), float(window or 1))
        return cls(**values)

    def __str__(self) -> str:
        return f"bot={self.bot},chat={self.chat},group={self.group}"


def is_group(chat_id: int | str) -> bool:
    """Groups, supergroups and channels have negative ids (or a @channelname)."""
    return str(chat_id).startswith(("-", "@"))


class SharedRateLimiter(BaseRateLimiter[None]):
    """Waits for a slot reserved in the shared store before each message; other calls go straight through."""

    def __init__(self, store: Store, limits: Limits = Limits(), clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:  # fmt: skip
        self.store, self.limits, self.clock, self.sleep = store, limits, clock, sleep
        self.queued_seconds = 0.0  # this replica's total wait for slots (for /stats and the benchmark's log)
        self.paced = 0
        self._marking: set[asyncio.Future[None]] = set()
        self._chat_locks: weakref.WeakValueDictionary[int | str | None, asyncio.Lock] = weakref.WeakValueDictionary()
        self._gate = asyncio.Semaphore(GATE_WIDTH)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in PACED_METHODS:
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        rows = await self.wait_for_turn(chat_id)
        try:
            return await callback(*args, **kwargs)
        finally:
            if rows:  # not awaited: the answer's next part need not wait for this bookkeeping
                marking = asyncio.ensure_future(self.mark_sent(chat_id, rows))
                self._marking.add(marking)
                marking.add_done_callback(self._marking.discard)

    async def wait_for_turn(self, chat_id: int | str | None) -> list[int]:
        """Wait until the message may go; the store's rows that count it (none when the store does not answer:
        Telegram's 429 is the fallback then, rather than a citizen left without the answer).

        In this replica, a chat's messages ask in the order they came (one lock per chat), and while the overall
        budget is full only the first few in line ask the store again (the overall gate, GATE_WIDTH wide):
        otherwise every waiting message would ask each time a message leaves the window, all in the store's one
        thread; one at a time, each grant would wait for the one before."""
        scopes = self.limits.scopes(chat_id)
        queued, gated = 0.0, False
        try:
            async with self._chat_lock(chat_id):
                while True:
                    try:
                        turn = await self.store.run(self.store.take_send_turn, scopes, IN_FLIGHT, self.clock())
                    except Exception as error:  # noqa: BLE001 - StoreUnavailable, or the store closed at a shutdown
                        log.warning("chat %s: sending without a turn in the shared budget: %s", chat_id, error)
                        return []
                    if isinstance(turn, list):
                        break
                    wait, full = turn
                    if full == "bot" and not gated:  # in line behind this replica's other messages waiting
                        await self._gate.acquire()
                        gated = True
                        continue
                    if full != "bot" and gated:  # waiting for its chat: not holding up the others
                        self._gate.release()
                        gated = False
                    queued += wait
                    await self.sleep(wait)
        finally:
            if gated:
                self._gate.release()
        self.paced += 1
        self.queued_seconds += queued
        if queued >= QUEUED_LOG_AFTER:
            log.info("chat %s: message queued %.1fs for Telegram's limits", chat_id, queued)
        return turn

    def _chat_lock(self, chat_id: int | str | None) -> asyncio.Lock:
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            lock = self._chat_locks[chat_id] = asyncio.Lock()
        return lock

    async def mark_sent(self, chat_id: int | str | None, rows: list[int]) -> None:
        try:
            await self.store.run(self.store.sent_at, rows, self.clock())
        except Exception as error:  # noqa: BLE001 - the rows then count as on their way until IN_FLIGHT ends
            log.warning("chat %s: message not marked as sent in the shared budget: %s", chat_id, error)
