"""The bridge's store as the releases before migrations left it, or a new one: the first release's tables renamed
(SQLite only), every missing table and index created, the columns added since the first release."""

import sqlalchemy as sa
from alembic import op

from bot.store import metadata
from settings.database import add_missing_columns

revision, down_revision = "0001", None  # the first revision

# Tables of the first releases (SQLite only), renamed once: the prefix keeps a shared PostgreSQL database tidy.
LEGACY_TABLES = {"buttons": "bot_buttons", "staff_messages": "bot_staff_messages", "handoffs": "bot_handoffs",
                 "pending": "bot_pending"}  # fmt: skip
LEGACY_INDEXES = ("buttons_used",)
# Columns added after the first release, for databases created before them.
ADDED_COLUMNS = {
    ("bot_pending", "payload"): "INTEGER NOT NULL DEFAULT 0",
    ("bot_pending", "owner"): "TEXT",
    ("bot_pending", "lease_until"): "FLOAT NOT NULL DEFAULT 0",
    ("bot_pending", "notified"): "INTEGER NOT NULL DEFAULT 0",
    ("bot_handoffs", "question"): "TEXT",
    ("bot_handoffs", "claimed_by"): "TEXT",
    ("bot_handoffs", "claimed_at"): "FLOAT",
    ("bot_handoffs", "closed_at"): "FLOAT",
    ("bot_handoffs", "closed_by"): "TEXT",
}


def upgrade() -> None:
    con = op.get_bind()
    if con.dialect.name == "sqlite":
        _rename_legacy_tables(con)
    metadata.create_all(con, checkfirst=True)
    add_missing_columns(con, ADDED_COLUMNS)
    for table in metadata.sorted_tables:  # tables renamed from a first release lack the new indexes
        for index in table.indexes:
            index.create(con, checkfirst=True)


def _rename_legacy_tables(con: sa.Connection) -> None:
    existing = set(sa.inspect(con).get_table_names())
    for old, new in LEGACY_TABLES.items():
        if old in existing and new not in existing:
            con.exec_driver_sql(f"ALTER TABLE {old} RENAME TO {new}")
    for index in LEGACY_INDEXES:
        con.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
