"""Journal of what the bot answered and could not answer, feedback and handoff requests.

Stored through journal.store: SQLite (var/journal.db, env MOCUA_JOURNAL_DB) by default, or any SQLAlchemy URL
in MOCUA_JOURNAL_URL (PostgreSQL in the production profile). Question text is stored with ID and phone numbers
masked; senders are stored as a salted hash (env MOCUA_JOURNAL_SALT), never as Telegram ids.

CLI:
    python -m journal gaps [--limit N]   most frequent unanswered questions (grouped after folding)
    python -m journal report             answered/unanswered, feedback per procedure, handoffs
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import sqlalchemy as sa

import settings
from journal.store import KINDS, db_path, engine, entries
from knowledge.language import expand_abbreviations
from knowledge.text import clean, mask_personal_numbers, words

__all__ = ["KINDS", "activity_since", "db_path", "engine", "entries", "format_report", "gaps", "most_answered",
           "record", "stats"]  # fmt: skip


def hash_sender(sender: str | None) -> str | None:
    if not sender:
        return None
    salt = settings.current().journal_salt
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
    row = {
        "ts": now, "kind": kind, "sender": hash_sender(sender), "question": mask(question),
        "question_key": question_key(question), "procedure_id": procedure_id, "intent": intent, "value": value,
    }  # fmt: skip
    with engine().begin() as con:
        con.execute(entries.insert().values(**row))


# ---------------------------------------------------------------- reading


# Messages NLU did not understand or took for off-topic that are this short are mostly noise ("hmm", "asdf", "hi"),
# not knowledge gaps.
MIN_FALLBACK_WORDS = 3
NOISY_INTENTS = ("nlu_fallback", "out_of_scope")


def _count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """SUM(condition) that PostgreSQL accepts too (it has no boolean sum)."""
    return sa.func.sum(sa.case((condition, 1), else_=0))


def gaps(limit: int = 20) -> list[tuple[str, int, str]]:
    """Most frequent unanswered questions: (grouping key, count, one example as asked)."""
    n = sa.func.count().label("n")
    only_fallback = sa.func.min(sa.case((entries.c.intent.in_(NOISY_INTENTS), 1), else_=0))
    query = (
        sa.select(entries.c.question_key, n, sa.func.max(entries.c.question), only_fallback)
        .where(entries.c.kind == "unanswered", entries.c.question_key.is_not(None), entries.c.question_key != "")
        .group_by(entries.c.question_key)
        .order_by(n.desc(), sa.func.max(entries.c.ts).desc())
    )
    with engine().connect() as con:
        rows = con.execute(query).all()
    kept = [
        (key, int(count), example)
        for key, count, example, fallback in rows
        if not fallback or len(key.split()) >= MIN_FALLBACK_WORDS
    ]
    return kept[:limit]


def stats() -> dict[str, Any]:
    """The journal's totals: questions answered or not, feedback (also per procedure), requests for a person. The one
    count behind the bot's /stats, the admin endpoint, `python -m journal report` and the console's dashboard."""
    procedure = sa.func.coalesce(entries.c.procedure_id, "-")
    up, down = _count_where(entries.c.value == "up"), _count_where(entries.c.value == "down")
    with engine().connect() as con:
        per_kind = sa.select(entries.c.kind, sa.func.count()).group_by(entries.c.kind)
        kinds: dict[str, int] = dict(con.execute(per_kind).all())
        feedback = sa.select(entries.c.value, sa.func.count()).where(entries.c.kind == "feedback")
        votes: dict[str, int] = dict(con.execute(feedback.group_by(entries.c.value)).all())
        per_proc = con.execute(
            sa.select(procedure, up, down)
            .where(entries.c.kind == "feedback")
            .group_by(procedure)
            .order_by(down.desc(), procedure)
        ).all()
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


def activity_since(since: str) -> list[tuple[str, str, str | None]]:
    """(time, kind, value) of every question answered or not and every feedback from `since` (ISO, UTC) on: what
    the console's dashboard counts per day."""
    query = sa.select(entries.c.ts, entries.c.kind, entries.c.value).where(
        entries.c.ts >= since, entries.c.kind.in_(("answered", "unanswered", "feedback"))
    )
    with engine().connect() as con:
        return [(ts, kind, value) for ts, kind, value in con.execute(query)]


def most_answered(limit: int = 10) -> list[tuple[str, int]]:
    """The procedures answered most often, as (procedure id, times answered), most first."""
    n = sa.func.count().label("n")
    query = (
        sa.select(entries.c.procedure_id, n)
        .where(entries.c.kind == "answered", entries.c.procedure_id.is_not(None))
        .group_by(entries.c.procedure_id)
        .order_by(n.desc(), entries.c.procedure_id)
        .limit(limit)
    )
    with engine().connect() as con:
        return [(procedure_id, int(count)) for procedure_id, count in con.execute(query)]


def senders_with(kind: str, value: str | None = None) -> set[str]:
    """The senders (hashed) with an entry of this kind (and value: a 👎 is kind "feedback", value "down")."""
    query = sa.select(entries.c.sender).where(entries.c.kind == kind).distinct()
    if value is not None:
        query = query.where(entries.c.value == value)
    with engine().connect() as con:
        return set(con.execute(query).scalars())


def senders_asking(words: list[str]) -> set[str]:
    """The senders (hashed) who asked a question holding every one of `words` (folded, as in question_key)."""
    spaced = sa.literal(" ") + entries.c.question_key + sa.literal(" ")
    matching = [spaced.like(f"% {_escape_like(word)} %", escape="\\") for word in words]
    with engine().connect() as con:
        return set(con.execute(sa.select(entries.c.sender).where(*matching).distinct()).scalars())


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def entries_of(senders: set[str]) -> list[sa.Row]:
    """Every entry of these senders (hashed), oldest first: sender, kind, value, question."""
    query = (
        sa.select(entries.c.sender, entries.c.kind, entries.c.value, entries.c.question)
        .where(entries.c.sender.in_(sorted(senders)))
        .order_by(entries.c.id)
    )
    with engine().connect() as con:
        return list(con.execute(query).all())


def latest_handoffs(senders: list[str]) -> dict[str, sa.Row]:
    """Each sender's (hashed) latest handoff request: id, sender, question, procedure_id."""
    query = (
        sa.select(entries.c.id, entries.c.sender, entries.c.question, entries.c.procedure_id)
        .where(entries.c.kind == "handoff", entries.c.sender.in_(senders))
        .order_by(entries.c.id)
    )
    with engine().connect() as con:
        return {row.sender: row for row in con.execute(query)}


def unanswered_questions() -> list[sa.Row]:
    """Every unanswered question with a grouping key, oldest first: question_key, question, ts, intent."""
    e = entries
    query = (
        sa.select(e.c.question_key, e.c.question, e.c.ts, e.c.intent)
        .where(e.c.kind == "unanswered", e.c.question_key.is_not(None), e.c.question_key != "")
        .order_by(e.c.id)
    )
    with engine().connect() as con:
        return list(con.execute(query).all())


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
