"""Rasa's SQL tracker store (TRACKER_DB_URL, table `events`), read and deleted from in one place: the console shows
conversations through the readers below (console/conversations.py, console/conversation_search.py), and a citizen's
deletion and the retention purge delete from it (journal/erasure.py). Rasa creates and writes the table; nothing
here creates it. The readers raise SQLAlchemy's errors (no table yet, the database down): callers decide."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any, NamedTuple

import sqlalchemy as sa

from settings.database import make_engine

# Rasa's own table (rasa/core/tracker_store.py SQLEvent).
events = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("type_name", sa.String(255)),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


def tracker_engine(url: str) -> sa.Engine:
    """Rasa writes its tracker with psycopg2 (postgresql://…); this environment reads it with psycopg 3. Rasa keeps
    the SQLite file as it likes (owner=False)."""
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url, owner=False)
        return _engines[url]


def not_created_yet(url: str) -> bool:
    """Whether the tracker store answers but has no table yet: Rasa creates it at the first conversation, so a reader
    failing then means only that nobody wrote yet. False when the database itself does not answer."""
    try:
        return not sa.inspect(tracker_engine(url)).has_table(events.name)
    except sa.exc.SQLAlchemyError:
        return False


# ---------------------------------------------------------------- the readers


class Activity(NamedTuple):
    sender_id: str
    last: float | None  # the latest event's time (Unix seconds)
    users: int  # the citizen's messages


def senders(url: str) -> list[str]:
    """Every conversation's sender id."""
    with tracker_engine(url).connect() as con:
        return list(con.execute(sa.select(events.c.sender_id).distinct()).scalars())


def senders_between(url: str, start: float, end: float) -> set[str]:
    """The senders with an event from `start` to before `end` (Unix seconds)."""
    query = sa.select(events.c.sender_id).where(events.c.timestamp >= start, events.c.timestamp < end).distinct()
    with tracker_engine(url).connect() as con:
        return set(con.execute(query).scalars())


def conversations(url: str, limit: int | None = None, offset: int = 0) -> list[Activity]:
    """Every conversation (or a page of them), the latest first."""
    last = sa.func.max(events.c.timestamp).label("last")
    users = sa.func.sum(sa.case((events.c.type_name == "user", 1), else_=0)).label("users")
    query = sa.select(events.c.sender_id, last, users).group_by(events.c.sender_id)
    query = query.order_by(last.desc(), events.c.sender_id)
    query = query.limit(limit).offset(offset) if limit is not None else query
    with tracker_engine(url).connect() as con:
        return [Activity(sender, stamp, int(count or 0)) for sender, stamp, count in con.execute(query)]


def events_of(url: str, sender: str) -> list[sa.Row]:
    """One conversation's events, in order."""
    query = sa.select(events).where(events.c.sender_id == sender).order_by(events.c.id)
    with tracker_engine(url).connect() as con:
        return list(con.execute(query).all())


def first_messages(url: str, senders: Iterable[str], per_sender: int) -> dict[str, list[dict[str, Any]]]:
    """The first `per_sender` messages of each conversation, as Rasa stored them (the event's data)."""
    query = sa.select(events.c.data).where(events.c.type_name == "user").order_by(events.c.id).limit(per_sender)
    found: dict[str, list[dict[str, Any]]] = {}
    with tracker_engine(url).connect() as con:
        for sender in senders:
            rows = con.execute(query.where(events.c.sender_id == sender)).scalars()
            found[sender] = [json.loads(data or "{}") for data in rows]
    return found
