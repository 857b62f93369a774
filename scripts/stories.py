"""Conversation stories (tests/stories/*.yml, Rasa's test-story format) replayed on the real servers.

`rasa test core` checks the intent NLU gives each typed text and the action the dialogue policies predict, but it
never runs a custom action: the slot events written in a test story are replayed as given (rasa/core/test.py
`_predict_tracker_actions`), so it cannot tell whether action_answer picked the right procedure. This replay sends
every user step through the REST channel of a running Rasa server, with its real action server and knowledge index,
reads the conversation's tracker after each turn and checks:

- the intent NLU gave (as rasa test does);
- the actions that ran, custom actions included, are the story's, in order;
- each `slot_was_set` of the turn holds once the bot has answered: `procedure_id: ho-tich-khai-sinh` means that
  procedure is under discussion, `procedure_id: null` that none is. So a wrong procedure fails the story;
- the last `active_loop` of the turn is the form still open once the bot has answered (`null`: none).

Steps understood: `user:` (with `intent:` and `entities:`), `intent:` alone, `action:`, `slot_was_set:`,
`active_loop:`. A user text
starting with "/", or an intent alone that one of the bot's buttons sends, is sent as the button's payload, as the
bridges do; any other intent alone (`nlu_fallback`) is triggered through Rasa's HTTP API.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from channels.guard import BUTTON_INTENTS
from scripts.chat import send

# Rasa's own bookkeeping, never written in stories: listening, and the new session it opens after a restart.
BOOKKEEPING = frozenset({"action_listen", "action_session_start"})


class StoryError(ValueError):
    """A story this replay cannot run (a step it does not understand)."""


@dataclass
class Turn:
    """One user step and what must follow it."""

    text: str  # what is sent: typed text, or a button's payload
    via: str  # "text" | "payload" | "trigger"
    intent: str | None
    entities: dict[str, str] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    loops: list[str | None] = field(default_factory=list)  # `active_loop` steps: the last one must hold


@dataclass
class Story:
    name: str
    path: Path
    turns: list[Turn]


@dataclass
class Failure:
    story: Story
    turn: int  # 1-based
    problems: list[str]

    def __str__(self) -> str:
        said = self.story.turns[self.turn - 1].text
        lines = [f"{self.story.path.name}: «{self.story.name}», turn {self.turn} («{said}»):"]
        return "\n".join(lines + [f"    {problem}" for problem in self.problems])


def _entities(step: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for entity in step.get("entities") or []:
        if not isinstance(entity, dict):
            raise StoryError(f"entities must be written as `- name: value`, not {entity!r}")
        found.update({str(k): str(v) for k, v in entity.items()})
    return found


def _slots(step: dict[str, Any]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    for item in step["slot_was_set"]:
        if not isinstance(item, dict):
            raise StoryError(f"slot_was_set needs a value to check: `- {item}: <value>`")
        slots.update(item)
    return slots


def _user_turn(step: dict[str, Any]) -> Turn:
    if "user" in step:
        text = str(step["user"])
        return Turn(text, "payload" if text.startswith("/") else "text", step.get("intent"))
    intent, entities = str(step["intent"]), _entities(step)
    if intent not in BUTTON_INTENTS:
        return Turn(f"({intent})", "trigger", intent, entities)
    payload = f"/{intent}" + (json.dumps(entities, ensure_ascii=False, separators=(",", ":")) if entities else "")
    return Turn(payload, "payload", intent)


def parse_story(name: str, path: Path, steps: list[dict[str, Any]]) -> Story:
    turns: list[Turn] = []
    for step in steps:
        if "user" in step or "intent" in step:
            turns.append(_user_turn(step))
        elif not turns:
            raise StoryError(f"{path.name}: «{name}» must start with a user step")
        elif "action" in step:
            turns[-1].actions.append(step["action"])
        elif "slot_was_set" in step:
            turns[-1].slots.update(_slots(step))
        elif "active_loop" in step:
            turns[-1].loops.append(step["active_loop"])
        else:
            raise StoryError(f"{path.name}: «{name}»: step {step!r} is not supported by the replay")
    return Story(name, path, turns)


def load_stories(path: Path) -> list[Story]:
    files = sorted(path.glob("*.yml")) if path.is_dir() else [path]
    stories = []
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        stories += [parse_story(s["story"], file, s["steps"]) for s in data.get("stories", [])]
    return stories


def _get_json(url: str, body: Any = None, timeout: float = 60.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def check_turn(turn: Turn, tracker: dict[str, Any]) -> list[str]:
    """What differs between the story's turn and the tracker right after it."""
    events = tracker["events"]
    last_user = max(i for i, e in enumerate(events) if e.get("event") == "user")
    intent = ((events[last_user].get("parse_data") or {}).get("intent") or {}).get("name")
    ran = [e["name"] for e in events[last_user + 1 :] if e.get("event") == "action" and e["name"] not in BOOKKEEPING]
    problems = []
    if turn.intent and intent != turn.intent:
        problems.append(f"intent: expected {turn.intent}, NLU said {intent}")
    if ran != turn.actions:
        problems.append(f"actions: expected {turn.actions}, ran {ran}")
    for slot, expected in turn.slots.items():
        actual = tracker["slots"].get(slot)
        if actual != expected:
            problems.append(f"slot {slot}: expected {expected!r}, is {actual!r}")
    loop = (tracker.get("active_loop") or {}).get("name")
    if turn.loops and loop != turn.loops[-1]:
        problems.append(f"active loop: expected {turn.loops[-1]!r}, is {loop!r}")
    return problems


def replay(story: Story, rasa_url: str, api: Callable[[str], str]) -> Failure | None:
    """Plays the story as a new citizen; the first turn that differs fails it (later turns would only cascade).
    `api(path)` is the URL of a Rasa HTTP API path with its token (scripts.stack.Stack.api)."""
    sender = f"story-{uuid.uuid4().hex[:12]}"
    for number, turn in enumerate(story.turns, 1):
        if turn.via == "trigger":
            _get_json(api(f"/conversations/{sender}/trigger_intent"), {"name": turn.intent, "entities": turn.entities})
        else:
            send(rasa_url, sender, turn.text, payload=turn.via == "payload")
        problems = check_turn(turn, _get_json(api(f"/conversations/{sender}/tracker?include_events=ALL")))
        if problems:
            return Failure(story, number, problems)
    return None


def replay_all(stories: list[Story], rasa_url: str, api: Callable[[str], str]) -> list[Failure]:
    return [failure for story in stories if (failure := replay(story, rasa_url, api))]
