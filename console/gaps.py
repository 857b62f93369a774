"""Unanswered questions from the journal, grouped by similarity, most asked first.

The journal already folds spellings of one question into a key (journal.question_key: masked, abbreviations
expanded, no diacritics). Different wordings of one need ("giấy chào đời cho bé" / "xin giấy chào đời cho con")
still have different keys, so keys are grouped further by their content words (question scaffolding such as "cho
em hỏi", "ở đâu" removed: knowledge.language.content_words): a key joins the first, more frequent group whose
leading question shares half of its words (Jaccard ≥ 0.5), or at least two words that make up three quarters of the
shorter one. Cheap and deterministic; the embedding encoder would also merge paraphrases with no word in common,
at the price of loading a 0.5 GB model into the console.

A key staff marked (attached to a procedure, out of scope) counts only the asks that came after the mark; for a key
attached to a procedure, only those after the change went live: while the index that holds it is being built and
the action servers load it, the bot still answers from the previous index, and what it leaves unanswered meanwhile
is no new gap (console.db.index_builds, written by console/builds.py).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa

import journal
from console.db import gap_marks, index_builds, now
from knowledge.language import content_words
from knowledge.text import clean, mask_personal_numbers

JACCARD = 0.5
OVERLAP = 0.75
# After a version is published the action servers load it within a second or two (each looks every second).
LIVE_AFTER_PUBLISH = dt.timedelta(seconds=5)
# A request never finished (the console stopped during the build) holds back nothing after this long.
UNFINISHED_BUILD = dt.timedelta(hours=1)
FOREVER = "9999"  # later than any ISO time


@dataclass
class Member:
    key: str
    count: int
    example: str  # the latest wording as asked (masked)
    last: str  # ISO time of the latest ask
    words: frozenset[str]


@dataclass
class Group:
    id: str
    members: list[Member] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(m.count for m in self.members)

    @property
    def example(self) -> str:
        return self.members[0].example

    @property
    def last(self) -> str:
        return max(m.last for m in self.members)

    @property
    def keys(self) -> list[str]:
        return [m.key for m in self.members]


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    shared = len(a & b)
    if not shared:
        return False
    return shared / len(a | b) >= JACCARD or (shared >= 2 and shared / min(len(a), len(b)) >= OVERLAP)


def group_members(members: list[Member]) -> list[Group]:
    """Most asked first; each key joins the first group whose leading key it resembles."""
    ordered = sorted(members, key=lambda m: (-m.count, _neg(m.last)))
    groups: list[Group] = []
    for member in ordered:
        home = next((g for g in groups if similar(g.members[0].words, member.words)), None)
        if home is None:
            home = Group(hashlib.sha1(member.key.encode()).hexdigest()[:12])
            groups.append(home)
        home.members.append(member)
    groups.sort(key=lambda g: (-g.count, _neg(g.last)))
    return groups


def _neg(iso: str) -> tuple[int, ...]:
    """Sort key for 'latest first' on ISO text."""
    return tuple(-ord(c) for c in iso)


def counted_after(console_engine: sa.Engine) -> dict[str, str]:
    """Per marked key, the time after which its asks count again: the mark's time, or for a key attached to a
    procedure, when the index build asked for after the mark was live (FOREVER while it is still being built)."""
    with console_engine.connect() as con:
        rows = con.execute(sa.select(gap_marks.c.question_key, gap_marks.c.status, gap_marks.c.ts)).all()
        builds = con.execute(
            sa.select(index_builds.c.requested, index_builds.c.finished, index_builds.c.status)
            .order_by(index_builds.c.requested, index_builds.c.id)
        ).all()  # fmt: skip
    requested = [b.requested for b in builds]
    stale = _shifted(now(), -UNFINISHED_BUILD)
    after: dict[str, str] = {}
    for key, status, ts in rows:
        after[key] = ts
        first = bisect.bisect_left(requested, ts)
        if status != "attached" or first == len(builds):
            continue
        build = builds[first]
        if build.finished is None:
            after[key] = FOREVER if build.requested > stale else ts
        elif build.status == "ok":
            after[key] = max(ts, _shifted(build.finished, LIVE_AFTER_PUBLISH))
    return after


def _shifted(iso: str, by: dt.timedelta) -> str:
    return (dt.datetime.fromisoformat(iso) + by).isoformat(timespec="seconds")


def unanswered_members(console_engine: sa.Engine) -> list[Member]:
    rows = journal.unanswered_questions()
    dealt = counted_after(console_engine)
    found: dict[str, Member] = {}
    fallback_only: dict[str, bool] = {}
    for key, question, ts, intent in rows:
        if key in dealt and ts <= dealt[key]:
            continue
        member = found.get(key)
        example = mask_personal_numbers(clean(question or key))
        if member is None:
            words = frozenset(content_words(key)) or frozenset(key.split())
            found[key] = Member(key, 1, example, ts, words)
        else:
            member.count += 1
            member.example, member.last = example, max(member.last, ts)
        fallback_only[key] = fallback_only.get(key, True) and intent in journal.NOISY_INTENTS
    # Like journal.gaps: very short messages NLU did not understand or took for off-topic are mostly noise.
    return [m for m in found.values() if not fallback_only[m.key] or len(m.key.split()) >= journal.MIN_FALLBACK_WORDS]


def unanswered_groups(console_engine: sa.Engine) -> list[Group]:
    return group_members(unanswered_members(console_engine))


def find_group(console_engine: sa.Engine, group_id: str) -> Group | None:
    return next((g for g in unanswered_groups(console_engine) if g.id == group_id), None)
