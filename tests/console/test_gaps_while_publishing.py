"""A question staff just attached to a procedure does not come back as a new gap while the change is being published:
until the index that holds it is live, the bot answers from the previous index and leaves the question unanswered.
Real SQLite journal and console database, the console's own Builder on a small knowledge copy."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

import journal
from console import audit
from console.builds import Builder
from console.config import Settings
from console.db import engine, index_builds
from console.gaps import LIVE_AFTER_PUBLISH, unanswered_groups
from journal import store
from knowledge.index import build as index_build

ROOT = Path(__file__).resolve().parents[2]

QUESTION = "xin giấy chào đời cho con"


@pytest.fixture
def journal_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCUA_JOURNAL_URL", "")
    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    store.dispose()


def ask_unanswered(at: dt.datetime) -> None:
    """One citizen's question the bot did not answer, journaled at that moment."""
    journal.record("unanswered", sender="citizen", question=QUESTION, intent="nlu_fallback")
    with journal.engine().begin() as con:
        latest = sa.select(sa.func.max(journal.entries.c.id)).scalar_subquery()
        con.execute(journal.entries.update().where(journal.entries.c.id == latest)
                    .values(ts=at.isoformat(timespec="seconds")))  # fmt: skip


def asked(db: sa.Engine) -> int:
    return sum(g.count for g in unanswered_groups(db) if QUESTION in g.example)


def test_asks_while_an_attached_question_is_published_are_not_new_gaps(settings: Settings, journal_here: None) -> None:
    db = engine(settings.db_url)
    start = dt.datetime.now(dt.timezone.utc)
    ask_unanswered(start - dt.timedelta(minutes=5))
    ask_unanswered(start - dt.timedelta(minutes=1))
    group = [g for g in unanswered_groups(db) if QUESTION in g.example][0]
    assert group.count == 2

    audit.mark_gap(db, "lan", group.keys, "attached", "ho-tich-khai-sinh")  # what «Thêm tên gọi» does, then:
    shutil.copytree(ROOT / "var/index/cache", settings.index_dir / "cache")  # known texts: nothing to embed
    builder = Builder(settings)
    with index_build._IN_PROCESS:  # the build is asked for, but cannot publish yet: the change is not live
        ticket = builder.request("Thêm tên gọi")
        ask_unanswered(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1))
        assert asked(db) == 0, "asked while the change was being published: not a new gap"
    run = ticket.wait(300)
    assert run is not None and run.status == "ok", run and run.lines
    finished = dt.datetime.fromisoformat(str(run.finished))
    ask_unanswered(finished + LIVE_AFTER_PUBLISH - dt.timedelta(seconds=1))  # the action servers still loading it
    assert asked(db) == 0
    ask_unanswered(finished + LIVE_AFTER_PUBLISH + dt.timedelta(seconds=2))  # live, and still not answered: a gap
    assert asked(db) == 1
    with db.connect() as con:
        row = con.execute(sa.select(index_builds)).one()
    assert row.reason == "Thêm tên gọi" and row.status == "ok" and row.finished == run.finished


def test_an_out_of_scope_mark_counts_asks_from_the_mark(settings: Settings, journal_here: None) -> None:
    db = engine(settings.db_url)
    ask_unanswered(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    group = [g for g in unanswered_groups(db) if QUESTION in g.example][0]
    audit.mark_gap(db, "lan", group.keys, "out_of_scope", None)
    with db.begin() as con:  # a build asked for by some other change, not finished
        con.execute(index_builds.insert().values(reason="Sửa thủ tục", requested=journal_now()))
    ask_unanswered(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2))
    assert asked(db) == 1


def journal_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
