"""The conversation stories catch a wrong dialogue decision.

`rasa test core` never runs the custom actions, so the stories are also replayed on the real servers
(scripts/stories.py, part of `make test-rasa`). Here the answering action is sabotaged to answer the previous procedure
when the citizen switches, as a routing bug would: every switch story must then fail on `procedure_id`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.stack import ROOT, Stack
from scripts.stories import Story, load_stories, parse_story, replay_all

SWITCHES = ROOT / "tests/stories/switches.yml"

# Loaded by the action server's interpreter at start-up (a sitecustomize module on its PYTHONPATH), before the actions.
ANSWER_THE_PREVIOUS_PROCEDURE = '''
from actions import dialogue
from actions.answers import INTENT_TO_ASPECT

_answer = dialogue.answer


def answer(kb, turn):
    outcome = _answer(kb, turn)
    chosen = outcome.slots.get("procedure_id")
    if turn.procedure_id and chosen and chosen != turn.procedure_id:
        aspect = INTENT_TO_ASPECT.get(turn.intent or "") or turn.aspect
        return dialogue._procedure_outcome(kb, turn, turn.procedure_id, aspect) or outcome
    return outcome


dialogue.answer = answer
'''


def replay(stack: Stack, stories: list[Story]) -> list[str]:
    return [str(failure) for failure in replay_all(stories, stack.rasa_url, stack.api)]


@pytest.mark.stack
def test_answering_the_previous_procedure_on_a_switch_fails_the_stories(stack: Stack, tmp_path: Path) -> None:
    stories = load_stories(SWITCHES)
    assert replay(stack, stories) == []
    (tmp_path / "sitecustomize.py").write_text(ANSWER_THE_PREVIOUS_PROCEDURE, encoding="utf-8")
    stack.extra_env["PYTHONPATH"] = f"{tmp_path}:{ROOT}"
    stack.restart("actions")
    try:
        failures = replay(stack, stories)
    finally:
        del stack.extra_env["PYTHONPATH"]
        stack.restart("actions")
    assert len(failures) == len(stories)
    assert all("slot procedure_id: expected" in failure for failure in failures), failures


def test_a_button_step_is_sent_as_its_payload_and_other_intents_are_triggered() -> None:
    story = parse_story("s", SWITCHES, [
        {"user": "cấp lại giấy tờ bị mất", "intent": "ask_procedure"},
        {"action": "action_answer"},
        {"slot_was_set": [{"procedure_id": None}]},
        {"intent": "choose_procedure", "entities": [{"procedure_id": "ho-tich-khai-sinh"}]},
        {"action": "action_answer"},
        {"intent": "nlu_fallback"},
        {"action": "action_fallback"},
        {"user": "/restart", "intent": "restart"},
    ])  # fmt: skip
    assert [(t.via, t.text) for t in story.turns] == [
        ("text", "cấp lại giấy tờ bị mất"),
        ("payload", '/choose_procedure{"procedure_id":"ho-tich-khai-sinh"}'),
        ("trigger", "(nlu_fallback)"),
        ("payload", "/restart"),
    ]
    assert story.turns[0].slots == {"procedure_id": None}
    assert story.turns[1].actions == ["action_answer"]
