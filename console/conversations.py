"""Conversations from Rasa's SQL tracker store (TRACKER_DB_URL, table `events`) and the handoff queue.

A conversation is named by the journal's salted hash of its sender (journal.hash_sender), never by the Telegram id:
the handoff queue (journal kind 'handoff', which stores that hash) links straight to its transcript. Every text is
shown with phone, ID card and dossier numbers masked (the REST channel masks before Rasa stores a message; this
also covers conversations stored before that, or by another channel).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

import journal
from console.db import handoff_claims, now
from console.labels import intent_label
from journal.tracker import events, tracker_engine
from knowledge.text import clean, mask_personal_numbers

_senders: dict[str, str] = {}  # journal hash -> sender id, filled as conversations are listed


def masked(text: str | None) -> str:
    return mask_personal_numbers(clean(text or ""))


def _time(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Conversation:
    key: str  # journal.hash_sender(sender)
    last: str  # ISO time of the latest event
    messages: int  # citizen messages


def conversations(url: str, limit: int = 50, offset: int = 0) -> list[Conversation]:
    """Latest conversations first; none when the tracker has no table yet."""
    last = sa.func.max(events.c.timestamp).label("last")
    users = sa.func.sum(sa.case((events.c.type_name == "user", 1), else_=0)).label("users")
    query = (
        sa.select(events.c.sender_id, last, users)
        .group_by(events.c.sender_id)
        .order_by(last.desc(), events.c.sender_id)
        .limit(limit)
        .offset(offset)
    )
    try:
        with tracker_engine(url).connect() as con:
            rows = con.execute(query).all()
    except sa.exc.SQLAlchemyError:
        return []
    found = []
    for sender, stamp, count in rows:
        key = journal.hash_sender(sender) or ""
        _senders[key] = sender
        found.append(Conversation(key, _time(stamp), int(count or 0)))
    return found


def sender_of(url: str, key: str) -> str | None:
    """The tracker's sender id behind a conversation key (looked up among every sender once, then remembered)."""
    if key not in _senders:
        try:
            with tracker_engine(url).connect() as con:
                for sender in con.execute(sa.select(events.c.sender_id).distinct()).scalars():
                    _senders[journal.hash_sender(sender) or ""] = sender
        except sa.exc.SQLAlchemyError:
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
    query = sa.select(events).where(events.c.sender_id == sender).order_by(events.c.id)
    with tracker_engine(url).connect() as con:
        rows = con.execute(query).all()
    turns = []
    for row in rows:
        data: dict[str, Any] = json.loads(row.data or "{}")
        if row.type_name == "user":
            intent = (data.get("parse_data") or {}).get("intent") or {}
            text = data.get("text") or ""
            detail = f"trợ lý hiểu là: {intent_label(intent.get('name'))}" if intent.get("name") else ""
            turns.append(Turn("citizen", _time(row.timestamp), masked(text), detail))
        elif row.type_name == "bot":
            buttons = [masked(b.get("title")) for b in (data.get("data") or {}).get("buttons") or []]
            turns.append(Turn("bot", _time(row.timestamp), masked(data.get("text")), buttons=buttons))
        elif row.type_name in ("restart", "session_started"):
            turns.append(Turn("note", _time(row.timestamp), "Bắt đầu lại cuộc trò chuyện"))
    return turns


# ---------------------------------------------------------------- handoff queue


@dataclass(frozen=True)
class Handoff:
    id: int
    ts: str
    key: str | None  # conversation key
    question: str
    procedure_id: str | None
    taken_by: str | None
    taken_at: str | None


def handoffs(console_engine: sa.Engine, limit: int = 200) -> list[Handoff]:
    e = journal.entries
    query = sa.select(e.c.id, e.c.ts, e.c.sender, e.c.question, e.c.procedure_id).where(e.c.kind == "handoff")
    with journal.engine().connect() as con:
        rows = con.execute(query.order_by(e.c.id.desc()).limit(limit)).all()
    with console_engine.connect() as con:
        claims = {c.entry_id: c for c in con.execute(sa.select(handoff_claims))}
    found = []
    for row in rows:
        claim = claims.get(row.id)
        found.append(Handoff(row.id, row.ts, row.sender, masked(row.question), row.procedure_id,
                             claim.username if claim else None, claim.ts if claim else None))  # fmt: skip
    return found


def is_handoff(entry_id: int) -> bool:
    e = journal.entries
    with journal.engine().connect() as con:
        return con.execute(sa.select(e.c.id).where(e.c.id == entry_id, e.c.kind == "handoff")).first() is not None


def claimed_by(console_engine: sa.Engine, entry_id: int) -> str | None:
    """The staff member who took a handoff request, if anyone did."""
    query = sa.select(handoff_claims.c.username).where(handoff_claims.c.entry_id == entry_id)
    with console_engine.connect() as con:
        return con.execute(query).scalar()


def take(console_engine: sa.Engine, entry_id: int, username: str) -> str | None:
    """Record that this staff member took the request; who already took it when someone else did."""
    with console_engine.begin() as con:
        claim = con.execute(sa.select(handoff_claims).where(handoff_claims.c.entry_id == entry_id)).first()
        if claim is not None:
            return str(claim.username)
        con.execute(handoff_claims.insert().values(entry_id=entry_id, username=username, ts=now()))
    return None
