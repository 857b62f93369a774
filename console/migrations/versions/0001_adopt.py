"""The console's database as the releases before migrations left it, or a new one: every missing table created,
and an account's `disabled` flag added to a staff table made before it."""

import sqlalchemy as sa
from alembic import op

from console.db import metadata
from settings.database import add_missing_columns

revision, down_revision = "0001", None  # the first revision


def upgrade() -> None:
    con = op.get_bind()
    metadata.create_all(con, checkfirst=True)
    false = sa.false().compile(dialect=con.dialect)  # 0 on SQLite, false on PostgreSQL
    add_missing_columns(con, {("staff", "disabled"): f"BOOLEAN NOT NULL DEFAULT {false}"})
