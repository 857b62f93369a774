"""Trackers as the Rasa server sends them to the action server, built from data/tracker.json."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from knowledge.text import fold

TEMPLATE = json.loads((Path(__file__).parent / "data/tracker.json").read_text(encoding="utf-8"))


def tracker(
    text: str,
    intent: str,
    *,
    entities: dict[str, str] | None = None,
    previous_intents: Sequence[str] = (),
    confidence: float = 0.95,
    **slots: Any,
) -> Tracker:
    """A tracker whose latest message is `text` classified as `intent`, like the Rasa server sends it.

    `text_original` is what nlu_components.vietnamese keeps; payloads ("/ask_fee") have none, as in Rasa.
    """
    state = copy.deepcopy(TEMPLATE)
    state["slots"].update(slots)
    parse = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        "text": text if text.startswith("/") else fold(text),
    }
    if not text.startswith("/"):
        parse["text_original"] = text
    state["latest_message"] = {**parse, "message_id": "m9", "metadata": {}}
    user_events = [
        {"event": "user", "timestamp": 1700000002.0 + i, "text": f"câu trước {i}",
         "parse_data": {"intent": {"name": name}}}
        for i, name in enumerate(previous_intents)
    ]
    latest = {"event": "user", "timestamp": 1700000100.0, "text": text, "parse_data": parse}
    state["events"] = state["events"][:3] + user_events + [latest]
    return Tracker.from_dict(state)


def responses(dispatcher: CollectingDispatcher) -> list[str | None]:
    """The domain responses (`utter_*`, written in domain.yml) the action sent, in order."""
    return [m.get("response") for m in dispatcher.messages]


def texts(dispatcher: CollectingDispatcher) -> list[str | None]:
    return [m.get("text") for m in dispatcher.messages]


def buttons(dispatcher: CollectingDispatcher, index: int = 0) -> list[str]:
    return [b["payload"] for b in dispatcher.messages[index].get("buttons", [])]
