"""The journal as the releases before migrations left it, or a new one: its entries and the callback numbers
(journal/callbacks.py), created where missing.

Revision ID: 0001
"""

from alembic import op

from journal import callbacks, store

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    con = op.get_bind()
    store.metadata.create_all(con, checkfirst=True)
    callbacks.metadata.create_all(con, checkfirst=True)
