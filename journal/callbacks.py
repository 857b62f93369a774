"""The phone number a citizen gives for a callback, kept apart for the officer who takes the handoff.

Everywhere else (Rasa's tracker, the journal, the bridge, the staff group, logs) phone numbers are masked, so the
officer could not call back. A number typed in the message that asks for a person, or while that request is open,
is kept here instead: in its own table of the journal's database, encrypted (Fernet, key MOCUA_CALLBACK_KEY from the
environment or var/secrets.env), keyed to the journal's handoff entry, and deleted after
MOCUA_CALLBACK_RETENTION_DAYS (default 7). Only the staff member who claimed that handoff in the console sees it,
and each time is recorded in the audit log (console/routes/handoffs.py).

Written through the action server's admin API (POST /admin/callback-numbers: actions/admin.py), which the REST
channel and the Telegram bridge call with the citizen's raw text: one implementation for both channels, and one
rule for whether the request is still open (`request_open`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

import settings
from channels.guard import asks_for_person
from journal import engine, entries, hash_sender
from knowledge.text import find_phone_numbers
from settings import wording

log = logging.getLogger(__name__)

KEY_NAME = "MOCUA_CALLBACK_KEY"
DEFAULT_RETENTION_DAYS = settings.DEFAULT_CALLBACK_RETENTION_DAYS

metadata = sa.MetaData()
callback_numbers = sa.Table(
    "callback_numbers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entry_id", sa.Integer, nullable=False),  # the journal's handoff entry (entries.id)
    sa.Column("sender", sa.Text, nullable=False),  # journal.hash_sender, as in the journal
    sa.Column("token", sa.Text, nullable=False),  # the number, Fernet-encrypted
    sa.Column("ts", sa.Text, nullable=False),  # ISO 8601 UTC, as the journal
    sa.Index("callback_numbers_entry", "entry_id"),
    sa.Index("callback_numbers_ts", "ts"),
)


CALLBACK_KEPT = wording.text("journal.callback_kept")  # {days}: wording.yml


def retention_days() -> int:
    return settings.current().callback_retention_days


def notice(days: int | None = None) -> str:
    """What the citizen is told when a number was kept."""
    return CALLBACK_KEPT.format(days=days or retention_days())


def _fernet() -> Fernet:
    """Any secret string makes a key: its SHA-256, as Fernet wants it (32 bytes, URL-safe base64)."""
    secret = settings.current().callback_key
    if not secret:
        secret = settings.load_secrets(settings.current().secrets_file, (KEY_NAME,))[KEY_NAME]
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def _engine() -> sa.Engine:
    return engine()  # the journal's database; its migrations create the table


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def _cutoff(now: dt.datetime | None = None) -> str:
    return _iso((now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=retention_days()))


def open_request(sender: str) -> int | None:
    """The journal id of the sender's latest handoff request, if any."""
    query = (sa.select(entries.c.id).where(entries.c.kind == "handoff", entries.c.sender == hash_sender(sender))
             .order_by(entries.c.id.desc()).limit(1))  # fmt: skip
    with engine().connect() as con:
        return con.execute(query).scalar()


def capture(sender: str, text: str, asked_now: bool = False) -> int:
    """Keep the phone numbers of a citizen's raw text if their request for a person is open (`request_open`); how
    many the request now holds from this text. `asked_now`: the answer to this very text asks for a person."""
    if not find_phone_numbers(text) or not request_open(sender, asked_now):
        return 0
    return keep(sender, text)


def request_open(sender: str, asked_now: bool = False) -> bool:
    """The one rule for whether a citizen's request for a person is open. A Telegram chat whose handoff the bridge's
    store records (reachable from this host): that record, closed by the console's «Xong», the staff group's /done,
    /start or /reset. Any other conversation (the REST channel's): Rasa's tracker, open from the answer that asked
    for a person until a restart or a new session."""
    if asked_now:
        return True
    in_bridge = _bridge_handoff_open(sender)
    return in_bridge if in_bridge is not None else tracker_handoff_open(_tracker_events(sender))


def tracker_handoff_open(events: list[dict]) -> bool:
    """Whether the conversation's current session (tracker events as dicts) handed the citizen to staff."""
    opened = False
    for event in events:
        if event.get("event") in ("restart", "session_started"):
            opened = False
        elif event.get("event") == "bot" and asks_for_person([event.get("data") or {}]):
            opened = True
    return opened


def _bridge_handoff_open(sender: str) -> bool | None:
    """Open or not by the bridge's store; None when it does not know the chat (or this host has no such store)."""
    from journal.erasure import bridge_target  # erasure imports this module

    target = bridge_target()
    if target is None or not sender.lstrip("-").isdigit():  # Telegram chats are named by their numeric id
        return None
    from bot import handoff_state
    from bot.store import Store

    store = Store(target)
    try:
        found = handoff_state.state(store, int(sender))
    finally:
        store.close()
    return None if found is None else found.closed_at is None


def _tracker_events(sender: str) -> list[dict]:
    from journal.erasure import tracker_url
    from journal.tracker import events_of

    try:
        rows = events_of(tracker_url(), sender)
    except sa.exc.SQLAlchemyError as error:  # no tracker yet, or its database down: no open request known
        log.warning("the tracker was not read for a callback number: %s", error)
        return []
    return [json.loads(row.data) for row in rows if row.data]


def keep(sender: str, text: str) -> int:
    """Keep the phone numbers in `text` for the sender's latest handoff request; how many the request now holds
    from this text (0: no number, or no request to attach it to)."""
    numbers = find_phone_numbers(text)
    entry_id = open_request(sender) if numbers else None
    if entry_id is None:
        return 0
    known = set(numbers_for(entry_id))
    fernet = _fernet()
    rows = [{"entry_id": entry_id, "sender": hash_sender(sender), "token": fernet.encrypt(n.encode()).decode(),
             "ts": _iso(dt.datetime.now(dt.timezone.utc))} for n in numbers if n not in known]  # fmt: skip
    if rows:
        with _engine().begin() as con:
            con.execute(callback_numbers.insert(), rows)
    return len(numbers)


def numbers_for(entry_id: int) -> list[str]:
    """The numbers kept for a handoff entry, oldest first (none once the retention ran out)."""
    query = (sa.select(callback_numbers.c.token)
             .where(callback_numbers.c.entry_id == entry_id, callback_numbers.c.ts >= _cutoff())
             .order_by(callback_numbers.c.id))  # fmt: skip
    with _engine().connect() as con:
        tokens = con.execute(query).scalars().all()
    fernet, found = _fernet(), []
    for token in tokens:
        try:
            found.append(fernet.decrypt(token.encode()).decode())
        except InvalidToken:  # encrypted under a key since replaced: unreadable, as good as gone
            continue
    return found


def entries_with_numbers(entry_ids: list[int]) -> set[int]:
    if not entry_ids:
        return set()
    query = sa.select(callback_numbers.c.entry_id).where(
        callback_numbers.c.entry_id.in_(entry_ids), callback_numbers.c.ts >= _cutoff()
    )
    with _engine().connect() as con:
        return set(con.execute(query.distinct()).scalars())


def purge(now: dt.datetime | None = None) -> int:
    """Delete the numbers older than the retention; how many."""
    with _engine().begin() as con:
        return int(con.execute(callback_numbers.delete().where(callback_numbers.c.ts < _cutoff(now))).rowcount or 0)


def forget(sender: str) -> int:
    """Delete every number the sender gave; how many."""
    with _engine().begin() as con:
        deleted = con.execute(callback_numbers.delete().where(callback_numbers.c.sender == hash_sender(sender)))
        return int(deleted.rowcount or 0)
