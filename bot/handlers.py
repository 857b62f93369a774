"""Telegram update handlers: small functions around one `Bridge`; the state they share lives in the Store.

Per chat, updates are counted and queued in arrival order (an intake lock), then handled one at a time and in order
(an asyncio lock per chat, plus, on PostgreSQL, an advisory lock so that two replicas do not answer one chat's
messages side by side); different chats run concurrently (the Application is built with concurrent_updates).
Several replicas may run against one database: whichever receives an update finds the chat's buttons, handoff,
flood count and recent turns there, and each pending message is answered by exactly one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Message, Update, User
from telegram.constants import ChatAction, ChatType
from telegram.ext import ContextTypes

from bot import handoff_state, sending
from bot.admin_client import AdminClient, AdminUnavailable
from bot.config import Config
from bot.handoff import Handoff, History
from bot.rasa_client import RasaClient, RasaError, Stopping, send_with_retry
from bot.render import CALLBACK_PREFIX, Button, Outgoing, plain_text, render
from bot.store import Pending, Store, StoreUnavailable
from knowledge.text import as_typed_text, find_phone_numbers, nfc
from settings import wording
from settings.retry import Backoff

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Say = Callable[[int], Awaitable[Any]]  # something told to a chat, by its id

# What the bridge itself tells a citizen: wording.yml's `bridge` section (settings/wording.py), read at import so
# that a missing text stops the bridge at its start.
WELCOME = wording.text("bridge.welcome")
HELP = wording.text("bridge.help")
# A citizen's deletion request (Decree 13/2023/NĐ-CP): Rasa asks for confirmation (buttons), the REST channel deletes
# Rasa's tracker, the journal and the callback numbers, and this bridge its own rows of the chat.
FORGET_PAYLOAD = "/forget_me"
FORGET_BUTTON = Button(wording.text("bridge.forget_button"), FORGET_PAYLOAD)
# Answered by Rasa even while a person serves the chat (everything else then goes to the staff group).
PRIVACY_PAYLOADS = frozenset({FORGET_PAYLOAD, "/confirm_forget", "/cancel_forget"})
RESET_DONE = wording.text("bridge.reset_done")
DELAYED = wording.text("bridge.delayed")
GAVE_UP = wording.text("bridge.gave_up")
NO_REPLY = wording.text("bridge.no_reply")
TOO_LONG = wording.text("bridge.too_long")  # {length}, {limit}
NOT_TEXT = wording.text("bridge.not_text")
EDITED = wording.text("bridge.edited")
FLOOD = wording.text("bridge.flood")
EXPIRED_BUTTON = wording.text("bridge.expired_button")
UNKNOWN_COMMAND = wording.text("bridge.unknown_command")
NOT_ADMIN = wording.text("bridge.not_admin")
STORE_DOWN = wording.text("bridge.store_down")
STAFF_STORE_DOWN = (
    "⚠️ Cầu nối tạm thời không truy cập được cơ sở dữ liệu nên chưa xử lý được tin nhắn này. "
    "Vui lòng gửi lại sau ít phút."
)
RELOADING = "Đang dựng lại chỉ mục tri thức trên máy chủ hành động (như make kb-build)…"
CHAT_LOCK_WAIT = 30.0  # seconds to wait for another replica to finish with a chat before going ahead anyway
CHAT_LOCK_LOOKS = Backoff(first=0.05, most=0.5)  # waits between looks at another replica's chat lock
STORE_BLINK = Backoff(first=1.0, most=4.0)  # waits before deleting an answered message again
TYPING_AFTER = 0.5  # seconds Rasa may take before the citizen sees 'typing…'
OUTBOX_EVERY = 1.0  # seconds between looks for what the staff console wrote to citizens (one indexed query)
# Seconds an update's receipt waits for its handler when nothing is stored (a command waiting for the chat's earlier
# turn): then it is acknowledged as before. A citizen's message is stored within a few statements.
RECEIPT_WAIT = 20.0


class FloodGuard:
    """At most `limit` messages per user per `window` seconds, counted in the shared store (so a user spread over
    several replicas is counted once); the first extra message gets a polite notice, the rest are dropped."""

    def __init__(self, store: Store, limit: int, window: float) -> None:
        self.store, self.limit, self.window = store, limit, window

    def check(self, user_id: int, now: float | None = None) -> str:
        """'ok', 'warn' (drop, and tell the user once) or 'drop'. Runs in the store's thread."""
        hits = self.store.flood_hits(user_id, self.window, now)
        if hits <= self.limit:
            return "ok"
        return "warn" if hits == self.limit + 1 else "drop"


