"""The bridge's small persistent state (SQLite): button payloads, staff-message links, open handoffs.

Kept on disk so a restart neither breaks buttons citizens still have on screen nor forgets who is talking
to a person.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from bot.render import Button

SCHEMA = """
CREATE TABLE IF NOT EXISTS buttons (id TEXT PRIMARY KEY, title TEXT NOT NULL, payload TEXT NOT NULL,
                                    used REAL NOT NULL);
CREATE INDEX IF NOT EXISTS buttons_used ON buttons(used);
CREATE TABLE IF NOT EXISTS staff_messages (message_id INTEGER PRIMARY KEY, citizen_chat INTEGER NOT NULL,
                                           created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS handoffs (chat_id INTEGER PRIMARY KEY, since REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL,
                                    user_json TEXT, message TEXT NOT NULL, shown TEXT NOT NULL, created REAL NOT NULL,
                                    payload INTEGER NOT NULL DEFAULT 0);
"""
# Columns added after the first release, for databases created before them.
MIGRATIONS = {("pending", "payload"): "ALTER TABLE pending ADD COLUMN payload INTEGER NOT NULL DEFAULT 0"}


class Store:
    def __init__(self, path: Path | str, max_buttons: int = 5000, max_staff_messages: int = 20000) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None)  # autocommit: every write is durable
        self._db.executescript(SCHEMA)
        self._migrate()
        self.max_buttons = max_buttons
        self.max_staff_messages = max_staff_messages
        self._handoffs = {row[0] for row in self._db.execute("SELECT chat_id FROM handoffs")}

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        for (table, column), statement in MIGRATIONS.items():
            if column not in {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}:
                self._db.execute(statement)

    # ------------------------------------------------------------ buttons (bounded, least recently used out)
    def remember_buttons(self, buttons: list[Button]) -> None:
        now = time.time()
        self._db.executemany(
            "INSERT INTO buttons(id, title, payload, used) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET used = excluded.used, title = excluded.title",
            [(b.callback_data.removeprefix("b:"), b.title, b.payload, now) for b in buttons],
        )
        self._db.execute(
            "DELETE FROM buttons WHERE id NOT IN (SELECT id FROM buttons ORDER BY used DESC LIMIT ?)",
            (self.max_buttons,),
        )

    def button(self, button_id: str) -> Button | None:
        row = self._db.execute("SELECT title, payload FROM buttons WHERE id = ?", (button_id,)).fetchone()
        if row is None:
            return None
        self._db.execute("UPDATE buttons SET used = ? WHERE id = ?", (time.time(), button_id))
        return Button(row[0], row[1])

    def button_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM buttons").fetchone()[0]

    # ------------------------------------------------------------ staff group message -> citizen chat
    def link_staff_message(self, message_id: int, citizen_chat: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO staff_messages(message_id, citizen_chat, created) VALUES (?, ?, ?)",
            (message_id, citizen_chat, time.time()),
        )
        self._db.execute(
            "DELETE FROM staff_messages WHERE message_id NOT IN"
            " (SELECT message_id FROM staff_messages ORDER BY created DESC LIMIT ?)",
            (self.max_staff_messages,),
        )

    def citizen_for(self, staff_message_id: int) -> int | None:
        row = self._db.execute(
            "SELECT citizen_chat FROM staff_messages WHERE message_id = ?", (staff_message_id,)
        ).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------ messages accepted but not answered yet
    def add_pending(self, chat_id: int, user: dict | None, message: str, shown: str, payload: bool = False) -> int:
        """`payload`: `message` is a button's payload, not typed text."""
        cursor = self._db.execute(
            "INSERT INTO pending(chat_id, user_json, message, shown, created, payload) VALUES (?, ?, ?, ?, ?, ?)",
            (chat_id, json.dumps(user) if user else None, message, shown, time.time(), int(payload)),
        )
        return int(cursor.lastrowid or 0)

    def done_pending(self, pending_id: int) -> None:
        self._db.execute("DELETE FROM pending WHERE id = ?", (pending_id,))

    def pending(self) -> list[tuple[int, int, dict | None, str, str, bool]]:
        """(id, chat_id, user dict, message, shown, payload), oldest first."""
        rows = self._db.execute(
            "SELECT id, chat_id, user_json, message, shown, payload FROM pending ORDER BY id"
        ).fetchall()
        return [(i, c, json.loads(u) if u else None, m, s, bool(p)) for i, c, u, m, s, p in rows]

    # ------------------------------------------------------------ chats currently served by a person
    def start_handoff(self, chat_id: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO handoffs(chat_id, since) VALUES (?, ?)", (chat_id, time.time()))
        self._handoffs.add(chat_id)

    def end_handoff(self, chat_id: int) -> bool:
        """True when the chat was in handoff."""
        self._db.execute("DELETE FROM handoffs WHERE chat_id = ?", (chat_id,))
        was = chat_id in self._handoffs
        self._handoffs.discard(chat_id)
        return was

    def in_handoff(self, chat_id: int) -> bool:
        return chat_id in self._handoffs

    def handoff_count(self) -> int:
        return len(self._handoffs)
