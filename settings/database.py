"""The one way the running system opens a database: `make_engine`, for the journal, the bridge's store, the staff
console and the reading of Rasa's tracker, on SQLite (development, tests) or PostgreSQL (production).

Not imported by `settings/__init__.py`: SQLAlchemy is in the app environment, and the Rasa environment imports
`settings` with the standard library and PyYAML only.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from settings import app_db_url

PING_IDLE_AFTER = 1.0  # seconds a pooled PostgreSQL connection may sit unused before it is pinged at checkout


def make_engine(
    target: str, *, owner: bool = True, statement_timeout: float | None = None, max_overflow: int = 10
) -> sa.Engine:
    """An engine for a SQLAlchemy URL, or for a SQLite file path (":memory:" for tests).

    `owner`: this process owns the database's SQLite file and sets how it is written (secure delete, a write-ahead
    log); Rasa's tracker is read as Rasa keeps it. `statement_timeout` (seconds, PostgreSQL): anything slower is a
    database in trouble, for stores whose statements are all tiny (the bridge's, on a citizen's every message).
    PostgreSQL connections: 5 kept, `max_overflow` more on demand (docs/deploy.md counts them)."""
    if "://" not in target:
        if target == ":memory:":  # one shared connection, or each thread would see its own empty database
            return sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        target = sa.URL.create("sqlite", database=target).render_as_string()
    if target.startswith("sqlite"):
        database = sa.make_url(target).database
        if owner and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        created = sa.create_engine(target, connect_args={"timeout": 10, "check_same_thread": False})
        if owner:
            sa.event.listen(created, "connect", _sqlite_settings)
        return created
    # A dead database must answer quickly (the citizen gets a polite reply, not a long wait); a connection idle
    # for a while is pinged first, which survives a PostgreSQL restart.
    connect_args: dict[str, Any] = {"connect_timeout": 5}
    if statement_timeout is not None:
        milliseconds = round(statement_timeout * 1000)
        connect_args["options"] = f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds // 2}"
    created = sa.create_engine(
        app_db_url(target), pool_size=5, max_overflow=max_overflow, pool_timeout=5, connect_args=connect_args
    )
    sa.event.listen(created, "checkin", _note_idle_since)
    sa.event.listen(created, "checkout", _ping_if_idle)
    return created


def _note_idle_since(dbapi_connection: Any, connection_record: Any) -> None:
    connection_record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """SQLAlchemy's pool_pre_ping, for connections idle longer than PING_IDLE_AFTER only: it pinged before every
    transaction, about ten a message, 1 ms each of the bridge store's one thread. A connection in steady use that
    the database drops fails one statement, and SQLAlchemy then renews the whole pool."""
    idle_since = connection_record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_IDLE_AFTER:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
        dbapi_connection.rollback()  # no transaction left open by the ping
    except Exception as error:  # noqa: BLE001 - whatever the driver raises for a dead connection
        raise sa.exc.DisconnectionError(str(error)) from error  # the pool connects afresh and tries again
    finally:
        with contextlib.suppress(Exception):
            cursor.close()


def _sqlite_settings(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite leaves a deleted row's bytes in the file until the page is reused: a message answered, or a citizen
    who asked to be forgotten, would still be readable there. secure_delete overwrites them.

    A write-ahead log synced at checkpoints only: with the default rollback journal every commit waited for two
    fsyncs, 20 ms each on a busy disk (the bridge commits several times a message, the action server once an
    answer, in its event loop). A crash of the machine may lose the last commits, never corrupt the file; readers
    (the staff console) no longer block the writer."""
    dbapi_connection.execute("PRAGMA secure_delete=ON")
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


# ---------------------------------------------------------------- migrations (Alembic)


_MIGRATING = threading.Lock()


def migrate(engine: sa.Engine, migrations: Path, *, version_table: str, lock_key: int) -> None:
    """Bring a database to its package's newest schema: Alembic runs the package's revisions (`migrations`/versions)
    not yet applied, and records the last in `version_table` (one per package: the packages may share a database).

    Each package's first revision adopts whatever an earlier release left, a new database too (it creates the
    missing tables and adds the missing columns), so a database made before migrations upgrades like any other.
    Processes starting together (action server or bridge replicas) take turns on PostgreSQL's advisory lock."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    # Alembic keeps the running migration in module globals (alembic.context, alembic.op): two stores opened at once
    # in one process (the console and a bridge, or two replicas in a test) must take turns, or one reads the other's
    # half-set context and fails with KeyError 'config'.
    with _MIGRATING, engine.begin() as con:
        if con.dialect.name == "postgresql":  # the lock ends with the transaction
            con.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key)))
        config.attributes.update(connection=con, version_table=version_table)
        command.upgrade(config, "head")


def run_migrations() -> None:
    """The body of each package's migrations/env.py: run the revisions on the connection `migrate` opened."""
    from alembic import context

    attributes = context.config.attributes
    context.configure(connection=attributes["connection"], version_table=attributes["version_table"])
    with context.begin_transaction():  # inside migrate's transaction: committed with it
        context.run_migrations()


def add_missing_columns(con: sa.Connection, columns: dict[tuple[str, str], str]) -> None:
    """ALTER TABLE … ADD COLUMN for each (table, column): its SQL definition, where the table lacks the column.
    A revision adds its columns through this: a database the first revision created already has them."""
    inspector = sa.inspect(con)
    guard = "IF NOT EXISTS " if con.dialect.name == "postgresql" else ""
    for (table, column), definition in columns.items():
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            con.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {guard}{column} {definition}")
