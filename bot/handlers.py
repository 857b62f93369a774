"""Telegram update handlers: small functions around one `Bridge` holding the shared state.

Per chat, updates are handled one at a time and in order (an asyncio lock per chat); different chats run
concurrently (the Application is built with concurrent_updates).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
import weakref
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Message, Update, User
from telegram.constants import ChatAction, ChatType
from telegram.ext import ContextTypes

from bot import sending
from bot.config import ROOT, Config
from bot.handoff import Handoff, History
from bot.rasa_client import RasaClient, RasaError, Stopping, send_with_retry
from bot.render import CALLBACK_PREFIX, plain_text, render
from bot.store import Store
from knowledge.text import as_typed_text, nfc

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

WELCOME = (
    "Xin chào! Mình là Trợ lý Một Cửa, trợ lý tự động giải đáp thủ tục hành chính.\n\n"
    "Mình có thể giúp bạn:\n"
    "• Cho biết hồ sơ, giấy tờ cần chuẩn bị cho một thủ tục\n"
    "• Lệ phí, thời gian giải quyết, nơi nộp hồ sơ\n"
    "• Cách nộp trực tuyến trên Cổng Dịch vụ công\n"
    "• Chuyển câu hỏi đến cán bộ Bộ phận Một cửa khi cần\n\n"
    "Bạn cứ nhắn câu hỏi bằng tiếng Việt, ví dụ: «làm giấy khai sinh cho con cần gì» hoặc «đổi bằng lái xe ở đâu»."
)
HELP = (
    "Cách dùng Trợ lý Một Cửa:\n"
    "• Nhắn câu hỏi về thủ tục bằng chữ, càng rõ tên thủ tục càng tốt.\n"
    "• Bấm các nút bên dưới câu trả lời để xem thêm hồ sơ, lệ phí, thời gian…\n"
    "• Gõ «gặp cán bộ» nếu bạn muốn được cán bộ hỗ trợ trực tiếp.\n\n"
    "Lệnh: /start — bắt đầu, /reset — bắt đầu cuộc trò chuyện mới, /help — hướng dẫn."
)
RESET_DONE = "Đã bắt đầu cuộc trò chuyện mới. Bạn cần hỏi về thủ tục nào?"
DELAYED = (
    "Hệ thống đang bận, câu trả lời sẽ đến chậm hơn một chút. Bạn không cần gửi lại, mình sẽ trả lời ngay khi xong."
)
GAVE_UP = (
    "Xin lỗi, hiện hệ thống chưa trả lời được. Bạn vui lòng gửi lại câu hỏi sau ít phút, hoặc liên hệ trực tiếp "
    "Bộ phận Một cửa."
)
NO_REPLY = "Xin lỗi, mình chưa có câu trả lời cho câu này. Bạn thử hỏi cách khác giúp mình nhé."
TOO_LONG = (
    "Tin nhắn của bạn dài quá ({length} ký tự). Bạn viết ngắn gọn câu hỏi (dưới {limit} ký tự) giúp mình nhé, "
    "ví dụ: «đăng ký tạm trú cần giấy tờ gì»."
)
NOT_TEXT = (
    "Mình chỉ đọc được tin nhắn chữ. Bạn nhập câu hỏi bằng chữ giúp mình nhé, ví dụ: «làm căn cước cần giấy tờ gì»."
)
EDITED = "Mình chưa xử lý được tin nhắn đã sửa. Bạn gửi lại câu hỏi thành một tin nhắn mới giúp mình nhé."
FLOOD = "Bạn gửi tin nhắn hơi nhanh. Bạn đợi khoảng một phút rồi nhắn tiếp giúp mình nhé."
EXPIRED_BUTTON = "Nút này đã cũ, mình không còn nhớ nội dung của nó. Bạn nhắn lại câu hỏi giúp mình nhé."
UNKNOWN_COMMAND = "Mình không có lệnh này. Gõ /help để xem hướng dẫn, hoặc nhắn câu hỏi của bạn."
NOT_ADMIN = "Bạn không có quyền dùng lệnh này."


class FloodGuard:
    """At most `limit` messages per user per `window` seconds; the first extra one gets a polite notice."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int, now: float | None = None) -> str:
        """'ok', 'warn' (drop, and tell the user once) or 'drop'."""
        now = time.monotonic() if now is None else now
        if len(self._seen) > 50_000:  # forget users quiet for a whole window, so memory stays bounded
            self._seen = {u: s for u, s in self._seen.items() if s and now - s[-1] <= self.window}
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] > self.window:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            self._warned.discard(user_id)
            return "ok"
        if user_id in self._warned:
            return "drop"
        self._warned.add(user_id)
        return "warn"


