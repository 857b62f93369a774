"""Mask the personal numbers already stored: rows written before the masking knew every spelling of a number.

`make privacy-migrate` (python -m scripts.mask_stored) rewrites, with knowledge.text.mask_personal_numbers, in the
databases the settings name (the same as the servers': TRACKER_DB_URL, MOCUA_JOURNAL_URL or MOCUA_JOURNAL_DB,
MOCUA_BOT_DB_URL or MOCUA_BOT_DB, MOCUA_CONSOLE_DB_URL; SQLite files in var/ by default, or PostgreSQL):

- the journal: each question and its grouping key (journal.entries);
- Rasa's tracker store: the text in each event (table `events`, column `data`: what the citizen typed, what the bot
  answered, slot values), never the sender ids, intent and action names or message ids;
- the Telegram bridge's store: messages waiting for an answer (a button's payload stays as it is), the names
  of their sender, the conversation excerpt kept for staff;
- the staff console's audit log: the summaries and targets that quote a citizen's question (the texts of edited
  files stay exact, so a revert still restores them).

`make run` and `make serve` (scripts/serve.py) run it before the servers start. It is idempotent, and quick at every
start: each table remembers in a small table of its own database (`privacy_masked`) up to which row it was masked,
and by which version of the masking; only newer rows are read again, or all of them once the masking changed. A
database file that does not exist yet is left alone (nothing to mask, and not created).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from settings import Settings, app_db_url
from settings.environment import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
TEXT_MODULE = ROOT / "knowledge/text.py"
MIGRATION_VERSION = "1"  # raise when what is rewritten changes; a change to knowledge/text.py counts by itself
BATCH = 500
# Keys of Rasa's events whose strings identify something (a sender, an intent, an action, a message, a button's
# payload) rather than hold words: never rewritten.
IDENTIFIER_KEYS = frozenset(
    ["event", "name", "sender_id", "message_id", "model_id", "assistant_id", "policy", "action_name", "intent_name",
     "input_channel", "utter_action", "entity", "extractor", "payload", "intent_response_key", "timestamp"]
)  # fmt: skip

markers = sa.Table(
    "privacy_masked",
    sa.MetaData(),
    sa.Column("table_name", sa.String(64), primary_key=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("last_id", sa.BigInteger, nullable=False),
)

Row = Mapping[str, Any]
Rewrite = Callable[[Row], dict[str, Any]]


@dataclass(frozen=True)
class TextTable:
    """A table with an integer `id` and columns holding citizen text, and how a row of it is masked."""

    name: str
    columns: tuple[str, ...]
    rewrite: Rewrite  # the row's new values, only those that change (empty: nothing to do)


# ------------------------------------------------------------------------------------------------ rewriting one row
def masked(text: str | None) -> str | None:
    from knowledge.text import mask_personal_numbers

    return mask_personal_numbers(text) if text else text


def journal_entry(row: Row) -> dict[str, Any]:
    """The question masked, and its grouping key made again from it, as journal.record makes it."""
    import journal

    question = masked(row["question"])
    if question == row["question"]:
        return {}
    return {"question": question, "question_key": journal.question_key(question)}


def masked_json(value: Any, key: str | None = None) -> Any:
    """Every string in a JSON value masked, except those under IDENTIFIER_KEYS."""
    if isinstance(value, str):
        return value if key in IDENTIFIER_KEYS else masked(value)
    if isinstance(value, list):
        return [masked_json(item, key) for item in value]
    if isinstance(value, dict):
        return {k: masked_json(v, k) for k, v in value.items()}
    return value


def tracker_event(row: Row) -> dict[str, Any]:
    try:
        event = json.loads(row["data"] or "null")
    except ValueError:
        return {"data": masked(row["data"])} if masked(row["data"]) != row["data"] else {}
    new = masked_json(event)
    return {"data": json.dumps(new)} if new != event else {}


def bridge_pending(row: Row) -> dict[str, Any]:
    from bot.store import masked_user

    new: dict[str, Any] = {"shown": masked(row["shown"])}
    if not row.get("payload"):  # a button's payload is the bot's own, and must stay one
        new["message"] = masked(row["message"])
    if row["user_json"]:
        user = json.loads(row["user_json"])
        new["user_json"] = json.dumps(masked_user(user)) if masked_user(user) != user else row["user_json"]
    return {column: value for column, value in new.items() if value != row[column]}


def audit_entry(row: Row) -> dict[str, Any]:
    """Only the entries that quote a citizen's question: the others name accounts, records or conversation keys
    (hexadecimal, which may hold a run of digits that looks like a number)."""
    if row["action"] not in CITIZEN_TEXT_ACTIONS:
        return {}
    return plain_text("target", "summary")(row)


def plain_text(*columns: str) -> Rewrite:
    def rewrite(row: Row) -> dict[str, Any]:
        return {column: masked(row[column]) for column in columns if masked(row[column]) != row[column]}

    return rewrite


JOURNAL = (TextTable("entries", ("question", "question_key"), journal_entry),)
TRACKER = (TextTable("events", ("data",), tracker_event),)
BRIDGE = (
    TextTable("bot_pending", ("message", "shown", "user_json", "payload"), bridge_pending),
    TextTable("bot_history", ("text",), plain_text("text")),
)
# console/routes/ (unanswered, handoffs): a citizen's question, or an officer's reply to a citizen
CITIZEN_TEXT_ACTIONS = frozenset(["gap.out_of_scope", "alias.add", "dev_question.add", "handoff.reply"])
CONSOLE = (TextTable("audit", ("action", "target", "summary"), audit_entry),)


# ------------------------------------------------------------------------------------------------ rewriting tables
def masking_version() -> str:
    """Changes whenever the masking may have changed: all rows are read again then."""
    digest = hashlib.sha256(TEXT_MODULE.read_bytes() + MIGRATION_VERSION.encode()).hexdigest()
    return digest[:16]


def mask_table(engine: sa.Engine, spec: TextTable, version: str) -> int:
    """Mask the rows of one table not masked yet by this version; how many rows changed."""
    inspector = sa.inspect(engine)
    if not inspector.has_table(spec.name):
        return 0
    present = {column["name"] for column in inspector.get_columns(spec.name)}
    table = sa.table(spec.name, sa.column("id"), *(sa.column(c) for c in spec.columns if c in present))
    with engine.begin() as con:
        markers.create(con, checkfirst=True)
        mark = con.execute(sa.select(markers.c.version, markers.c.last_id)
                           .where(markers.c.table_name == spec.name)).first()  # fmt: skip
    last = int(mark.last_id) if mark is not None and mark.version == version else -1
    changed = 0
    while True:
        with engine.begin() as con:
            query = sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
            rows = con.execute(query).mappings().all()
            if not rows:
                break
            for row in rows:
                new = spec.rewrite({column: row.get(column) for column in ("id", *spec.columns)})
                if new:
                    con.execute(table.update().where(table.c.id == row["id"]).values(**new))
                    changed += 1
            last = int(rows[-1]["id"])
            remember(con, spec.name, version, last)
    if mark is None or mark.version != version:  # an empty table: the next start needs no full pass either
        with engine.begin() as con:
            remember(con, spec.name, version, max(last, 0))
    return changed


def remember(con: sa.Connection, table_name: str, version: str, last_id: int) -> None:
    con.execute(markers.delete().where(markers.c.table_name == table_name))
    con.execute(markers.insert().values(table_name=table_name, version=version, last_id=last_id))


# ------------------------------------------------------------------------------------------------ the databases
def sqlite_url(path: str | Path) -> str:
    return sa.URL.create("sqlite", database=str(path)).render_as_string()


def databases(environ: Mapping[str, str]) -> dict[str, tuple[str, tuple[TextTable, ...]]]:
    """Name -> (SQLAlchemy URL, tables), from the settings the servers read (their defaults: settings/__init__.py)."""
    found = Settings.from_environ(environ)
    return {
        "journal": (found.journal_url or sqlite_url(found.journal_db), JOURNAL),
        "tracker": (found.tracker_url.strip(), TRACKER),
        "bridge": (found.bridge_db_url or sqlite_url(found.bridge_db), BRIDGE),
        "console": (found.console_db_url.strip(), CONSOLE),
    }


def open_database(url: str) -> sa.Engine | None:
    """An engine on the database, or None when it is a SQLite file that does not exist (nothing stored yet)."""
    parsed = sa.make_url(app_db_url(url))
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or not Path(parsed.database).is_file():
            return None
        return sa.create_engine(parsed, connect_args={"timeout": 30})
    return sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def mask_stored(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Mask what every database holds; rows changed per database. Raises SQLAlchemyError when one cannot be read."""
    environ = os.environ if environ is None else environ
    version = masking_version()
    changed: dict[str, int] = {}
    for name, (url, tables) in databases(environ).items():
        engine = open_database(url)
        if engine is None:
            continue
        try:
            changed[name] = sum(mask_table(engine, spec, version) for spec in tables)
        finally:
            engine.dispose()
    return changed


