"""Rasa's SQL tracker store, with a turn's cost that does not grow with the conversation.

Rasa's SQLTrackerStore loads every event of the current session at every message, replays it into a tracker, lets
the policies featurise all of it and sends all of it to the action server; then it counts the session's rows to
find which events are new. A citizen keeps one Telegram chat for ever, and the 200th message of a session cost Rasa
five to eight times as much as the 10th (docs/performance.md). This store loads a bounded part of the session:

- the session's `session_started` row;
- the state set before the window: the latest value of every slot, the latest active-loop, loop-interrupted and
  pause/resume rows (and the latest restart or slot reset, with nothing before it), replayed in their order, so the
  slots, the form and a paused conversation are exactly what the whole session would give;
- the last `turns` user turns (default 10), from the `action_listen` before the oldest of them.

RulePolicy decides every turn from the last turn or two (data/rules/: no rule spans two user messages; forms add
Rasa's own loop rules), MemoizationPolicy looks at max_history 3 (config.yml), and the actions read at most the
previous user message. A session with an undo (/back, Rasa's UserUtteranceReverted or ActionReverted) before the
window is loaded whole, as Rasa does: an undo reaches back by an unknown number of events.

It saves only the events added since it loaded the tracker (Rasa counts the session's rows for that, and its count
would be wrong for a partial tracker). The rows are Rasa's own `events` table, with one more index (created at
start): the console, the erasure and the retention purge (journal/erasure.py) and Rasa's full-tracker API read the
same rows as before.

endpoints*.yml: tracker_store: {type: channels.tracker_store.WindowedSQLTrackerStore, url: …, turns: 10}
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.trackers import DialogueStateTracker

DEFAULT_TURNS = 10
# Events whose latest occurrence before the window still shapes the tracker (slots: one per slot name).
STATE_EVENTS = ("slot", "active_loop", "form", "loop_interrupted", "pause", "resume")
RESETS = ("restart", "reset_slots")  # nothing before the latest of these counts
UNDOS = ("rewind", "undo")
# Set on a tracker this store loaded or saved: how many of its events are in the table.
STORED = "_mocua_events_stored"
# The look-ups above (the latest row of a kind in one conversation) read this index instead of the rows: without it,
# the latest value of every slot is found by reading the whole session (8.6 ms at 200 turns on SQLite, 0.02 with it).
LATEST_INDEX = "CREATE INDEX IF NOT EXISTS ix_events_sender_kind ON events (sender_id, type_name, action_name, id)"
logger = logging.getLogger(__name__)


class WindowedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, turns: int | str = DEFAULT_TURNS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.turns = int(turns)
        if self.turns < 2:
            raise ValueError("turns must be at least 2: the actions read the previous user message")
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.text(LATEST_INDEX))
        except sa.exc.SQLAlchemyError as error:  # another replica creating it at the same moment: it will exist
            logger.warning("could not create the tracker's index ix_events_sender_kind: %s", error)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The current session's tracker: its state, and its last `turns` user turns."""
        with self.session_scope() as session:
            rows = self._session_window(session, sender_id)
            events = [json.loads(row.data) for row in rows]
        if not self.domain or not events:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        setattr(tracker, STORED, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        setattr(tracker, STORED, len(tracker.events))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The events added since this store loaded (or last saved) the tracker; a tracker it never loaded (a new
        conversation, or one Rasa's API replaced) is counted against the table as Rasa does."""
        stored = getattr(tracker, STORED, None)
        if stored is None or stored > len(tracker.events):
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    def _session_window(self, session: Any, sender_id: str) -> list[Any]:
        event = self.SQLEvent
        mine = event.sender_id == sender_id

        def latest(*conditions: Any) -> int | None:
            return session.query(sa.func.max(event.id)).filter(mine, *conditions).scalar()

        started = latest(event.type_name == "session_started")
        in_session = [event.id >= started] if started is not None else []
        oldest_turn = (
            session.query(event.id).filter(mine, *in_session, event.type_name == "user")
            .order_by(event.id.desc()).offset(self.turns - 1).limit(1).scalar()
        )  # fmt: skip
        everything = session.query(event).filter(mine, *in_session).order_by(event.id)
        if oldest_turn is None:
            return everything.all()  # a short session: all of it
        listen = latest(*in_session, event.id < oldest_turn, event.type_name == "action",
                        event.action_name == ACTION_LISTEN_NAME)  # fmt: skip
        window = listen if listen is not None else oldest_turn
        before = [*in_session, event.id < window]
        if session.query(event.id).filter(mine, *before, event.type_name.in_(UNDOS)).first() is not None:
            return everything.all()
        reset = latest(*before, event.type_name.in_(RESETS))
        since_reset = [*before, event.id >= reset] if reset is not None else before
        state = (
            session.query(sa.func.max(event.id)).filter(mine, *since_reset, event.type_name.in_(STATE_EVENTS))
            .group_by(event.type_name, event.action_name)
        )  # fmt: skip
        kept = [row_id for (row_id,) in state] + [i for i in (started, reset) if i is not None]
        loaded = session.query(event).filter(mine, sa.or_(event.id.in_(kept), event.id >= window))
        return loaded.order_by(event.id).all()
