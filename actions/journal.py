"""Journal of what the bot could not answer, feedback and handoff requests (SQLite).

Path: env MOCUA_JOURNAL_DB, default var/journal.db. Question text is stored with ID and phone numbers masked;
senders are stored as a salted hash (env MOCUA_JOURNAL_SALT), never as Telegram ids.

CLI:
    python -m actions.journal gaps [--limit N]   most frequent unanswered questions (grouped after folding)
    python -m actions.journal report             answered/unanswered, feedback per procedure, handoffs
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from knowledge.language import expand_abbreviations
from knowledge.text import clean, mask_personal_numbers, words

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "var" / "journal.db"
KINDS = ("answered", "unanswered", "feedback", "handoff")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('answered', 'unanswered', 'feedback', 'handoff')),
    sender TEXT,
    question TEXT,
    question_key TEXT,
    procedure_id TEXT,
    intent TEXT,
    value TEXT
);
CREATE INDEX IF NOT EXISTS entries_kind ON entries (kind, question_key);
"""


def db_path() -> Path:
    return Path(os.environ.get("MOCUA_JOURNAL_DB") or DEFAULT_DB)


@contextmanager
def connect(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    path = path or db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=10)
    try:
        con.executescript(_SCHEMA)
        with con:
            yield con
    finally:
        con.close()


def hash_sender(sender: str | None) -> str | None:
    if not sender:
        return None
    salt = os.environ.get("MOCUA_JOURNAL_SALT", "mocua")
    return hashlib.sha256(f"{salt}:{sender}".encode()).hexdigest()[:16]


def mask(question: str | None) -> str | None:
    return mask_personal_numbers(clean(question)) if question else None


def question_key(question: str | None) -> str | None:
    """Groups spellings of one question: masked, abbreviations expanded, folded, punctuation dropped."""
    masked = mask(question)
    return " ".join(words(expand_abbreviations(masked))) if masked else None


def record(
    kind: str,
    *,
    sender: str | None = None,
    question: str | None = None,
    procedure_id: str | None = None,
    intent: str | None = None,
    value: str | None = None,
) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown journal kind {kind!r}")
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    with connect() as con:
        con.execute(
            "INSERT INTO entries (ts, kind, sender, question, question_key, procedure_id, intent, value)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now, kind, hash_sender(sender), mask(question), question_key(question), procedure_id, intent, value),
        )


# ---------------------------------------------------------------- reading


# Messages NLU did not understand that are this short are mostly noise ("hmm", "asdf"), not knowledge gaps.
MIN_FALLBACK_WORDS = 3


def gaps(limit: int = 20) -> list[tuple[str, int, str]]:
    """Most frequent unanswered questions: (grouping key, count, one example as asked)."""
    with connect() as con:
        rows = con.execute(
            "SELECT question_key, COUNT(*) AS n, MAX(question), MIN(intent = 'nlu_fallback') FROM entries"
            " WHERE kind = 'unanswered' AND question_key IS NOT NULL AND question_key != ''"
            " GROUP BY question_key ORDER BY n DESC, MAX(ts) DESC",
        ).fetchall()
    kept = [
        (key, int(n), example)
        for key, n, example, only_fallback in rows
        if not only_fallback or len(key.split()) >= MIN_FALLBACK_WORDS
    ]
    return kept[:limit]


def stats() -> dict[str, Any]:
    """Counts for the bot's /stats and the report."""
    with connect() as con:
        kinds = dict(con.execute("SELECT kind, COUNT(*) FROM entries GROUP BY kind").fetchall())
        votes = dict(con.execute("SELECT value, COUNT(*) FROM entries WHERE kind = 'feedback' GROUP BY value"))
        per_proc = con.execute(
            "SELECT COALESCE(procedure_id, '-'),"
            " SUM(value = 'up'), SUM(value = 'down') FROM entries WHERE kind = 'feedback'"
            " GROUP BY COALESCE(procedure_id, '-') ORDER BY SUM(value = 'down') DESC, 1"
        ).fetchall()
    answered, unanswered = kinds.get("answered", 0), kinds.get("unanswered", 0)
    total = answered + unanswered
    return {
        "answered": answered,
        "unanswered": unanswered,
        "answered_share": round(answered / total, 3) if total else None,
        "feedback_up": votes.get("up", 0),
        "feedback_down": votes.get("down", 0),
        "feedback_by_procedure": {p: {"up": int(u or 0), "down": int(d or 0)} for p, u, d in per_proc},
        "handoffs": kinds.get("handoff", 0),
    }


def format_report(s: dict[str, Any]) -> str:
    share = f"{s['answered_share']:.0%}" if s["answered_share"] is not None else "-"
    lines = [
        f"Câu hỏi đã trả lời: {s['answered']}",
        f"Câu hỏi chưa trả lời được: {s['unanswered']}",
        f"Tỉ lệ trả lời được: {share}",
        f"Đánh giá 👍 {s['feedback_up']} · 👎 {s['feedback_down']}",
    ]
    for proc, votes in s["feedback_by_procedure"].items():
        lines.append(f"  {proc}: 👍 {votes['up']} · 👎 {votes['down']}")
    lines.append(f"Yêu cầu gặp cán bộ: {s['handoffs']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.journal", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gap = sub.add_parser("gaps", help="most frequent unanswered questions")
    gap.add_argument("--limit", type=int, default=20)
    sub.add_parser("report", help="counts of answers, feedback and handoffs")
    args = parser.parse_args(argv)
    if args.command == "gaps":
        rows = gaps(args.limit)
        if not rows:
            print("Chưa có câu hỏi nào chưa trả lời được.")
        for key, n, example in rows:
            print(f"{n:4d}  {example}  [{key}]")
    else:
        print(format_report(stats()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