@dataclass
class Bridge:
    config: Config
    rasa: RasaClient
    store: Store
    admin: AdminClient
    counters: Counter[str] = field(default_factory=Counter)  # this replica's traffic since it started
    started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.history = History(self.store)
        self.handoff = Handoff(self.store, self.history, self.config.staff_chat_id)
        self.flood = FloodGuard(self.store, self.config.flood_limit, self.config.flood_window)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._intakes: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self.stopping = asyncio.Event()  # set on SIGTERM/SIGINT: waits for Rasa end at once, messages stay pending
        self._tasks: set[asyncio.Task] = set()
        self._inflight: set[int] = set()  # pending messages this replica is answering right now
        self._receipts: dict[int, asyncio.Future[bool]] = {}  # update id -> stored (True) or not (False)
        self._told_delayed: dict[int, None] = {}  # updates not stored whose citizen was told (the latest 1,000)

    def lock(self, chat_id: int) -> asyncio.Lock:
        """Held while one message of the chat is handled (asyncio locks are FIFO: the chat stays in order)."""
        return _lock_for(self._locks, chat_id)

    def intake(self, chat_id: int) -> asyncio.Lock:
        """Held while a new message of the chat is counted and recorded, so the store sees them in arrival order."""
        return _lock_for(self._intakes, chat_id)

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """One message of a chat at a time: in this replica, and across replicas where the store can lock."""
        async with self.lock(chat_id):
            locked = await self._lock_across_replicas(chat_id)
            try:
                yield
            finally:
                if locked:
                    with contextlib.suppress(StoreUnavailable):
                        await self.store.run(self.store.unlock_chat, chat_id)

    async def _lock_across_replicas(self, chat_id: int) -> bool:
        """Wait (polling, so no thread is held) for the chat's advisory lock; go ahead without it when the
        database does not answer or another replica keeps the chat longer than CHAT_LOCK_WAIT."""
        if not self.store.postgres:
            return False  # SQLite: one bridge only, the asyncio lock is enough
        deadline, waits = time.monotonic() + CHAT_LOCK_WAIT, CHAT_LOCK_LOOKS.delays()
        while True:
            try:
                if await self.store.run(self.store.try_lock_chat, chat_id):
                    return True
            except StoreUnavailable as error:
                log.warning("chat %s: going ahead without the cross-replica lock: %s", chat_id, error)
                return False
            if time.monotonic() > deadline or self.stopping.is_set():
                log.warning("chat %s: another replica is still busy with this chat; going ahead", chat_id)
                return False
            await asyncio.sleep(next(waits))

    # ------------------------------------------------------------ receiving an update
    async def take(self, update: Update, handle: Callable[[Update], Coroutine[Any, Any, None]]) -> bool:
        """Handle an update and say when Telegram may forget it: True once its message is stored (or it was handled
        with nothing to store), False when storing failed, so that Telegram sends it again. Telegram never sends
        again an update it has been told it got: acknowledging earlier loses the message if this host dies before the
        commit. The answer itself goes on in the background."""
        receipt: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._receipts[update.update_id] = receipt
        task = asyncio.create_task(handle(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._receipt(update.update_id, stored=True))  # handled, nothing to store
        try:
            return await asyncio.wait_for(asyncio.shield(receipt), RECEIPT_WAIT)
        except asyncio.TimeoutError:
            log.warning("update %s: still handled after %.0f s; acknowledged", update.update_id, RECEIPT_WAIT)
            return True
        finally:
            self._receipts.pop(update.update_id, None)

    def nothing_to_store(self, update: Update) -> None:
        """For a command that waits (for the chat's turn, or a long admin call) with nothing to store: Telegram may
        forget it now rather than hold back the updates after it; lost in a crash, it is typed again."""
        self._receipt(update.update_id, stored=True)

    def _receipt(self, update_id: int | None, stored: bool) -> bool:
        """Settle the update's receipt; False when nobody waits for it (no webhook or poller holds it back)."""
        receipt = self._receipts.get(update_id) if update_id is not None else None
        if receipt is None or receipt.done():
            return False
        receipt.set_result(stored)
        return True

    # ------------------------------------------------------------ talking to Rasa
    async def ask_rasa(self, bot: Bot, item: Pending) -> list[dict[str, Any]] | None:
        """Rasa's replies, waiting out an outage (the citizen is told once, even if another replica or the next
        start takes the message over); None when Rasa never came back. An outage includes Rasa up but its action
        server down (503): nothing was recorded, so sending again is safe."""
        chat_id = item.chat_id

        async def delayed() -> None:
            if item.notified:
                log.warning("chat %s: Rasa slow or down; the citizen was already told", chat_id)
                return
            self.counters["delayed_notices"] += 1
            log.warning("chat %s: Rasa slow or down, citizen told the answer is delayed", chat_id)
            await sending.send(bot, chat_id, DELAYED)
            with contextlib.suppress(StoreUnavailable):  # at worst the citizen is told twice
                await self.store.run(self.store.mark_notified, item.id)

        typing = asyncio.create_task(keep_typing(bot, chat_id))
        try:
            return await send_with_retry(
                lambda: self.rasa.send(str(chat_id), item.message, payload=item.payload),
                delayed,
                notice_after=self.config.rasa_notice_after,
                give_up_after=self.config.rasa_give_up_after,
                stop=self.stopping,
            )
        except RasaError as error:
            self.counters["rasa_failures"] += 1
            log.error("chat %s: no answer from Rasa: %s", chat_id, error)
            return None
        finally:
            typing.cancel()

    async def converse(self, bot: Bot, item: Pending, user: User | None) -> None:
        """Send one citizen message (typed text, or a button's payload) to Rasa and deliver the answer (buttons,
        parts, handoff)."""
        chat_id, shown = item.chat_id, item.shown
        await self.history.add(chat_id, "citizen", shown)
        replies = await self.ask_rasa(bot, item)
        if replies is None:
            await sending.send(bot, chat_id, GAVE_UP)
            return
        rendered = render(replies)
        if not rendered.messages and rendered.handoff is None:
            self.counters["empty_replies"] += 1
            await sending.send(bot, chat_id, NO_REPLY)
            return
        await self.remember_buttons(chat_id, [b for o in rendered.messages for row in o.keyboard for b in row])
        for outgoing in rendered.messages:
            await sending.send(bot, chat_id, outgoing)
        self.counters["answered"] += 1
        if rendered.forget:  # Rasa's side is deleted already; now this bridge's rows of the chat
            await self.store.run(self.store.forget_chat, chat_id)
            log.info("chat %s: the citizen's data was deleted at their request", chat_id)
            return
        await self.history.add(chat_id, "bot", plain_text(replies))
        if rendered.handoff is not None:
            question = str(rendered.handoff.get("question") or shown)
            if await self.handoff.open(bot, chat_id, user, question):
                self.counters["handoffs"] += 1

    async def remember_buttons(self, chat_id: int, buttons: list[Button]) -> None:
        """Best effort: with the database down the answer still goes out; a press later gets EXPIRED_BUTTON."""
        if not buttons:
            return
        try:
            await self.store.run(self.store.remember_buttons, buttons)
        except StoreUnavailable as error:
            log.warning("chat %s: buttons not stored: %s", chat_id, error)

    # ------------------------------------------------------------ guards
    async def allowed(self, bot: Bot, chat_id: int, user: User | None) -> bool:
        try:
            verdict = await self.store.run(self.flood.check, user.id if user else chat_id)
        except StoreUnavailable as error:  # better an unlimited citizen for a minute than an unanswered one
            log.warning("chat %s: flood counter unavailable, message let through: %s", chat_id, error)
            return True
        if verdict == "ok":
            return True
        self.counters["flood_dropped"] += 1
        if verdict == "warn":
            log.warning("chat %s: flood limit reached, dropping messages for a while", chat_id)
            await sending.send(bot, chat_id, FLOOD)
        return False

    def addressed_text(self, message: Message, bot_username: str | None) -> str | None:
        """The text meant for the bot, or None when a group message was not addressed to it."""
        text = message.text or ""
        if message.chat.type == ChatType.PRIVATE:
            return text
        replied = message.reply_to_message
        if (
            replied is not None
            and replied.from_user is not None
            and replied.from_user.is_bot
            and (bot_username is None or replied.from_user.username == bot_username)
        ):
            return text
        if bot_username and f"@{bot_username}".lower() in text.lower():
            start = text.lower().index(f"@{bot_username}".lower())
            return (text[:start] + text[start + len(bot_username) + 1 :]).strip()
        return None

    # ------------------------------------------------------------ handlers
    async def on_text(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None or message.text is None:
            return
        chat, user = message.chat, message.from_user
        text = self.addressed_text(message, context.bot.username)
        if text is None:
            return
        text = nfc(text).strip()
        typed = as_typed_text(text)  # " /request_human{…}" is words to Rasa, never an intent
        self.counters["messages"] += 1
        log.info("chat %s: message from user %s (%d chars): %s", chat.id, user.id if user else "-", len(text), text)
        if not typed:
            return
        async with self.intake(chat.id):
            if not await self.allowed(context.bot, chat.id, user):
                return
            if len(text) > self.config.max_message_chars:
                self.counters["too_long"] += 1
                notice = TOO_LONG.format(length=f"{len(text):,}".replace(",", "."), limit=self.config.max_message_chars)
                await sending.send(context.bot, chat.id, notice)
                return
            item = await self.admit(chat.id, user, typed, shown=text, update_id=update.update_id)
        if item is not None:
            await self.process(context.bot, item, user)

    async def admit(self, chat_id: int, user: User | None, message: str, shown: str, payload: bool = False,
                    update_id: int | None = None) -> Pending | None:  # fmt: skip
        """Record the message as pending: it survives a restart, and this replica owns it until it is answered.
        Then Telegram may be told the update arrived. None: Telegram sent this update again; it is answered once."""
        user_dict = user.to_dict() if user else None
        pending_id = await self.store.run(self.store.add_pending, chat_id, user_dict, message, shown, payload,
                                          update_id)  # fmt: skip
        self._receipt(update_id, stored=True)
        if pending_id is None:
            log.info("chat %s: update %s came again; it was stored already", chat_id, update_id)
            return None
        return Pending(pending_id, chat_id, user_dict, message, shown, payload)

    async def process(self, bot: Bot, item: Pending, user: User | None) -> None:
        """Answer one pending message in the chat's turn, then forget it (also when it failed: a failing message
        must not be replayed forever). On shutdown it stays pending, for the next start or another replica."""
        self._inflight.add(item.id)
        try:
            async with self.turn(item.chat_id):
                await self._answer(bot, item, user)
        finally:
            self._inflight.discard(item.id)

    async def _answer(self, bot: Bot, item: Pending, user: User | None) -> None:
        try:
            privacy = item.payload and item.message in PRIVACY_PAYLOADS
            if not privacy and await self.handoff.active(item.chat_id):
                self.counters["relayed_to_staff"] += 1
                await self.handoff.relay_from_citizen(bot, item.chat_id, user, item.shown)
                if not item.payload:
                    await self.keep_callback_number(bot, item.chat_id, item.shown)
            else:
                await self.converse(bot, item, user)
        except Stopping:
            log.info("chat %s: shutting down before Rasa answered; the message is answered after the restart",
                     item.chat_id)  # fmt: skip
            return
        except Exception:  # not CancelledError: a message cut off by a shutdown stays pending
            await self.forget_pending(item.id)
            raise
        await self.forget_pending(item.id)

    async def keep_callback_number(self, bot: Bot, chat_id: int, text: str) -> None:
        """A phone number typed to staff is kept, encrypted, for the officer who takes the handoff (the action
        server's admin API, journal/callbacks.py); the staff group saw it masked. The citizen is told why and for
        how long."""
        if not find_phone_numbers(text):
            return
        try:
            kept = await self.admin.keep_callback_number(chat_id, text)
        except AdminUnavailable as error:
            log.error("chat %s: callback number not kept: %s", chat_id, error)
            return
        if isinstance(kept.get("notice"), str) and kept["notice"]:
            await sending.send(bot, chat_id, kept["notice"])
            await self.handoff.callback_number_kept(bot, chat_id)

    async def forget_pending(self, pending_id: int, attempts: int = 3) -> None:
        """Delete an answered message, retrying a database that blinked (otherwise it would be answered again)."""
        for attempt in range(1, attempts + 1):
            try:
                await self.store.run(self.store.done_pending, pending_id)
                return
            except StoreUnavailable as error:
                if attempt == attempts:
                    log.error("pending message %s answered but not removed: %s", pending_id, error)
                    return
                await asyncio.sleep(STORE_BLINK.delay(attempt))

    # ------------------------------------------------------------ pending messages of any replica
    def start_background(self, bot: Bot) -> None:
        """Answer at once what waits in the store, then keep this replica's claims alive and take over messages
        another replica left (shut down, or died and its lease ran out); and deliver what the staff console says."""
        self._spawn(self._look_after_pending(bot))
        self._spawn(self._deliver_from_console(bot))

    async def _deliver_from_console(self, bot: Bot) -> None:
        """Each chat's console messages in the chat's turn (in order, one replica at a time), chats side by side."""
        delivering: set[int] = set()
        while not self.stopping.is_set():
            try:
                for chat_id in await self.store.run(handoff_state.chats_with_outgoing, self.store):
                    if chat_id not in delivering:
                        delivering.add(chat_id)
                        self._spawn(self._deliver_to(bot, chat_id, delivering))
            except StoreUnavailable as error:
                log.warning("staff console messages not checked: %s", error)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), OUTBOX_EVERY)

    async def _deliver_to(self, bot: Bot, chat_id: int, delivering: set[int]) -> None:
        try:
            async with self.turn(chat_id):
                await self.handoff.deliver_outbox(bot, chat_id)
        except StoreUnavailable as error:
            log.warning("chat %s: staff console messages not delivered yet: %s", chat_id, error)
        except Exception:  # Telegram unreachable: logged, tried again after the lease (never a dead loop)
            log.exception("chat %s: a staff console message was not delivered", chat_id)
        finally:
            delivering.discard(chat_id)

    async def _look_after_pending(self, bot: Bot) -> None:
        every = max(1.0, self.store.lease / 3)
        # SQLite serves one bridge: at its start every waiting message is an orphan, even when the bridge before it
        # crashed a second ago and its lease still runs. Replicas on PostgreSQL wait for the lease instead.
        at_start = not self.store.postgres
        while not self.stopping.is_set():
            try:
                await self.store.run(self.store.renew_leases)
                await self.replay_pending(bot, from_anyone=at_start)
                at_start = False
            except StoreUnavailable as error:
                log.warning("pending messages not checked: %s", error)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), every)

    async def replay_pending(self, bot: Bot, from_anyone: bool = False) -> int:
        """Claim the messages nobody is answering and answer them, each chat in its original order."""
        claimed = await self.store.run(self.store.claim_pending, from_anyone=from_anyone)
        rows = [p for p in claimed if p.id not in self._inflight]
        for item in rows:
            self._inflight.add(item.id)  # now, not when its task starts: the next claim must not take it again
            citizen = User.de_json(item.user, bot) if item.user else None
            self._spawn(self._replay(bot, item, citizen))
        if rows:
            log.info("answering %d message(s) left unanswered (before a restart, or by another replica)", len(rows))
        return len(rows)

    async def _replay(self, bot: Bot, item: Pending, citizen: User | None) -> None:
        try:
            await self.process(bot, item, citizen)
        except StoreUnavailable as error:
            log.warning("chat %s: replayed message failed: %s", item.chat_id, error)
            await self.tell_store_down(bot, item.chat_id)
        except Exception:
            log.exception("chat %s: replayed message failed", item.chat_id)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop the background work, hand unanswered messages back to the other replicas, close the clients."""
        self.stopping.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=5)
            for task in late:
                task.cancel()
        try:
            released = await self.store.run(self.store.release_pending)
            if released:
                log.info("%d message(s) left for the next start or another replica", released)
        except StoreUnavailable as error:
            log.warning("pending messages not released (another replica takes them when the lease ends): %s", error)
        await self.rasa.close()
        await self.admin.close()
        self.store.close()

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        with contextlib.suppress(Exception):  # a late answer (query too old) must not stop the payload
            await sending.call_with_retry(query.answer, what="answerCallbackQuery")
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        log.info("chat %s: button %s pressed", chat_id, query.data)
        async with self.intake(chat_id):
            button = await self.store.run(self.store.button, (query.data or "").removeprefix(CALLBACK_PREFIX))
            if not await self.allowed(context.bot, chat_id, query.from_user):
                return
            if button is None:
                await sending.send(context.bot, chat_id, EXPIRED_BUTTON)
                return
            self.counters["buttons"] += 1
            item = await self.admit(chat_id, query.from_user, button.payload, shown=f"[bấm nút] {button.title}",
                                    payload=True, update_id=update.update_id)  # fmt: skip
        if item is not None:
            await self.process(context.bot, item, query.from_user)

    async def on_staff_message(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is not None and await self.handoff.from_staff(context.bot, message):
            self.counters["staff_messages"] += 1

    async def on_edited(self, update: Update, context: Context) -> None:
        message = update.edited_message
        if message is not None and message.chat.type == ChatType.PRIVATE:
            await sending.send(context.bot, message.chat.id, EDITED)

    async def on_other(self, update: Update, context: Context) -> None:
        """Anything else: stickers, photos, voice, files, locations, channel posts, service messages."""
        message, chat = update.message, update.effective_chat
        log.info("chat %s: not a text message (update %s), declined or ignored", chat.id if chat else "-",
                 update.update_id)  # fmt: skip
        if message is None or chat is None or chat.type != ChatType.PRIVATE:
            return  # channel posts, group media, membership changes: nothing to say
        self.counters["non_text"] += 1
        await sending.send(context.bot, chat.id, NOT_TEXT)

    # ------------------------------------------------------------ commands
    async def on_start(self, update: Update, context: Context) -> None:
        await self.start_over(
            update, before=lambda chat_id: self.send_with_forget_button(context.bot, chat_id, WELCOME)
        )

    async def on_reset(self, update: Update, context: Context) -> None:
        await self.start_over(update, after=lambda chat_id: sending.send(context.bot, chat_id, RESET_DONE))

    async def start_over(self, update: Update, before: Say | None = None, after: Say | None = None) -> None:
        """/start and /reset, in the chat's turn: end a handoff, restart Rasa's conversation. /start's welcome comes
        `before` the restart (at once), /reset's confirmation `after` it."""
        self.nothing_to_store(update)
        chat = update.effective_chat
        if chat is None:
            return
        async with self.turn(chat.id):
            await self.store.run(self.store.end_handoff, chat.id)
            if before is not None:
                await before(chat.id)
            await self.restart_rasa(chat.id)
            if after is not None:
                await after(chat.id)

    async def restart_rasa(self, chat_id: int) -> None:
        """A fresh Rasa conversation for this chat; its own reply is not shown (we say it in our words)."""
        try:
            await self.rasa.send(str(chat_id), "/restart", payload=True)
        except RasaError as error:
            log.warning("chat %s: could not restart the Rasa conversation: %s", chat_id, error)

    async def on_help(self, update: Update, context: Context) -> None:
        if update.effective_chat is not None:
            await self.send_with_forget_button(context.bot, update.effective_chat.id, HELP)

    async def send_with_forget_button(self, bot: Bot, chat_id: int, text: str) -> None:
        await self.remember_buttons(chat_id, [FORGET_BUTTON])
        await sending.send(bot, chat_id, Outgoing(text, [[FORGET_BUTTON]]))

    async def on_forget(self, update: Update, context: Context) -> None:
        """/xoadulieu: as the help's button, Rasa asks for confirmation (also while a person serves the chat)."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return
        async with self.intake(chat.id):
            if not await self.allowed(context.bot, chat.id, user):
                return
            item = await self.admit(chat.id, user, FORGET_PAYLOAD, shown="/xoadulieu", payload=True,
                                    update_id=update.update_id)  # fmt: skip
        if item is not None:
            await self.process(context.bot, item, user)

    async def on_unknown_command(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is not None and chat.type == ChatType.PRIVATE:
            await sending.send(context.bot, chat.id, UNKNOWN_COMMAND)

    def is_admin(self, user: User | None) -> bool:
        return user is not None and user.id in self.config.admin_user_ids

    async def refuse_non_admin(self, update: Update, context: Context) -> bool:
        if self.is_admin(update.effective_user):
            return False
        log.warning("user %s tried an admin command", update.effective_user.id if update.effective_user else "-")
        if update.effective_chat is not None:
            await sending.send(context.bot, update.effective_chat.id, NOT_ADMIN)
        return True

    async def on_stats(self, update: Update, context: Context) -> None:
        self.nothing_to_store(update)
        if await self.refuse_non_admin(update, context) or update.effective_chat is None:
            return
        try:
            server: dict[str, Any] | str = await self.admin.stats()
        except AdminUnavailable as error:
            server = str(error)
        try:
            open_handoffs: int | None = await self.store.run(self.store.handoff_count)
        except StoreUnavailable:
            open_handoffs = None
        text = stats_text(self.counters, open_handoffs, self.started, server)
        await sending.send(context.bot, update.effective_chat.id, text)

    async def on_reload(self, update: Update, context: Context) -> None:
        self.nothing_to_store(update)
        if await self.refuse_non_admin(update, context) or update.effective_chat is None:
            return
        chat_id = update.effective_chat.id
        await sending.send(context.bot, chat_id, RELOADING)
        try:
            text = reload_text(await self.admin.reload())
        except AdminUnavailable as error:
            text = f"❌ Chưa dựng lại được chỉ mục: {error}"
        await sending.send(context.bot, chat_id, text)

    async def on_error(self, update: object, context: Context) -> None:
        """Log and carry on: one bad update must never stop the bridge. A database that is down gets the person
        a polite reply."""
        self.counters["errors"] += 1
        update_id = update.update_id if isinstance(update, Update) else None
        chat = update.effective_chat if isinstance(update, Update) else None
        if isinstance(context.error, StoreUnavailable):
            log.error("update %s (chat %s): database unavailable: %s", update_id, chat.id if chat else "-",
                      context.error)  # fmt: skip
            if self._receipt(update_id, stored=False):  # not acknowledged: Telegram sends it again, answered then
                if chat is not None and chat.type == ChatType.PRIVATE and update_id not in self._told_delayed:
                    await self.tell_delayed_once(context.bot, chat.id, update_id)
                return
            if chat is not None and chat.type != ChatType.CHANNEL:
                await self.tell_store_down(context.bot, chat.id)
            return
        log.error(
            "error while handling update %s (chat %s)", update_id, chat.id if chat else "-", exc_info=context.error
        )

    async def tell_delayed_once(self, bot: Bot, chat_id: int, update_id: int | None) -> None:
        """The citizen hears once (per replica) that the answer comes later, not at every time Telegram sends again."""
        if update_id is not None:
            self._told_delayed[update_id] = None
            while len(self._told_delayed) > 1000:
                del self._told_delayed[next(iter(self._told_delayed))]
        with contextlib.suppress(Exception):  # Telegram down as well: nothing more to do
            await sending.send(bot, chat_id, DELAYED)

    async def tell_store_down(self, bot: Bot, chat_id: int) -> None:
        text = STAFF_STORE_DOWN if chat_id == self.config.staff_chat_id else STORE_DOWN
        with contextlib.suppress(Exception):  # Telegram down as well: nothing more to do
            await sending.send(bot, chat_id, text)


def _lock_for(locks: weakref.WeakValueDictionary[int, asyncio.Lock], chat_id: int) -> asyncio.Lock:
    lock = locks.get(chat_id)
    if lock is None:
        lock = locks[chat_id] = asyncio.Lock()
    return lock


async def keep_typing(bot: Bot, chat_id: int) -> None:
    """'typing…' lasts 5 s in Telegram clients: repeat it until cancelled. Not for an answer ready within
    TYPING_AFTER: the citizen would hardly see it, and it was one Bot API call more per message."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(TYPING_AFTER)
        while True:
            with contextlib.suppress(Exception):
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(4.5)


