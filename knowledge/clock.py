"""The one clock of the answers: which day it is for a citizen asking now.

Fees reduced for a period, a rate that starts later, a time limit that ended: what the bot says depends on the
day it is asked. Every answer asks `today()`, never `datetime.date.today()`, so tests (and a tester on the real
servers) can freeze the day with MOCUA_TODAY=2026-12-31.
"""

from __future__ import annotations

import datetime as dt

import settings

VIETNAM = dt.timezone(dt.timedelta(hours=7))  # no daylight saving: a fixed offset is exact


def today() -> dt.date:
    """MOCUA_TODAY (YYYY-MM-DD) when set, otherwise today's date in Vietnam."""
    given = settings.current().today
    if given:
        return dt.date.fromisoformat(given)
    return dt.datetime.now(VIETNAM).date()
