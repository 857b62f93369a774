"""The dashboard's numbers, from the journal's counts (journal: stats, activity_since…) and the bridge's handoffs.

Days are Vietnam's (UTC+7, no daylight saving): the journal stores UTC, and a question asked at 6 in the morning
belongs to that day, not the one before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

import journal
from console.config import Settings
from console.conversations import handoff_counts
from console.gaps import Group, unanswered_groups
from console.records import titles

VIETNAM = dt.timezone(dt.timedelta(hours=7))
SATISFACTION_TARGET = 0.9  # the project's goal: 90 % of the feedback given is 👍
DAYS = 14


def local_time(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso).astimezone(VIETNAM)


def show_time(iso: str | None) -> str:
    """27/11/2026 17:42, Vietnam time."""
    return local_time(iso).strftime("%d/%m/%Y %H:%M") if iso else ""


@dataclass
class Day:
    day: dt.date
    answered: int = 0
    unanswered: int = 0
    up: int = 0
    down: int = 0

    @property
    def label(self) -> str:
        return self.day.strftime("%d/%m")

    @property
    def questions(self) -> int:
        return self.answered + self.unanswered

    @property
    def up_share(self) -> float | None:
        votes = self.up + self.down
        return self.up / votes if votes else None


@dataclass
class Dashboard:
    totals: dict
    days: list[Day]
    handoffs_waiting: int
    handoffs_handled: int
    top_procedures: list[tuple[str, str, int]]  # (id, title, times answered)
    top_gaps: list[Group] = field(default_factory=list)
    target: float = SATISFACTION_TARGET

    @property
    def up_share(self) -> float | None:
        votes = self.totals["feedback_up"] + self.totals["feedback_down"]
        return self.totals["feedback_up"] / votes if votes else None


def per_day(days: int = DAYS, today: dt.date | None = None) -> list[Day]:
    today = today or dt.datetime.now(VIETNAM).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), VIETNAM).astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    table = {first + dt.timedelta(days=i): Day(first + dt.timedelta(days=i)) for i in range(days)}
    for ts, kind, value in journal.activity_since(since):
        day = table.get(local_time(ts).date())
        if day is None:
            continue
        if kind == "feedback":
            day.up += value == "up"
            day.down += value == "down"
        else:
            setattr(day, kind, getattr(day, kind) + 1)
    return list(table.values())


def top_procedures(settings: Settings, limit: int = 10) -> list[tuple[str, str, int]]:
    rows = journal.most_answered(limit)
    names = titles(settings) if rows else {}
    return [(pid, names.get(pid, pid), count) for pid, count in rows]


def build(settings: Settings, console_engine: sa.Engine) -> Dashboard:
    totals = journal.stats()
    requests = totals["handoffs"]
    waiting = min(handoff_counts()[0], requests)  # every request not waiting for an officer was or is being handled
    return Dashboard(
        totals=totals,
        days=per_day(),
        handoffs_waiting=waiting,
        handoffs_handled=requests - waiting,
        top_procedures=top_procedures(settings),
        top_gaps=unanswered_groups(console_engine)[:10],
    )
