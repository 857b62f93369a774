"""A citizen's right to deletion (Decree 13/2023/NĐ-CP), and the retention of conversations.

`forget(sender)` deletes everything kept about one conversation: Rasa's tracker events (TRACKER_DB_URL), the journal
rows (stored under the salted hash of the sender), the callback numbers (journal.callbacks) and, when this host
reaches the Telegram bridge's database (MOCUA_BOT_DB_URL, MOCUA_BOT_DB or var/bot.db), the bridge's rows of that
chat. Rasa saves a tracker after its actions ran, so this runs once Rasa has answered: the REST channel calls it
through the action server's admin API (POST /admin/forget) when the citizen confirmed, and the staff console calls
it directly.

`purge_expired()` deletes conversations and journal rows older than MOCUA_RETENTION_DAYS (default 365) and callback
numbers older than their own retention; every action server runs it daily (actions/admin.py).
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

import settings
from journal import callbacks, engine, entries, hash_sender
from journal.tracker import events, tracker_engine

log = logging.getLogger(__name__)


def retention_days() -> int:
    return settings.current().retention_days


def tracker_url() -> str:
    return settings.current().tracker_url


def bridge_target() -> str | None:
    """The bridge's database when this host has it (a URL, or a SQLite file that exists), else None."""
    url = settings.current().bridge_db_url
    if url:
        return url
    path = settings.current().bridge_db
    return str(path) if path.is_file() else None


def _tracker_db(url: str) -> sa.Engine | None:
    """The tracker's database, or None before Rasa created its `events` table."""
    found = tracker_engine(url)
    return found if sa.inspect(found).has_table(events.name) else None


def forget(sender: str, tracker: str | None = None, bridge: str | None = None) -> dict[str, int]:
    """Delete everything about one conversation; how many rows of each kind went."""
    counts = {"tracker_events": 0, "journal_entries": 0, "callback_numbers": callbacks.forget(sender), "bridge_rows": 0}
    with engine().begin() as con:
        counts["journal_entries"] = int(con.execute(entries.delete().where(entries.c.sender == hash_sender(sender)))
                                        .rowcount or 0)  # fmt: skip
    tracker_db = _tracker_db(tracker or tracker_url())
    if tracker_db is not None:
        with tracker_db.begin() as con:
            counts["tracker_events"] = int(con.execute(events.delete().where(events.c.sender_id == sender))
                                           .rowcount or 0)  # fmt: skip
    bridge = bridge or bridge_target()
    if bridge is not None and sender.lstrip("-").isdigit():  # Telegram chats are named by their numeric id
        from bot.store import Store

        store = Store(bridge)
        try:
            counts["bridge_rows"] = store.forget_chat(int(sender))
        finally:
            store.close()
    return counts


def purge_expired(now: dt.datetime | None = None, tracker: str | None = None) -> dict[str, int]:
    """Delete conversations and journal rows older than the retention, and expired callback numbers."""
    moment = now or dt.datetime.now(dt.timezone.utc)
    cutoff = moment - dt.timedelta(days=retention_days())
    counts = {"callback_numbers": callbacks.purge(moment), "tracker_events": 0}
    with engine().begin() as con:
        old = entries.c.ts < cutoff.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
        counts["journal_entries"] = int(con.execute(entries.delete().where(old)).rowcount or 0)
    tracker_db = _tracker_db(tracker or tracker_url())
    if tracker_db is not None:
        with tracker_db.begin() as con:
            # Whole conversations: a sender whose latest event is older than the retention (deleting only the old
            # events of a conversation still going on would cut its session and slots in half).
            stale = (sa.select(events.c.sender_id).group_by(events.c.sender_id)
                     .having(sa.func.max(events.c.timestamp) < cutoff.timestamp()))  # fmt: skip
            deleted = con.execute(events.delete().where(events.c.sender_id.in_(stale.scalar_subquery())))
            counts["tracker_events"] = int(deleted.rowcount or 0)
    if any(counts.values()):
        log.info("retention: deleted %s", counts)
    return counts
