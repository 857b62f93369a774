"""Handing a citizen over to staff in a Telegram group, and relaying messages both ways.

The staff group receives the question with the recent conversation; a staff member *replies* to that message
(or to any later relayed message) to write to the citizen, and replies `/done` to give the citizen back to
the bot. Only messages in the configured staff chat are ever treated as staff messages. The staff console works the
same handoffs (bot/handoff_state.py: one state in the store); what it says to a citizen, and to the group, comes
through the store's outbox, which `deliver_outbox` sends.
"""

from __future__ import annotations

import logging
import re

from telegram import Bot, Message, User
from telegram.error import NetworkError, TelegramError

from bot import handoff_state, sending
from bot.handoff_state import CITIZEN_BACK_TO_BOT, GROUP_SUFFIX, TO_CITIZEN_PREFIX
from bot.render import split_text
from bot.store import Store, StoreUnavailable, Turn
from knowledge.text import mask_personal_numbers, words
from settings import wording

log = logging.getLogger(__name__)

WHO = {"citizen": "👤 Công dân", "bot": "🤖 Trợ lý", "staff": "👩‍💼 Cán bộ"}

NO_STAFF_CHANNEL = wording.text("handoff.no_staff_channel")
DONE_HINT = "Hãy trả lời (Reply) /done vào tin nhắn của công dân cần trả về trợ lý."
STAFF_HOW_TO = "↩️ Trả lời (Reply) tin nhắn này để nhắn cho công dân; trả lời /done để trả công dân về trợ lý."
CALLBACK_KEPT = (
    "📞 Công dân (chat {chat_id}) đã để lại số điện thoại để được gọi lại. Cán bộ nhận yêu cầu này trên bảng điều "
    "khiển (mục «Gặp cán bộ») bấm «Hiện số gọi lại» để xem."
)


