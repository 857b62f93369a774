"""The conversations page's list: each conversation with its first question and markers, found by words, day or
marker, a page at a time.

Conversations come from Rasa's tracker (read through journal.tracker); what was asked and what went wrong (unanswered,
👎, handoff) from the journal, which names a sender by its salted hash (journal.hash_sender). Words are looked up in
the journal's folded question keys (journal.question_key: masked, abbreviations expanded, no diacritics), so
«khai sinh», «khai sinh» and «BHYT» find what citizens typed however they spelled it. Every text shown is masked.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

import journal
from console.conversations import iso_time, masked, unreadable
from console.dashboard import VIETNAM
from journal import tracker

# What each marker means, in the order the page shows them.
MARKERS: dict[str, str] = {
    "unanswered": "Chưa trả lời được",
    "down": "Bị đánh giá 👎",
    "handoff": "Nhờ gặp cán bộ",
}
DAY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
MAX_WORDS = 100  # characters of a search kept


class BadDay(ValueError):
    """A day not written as dd/mm/yyyy (or not a real day), with what to write instead."""


def parse_day(text: str) -> dt.date | None:
    """«27/11/2026» as a date; None for an empty field."""
    if not text.strip():
        return None
    found = DAY.match(text)
    if found is None:
        raise BadDay("Ngày cần viết dạng ngày/tháng/năm, ví dụ 27/11/2026.")
    day, month, year = (int(part) for part in found.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise BadDay(f"Không có ngày {text.strip()}: hãy kiểm tra lại ngày và tháng.") from None


@dataclass(frozen=True)
class Filters:
    words: str = ""
    day: dt.date | None = None
    marker: str = ""  # a key of MARKERS, or "" for every conversation

    @property
    def any(self) -> bool:
        return bool(self.words or self.day or self.marker)


@dataclass(frozen=True)
class Listed:
    key: str  # journal.hash_sender(sender): the transcript's address
    last: str  # ISO time of the latest event
    messages: int  # citizen messages
    first_question: str  # masked; "" when the citizen asked nothing yet
    markers: tuple[str, ...] = field(default=())  # keys of MARKERS


# ---------------------------------------------------------------- tracker senders and their journal keys

_keys: dict[str, str] = {}  # tracker sender id -> journal hash, each sender hashed once while it is in the tracker
_keys_lock = threading.Lock()


def sender_keys(url: str) -> dict[str, str]:
    """Every tracker sender with its journal hash (new senders hashed as they appear)."""
    senders = tracker.senders(url)
    with _keys_lock:  # senders no longer in the tracker (erased, purged) are forgotten here too
        current = {sender: _keys.get(sender) or journal.hash_sender(sender) or "" for sender in senders}
        _keys.clear()
        _keys.update(current)
        return current


def _journal_hashes(filters: Filters) -> set[str] | None:
    """Senders (hashed) whose journal entries match the words and the marker; None when neither is asked."""
    found: set[str] | None = None
    if filters.marker == "unanswered":
        found = journal.senders_with("unanswered")
    elif filters.marker == "down":
        found = journal.senders_with("feedback", "down")
    elif filters.marker == "handoff":
        found = journal.senders_with("handoff")
    if filters.words:
        words = (journal.question_key(filters.words) or "").split()
        if not words:
            return set()
        hits = journal.senders_asking(words)
        found = hits if found is None else found & hits
    return found


def _senders_on(url: str, day: dt.date) -> set[str]:
    start = dt.datetime.combine(day, dt.time(), VIETNAM).timestamp()
    return tracker.senders_between(url, start, start + 86400)


# ---------------------------------------------------------------- the list


def listing(url: str, filters: Filters, limit: int = 50, offset: int = 0) -> list[Listed]:
    """Latest conversations first, those matching every filter; none when the tracker has no table yet (or cannot be
    read: logged)."""
    try:
        if not filters.any:
            rows = tracker.conversations(url, limit, offset)
        else:
            keys = sender_keys(url)
            wanted = _journal_hashes(filters)
            allowed = set(keys) if wanted is None else {s for s, k in keys.items() if k in wanted}
            if filters.day:
                allowed &= _senders_on(url, filters.day)
            rows = [r for r in tracker.conversations(url) if r.sender_id in allowed]
            rows = rows[offset : offset + limit]
    except sa.exc.SQLAlchemyError as error:
        unreadable(url, error)
        return []
    senders = {row.sender_id: journal.hash_sender(row.sender_id) or "" for row in rows}
    asked, markers = _from_journal(set(senders.values()))
    missing = [s for s, key in senders.items() if key not in asked]
    asked.update({senders[s]: text for s, text in _first_messages(url, missing).items()})
    return [
        Listed(senders[r.sender_id], iso_time(r.last), int(r.users or 0), asked.get(senders[r.sender_id], ""),
               tuple(m for m in MARKERS if m in markers.get(senders[r.sender_id], set())))
        for r in rows
    ]  # fmt: skip


def _from_journal(hashes: set[str]) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Each sender's first question in the journal (masked), and its markers."""
    first: dict[str, str] = {}
    markers: dict[str, set[str]] = {}
    if not hashes:
        return first, markers
    for sender, kind, value, question in journal.entries_of(hashes):
        if question and kind in ("answered", "unanswered", "handoff") and sender not in first:
            first[sender] = masked(question)
        marker = "down" if kind == "feedback" and value == "down" else kind
        if marker in MARKERS:
            markers.setdefault(sender, set()).add(marker)
    return first, markers


def _first_messages(url: str, senders: Iterable[str], per_sender: int = 5) -> dict[str, str]:
    """The first typed message (not a button's command) of conversations the journal has no question for."""
    found: dict[str, str] = {}
    for sender, messages in tracker.first_messages(url, senders, per_sender).items():
        texts = ((data.get("text") or "").strip() for data in messages)
        typed = next((text for text in texts if text and not text.startswith("/")), None)  # not a button's command
        if typed:
            found[sender] = masked(typed)
    return found
