"""The bridge's shared state, in one SQL database that every bridge replica uses (SQLAlchemy Core).

SQLite file MOCUA_BOT_DB (default var/bot.db) for one bridge; any SQLAlchemy URL in MOCUA_BOT_DB_URL (PostgreSQL
in production, where two or more replicas behind a load balancer may each receive any update). Everything a
replica must know about a chat lives here, never only in a process's memory:

- buttons: the payload behind each button's short id (bounded, least recently used out), so a button works
  whichever replica the press reaches, and after a restart;
- staff-message links: which citizen a message in the staff group is about, so a staff reply finds its citizen;
- handoffs: the chats served by a person (read from the database at each message: no per-process cache), who took
  each, and what the staff console has to say to a citizen (the outbox, delivered by any replica);
- pending: messages accepted but not answered yet, each owned by one replica under a lease it renews, so a message
  is answered exactly once even when two replicas start together or one of them dies;
- flood counters: messages per user in a window that starts at the user's first message, counted atomically;
- history: the last turns of each chat, shown to staff when a citizen asks for a person.

The methods are synchronous and short; the bridge calls them through `Store.run`, in the store's own thread, so
the event loop never waits for the database. Tables are created on first use (two replicas doing it at once is fine).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from bot.render import CALLBACK_PREFIX, Button
from knowledge.text import mask_personal_numbers
from settings.database import make_engine, migrate
from settings.retry import Backoff

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

metadata = sa.MetaData()
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY is the rowid

buttons = sa.Table(
    "bot_buttons", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("used", sa.Float, nullable=False),
    sa.Index("bot_buttons_used", "used"),
)  # fmt: skip
staff_messages = sa.Table(
    "bot_staff_messages", metadata,
    sa.Column("message_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("citizen_chat", sa.BigInteger, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Index("bot_staff_messages_created", "created"),
)  # fmt: skip
# The one record of a chat's handoff, read by the bridge at each message and by the staff console (bot/handoff_state.py
# has the transitions): open while closed_at is NULL; claimed_by names the officer (console account, or the staff
# group member who replied). A closed row stays a while, so the officer who took it can still call the citizen back.
handoffs = sa.Table(
    "bot_handoffs", metadata,
    sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("since", sa.Float, nullable=False),
    sa.Column("question", sa.Text),  # masked: what the citizen asked before asking for a person
    sa.Column("claimed_by", sa.Text),
    sa.Column("claimed_at", sa.Float),
    sa.Column("closed_at", sa.Float),
    sa.Column("closed_by", sa.Text),
)  # fmt: skip
# What the staff console says to a citizen and to the staff group, until a bridge replica delivers it (then deleted).
outbox = sa.Table(
    "bot_outbox", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("chat_id", sa.BigInteger, nullable=False),  # the citizen's chat
    sa.Column("to_citizen", sa.Text),  # an officer's reply as typed, or a notice; gone once delivered
    sa.Column("to_staff", sa.Text),  # masked: what the staff group is told
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),
    sa.Index("bot_outbox_claimable", "lease_until"),
    sqlite_autoincrement=True,
)  # fmt: skip
pending = sa.Table(
    "bot_pending", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    sa.Column("user_json", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("shown", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("payload", sa.Integer, nullable=False, server_default="0"),
    sa.Column("owner", sa.Text),  # the replica answering it; NULL: anyone may claim it
    sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),  # the owner's claim ends then
    sa.Column("notified", sa.Integer, nullable=False, server_default="0"),  # the citizen was told it is delayed
    sa.Index("bot_pending_claimable", "lease_until"),
    sqlite_autoincrement=True,
)  # fmt: skip
flood = sa.Table(
    "bot_flood", metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("window_start", sa.Float, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Index("bot_flood_window_start", "window_start"),
)  # fmt: skip
history = sa.Table(
    "bot_history", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("bot_history_chat", "chat_id", "id"),
    sa.Index("bot_history_at", "at"),
)  # fmt: skip
# The Telegram updates whose message is stored (bot_pending), kept a day (Telegram keeps an unacknowledged update
# that long): an update Telegram sends again, because our acknowledgement never reached it, is not answered twice.
updates = sa.Table(
    "bot_updates", metadata,
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("bot_updates_at", "at"),
)  # fmt: skip
send_slots = sa.Table(
    "bot_send_slots", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.Text, nullable=False),  # "bot", "chat:<id>", "group:<id>" (bot/pacing.py)
    # When the message reached Telegram at the latest (its answer came back); while it is on its way, a time
    # in the future (`in_flight`), so that it counts in every window until then.
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("bot_send_slots_scope", "scope", "at"),
    sa.Index("bot_send_slots_at", "at"),
)  # fmt: skip
send_turn = sa.Table(
    "bot_send_turn", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("reservations", sa.BigInteger, nullable=False),
)  # fmt: skip  # one row; updating it first makes replicas take their turns one after another

SCHEMA_LOCK = 0x6D6F637561  # PostgreSQL advisory lock key while migrating ("mocua")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"  # Alembic revisions (settings.database.migrate)
SCHEMA_RACE = Backoff(first=0.2, most=1.0)  # waits before looking again when replicas create tables together
STATEMENT_TIMEOUT = 10.0  # seconds: the store's statements are tiny; anything slower is a database in trouble
SEND_POLL = 0.05  # seconds between looks at a budget full of messages still on their way
HOUSEKEEPING_EVERY = 600.0  # seconds between purges of stale flood counters and old history, per replica
HISTORY_KEEP_SECONDS = 7 * 86400  # context for staff is about today's conversation; a week is plenty
UPDATES_KEEP_SECONDS = 86400  # Telegram gives up sending an update after 24 hours


class StoreUnavailable(RuntimeError):
    """The database did not answer (down, restarting, unreachable): the caller tells the citizen politely."""


@dataclass(frozen=True)
class Turn:
    who: str  # "citizen" | "bot" | "staff"
    text: str


@dataclass(frozen=True)
class Pending:
    """A message accepted but not answered yet."""

    id: int
    chat_id: int
    user: dict | None
    message: str
    shown: str
    payload: bool  # `message` is a button's payload, not typed text
    notified: bool = False  # the citizen was told the answer is delayed (by whichever replica)


def replica_id() -> str:
    """Unique per process: a restarted or second replica never mistakes another's pending messages for its own."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def chat_lock_key(chat_id: int) -> int:
    """A signed 64-bit advisory-lock key for a chat, unlikely to collide with other users of the database."""
    digest = hashlib.sha256(f"mocua-bot-chat:{chat_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Store:
    def __init__(self, target: Path | str, max_buttons: int = 5000, max_staff_messages: int = 20000,
                 history_turns: int = 20, lease: float = 30.0, owner: str | None = None) -> None:  # fmt: skip
        """`target`: a SQLite file path or any SQLAlchemy URL. `lease`: seconds a replica's claim on a pending
        message lasts without renewal (`renew_leases`), i.e. how long a dead replica's messages wait for another."""
        self.engine = make_engine(str(target), statement_timeout=STATEMENT_TIMEOUT)
        self.postgres = self.engine.dialect.name == "postgresql"
        self.max_buttons = max_buttons
        self.max_staff_messages = max_staff_messages
        self.history_turns = history_turns
        self.lease = lease
        self.owner = owner or replica_id()
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._lock_connection: sa.Connection | None = None  # holds this replica's advisory locks on chats
        self._lock_guard = threading.Lock()
        self._housekept = 0.0
        self._send_turn_ready = False
        # One thread: calls run in the order the event loop made them, so a reader never overtakes a write issued
        # before it (a staff reply arriving right after the relayed message finds that message's link). Each call
        # is a statement or two, and a dead database fails fast (connect and statement timeouts).
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bot-store")

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock_guard:
            if self._lock_connection is not None:
                with contextlib.suppress(Exception):  # closing a connection that is probably dead already
                    self._lock_connection.close()
                self._lock_connection = None
        self.engine.dispose()

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call one of the methods below in the store's thread; database errors become StoreUnavailable."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))
        except sa.exc.SQLAlchemyError as error:
            raise StoreUnavailable(f"{type(error).__name__}: {str(error).splitlines()[0]}") from error

    # ------------------------------------------------------------ schema, created on first use
    def _begin(self) -> Any:
        self._ensure_schema()
        return self.engine.begin()

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            for attempt in range(1, 6):
                try:
                    self._create_schema()
                    break
                except sa.exc.DBAPIError:  # another replica created a table at the same moment: look again
                    if attempt == 5:
                        raise
                    time.sleep(SCHEMA_RACE.delay(attempt))
            self._schema_ready = True

    def _create_schema(self) -> None:
        migrate(self.engine, MIGRATIONS, version_table="alembic_version_bot", lock_key=SCHEMA_LOCK)

    # ------------------------------------------------------------ buttons (bounded, least recently used out)
    def remember_buttons(self, new: list[Button], now: float | None = None) -> None:
        if not new:
            return
        now = time.time() if now is None else now
        rows = {b.callback_data.removeprefix(CALLBACK_PREFIX): b for b in new}  # one row per id, or the upsert refuses
        statement = self._insert(buttons).values([
            {"id": key, "title": b.title, "payload": b.payload, "used": now} for key, b in rows.items()
        ])  # fmt: skip
        statement = statement.on_conflict_do_update(
            index_elements=["id"], set_={"used": statement.excluded.used, "title": statement.excluded.title}
        )
        # The oldest use still kept, found along the index on `used` (a NOT IN over the kept ids took 5 ms a message)
        oldest_kept = (sa.select(buttons.c.used).order_by(buttons.c.used.desc())
                       .offset(self.max_buttons - 1).limit(1).scalar_subquery())  # fmt: skip
        with self._begin() as con:
            con.execute(statement)
            con.execute(buttons.delete().where(buttons.c.used < oldest_kept))

    def button(self, button_id: str) -> Button | None:
        with self._begin() as con:
            row = con.execute(sa.select(buttons.c.title, buttons.c.payload).where(buttons.c.id == button_id)).first()
            if row is None:
                return None
            con.execute(buttons.update().where(buttons.c.id == button_id).values(used=time.time()))
        return Button(row.title, row.payload)

    def button_count(self) -> int:
        with self._begin() as con:
            return int(con.execute(sa.select(sa.func.count()).select_from(buttons)).scalar_one())

    # ------------------------------------------------------------ staff group message -> citizen chat
    def link_staff_message(self, message_id: int, citizen_chat: int) -> None:
        statement = self._insert(staff_messages).values(
            message_id=message_id, citizen_chat=citizen_chat, created=time.time()
        )
        statement = statement.on_conflict_do_update(
            index_elements=["message_id"],
            set_={"citizen_chat": statement.excluded.citizen_chat, "created": statement.excluded.created},
        )
        keep = sa.select(staff_messages.c.message_id).order_by(staff_messages.c.created.desc())
        with self._begin() as con:
            con.execute(statement)
            con.execute(staff_messages.delete().where(
                staff_messages.c.message_id.not_in(keep.limit(self.max_staff_messages).scalar_subquery())
            ))  # fmt: skip

    def citizen_for(self, staff_message_id: int) -> int | None:
        query = sa.select(staff_messages.c.citizen_chat).where(staff_messages.c.message_id == staff_message_id)
        with self._begin() as con:
            found = con.execute(query).scalar()
        return int(found) if found is not None else None

    # ------------------------------------------------------------ messages accepted but not answered yet
    def add_pending(self, chat_id: int, user: dict | None, message: str, shown: str, payload: bool = False,
                    update_id: int | None = None) -> int | None:  # fmt: skip
        """Keep the message until it is answered; this replica owns it (under a lease) from the start. Typed text is
        stored with personal numbers masked, like everywhere else (a replay after a restart sends it masked).
        `update_id`: the Telegram update it came in, recorded in the same transaction; None (nothing stored) when
        that update was stored before, i.e. Telegram sent it again."""
        now = time.time()
        message = message if payload else mask_personal_numbers(message)
        values = {"chat_id": chat_id, "user_json": json.dumps(masked_user(user)) if user else None,
                  "message": message, "shown": mask_personal_numbers(shown), "created": now,
                  "payload": int(payload), "owner": self.owner, "lease_until": now + self.lease}  # fmt: skip
        with self._begin() as con:
            if update_id is not None and con.execute(
                self._insert(updates).values(update_id=update_id, at=now)
                .on_conflict_do_nothing(index_elements=["update_id"]).returning(updates.c.update_id)
            ).first() is None:  # fmt: skip
                return None
            return int(con.execute(pending.insert().values(**values).returning(pending.c.id)).scalar_one())

    def mark_notified(self, pending_id: int) -> None:
        with self._begin() as con:
            con.execute(pending.update().where(pending.c.id == pending_id).values(notified=1))

    def done_pending(self, pending_id: int) -> None:
        with self._begin() as con:
            con.execute(pending.delete().where(pending.c.id == pending_id))

    def pending(self) -> list[Pending]:
        """Every message waiting for an answer, whoever owns it, oldest first."""
        with self._begin() as con:
            rows = con.execute(sa.select(*_PENDING_COLUMNS).order_by(pending.c.id)).all()
        return [_pending(row) for row in rows]

    def claim_pending(self, now: float | None = None, from_anyone: bool = False) -> list[Pending]:
        """Take the messages nobody answers (released at a shutdown, or their owner's lease ran out), oldest first.
        A chat's messages are claimed together, and each row by one replica only: the UPDATE re-checks the
        condition on the row it locks, so two replicas claiming at once never both get it. `from_anyone`: also
        those other owners still hold (a single bridge starting after a crash: their owner is gone)."""
        now = time.time() if now is None else now
        claimable = sa.or_(pending.c.owner.is_(None), pending.c.lease_until < now)
        if from_anyone:
            claimable = sa.or_(claimable, pending.c.owner != self.owner)
        claimed: list[Pending] = []
        with self._begin() as con:
            chats = con.execute(sa.select(pending.c.chat_id).where(claimable).distinct()).scalars().all()
        for chat_id in chats:
            take = (
                pending.update()
                .where(pending.c.chat_id == chat_id, claimable)
                .values(owner=self.owner, lease_until=now + self.lease)
                .returning(*_PENDING_COLUMNS)
            )
            with self._begin() as con:
                claimed += [_pending(row) for row in con.execute(take).all()]
        return sorted(claimed, key=lambda p: p.id)

    def renew_leases(self, now: float | None = None) -> int:
        """Extend this replica's claim on the messages it is answering; call well within `lease`."""
        now = time.time() if now is None else now
        with self._begin() as con:
            result = con.execute(pending.update().where(pending.c.owner == self.owner)
                                 .values(lease_until=now + self.lease))  # fmt: skip
        return int(result.rowcount or 0)

    def release_pending(self) -> int:
        """At a clean shutdown: let another replica (or the next start) answer what this one could not."""
        with self._begin() as con:
            result = con.execute(pending.update().where(pending.c.owner == self.owner)
                                 .values(owner=None, lease_until=0.0))  # fmt: skip
        return int(result.rowcount or 0)

    # ------------------------------------------------------------ chats currently served by a person
    def start_handoff(self, chat_id: int, question: str = "", now: float | None = None) -> bool:
        """Open the chat's handoff (waiting for an officer); an open one stays as it is. True when this opened it."""
        now = time.time() if now is None else now
        fresh = {"since": now, "question": mask_personal_numbers(question.strip()) or None, "claimed_by": None,
                 "claimed_at": None, "closed_at": None, "closed_by": None}  # fmt: skip
        with self._begin() as con:
            reopened = con.execute(handoffs.update().where(handoffs.c.chat_id == chat_id,
                                                           handoffs.c.closed_at.is_not(None)).values(**fresh))
            if reopened.rowcount:
                return True
            inserted = con.execute(self._insert(handoffs).values(chat_id=chat_id, **fresh)
                                   .on_conflict_do_nothing(index_elements=["chat_id"])
                                   .returning(handoffs.c.chat_id))  # fmt: skip
            return inserted.first() is not None

    def end_handoff(self, chat_id: int, by: str | None = None) -> bool:
        """Close the chat's handoff; True when it was open."""
        open_one = sa.and_(handoffs.c.chat_id == chat_id, handoffs.c.closed_at.is_(None))
        with self._begin() as con:
            return bool(con.execute(handoffs.update().where(open_one).values(closed_at=time.time(), closed_by=by))
                        .rowcount)  # fmt: skip

    def in_handoff(self, chat_id: int) -> bool:
        query = sa.select(handoffs.c.chat_id).where(handoffs.c.chat_id == chat_id, handoffs.c.closed_at.is_(None))
        with self._begin() as con:
            return con.execute(query).first() is not None

    def handoff_count(self) -> int:
        query = sa.select(sa.func.count()).select_from(handoffs).where(handoffs.c.closed_at.is_(None))
        with self._begin() as con:
            return int(con.execute(query).scalar_one())

    # ------------------------------------------------------------ flood counters, shared by replicas
    def flood_hits(self, user_id: int, window: float, now: float | None = None) -> int:
        """Count one more message from `user_id` and return the count in the current window, which starts at the
        user's first message and lasts `window` seconds. Atomic: replicas counting at once never lose a hit."""
        now = time.time() if now is None else now
        self._housekeep(now, window)
        expired = flood.c.window_start <= now - window
        statement = self._insert(flood).values(user_id=user_id, window_start=now, hits=1)
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "window_start": sa.case((expired, now), else_=flood.c.window_start),
                "hits": sa.case((expired, 1), else_=flood.c.hits + 1),
            },
        ).returning(flood.c.hits)
        with self._begin() as con:
            return int(con.execute(statement).scalar_one())

    # ------------------------------------------------------------ Telegram's flood limits, shared by replicas
    def take_send_turn(self, scopes: list[tuple[str, int, float]], in_flight: float,
                       now: float | None = None) -> list[int] | tuple[float, str]:  # fmt: skip
        """Let one message go now if every (scope, count, window) budget has had fewer than `count` messages in the
        last `window` seconds, counting those still on their way: then it counts too, as on its way for
        `in_flight` seconds at most, and the ids of its rows are returned for `sent_at`. Otherwise the seconds to
        wait before asking again, and the scope that makes it wait longest. Replicas ask one at a time: the first
        statement writes the one row of bot_send_turn, which holds the others until this commit. Times are counted
        when Telegram has answered, never when the message was meant to go: a late request (a busy event loop)
        still counts where it arrived."""
        now = time.time() if now is None else now
        if not self._send_turn_ready:  # the row the UPDATE below takes (two replicas adding it at once is fine)
            with self._begin() as con:
                con.execute(self._insert(send_turn).values(id=1, reservations=0)
                            .on_conflict_do_nothing(index_elements=["id"]))  # fmt: skip
            self._send_turn_ready = True
        with self._begin() as con:
            con.execute(send_turn.update().where(send_turn.c.id == 1)
                        .values(reservations=send_turn.c.reservations + 1))  # fmt: skip
            wait, full = 0.0, ""
            for scope, count, window in scopes:
                recent = con.execute(sa.select(send_slots.c.at).where(send_slots.c.scope == scope,
                                                                      send_slots.c.at > now - window)
                                     .order_by(send_slots.c.at.desc()).limit(count)).scalars().all()  # fmt: skip
                if len(recent) >= count:  # full: until the oldest of them leaves the window, or arrives
                    oldest = recent[-1]
                    until = oldest + window - now if oldest <= now else SEND_POLL
                    if until > wait:
                        wait, full = until, scope
            if wait > 0:
                return wait, full
            rows = [{"scope": scope, "at": now + in_flight} for scope, _, _ in scopes]
            return [int(i) for i in con.execute(send_slots.insert().returning(send_slots.c.id), rows).scalars()]

    def sent_at(self, ids: list[int], when: float) -> None:
        """The message of these rows has reached Telegram (or failed) by `when`."""
        with self._begin() as con:
            con.execute(send_slots.update().where(send_slots.c.id.in_(ids)).values(at=when))

    # ------------------------------------------------------------ recent conversation, for staff at a handoff
    def add_turn(self, chat_id: int, who: str, text: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        newest = sa.select(history.c.id).where(history.c.chat_id == chat_id).order_by(history.c.id.desc())
        with self._begin() as con:
            con.execute(history.insert().values(chat_id=chat_id, who=who, text=mask_personal_numbers(text), at=now))
            con.execute(history.delete().where(
                history.c.chat_id == chat_id,
                history.c.id.not_in(newest.limit(self.history_turns).scalar_subquery()),
            ))  # fmt: skip

    def recent_turns(self, chat_id: int) -> list[Turn]:
        query = (sa.select(history.c.who, history.c.text).where(history.c.chat_id == chat_id)
                 .order_by(history.c.id.desc()).limit(self.history_turns))  # fmt: skip
        with self._begin() as con:
            rows = con.execute(query).all()
        return [Turn(row.who, row.text) for row in reversed(rows)]

    # ------------------------------------------------------------ a citizen's deletion request (journal/erasure.py)
    def forget_chat(self, chat_id: int) -> int:
        """Delete every row about a chat: messages waiting, the excerpt for staff, the handoff, the staff-group
        links, the flood counter (a private chat's id is its user's id), the times of its last replies. Buttons carry
        only the bot's own titles and payloads, shared by every chat: nothing of the citizen. Returns the rows gone."""
        with self._begin() as con:
            gone = sum(int(con.execute(statement).rowcount or 0) for statement in (
                pending.delete().where(pending.c.chat_id == chat_id),
                history.delete().where(history.c.chat_id == chat_id),
                handoffs.delete().where(handoffs.c.chat_id == chat_id),
                outbox.delete().where(outbox.c.chat_id == chat_id),
                staff_messages.delete().where(staff_messages.c.citizen_chat == chat_id),
                flood.delete().where(flood.c.user_id == chat_id),
                send_slots.delete().where(send_slots.c.scope == f"chat:{chat_id}"),
            ))  # fmt: skip
        self._clear_log()
        return gone

    # ------------------------------------------------------------ ordering of one chat across replicas
    def try_lock_chat(self, chat_id: int) -> bool:
        """Try to take the cross-replica lock of a chat (PostgreSQL advisory lock; always granted on SQLite, where
        one bridge runs). All of this replica's chat locks live on one dedicated connection."""
        if not self.postgres:
            return True
        return self._on_lock_connection(sa.func.pg_try_advisory_lock(chat_lock_key(chat_id)))

    def unlock_chat(self, chat_id: int) -> None:
        if self.postgres:
            self._on_lock_connection(sa.func.pg_advisory_unlock(chat_lock_key(chat_id)))

    def _on_lock_connection(self, call: sa.FunctionElement[Any]) -> bool:
        with self._lock_guard:
            for attempt in (1, 2):
                try:
                    if self._lock_connection is None:
                        connection = self.engine.connect()
                        self._lock_connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                    return bool(self._lock_connection.execute(sa.select(call)).scalar())
                except sa.exc.DBAPIError:
                    # The connection died (a database restart), and every lock it held with it: once more afresh.
                    if self._lock_connection is not None:
                        with contextlib.suppress(Exception):
                            self._lock_connection.invalidate()
                    self._lock_connection = None
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ helpers
    def _insert(self, table: sa.Table) -> Any:
        """INSERT … ON CONFLICT for this database (PostgreSQL's and SQLite's spell it the same way)."""
        return (postgresql.insert if self.postgres else sqlite.insert)(table)

    def _housekeep(self, now: float, window: float) -> None:
        """Now and then, forget flood counters of quiet users and old history, so the tables stay small."""
        if now - self._housekept < HOUSEKEEPING_EVERY:
            return
        self._housekept = now
        with self._begin() as con:
            con.execute(flood.delete().where(flood.c.window_start < now - window))
            con.execute(history.delete().where(history.c.at < now - HISTORY_KEEP_SECONDS))
            con.execute(handoffs.delete().where(handoffs.c.closed_at < now - HISTORY_KEEP_SECONDS))
            con.execute(send_slots.delete().where(send_slots.c.at < now - HOUSEKEEPING_EVERY))  # chats gone quiet
            con.execute(updates.delete().where(updates.c.at < now - UPDATES_KEEP_SECONDS))
        self._clear_log()

    def _clear_log(self) -> None:
        """SQLite: copy the write-ahead log into the file and empty it, so deleted rows' old bytes leave it too."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as con:
                con.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


_PENDING_COLUMNS = (pending.c.id, pending.c.chat_id, pending.c.user_json, pending.c.message, pending.c.shown,
                    pending.c.payload, pending.c.notified)  # fmt: skip


def masked_user(user: dict) -> dict:
    """A Telegram user as stored: a citizen's name may hold a number ("Lan 0912 345 678"); ids stay as they are."""
    names = ("first_name", "last_name")
    return {k: mask_personal_numbers(v) if k in names and isinstance(v, str) else v for k, v in user.items()}


def _pending(row: sa.Row) -> Pending:
    user = json.loads(row.user_json) if row.user_json else None
    return Pending(int(row.id), int(row.chat_id), user, row.message, row.shown, bool(row.payload), bool(row.notified))
