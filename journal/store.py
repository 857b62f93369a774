"""Where the journal lives: one SQLAlchemy table, in SQLite by default or PostgreSQL in production.

MOCUA_JOURNAL_URL (any SQLAlchemy URL, e.g. postgresql+psycopg://mocua:…@db/mocua) wins; otherwise the SQLite
file MOCUA_JOURNAL_DB, default var/journal.db. Every process that writes or reads the journal (action servers,
the staff console) opens it through here, so replicas on several hosts share one journal.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

import settings
from settings.database import make_engine, migrate

KINDS = ("answered", "unanswered", "feedback", "handoff")

metadata = sa.MetaData()
entries = sa.Table(
    "entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.Text, nullable=False),  # ISO 8601, UTC, to the second
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("sender", sa.Text),  # salted hash, never a Telegram id
    sa.Column("question", sa.Text),  # masked
    sa.Column("question_key", sa.Text),
    sa.Column("procedure_id", sa.Text),
    sa.Column("intent", sa.Text),
    sa.Column("value", sa.Text),
    sa.CheckConstraint("kind IN ('answered', 'unanswered', 'feedback', 'handoff')", name="entries_kind_known"),
    sa.Index("entries_kind", "kind", "question_key"),
)

SCHEMA_LOCK = 0x6D6F63756A  # PostgreSQL advisory lock key while migrating ("mocuj")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"  # Alembic revisions (settings.database.migrate)

_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


def db_path() -> Path:
    return settings.current().journal_db


def url() -> str:
    """The journal's SQLAlchemy URL, from the settings at call time (tests point it elsewhere)."""
    explicit = settings.current().journal_url
    if explicit:
        return explicit
    path = db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def engine() -> sa.Engine:
    """One engine per URL, its table created on first use."""
    key = url()
    with _lock:
        found = _engines.get(key)
        if found is None:
            found = _create(key)
            _engines[key] = found
        return found


def _create(key: str) -> sa.Engine:
    created = make_engine(key, max_overflow=5)  # 10 connections at most per action server (docs/deploy.md)
    try:
        _migrate(created)
    except sa.exc.DBAPIError:  # two replicas created a table at the same moment (SQLite): the other one won
        _migrate(created)
    return created


def _migrate(created: sa.Engine) -> None:
    migrate(created, MIGRATIONS, version_table="alembic_version_journal", lock_key=SCHEMA_LOCK)


def dispose() -> None:
    """Forget every engine (tests that move the journal, processes after fork)."""
    with _lock:
        for found in _engines.values():
            found.dispose()
        _engines.clear()
