"""Telegram's flood limits kept in advance by all bridge replicas together (bot/pacing.py), against the Bot API
emulator, which enforces the same limits as Telegram does (429 with retry_after beyond them).

Nothing is refused and nothing lost: replies queue, in order per chat; a group gets at most 20 a minute. The group's
minute runs on a clock the test moves (the replicas' and the emulator's), so nobody waits a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import ExtBot

from bot import sending
from bot.pacing import Limit, Limits, SharedRateLimiter
from bot.store import Store
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import STAFF_CHAT, StartBridge
from tests.telegram.fake_rasa import FakeRasa
from tests.telegram.test_bridge_replicas import start_replica, via


class SteppedClock:
    """Time that moves only when every sender is waiting for its slot, to the earliest slot: a message is sent at
    exactly its slot's time, as on an idle machine, however long the test's HTTP calls really take."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.busy = 0  # senders doing something else than waiting for a slot (reserving, sending)
        self.wakes: list[float] = []

    def time(self) -> float:
        return self.now

    @contextlib.asynccontextmanager
    async def sender(self) -> AsyncIterator[None]:
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1

    async def sleep(self, seconds: float) -> None:
        wake = self.now + seconds
        self.wakes.append(wake)
        self.busy -= 1
        try:
            while self.busy or min(self.wakes) < wake:
                await asyncio.sleep(0.001)
            self.now = max(self.now, wake)
        finally:
            self.wakes.remove(wake)
            self.busy += 1


def most_in_any_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max((sum(1 for t in ordered if start <= t < start + window) for start in ordered), default=0)


def test_two_replicas_keep_a_group_under_twenty_messages_a_minute_without_losing_one(tmp_path: Path) -> None:
    clock = SteppedClock()
    with BotApiEmulator(clock=clock.time) as emulator:

        async def replica_sends(name: str, count: int) -> None:
            store = Store(tmp_path / "bot.db")  # each replica its own connection to the one shared store
            limiter = SharedRateLimiter(store, Limits(), clock=clock.time, sleep=clock.sleep)
            bot = ExtBot(emulator.token, base_url=emulator.base_url, rate_limiter=limiter)
            await bot.initialize()
            try:
                for n in range(1, count + 1):
                    async with clock.sender():
                        await sending.send(bot, STAFF_CHAT, f"{name}{n}")
            finally:
                await bot.shutdown()
                store.close()

        async def both() -> None:
            await asyncio.gather(replica_sends("A", 25), replica_sends("B", 20))

        asyncio.run(both())
        calls = emulator.calls("sendMessage")

    assert not [c for c in calls if c.status == 429], "nothing beyond Telegram's limits was even tried"
    delivered = [c for c in calls if c.status == 200]
    texts = [c.params["text"] for c in delivered]
    assert sorted(texts) == sorted([f"A{n}" for n in range(1, 26)] + [f"B{n}" for n in range(1, 21)]), "none lost"
    for name in "AB":
        mine = [t for t in texts if t.startswith(name)]
        assert mine == sorted(mine, key=lambda t: int(t[1:])), f"replica {name}'s messages arrive in order"
    assert most_in_any_window([c.at for c in delivered], 60.0) == 20, "20 a minute, not more (nor fewer)"
    assert max(c.at for c in delivered) - min(c.at for c in delivered) > 120, "45 messages took over two minutes"


def test_a_burst_through_two_replicas_is_queued_not_refused(
    emulator: BotApiEmulator, fake_rasa: FakeRasa, start_bridge: StartBridge, bot_db_url: str
) -> None:
    """Beyond 30 messages a second overall and 3 in 3 s in one chat, with two replicas sharing one store: every
    message answered, none refused with 429, one chat's answers in the order asked."""
    replicas = [start_replica(emulator, fake_rasa, start_bridge, bot_db_url) for _ in range(2)]
    chatty, citizens = 83000, list(range(83001, 83046))
    for n in range(1, 7):  # one citizen typing fast, to one replica (across replicas: test_bridge_replicas)
        via(emulator, replicas[0], lambda n=n: emulator.send_text(chatty, f"câu {n}"))
    for index, citizen in enumerate(citizens):  # 45 others at once
        via(emulator, replicas[index % 2], lambda c=citizen: emulator.send_text(c, "xin chào"))
    for citizen in citizens:
        emulator.wait_for_text(citizen, "Bạn hỏi: xin chào", timeout=60)
    answers = emulator.wait_for(
        lambda: (lambda a: a if len(a) == 6 else None)(
            [m["text"] for m in emulator.sent(chatty) if m["text"].startswith("Bạn hỏi")]
        ),
        60,
        "six answers",
    )
    assert answers == [f"Bạn hỏi: câu {n}" for n in range(1, 7)], "one chat's answers in the order asked"
    assert emulator.refused() == [], "the replicas kept under the limits together"
    sends = [c.at for c in emulator.calls("sendMessage")]
    assert most_in_any_window(sends, 1.0) <= 30
    assert all(len(emulator.sent(c)) == 1 for c in citizens), "no answer twice"


def test_the_limits_setting_reads_as_documented() -> None:
    assert Limits.parse("") == Limits() == Limits(Limit(30, 1.0), Limit(3, 3.0), Limit(20, 60.0))
    assert Limits.parse("bot=10/1, group=5/30") == Limits(bot=Limit(10, 1.0), group=Limit(5, 30.0))
    assert Limits.parse("off") is None
    with pytest.raises(ValueError, match="not a limit"):
        Limits.parse("chats=3/3")
