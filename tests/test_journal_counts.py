"""The journal owns the queries on its table; the console's dashboard renders what they count (issue 19)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import journal
from console import dashboard
from console.config import from_env as console_settings


@pytest.fixture(autouse=True)
def own_journal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))


def test_todays_questions_feedback_and_handoffs_are_counted_once_each() -> None:
    for kind, extra in (
        ("answered", {"procedure_id": "ho-tich-khai-sinh"}),
        ("answered", {"procedure_id": "ho-tich-khai-sinh"}),
        ("answered", {"procedure_id": "cu-tru-tam-tru"}),
        ("unanswered", {}),
        ("feedback", {"value": "up", "procedure_id": "ho-tich-khai-sinh"}),
        ("feedback", {"value": "down", "procedure_id": "cu-tru-tam-tru"}),
        ("handoff", {}),
    ):
        journal.record(kind, sender="c1", question="làm giấy khai sinh ở đâu", **extra)
    today = dt.datetime.now(dashboard.VIETNAM).date()
    days = dashboard.per_day(days=3, today=today)
    assert [day.day for day in days] == [today - dt.timedelta(days=2), today - dt.timedelta(days=1), today]
    assert (days[-1].answered, days[-1].unanswered, days[-1].up, days[-1].down) == (3, 1, 1, 1)
    assert all(day.questions == 0 for day in days[:-1])
    assert journal.most_answered(1) == [("ho-tich-khai-sinh", 2)]
    top = dashboard.top_procedures(console_settings())
    assert [(pid, n) for pid, _, n in top] == [("ho-tich-khai-sinh", 2), ("cu-tru-tam-tru", 1)]
    assert journal.stats()["handoffs"] == 1
    journal.store.dispose()
