"""The console's own database: staff accounts, failed sign-ins, the audit log, marks on unanswered questions (who
took a handoff is the bridge's own record: bot/handoff_state.py). Any SQLAlchemy URL (MOCUA_CONSOLE_DB_URL); SQLite
var/console.db by default. Times are UTC ISO 8601 text, as in the journal, so both databases compare and sort the same
way on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import sqlalchemy as sa

from settings.database import make_engine, migrate

metadata = sa.MetaData()

staff = sa.Table(
    "staff",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),  # cannot sign in while set
    sa.CheckConstraint("role IN ('viewer', 'editor')", name="staff_role_known"),
)

# A signed-in browser: only the SHA-256 of the random id its cookie holds, so a copy of the database opens nothing.
# A session ends at sign-out, after `expires_at` (12 h), when unused for the idle timeout, and with every session of
# its account when the password changes or the account is disabled or removed.
staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("staff_id", sa.Integer, nullable=False, index=True),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("last_seen", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Text, nullable=False),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("ts", sa.Text, nullable=False),
    sa.Index("login_failures_who", "username", "ip", "ts"),
)

# One row per change: who, when, what (old → new). `old`/`new` hold what a revert needs (a file's whole text, a
# mark's row as JSON); `reverted_by` points at the audit row of the revert, itself logged like any change.
audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.Text, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("old", sa.Text),
    sa.Column("new", sa.Text),
    sa.Column("revert_of", sa.Integer),
    sa.Column("reverted_by", sa.Integer),
)

# An unanswered question (by journal question_key) staff have dealt with: attached to a procedure or out of scope.
# Only asks after `ts` bring it back to the list.
gap_marks = sa.Table(
    "gap_marks",
    metadata,
    sa.Column("question_key", sa.Text, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # attached | out_of_scope
    sa.Column("target", sa.Text),  # the procedure it was attached to
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("ts", sa.Text, nullable=False),
)

# A staff change waiting to be live: asked for when the change was saved, finished when the index that holds it was
# published (or failed). Until then the bot answers from the previous index: questions it leaves unanswered meanwhile
# are not new gaps of a question staff just attached (console/gaps.py).
index_builds = sa.Table(
    "index_builds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("requested", sa.Text, nullable=False, index=True),
    sa.Column("finished", sa.Text),
    sa.Column("status", sa.String(16)),  # ok | failed, once finished
)

_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()
SCHEMA_LOCK = 0x6D6F637563  # PostgreSQL advisory lock key while migrating ("mocuc")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"  # Alembic revisions (settings.database.migrate)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def engine(url: str) -> sa.Engine:
    """One engine per URL, its tables brought up to date (Alembic: console/migrations) on first use."""
    with _lock:
        found = _engines.get(url)
        if found is None:
            found = make_engine(url)
            upgrade(found)
            _engines[url] = found
        return found


def upgrade(found: sa.Engine) -> None:
    """Run the revisions this database has not had yet (none: nothing to do)."""
    migrate(found, MIGRATIONS, version_table="alembic_version_console", lock_key=SCHEMA_LOCK)
