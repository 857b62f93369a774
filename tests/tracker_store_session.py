"""A long session through the tracker store of endpoints.yml, run in the Rasa environment by
tests/test_tracker_store.py: `python -m tests.tracker_store_session <database URL> <turns>` prints one JSON line.

Each turn is what Rasa's processor does with a message: retrieve the session's tracker, add the turn's events (the
citizen's message, an answer setting slots; a form active for a stretch of turns, a pause, a restart), save. Before
each turn the tracker the store loaded is compared with the whole session as Rasa's own SQLTrackerStore loads it:
slots, active form, pause, latest message, and the states RulePolicy and MemoizationPolicy read (the last turns).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

SENDER = "long-session"
STATES_COMPARED = 8  # more states than the policies read (rules: one user turn; max_history 3)


def turn_events(turn: int) -> list[Event]:
    """One turn's events after the session's start; varied so that slots, the form and a pause change at
    different distances from the end of the session."""
    aspect = ("fee", "place", "time", "documents")[turn % 4]
    events: list[Event] = [
        UserUttered(f"câu hỏi {turn}", {"name": "ask_procedure", "confidence": 1.0}),
        ActionExecuted("action_answer"),
        BotUttered(f"trả lời {turn}"),
        SlotSet("aspect", aspect),
        SlotSet("last_question", f"câu hỏi {turn}"),
    ]
    if turn % 7 == 1:
        events.append(SlotSet("procedure_id", f"thu-tuc-{turn}"))
    if turn == 30:  # the case form asks, and stays open for 30 turns (well past the loaded turns)
        events += [ActionExecuted("case_form"), ActiveLoop("case_form"), SlotSet("requested_slot", "case")]
    if turn == 60:
        events += [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("case", "thuê nhà")]
    if turn == 75:
        events.append(ConversationPaused())
    if turn == 78:
        events.append(ConversationResumed())
    if turn == 90:
        events += [ActionExecuted("action_restart"), Restarted()]
    events.append(ActionExecuted("action_listen"))
    return events


def snapshot(tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    return {
        "slots": tracker.current_slot_values(),
        "active_loop": tracker.active_loop_name,
        "paused": tracker.is_paused(),
        "latest_message": tracker.latest_message.text if tracker.latest_message else None,
        "states": [str(state) for state in tracker.past_states(domain)[-STATES_COMPARED:]],
        "ml_states": [str(state) for state in tracker.past_states(domain, ignore_rule_only_turns=True)[-3:]],
    }


async def session(url: str, turns: int) -> dict[str, Any]:
    domain = Domain.load("domain.yml")
    os.environ["TRACKER_DB_URL"] = url
    for unused in ("ACTION_ENDPOINT_URL", "ACTION_SERVER_SECRET"):  # endpoints.yml names them too
        os.environ.setdefault(unused, "unused")
    store = TrackerStore.create(read_endpoint_config("endpoints.yml", "tracker_store"), domain)
    whole = SQLTrackerStore(domain, host=url)
    store.domain = domain

    def rows() -> int:
        with whole.session_scope() as db:
            return int(db.query(whole.SQLEvent).filter(whole.SQLEvent.sender_id == SENDER).count())

    start = store.init_tracker(SENDER)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        start.update(event, domain)
    await store.save(start)

    loaded, saved, differences = [], [], []
    for turn in range(1, turns + 1):
        tracker = await store.retrieve(SENDER)
        reference = await whole.retrieve(SENDER)
        assert tracker is not None and reference is not None
        loaded.append(len(tracker.events))
        ours, theirs = snapshot(tracker, domain), snapshot(reference, domain)
        differences += [{"turn": turn, "part": part, "windowed": ours[part], "whole": theirs[part]}
                        for part in ours if ours[part] != theirs[part]]  # fmt: skip
        before = rows()
        added = turn_events(turn)
        for event in added:
            tracker.update(event, domain)
        await store.save(tracker)
        saved.append(rows() - before - len(added))  # 0: exactly the turn's events were written
    return {"store": type(store).__name__, "loaded": loaded, "saved_extra": saved, "differences": differences[:5],
            "rows": rows()}  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(asyncio.run(session(sys.argv[1], int(sys.argv[2]))), ensure_ascii=False, default=str))
