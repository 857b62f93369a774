"""Per-message work of Rasa 3.6 that costs time and buys nothing, removed in the Rasa server process (installed by
our REST channel, like channels/outage.py). Found by profiling the load benchmark (docs/performance.md).

- The custom-action response check. Rasa validates every answer of the action server with `jsonschema.validate`,
  which first checks the (constant) schema itself against the JSON Schema metaschema: about 10 ms of CPU per
  custom action, a third of the Rasa server's time per message. Here the schema is checked once and a validator
  built once; an answer it finds invalid goes through Rasa's own check, so errors are raised exactly as before.
- SQLite's commit. In its default journal mode every commit of the tracker store waits for two or more fsyncs
  (about 1 ms, 20 ms when the disk is busy with other work), and Rasa commits in its event loop: every
  conversation waits. Write-ahead logging with synchronous=NORMAL (SQLite's recommended setting for WAL) makes a
  commit a write to the log; the log is synced at checkpoints. A crash of Rasa loses nothing; a power cut or
  kernel crash can lose the last turns, never corrupt the file. PostgreSQL (the production profile) is unchanged.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
from jsonschema.validators import validator_for  # type: ignore[import-untyped]
from rasa.core.actions.action import RemoteAction


def install() -> None:
    """Idempotent: Rasa may import the channel module more than once."""
    _cache_action_response_validator()
    _sqlite_write_ahead_log()


def _cache_action_response_validator() -> None:
    original = RemoteAction._validate_action_result
    if getattr(original, "_mocua_cached", False):
        return
    schema = RemoteAction.action_response_format_spec()
    checker = validator_for(schema)
    checker.check_schema(schema)
    validator = checker(schema)

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if best_match(validator.iter_errors(result)) is None:
            return True
        return original(self, result)  # raises Rasa's own ValidationError, with its message

    validate_action_result._mocua_cached = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate_action_result


# SQLAlchemy 1.4 opens and closes a connection for every session on a SQLite file (NullPool). When the last
# connection to a file in WAL mode closes, SQLite copies the log into the database and deletes it, with fsyncs
# (5 ms per session here). One connection per file kept open for the life of the process (after one read, it holds
# the shared lock that tells SQLite it is not the last) makes that 0.1 ms.
_KEEP_OPEN: dict[str, sqlite3.Connection] = {}


def set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    path = cursor.execute("PRAGMA database_list").fetchone()[2]
    cursor.close()
    if path and path not in _KEEP_OPEN:
        kept = sqlite3.connect(path, check_same_thread=False)
        kept.execute("SELECT count(*) FROM sqlite_master").fetchall()
        _KEEP_OPEN[path] = kept


def _sqlite_write_ahead_log() -> None:
    if not sa.event.contains(sa.engine.Engine, "connect", set_sqlite_pragmas):
        sa.event.listen(sa.engine.Engine, "connect", set_sqlite_pragmas)