@dataclass
class Bridge:
    config: Config
    rasa: RasaClient
    store: Store
    history: History = field(default_factory=History)
    counters: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.handoff = Handoff(self.store, self.history, self.config.staff_chat_id)
        self.flood = FloodGuard(self.config.flood_limit, self.config.flood_window)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self.stopping = asyncio.Event()  # set on SIGTERM/SIGINT: waits for Rasa end at once, messages stay pending
        self._replays: set[asyncio.Task] = set()

    def lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock

    # ------------------------------------------------------------ talking to Rasa
    async def ask_rasa(self, bot: Bot, chat_id: int, message: str, payload: bool) -> list[dict[str, Any]] | None:
        """Rasa's replies, waiting out an outage (the citizen is told once); None when Rasa never came back.
        An outage includes Rasa up but its action server down (503): nothing was recorded, so sending again is safe."""

        async def delayed() -> None:
            self.counters["delayed_notices"] += 1
            log.warning("chat %s: Rasa slow or down, citizen told the answer is delayed", chat_id)
            await sending.send(bot, chat_id, DELAYED)

        typing = asyncio.create_task(keep_typing(bot, chat_id))
        try:
            return await send_with_retry(
                lambda: self.rasa.send(str(chat_id), message, payload=payload),
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

    async def converse(self, bot: Bot, chat_id: int, user: User | None, message: str, shown: str,
                       payload: bool) -> None:  # fmt: skip
        """Send one citizen message (typed text, or a button's payload) to Rasa and deliver the answer (buttons,
        parts, handoff)."""
        self.history.add(chat_id, "citizen", shown)
        replies = await self.ask_rasa(bot, chat_id, message, payload)
        if replies is None:
            await sending.send(bot, chat_id, GAVE_UP)
            return
        rendered = render(replies)
        if not rendered.messages and rendered.handoff is None:
            self.counters["empty_replies"] += 1
            await sending.send(bot, chat_id, NO_REPLY)
            return
        for outgoing in rendered.messages:
            self.store.remember_buttons([b for row in outgoing.keyboard for b in row])
            await sending.send(bot, chat_id, outgoing)
        self.counters["answered"] += 1
        self.history.add(chat_id, "bot", plain_text(replies))
        if rendered.handoff is not None:
            question = str(rendered.handoff.get("question") or shown)
            if await self.handoff.open(bot, chat_id, user, question):
                self.counters["handoffs"] += 1

    # ------------------------------------------------------------ guards
    async def allowed(self, bot: Bot, chat_id: int, user: User | None) -> bool:
        verdict = self.flood.check(user.id if user else chat_id)
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
        if not typed or not await self.allowed(context.bot, chat.id, user):
            return
        if len(text) > self.config.max_message_chars:
            self.counters["too_long"] += 1
            notice = TOO_LONG.format(length=f"{len(text):,}".replace(",", "."), limit=self.config.max_message_chars)
            await sending.send(context.bot, chat.id, notice)
            return
        await self.accept(context.bot, chat.id, user, typed, shown=text)

    async def accept(self, bot: Bot, chat_id: int, user: User | None, message: str, shown: str,
                     payload: bool = False) -> None:  # fmt: skip
        """Record the message as pending (it survives a restart), then handle it in this chat's turn."""
        pending_id = self.store.add_pending(chat_id, user.to_dict() if user else None, message, shown, payload)
        await self.process(bot, pending_id, chat_id, user, message, shown, payload)

    async def process(self, bot: Bot, pending_id: int, chat_id: int, user: User | None, message: str,
                      shown: str, payload: bool = False) -> None:  # fmt: skip
        async with self.lock(chat_id):
            try:
                if self.handoff.active(chat_id):
                    self.counters["relayed_to_staff"] += 1
                    await self.handoff.relay_from_citizen(bot, chat_id, user, shown)
                else:
                    await self.converse(bot, chat_id, user, message, shown, payload)
            except Stopping:
                log.info("chat %s: shutting down before Rasa answered; the message is replayed at the next start",
                         chat_id)  # fmt: skip
                return
            except Exception:
                self.store.done_pending(pending_id)  # a failing message must not be replayed forever
                raise
            self.store.done_pending(pending_id)

    def replay_pending(self, bot: Bot) -> int:
        """Handle messages accepted before the last shutdown but never answered (in their original order)."""
        rows = self.store.pending()
        for pending_id, chat_id, user, message, shown, payload in rows:
            citizen = User.de_json(user, bot) if user else None
            task = asyncio.create_task(self.process(bot, pending_id, chat_id, citizen, message, shown, payload))
            self._replays.add(task)
            task.add_done_callback(self._replays.discard)
        if rows:
            log.info("replaying %d message(s) received before the restart", len(rows))
        return len(rows)

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        with contextlib.suppress(Exception):  # a late answer (query too old) must not stop the payload
            await sending.call_with_retry(query.answer, what="answerCallbackQuery")
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        button = self.store.button((query.data or "").removeprefix(CALLBACK_PREFIX))
        log.info("chat %s: button %s pressed", chat_id, query.data)
        if not await self.allowed(context.bot, chat_id, query.from_user):
            return
        if button is None:
            await sending.send(context.bot, chat_id, EXPIRED_BUTTON)
            return
        self.counters["buttons"] += 1
        await self.accept(context.bot, chat_id, query.from_user, button.payload, shown=f"[bấm nút] {button.title}",
                          payload=True)  # fmt: skip

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
        chat = update.effective_chat
        if chat is None:
            return
        async with self.lock(chat.id):
            self.store.end_handoff(chat.id)
            await sending.send(context.bot, chat.id, WELCOME)
            await self.restart_rasa(chat.id)

    async def restart_rasa(self, chat_id: int) -> None:
        """A fresh Rasa conversation for this chat; its own reply is not shown (we say it in our words)."""
        try:
            await self.rasa.send(str(chat_id), "/restart", payload=True)
        except RasaError as error:
            log.warning("chat %s: could not restart the Rasa conversation: %s", chat_id, error)

    async def on_help(self, update: Update, context: Context) -> None:
        if update.effective_chat is not None:
            await sending.send(context.bot, update.effective_chat.id, HELP)

    async def on_reset(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        async with self.lock(chat.id):
            self.store.end_handoff(chat.id)
            await self.restart_rasa(chat.id)
            await sending.send(context.bot, chat.id, RESET_DONE)

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
        if await self.refuse_non_admin(update, context) or update.effective_chat is None:
            return
        text = stats_text(self.counters, self.store, self.started, await asyncio.to_thread(journal_report))
        await sending.send(context.bot, update.effective_chat.id, text)

    async def on_reload(self, update: Update, context: Context) -> None:
        if await self.refuse_non_admin(update, context) or update.effective_chat is None:
            return
        chat_id = update.effective_chat.id
        await sending.send(context.bot, chat_id, "Đang dựng lại chỉ mục tri thức (python -m knowledge.index.build)…")
        await sending.send(context.bot, chat_id, await rebuild_index())

    async def on_error(self, update: object, context: Context) -> None:
        """Log and carry on: one bad update must never stop the bridge."""
        self.counters["errors"] += 1
        update_id = update.update_id if isinstance(update, Update) else None
        chat = update.effective_chat if isinstance(update, Update) else None
        log.error(
            "error while handling update %s (chat %s)", update_id, chat.id if chat else "-", exc_info=context.error
        )


async def keep_typing(bot: Bot, chat_id: int) -> None:
    """'typing…' lasts 5 s in Telegram clients: repeat it until cancelled."""
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            with contextlib.suppress(Exception):
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(4.5)


def journal_report() -> str | None:
    """The dialogue journal's counts (the journal package), if that module and its database are there."""
    try:
        import journal
    except ImportError:
        return None
    try:
        return journal.format_report(journal.stats())
    except Exception as error:  # noqa: BLE001 - statistics are best effort
        log.warning("journal statistics unavailable: %s", error)
        return None


def stats_text(counters: Counter[str], store: Store, started: float, journal: str | None) -> str:
    hours = (time.time() - started) / 3600
    lines = [
        f"📊 Cầu nối Telegram (chạy {hours:.1f} giờ)",
        f"Tin nhắn nhận: {counters['messages']} · nút bấm: {counters['buttons']}",
        f"Đã trả lời: {counters['answered']} · Rasa không trả lời được: {counters['rasa_failures']}",
        f"Báo trả lời chậm: {counters['delayed_notices']} · chuyển cán bộ: {counters['handoffs']}",
        f"Đang gặp cán bộ: {store.handoff_count()} · tin chuyển cán bộ: {counters['relayed_to_staff']}",
        f"Không phải chữ: {counters['non_text']} · quá dài: {counters['too_long']} · "
        f"bị chặn vì gửi nhanh: {counters['flood_dropped']} · lỗi: {counters['errors']}",
        "",
        "📒 Nhật ký hội thoại",
        journal or "Chưa có số liệu nhật ký (nhật ký chưa có).",
    ]
    return "\n".join(lines)


async def rebuild_index(timeout: float = 900.0) -> str:
    """Run `python -m knowledge.index.build` with this interpreter and report the outcome in Vietnamese."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "knowledge.index.build", cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        return f"❌ Dựng chỉ mục quá {timeout:.0f} giây nên đã dừng."
    tail = "\n".join(output.decode("utf-8", "replace").strip().splitlines()[-15:])
    if process.returncode == 0:
        return f"✅ Đã dựng lại chỉ mục; trợ lý dùng dữ liệu mới sau vài giây.\n\n{tail}".strip()
    return f"❌ Dựng chỉ mục thất bại (mã {process.returncode}); chỉ mục cũ vẫn được dùng.\n\n{tail}".strip()
