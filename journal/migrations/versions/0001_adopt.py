"""The journal as the releases before migrations left it, or a new one: its entries and the callback numbers
(journal/callbacks.py), created where missing."""

from alembic import op

from journal import callbacks, store

revision, down_revision = "0001", None  # the first revision


def upgrade() -> None:
    for tables in (store.metadata, callbacks.metadata):
        tables.create_all(op.get_bind(), checkfirst=True)
