"""Small assertion helpers shared by test modules."""

from __future__ import annotations

from collections.abc import Iterator

from scripts.services import Postgres


def reply_text(replies: list[dict]) -> str:
    """All the text the citizen sees in one turn."""
    return "\n".join(reply.get("text", "") for reply in replies)


def button_payloads(replies: list[dict]) -> list[str]:
    """The payloads of every button offered in one turn."""
    return [button["payload"] for reply in replies for button in reply.get("buttons", [])]


def postgres_database(name: str) -> Iterator[str]:
    """A PostgreSQL server of its own with one database, for a module-scoped fixture: `yield from` it. Yields the
    database's URL as Rasa writes it (psycopg2)."""
    server = Postgres().start(databases=(name,))
    try:
        yield server.url(name)
    finally:
        server.stop()