def mask_at_start(environ: Mapping[str, str]) -> str:
    """Mask what is stored before the servers start (scripts/serve.py), and say what was done. A database that
    cannot be read does not keep the bot from starting: it is said, and tried again at the next start."""
    try:
        return describe(mask_stored(environ))
    except sa.exc.SQLAlchemyError as error:
        return f"WARNING: stored rows not masked ({str(error).splitlines()[0]}); tried again at the next start."


def describe(changed: dict[str, int]) -> str:
    done = ", ".join(f"{name} {count}" for name, count in changed.items() if count)
    return f"personal numbers masked in stored rows: {done}" if done else "stored rows: no personal number left to mask"


def servers_settings() -> Mapping[str, str]:
    """The settings `make run` gives the servers: the defaults of scripts/stack.py, or the URLs the production
    profile derives from MOCUA_DATABASE_URL; the environment as it is when the profile is incomplete."""
    from scripts.serve import stack_from_env
    from scripts.stack import StackError

    try:
        return stack_from_env().environment()
    except StackError:
        return os.environ


def main() -> int:
    for key, value in load_dotenv(ROOT / ".env").items():  # as `make run` reads it
        os.environ.setdefault(key, value)
    try:
        changed = mask_stored(servers_settings())
    except sa.exc.SQLAlchemyError as error:
        print(f"ERROR: a database could not be masked: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    print(describe(changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
