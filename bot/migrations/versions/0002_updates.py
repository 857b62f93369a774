"""The Telegram updates whose message is stored (bot_updates), so that an update Telegram sends again is answered
once. A database the first revision created since the table was defined has it already.

Revision ID: 0002
"""

from alembic import op

from bot.store import updates

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    updates.create(op.get_bind(), checkfirst=True)  # with its index