def stats_text(counters: Counter[str], open_handoffs: int | None, started: float, server: dict[str, Any] | str) -> str:
    """This replica's counters, then what the action server reports (or why it could not)."""
    hours = (time.time() - started) / 3600
    lines = [
        f"📊 Cầu nối Telegram (chạy {hours:.1f} giờ)",
        f"Tin nhắn nhận: {counters['messages']} · nút bấm: {counters['buttons']}",
        f"Đã trả lời: {counters['answered']} · Rasa không trả lời được: {counters['rasa_failures']}",
        f"Báo trả lời chậm: {counters['delayed_notices']} · chuyển cán bộ: {counters['handoffs']}",
        f"Đang gặp cán bộ: {'?' if open_handoffs is None else open_handoffs} · "
        f"tin chuyển cán bộ: {counters['relayed_to_staff']}",
        f"Không phải chữ: {counters['non_text']} · quá dài: {counters['too_long']} · "
        f"bị chặn vì gửi nhanh: {counters['flood_dropped']} · lỗi: {counters['errors']}",
        "",
        "📒 Nhật ký hội thoại",
    ]
    if isinstance(server, str):
        return "\n".join([*lines, f"Không lấy được số liệu từ máy chủ hành động: {server}"])
    journal = server.get("journal_report") or (
        f"Chưa đọc được nhật ký ({server['journal_error']})." if server.get("journal_error") else "Chưa có số liệu."
    )
    uptime = float(server.get("uptime_seconds") or 0) / 3600
    lines += [
        journal,
        "",
        f"🗂 Chỉ mục tri thức đang dùng: {server.get('index_version') or 'chưa có'}",
        f"Máy chủ hành động chạy {uptime:.1f} giờ (pid {server.get('pid', '?')})",
    ]
    return "\n".join(lines)


def reload_text(result: dict[str, Any]) -> str:
    """The outcome of POST /admin/reload, in Vietnamese, with the build's last lines."""
    tail = str(result.get("output") or "").strip()
    if result.get("ok"):
        head = (f"✅ Đã dựng lại chỉ mục tri thức (phiên bản {result.get('version')}); "
                "trợ lý dùng dữ liệu mới sau vài giây.")  # fmt: skip
    elif result.get("returncode") is None:
        head = "❌ Dựng chỉ mục quá thời gian cho phép nên đã dừng; chỉ mục cũ vẫn được dùng."
    else:
        head = f"❌ Dựng chỉ mục thất bại (mã {result.get('returncode')}); chỉ mục cũ vẫn được dùng."
    return f"{head}\n\n{tail}".strip()
