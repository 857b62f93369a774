"""Databases made before migrations (issue 19): the bridge's store, the journal and the console's database, created
by the table definitions of the release before Alembic (no version recorded) or by an older one (a column missing),
are upgraded in place by their package's migrations, on SQLite and PostgreSQL, and keep their rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import journal
import journal.store
from bot import handoff_state
from bot import store as bridge
from console import db as console_db
from journal import callbacks
from scripts.services import Postgres

DATABASES = ("bot", "journal", "console", "bot_older", "bot_twice")


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    server = Postgres().start(databases=DATABASES)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def url_of(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    if request.param == "sqlite":
        return lambda name: f"sqlite:///{tmp_path / f'{name}.db'}"
    server = request.getfixturevalue("postgres")
    return lambda name: server.url(name, driver="postgresql+psycopg")


def made_before_migrations(url: str, *metadatas: sa.MetaData) -> sa.Engine:
    """The tables as the release before Alembic created them: today's definitions, no version table."""
    old = sa.create_engine(url)
    for metadata in metadatas:
        metadata.create_all(old)
    return old


def version(url: str, table: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as con:
        found = con.execute(sa.text(f"SELECT version_num FROM {table}")).scalar_one()
    engine.dispose()
    return found


def test_the_bridges_store_made_before_migrations_keeps_its_rows(url_of: Callable[[str], str]) -> None:
    url = url_of("bot")
    old = made_before_migrations(url, bridge.metadata)
    with old.begin() as con:
        con.execute(bridge.handoffs.insert().values(chat_id=42, since=1.0, question="xin gặp cán bộ"))
    old.dispose()
    store = bridge.Store(url)
    try:
        assert handoff_state.state(store, 42).question == "xin gặp cán bộ"  # type: ignore[union-attr]
        assert version(url, "alembic_version_bot") == "0002"  # 0002: bot_updates
    finally:
        store.close()


def test_an_older_bridge_store_gets_its_missing_columns_and_keeps_its_rows(url_of: Callable[[str], str]) -> None:
    url = url_of("bot_older")
    old = sa.create_engine(url)
    with old.begin() as con:  # bot_handoffs before officers could take and close a request
        con.exec_driver_sql("CREATE TABLE bot_handoffs (chat_id BIGINT PRIMARY KEY, since FLOAT NOT NULL)")
        con.exec_driver_sql("INSERT INTO bot_handoffs VALUES (42, 1.0)")
    old.dispose()
    store = bridge.Store(url)
    try:
        store.add_turn(42, "citizen", "cho tôi gặp cán bộ")
        state = handoff_state.state(store, 42)
        assert state is not None and state.since == 1.0 and state.claimed_by is None and state.closed_at is None
    finally:
        store.close()


def test_migrating_twice_changes_nothing(url_of: Callable[[str], str]) -> None:
    url = url_of("bot_twice")
    for _ in range(2):
        store = bridge.Store(url)
        store.start_handoff(7, "lệ phí khai sinh")
        store.close()
    assert version(url, "alembic_version_bot") == "0002"  # 0002: bot_updates


def test_the_journal_made_before_migrations_keeps_its_entries(
    url_of: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = url_of("journal")
    old = made_before_migrations(url, journal.store.metadata)  # the callback numbers' table came later
    with old.begin() as con:
        con.execute(journal.entries.insert().values(ts="2026-01-01T00:00:00+00:00", kind="unanswered",
                                                    question="xin giấy phép thả diều", question_key="xin giay phep"))
    old.dispose()
    monkeypatch.setenv("MOCUA_JOURNAL_URL", url)
    journal.store.dispose()
    try:
        assert journal.stats()["unanswered"] == 1
        with journal.engine().connect() as con:  # the missing table was created
            assert con.execute(sa.select(sa.func.count()).select_from(callbacks.callback_numbers)).scalar_one() == 0
        assert version(url, "alembic_version_journal") == "0001"
    finally:
        journal.store.dispose()


def test_the_consoles_database_made_before_migrations_keeps_its_accounts(url_of: Callable[[str], str]) -> None:
    url = url_of("console")
    old = made_before_migrations(url, console_db.metadata)
    with old.begin() as con:
        con.execute(console_db.staff.insert().values(username="lan", password_hash="x", role="editor",
                                                     created_at="2026-01-01T00:00:00+00:00"))
    old.dispose()
    found = console_db.engine(url)
    with found.connect() as con:
        assert con.execute(sa.select(console_db.staff.c.username)).scalars().all() == ["lan"]
    assert version(url, "alembic_version_console") == "0001"
