"""Rasa's SQL tracker store (TRACKER_DB_URL, table `events`), read and deleted from in one place: the console shows
conversations from it (console/conversations.py), and a citizen's deletion and the retention purge delete from it
(journal/erasure.py). Rasa creates and writes the table; nothing here creates it."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from settings import app_db_url

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
    """Rasa writes its tracker with psycopg2 (postgresql://…); this environment reads it with psycopg 3."""
    with _lock:
        if url not in _engines:
            _engines[url] = sa.create_engine(app_db_url(url), pool_pre_ping=True)
        return _engines[url]
