"""The one retry schedule (settings/retry.py) that the bridge, the portal sync and the supervisor wait by."""

from __future__ import annotations

import itertools

from settings.retry import Backoff


def test_waits_double_from_the_first_up_to_the_most() -> None:
    waits = list(itertools.islice(Backoff(first=1.0, most=30.0).delays(), 8))
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_the_wait_after_a_given_number_of_failures() -> None:
    backoff = Backoff(first=2.0, most=60.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 5, 6)] == [2.0, 4.0, 8.0, 32.0, 60.0]


def test_a_long_outage_keeps_the_longest_wait() -> None:
    """A bridge waiting on Telegram for days counts thousands of failures: the wait stays the longest one."""
    assert Backoff(first=1.0, most=60.0).delay(5000) == 60.0
    assert Backoff(first=2.0, most=float("inf")).delay(5000) > 1e18
