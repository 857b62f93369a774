"""Conversations from Rasa's SQL tracker store (TRACKER_DB_URL, read through journal.tracker) and the handoff queue.

A conversation is named by the journal's salted hash of its sender (journal.hash_sender), never by the Telegram id:
the handoff queue (journal kind 'handoff', which stores that hash) links straight to its transcript. Every text is
shown with phone, ID card and dossier numbers masked (the REST channel masks before Rasa stores a message; this
also covers conversations stored before that, or by another channel).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

import journal
from bot import handoff_state
from bot.handoff_state import GROUP_SUFFIX
from bot.store import Store
from bot.store import Turn as BridgeTurn
from console.labels import intent_label
from journal import tracker
from journal.erasure import bridge_target
from knowledge.text import clean, mask_personal_numbers

log = logging.getLogger(__name__)
_senders: dict[str, str] = {}  # journal hash -> sender id, filled as conversations are listed


def masked(text: str | None) -> str:
    return mask_personal_numbers(clean(text or ""))


def iso_time(stamp: float | None) -> str:
    """A Unix time as ISO 8601 in UTC (pages show it in Vietnam's time); "" for none."""
    if stamp is None:
        return ""
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Conversation:
    key: str  # journal.hash_sender(sender)
    last: str  # ISO time of the latest event
    messages: int  # citizen messages


def unreadable(url: str, error: sa.exc.SQLAlchemyError) -> None:
    """A page shows no conversation because the tracker could not be read: expected before Rasa's first conversation
    creates its table, an error to log otherwise (its database down, a column renamed), so that it is not taken for
    'nobody wrote yet'."""
    if not tracker.not_created_yet(url):
        log.error("the tracker store could not be read, the console shows no conversation: %s", error)


def conversations(url: str, limit: int = 50, offset: int = 0) -> list[Conversation]:
    """Latest conversations first; none when the tracker has no table yet (or cannot be read: logged)."""
    try:
        rows = tracker.conversations(url, limit, offset)
    except sa.exc.SQLAlchemyError as error:
        unreadable(url, error)
        return []
    found = []
    for sender, stamp, count in rows:
        key = journal.hash_sender(sender) or ""
        _senders[key] = sender
        found.append(Conversation(key, iso_time(stamp), int(count or 0)))
    return found


def sender_of(url: str, key: str) -> str | None:
    """The tracker's sender id behind a conversation key (looked up among every sender once, then remembered)."""
    if key not in _senders:
        try:
            for sender in tracker.senders(url):
                _senders[journal.hash_sender(sender) or ""] = sender
        except sa.exc.SQLAlchemyError as error:
            unreadable(url, error)
            return None
    return _senders.get(key)


@dataclass
class Turn:
    who: str  # citizen | bot | note
    time: str
    text: str
    detail: str = ""  # the intent read, or the buttons offered
    buttons: list[str] = field(default_factory=list)


def transcript(url: str, key: str) -> list[Turn] | None:
    sender = sender_of(url, key)
    if sender is None:
        return None
    rows = tracker.events_of(url, sender)
    turns = []
    for row in rows:
        data: dict[str, Any] = json.loads(row.data or "{}")
        if row.type_name == "user":
            intent = (data.get("parse_data") or {}).get("intent") or {}
            text = data.get("text") or ""
            detail = intent_label(intent.get("name"))  # «hỏi lệ phí», «bot chưa hiểu»
            if text.startswith("/"):  # a button's command (/request_human), not words the citizen typed
                text, detail = (f"(bấm nút: {detail})" if detail else "(bấm một nút)"), ""
            turns.append(Turn("citizen", iso_time(row.timestamp), masked(text), detail))
        elif row.type_name == "bot":
            buttons = [masked(b.get("title")) for b in (data.get("data") or {}).get("buttons") or []]
            turns.append(Turn("bot", iso_time(row.timestamp), masked(data.get("text")), buttons=buttons))
        elif row.type_name in ("restart", "session_started"):
            turns.append(Turn("note", iso_time(row.timestamp), "Bắt đầu lại cuộc trò chuyện"))
    return turns


# ---------------------------------------------------------------- handoff queue
# The queue is the bridge's own record of handoffs (bot.handoff_state), read and changed in the bridge's database, so
# the console and the Telegram staff group always show the same state. Each handoff is linked to the citizen's latest
# request in the journal (by the salted hash of the chat), which holds the procedure and the callback numbers.

CLOSED_SHOWN_FOR = 86400.0  # handoffs closed in the last day stay on the page, so the officer can still call back
_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


class NoBridge(RuntimeError):
    """This console does not reach the Telegram bridge's database."""


def bridge_store() -> Store | None:
    """The bridge's store (MOCUA_BOT_DB_URL, or the SQLite file MOCUA_BOT_DB once the bridge made it), or None."""
    target = bridge_target()
    if target is None:
        return None
    with _stores_lock:
        if target not in _stores:
            _stores[target] = Store(target)
        return _stores[target]


@dataclass(frozen=True)
class Handoff:
    id: int  # the journal's handoff entry: what the page's forms and the callback numbers name
    chat_id: int
    key: str  # conversation key
    since: str
    question: str
    procedure_id: str | None
    taken_by: str | None
    taken_at: str | None
    closed_at: str | None
    closed_by: str | None
    turns: list[BridgeTurn]

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def by_group(self) -> bool:
        """Taken by a member of the Telegram staff group (who answers there, not here)."""
        return bool(self.taken_by and self.taken_by.endswith(GROUP_SUFFIX))


def _latest_requests(keys: list[str]) -> dict[str, sa.Row]:
    """The latest handoff entry of each conversation key in the journal."""
    if not keys:
        return {}
    return journal.latest_handoffs(keys)


def handoffs(turns: int = 8) -> list[Handoff]:
    """Open handoffs (oldest first), then those closed in the last day; each with its recent turns, masked."""
    store = bridge_store()
    if store is None:
        return []
    states = handoff_state.listed(store, closed_since=time.time() - CLOSED_SHOWN_FOR)
    keys = {h.chat_id: journal.hash_sender(str(h.chat_id)) or "" for h in states}
    requests = _latest_requests(list(keys.values()))
    excerpts = handoff_state.recent_turns(store, [h.chat_id for h in states], turns)
    found = []
    for h in states:
        request = requests.get(keys[h.chat_id])
        if request is None:  # no request in the journal (deleted at the citizen's request): the group still has it
            continue
        found.append(Handoff(
            request.id, h.chat_id, keys[h.chat_id], iso_time(h.since), masked(h.question or request.question),
            request.procedure_id, h.claimed_by, iso_time(h.claimed_at), iso_time(h.closed_at) or None, h.closed_by,
            [BridgeTurn(t.who, masked(t.text)) for t in excerpts[h.chat_id]],
        ))  # fmt: skip
    return found


def find(entry_id: int) -> Handoff | None:
    return next((h for h in handoffs(turns=0) if h.id == entry_id), None)


def handoff_counts() -> tuple[int, int]:
    """(waiting for an officer, being served by one) now."""
    open_ones = [h for h in handoffs(turns=0) if h.open]
    return sum(h.taken_by is None for h in open_ones), sum(h.taken_by is not None for h in open_ones)


def claimed_by(entry_id: int) -> str | None:
    """The officer who took a handoff request (still open, or closed in the last day), if anyone did."""
    found = find(entry_id)
    return found.taken_by if found else None


def step(entry_id: int, username: str, action: str, text: str = "") -> Handoff:
    """Claim, reply, release or finish a handoff as this officer (bot.handoff_state); raises NoBridge, LookupError
    (no such open handoff), handoff_state.NotOpen or TakenByAnother."""
    store = bridge_store()
    if store is None:
        raise NoBridge
    found = find(entry_id)
    if found is None:
        raise LookupError(entry_id)
    if action == "reply":
        handoff_state.reply(store, found.chat_id, username, text)
    else:
        {"take": handoff_state.claim, "release": handoff_state.release, "done": handoff_state.finish}[action](
            store, found.chat_id, username)
    return found
