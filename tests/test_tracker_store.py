"""A message costs the same at the 120th turn of a session as at the 20th: the tracker store of endpoints.yml
(channels/tracker_store.py) loads the session's state and its last turns, not the whole session, and saves only
the turn's new events; what it loads gives the policies and the actions exactly what the whole session gives.

The session runs in the Rasa environment (tests/tracker_store_session.py) on SQLite and on PostgreSQL; the
conversations on the real servers check what a citizen notices: a procedure, a form and an open request for a
person from long ago still count."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from scripts.stack import RASA_PYTHON, ROOT
from tests.helpers import postgres_database
from tests.privacy.support import numbers_kept, read_stack_journal, sender, texts

TURNS = 120
WINDOWED = "channels.tracker_store.WindowedSQLTrackerStore"


def long_session(url: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([str(RASA_PYTHON), "-m", "tests.tracker_store_session", url, str(TURNS)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_bounded_and_faithful(session: dict) -> None:
    assert session["store"] == "WindowedSQLTrackerStore", "endpoints.yml does not name the windowed store"
    loaded = session["loaded"]
    early, late = max(loaded[14:40]), max(loaded[TURNS - 20 :])
    assert late <= early, f"events loaded per turn grow with the session: {early} at turns 15-40, {late} at the end"
    assert late < loaded[-1] + 20 < 100, loaded  # a window of ten turns and the state, not the session's 700 rows
    assert set(session["saved_extra"]) == {0}, "a save wrote more (or less) than the turn's new events"
    assert session["differences"] == [], "the loaded tracker differs from the whole session"


def test_a_long_session_on_sqlite_loads_the_same_amount_at_every_turn(tmp_path: Path) -> None:
    assert_bounded_and_faithful(long_session(f"sqlite:///{tmp_path / 'tracker.db'}"))


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    yield from postgres_database("rasa")


def test_a_long_session_on_postgresql_loads_the_same_amount_at_every_turn(postgres_url: str) -> None:
    assert_bounded_and_faithful(long_session(postgres_url))


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "endpoints.production.yml"])
def test_both_profiles_use_the_windowed_store(endpoints: str) -> None:
    """Rasa falls back to an in-memory store, silently losing every conversation, when a custom store's class
    cannot be imported: the name must be exact (the session above proves the class loads)."""
    config = yaml.safe_load((ROOT / endpoints).read_text(encoding="utf-8"))
    assert config["tracker_store"]["type"] == WINDOWED
    assert int(config["tracker_store"].get("turns", 10)) >= 4  # MemoizationPolicy's max_history 3, and one more


# ------------------------------------------------------------------ on the real servers (the session `stack`)

CHAT = ["xin chào", "cảm ơn bạn"]  # answered by rules, no slot changes: the procedure stays where it was set


@pytest.mark.stack
def test_the_procedure_asked_about_long_ago_is_still_the_one_discussed(say) -> None:
    citizen = sender("long")
    first = texts(say("đăng ký khai sinh cho con mới sinh ở đâu", sender=citizen))
    assert any("khai sinh" in t.lower() for t in first), first
    for turn in range(12):  # more turns than a message loads
        say(CHAT[turn % 2], sender=citizen)
    fee = texts(say("lệ phí bao nhiêu", sender=citizen))
    assert any("khai sinh" in t.lower() for t in fee), f"the procedure was forgotten: {fee}"


@pytest.mark.stack
def test_a_number_long_after_asking_for_a_person_is_still_kept_for_the_callback(
    say, stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_stack_journal(stack, monkeypatch)
    citizen = sender("callback-later")
    asked = texts(say("cho tôi gặp cán bộ", sender=citizen))
    assert any("chuyển câu hỏi của bạn đến cán bộ" in t for t in asked), asked
    for turn in range(12):
        say(CHAT[turn % 2], sender=citizen)
    later = texts(say("hoặc gọi số 0912.345.679 giúp tôi", sender=citizen))
    assert any("7 ngày" in t for t in later), f"the open request was not seen: {later}"
    assert numbers_kept(citizen) == ["0912345679"]