class History:
    """The last few turns per chat, kept in the shared store (whichever replica opens the handoff shows them). It is
    only context for staff: when the database does not answer, a turn is lost rather than the message."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, chat_id: int, who: str, text: str) -> None:
        """Kept masked: a callback number reaches only the officer who takes the handoff (journal/callbacks.py)."""
        if not text.strip():
            return
        try:
            await self.store.run(self.store.add_turn, chat_id, who, mask_personal_numbers(text.strip()))
        except StoreUnavailable as error:
            log.warning("chat %s: conversation excerpt not stored: %s", chat_id, error)

    async def recent(self, chat_id: int) -> list[Turn]:
        try:
            return await self.store.run(self.store.recent_turns, chat_id)
        except StoreUnavailable as error:
            log.warning("chat %s: conversation excerpt unavailable: %s", chat_id, error)
            return []


def describe_citizen(chat_id: int, user: User | None) -> str:
    if user is None:
        return f"chat {chat_id}"
    name = user.full_name or "?"
    handle = f" @{user.username}" if user.username else ""
    return f"{name}{handle} (chat {chat_id})"


CITIZEN_AT_LINE_END = re.compile(r"\bchat (-?\d+)\)?:?$")


def citizen_named_in(staff_text: str) -> int | None:
    """The chat id our staff messages end their first line with (after the citizen's name, which the citizen
    chooses: only the last "(chat N)" of the line is ours)."""
    first_line = staff_text.split("\n", 1)[0].rstrip()
    found = CITIZEN_AT_LINE_END.search(first_line)
    return int(found.group(1)) if found else None


REQUEST_WORDS = 7  # a message asking for a person this short says nothing more ("cho tôi gặp cán bộ", "có")
BUTTON_TURN = "[bấm nút]"  # how a button press is kept among the turns (bot/handlers.py)


def question_for_staff(question: str, turns: list[Turn]) -> str:
    """What the citizen wants to know: when the question is only the message asking for a person (short, or a button),
    the last question they typed before it; otherwise the question (a long request, or the one the bot missed)."""
    question = mask_personal_numbers(question.strip())
    said = [t.text.strip() for t in turns if t.who == "citizen"]
    if not said or said[-1] != question:
        return question
    if not question.startswith(BUTTON_TURN) and len(words(question)) > REQUEST_WORDS:
        return question
    typed = [text for text in said[:-1] if not text.startswith((BUTTON_TURN, "/"))]
    return typed[-1] if typed else question


def staff_request_text(chat_id: int, user: User | None, question: str, turns: list[Turn]) -> str:
    """The message staff see when a citizen asks for a person (plain text, like everything we send)."""
    lines = [f"🔔 Yêu cầu gặp cán bộ — {describe_citizen(chat_id, user)}"]
    if question.strip():
        lines += ["", f"Câu hỏi: {mask_personal_numbers(question.strip())}"]
    if turns:
        lines += ["", "Hội thoại gần đây:"]
        lines += [f"{WHO.get(t.who, t.who)}: {mask_personal_numbers(t.text)}" for t in turns]
    lines += ["", STAFF_HOW_TO]
    return "\n".join(lines)


def staff_relay_text(chat_id: int, user: User | None, text: str) -> str:
    """Masked: the officer who takes the handoff sees a callback number in the console, nobody else."""
    return f"💬 {describe_citizen(chat_id, user)}:\n{mask_personal_numbers(text)}\n\n{STAFF_HOW_TO}"


class Handoff:
    def __init__(self, store: Store, history: History, staff_chat_id: int | None) -> None:
        self.store = store
        self.history = history
        self.staff_chat_id = staff_chat_id

    async def active(self, chat_id: int) -> bool:
        return await self.store.run(self.store.in_handoff, chat_id)

    async def _to_staff(self, bot: Bot, citizen_chat: int, text: str) -> None:
        assert self.staff_chat_id is not None
        for part in split_text(text):
            sent = await sending.send(bot, self.staff_chat_id, part)
            await self.store.run(self.store.link_staff_message, sent.message_id, citizen_chat)

    async def open(self, bot: Bot, chat_id: int, user: User | None, question: str) -> bool:
        """Forward the request to staff and route the citizen's next messages there. False if no staff chat."""
        if self.staff_chat_id is None:
            log.warning("handoff requested by chat %s but STAFF_CHAT_ID is not set", chat_id)
            await sending.send(bot, chat_id, NO_STAFF_CHANNEL)
            return False
        turns = await self.history.recent(chat_id)
        question = question_for_staff(question, turns)
        await self._to_staff(bot, chat_id, staff_request_text(chat_id, user, question, turns))
        await self.store.run(self.store.start_handoff, chat_id, question)
        log.info("handoff opened for chat %s", chat_id)
        return True

    async def callback_number_kept(self, bot: Bot, chat_id: int) -> None:
        """Tell the group a callback number waits in the console for whoever takes the request (never the number)."""
        if self.staff_chat_id is not None:
            await self._to_staff(bot, chat_id, CALLBACK_KEPT.format(chat_id=chat_id))

    async def relay_from_citizen(self, bot: Bot, chat_id: int, user: User | None, text: str) -> None:
        await self.history.add(chat_id, "citizen", text)
        await self._to_staff(bot, chat_id, staff_relay_text(chat_id, user, text))

    async def from_staff(self, bot: Bot, message: Message) -> bool:
        """Handle a message in the staff chat; True when it was a reply about a citizen."""
        if self.staff_chat_id is None or message.chat.id != self.staff_chat_id:
            return False
        if message.reply_to_message is None:
            if (message.text or "").strip().lower().startswith("/done"):
                await sending.send(bot, self.staff_chat_id, DONE_HINT, reply_to=message.message_id)
                return True
            return False
        replied = message.reply_to_message
        citizen = await self.store.run(self.store.citizen_for, replied.message_id)
        if citizen is None and replied.from_user is not None and replied.from_user.id == bot.id:
            # Our link is written once Telegram confirms the send; a reply that quick (or one reaching another
            # replica first) still names the citizen in the replied message we wrote.
            citizen = citizen_named_in(replied.text or "")
        if citizen is None:
            return False
        text = (message.text or "").strip()
        if text.split("@")[0].lower() == "/done" or text.lower().startswith("/done "):
            was_open = await self.store.run(self.store.end_handoff, citizen, group_member(message.from_user))
            await sending.send(bot, citizen, CITIZEN_BACK_TO_BOT)
            note = "✅ Đã trả công dân về trợ lý tự động." if was_open else "Công dân này đang được trợ lý phục vụ."
            await sending.send(bot, self.staff_chat_id, f"{note} (chat {citizen})", reply_to=message.message_id)
            log.info("handoff closed for chat %s", citizen)
            return True
        if not text:
            await sending.send(
                bot, self.staff_chat_id, "Hiện chỉ chuyển được tin nhắn chữ cho công dân.", reply_to=message.message_id
            )
            return True
        # A staff reply (re)opens the talk with a person, and the console shows who answers.
        await self.store.run(handoff_state.claim_for_group_reply, self.store, citizen, group_member(message.from_user))
        for part in split_text(TO_CITIZEN_PREFIX + text):
            await sending.send(bot, citizen, part)
        await self.history.add(citizen, "staff", text)
        await self.store.run(self.store.link_staff_message, message.message_id, citizen)
        log.info("staff reply relayed to chat %s", citizen)
        return True

    async def deliver_outbox(self, bot: Bot, chat_id: int) -> int:
        """Send what the staff console wrote about one chat (to the citizen, then to the group, linked to the citizen
        so the group can reply to it); how many were sent. Called in the chat's turn. An entry is deleted once sent:
        a replica dying in between leaves it to another when the lease runs out (sent twice, never lost)."""
        sent = 0
        for item in await self.store.run(handoff_state.take_outgoing, self.store, chat_id):
            try:
                if item.to_citizen:
                    for part in split_text(item.to_citizen):
                        await sending.send(bot, item.chat_id, part)
                if item.to_staff and self.staff_chat_id is not None:
                    await self._to_staff(bot, item.chat_id, item.to_staff)
            except NetworkError:
                raise  # Telegram unreachable even after the retries: another try when the lease runs out
            except TelegramError as error:  # the citizen blocked the bot, the chat is gone: trying again cannot help
                log.error("chat %s: a staff console message was not delivered: %s", item.chat_id, error)
            await self.store.run(handoff_state.delivered, self.store, item.id)
            sent += 1
        return sent


def group_member(user: User | None) -> str:
    """How the console names a staff group member who answered or closed a handoff."""
    return f"{user.full_name if user else '?'}{GROUP_SUFFIX}"
