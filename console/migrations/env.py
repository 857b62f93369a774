"""Alembic's entry point for this package's revisions (versions/); settings.database.migrate runs them."""

from settings.database import run_migrations

run_migrations()
