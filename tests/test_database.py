"""One engine factory (settings/database.py) for every database the running system opens (issue 19)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from settings.database import make_engine


def pragmas(engine: sa.Engine) -> tuple[str, int]:
    with engine.connect() as con:
        return con.exec_driver_sql("PRAGMA journal_mode").scalar_one(), con.exec_driver_sql(
            "PRAGMA secure_delete"
        ).scalar_one()


def test_a_sqlite_file_we_own_is_written_with_a_log_and_deleted_rows_overwritten(tmp_path: Path) -> None:
    engine = make_engine(str(tmp_path / "new" / "store.db"))  # its folder is made too
    assert pragmas(engine) == ("wal", 1)
    engine.dispose()


def test_rasas_tracker_file_is_read_as_rasa_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "rasa.db"
    sqlite3.connect(path).execute("CREATE TABLE events (id INTEGER PRIMARY KEY)").connection.commit()
    reader = make_engine(f"sqlite:///{path}", owner=False)
    assert pragmas(reader)[0] == "delete"
    reader.dispose()
