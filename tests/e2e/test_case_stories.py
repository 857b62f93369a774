"""The citizen's case on the real servers: the stories of tests/stories/cases.yml pass, and every one of them fails
when the bot ignores the case (the same replay as `make test-rasa`, scripts/stories.py); a question asked instead of
answering "which case?" is answered once, and the question is not asked again for that procedure."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from scripts.chat import send
from scripts.stack import ROOT, Stack
from scripts.stories import load_stories, replay_all

CASES = ROOT / "tests/stories/cases.yml"

# Loaded by the action server's interpreter at start-up (a sitecustomize module on its PYTHONPATH): the dialogue
# answers as if no case existed, as a bot that ignores the citizen's situation would.
IGNORE_THE_CASE = '''
from actions import cases


def view(facts, turn, aspect):
    return cases.CaseView(None, False, aspect)


cases.view = view
'''


def tracker(stack: Stack, sender: str) -> dict[str, Any]:
    with urllib.request.urlopen(stack.api(f"/conversations/{sender}/tracker"), timeout=60) as response:
        return json.load(response)


@pytest.mark.stack
def test_the_case_stories_fail_when_the_case_is_ignored(stack: Stack, tmp_path: Path) -> None:
    stories = load_stories(CASES)
    assert [str(f) for f in replay_all(stories, stack.rasa_url, stack.api)] == []
    (tmp_path / "sitecustomize.py").write_text(IGNORE_THE_CASE, encoding="utf-8")
    stack.extra_env["PYTHONPATH"] = f"{tmp_path}:{ROOT}"
    stack.restart("actions")
    try:
        failures = [str(f) for f in replay_all(stories, stack.rasa_url, stack.api)]
    finally:
        del stack.extra_env["PYTHONPATH"]
        stack.restart("actions")
    assert len(failures) == len(stories), failures
    assert all("slot case" in failure or "case_form" in failure for failure in failures), failures


@pytest.mark.stack
def test_a_question_asked_instead_of_the_case_is_answered_once_and_the_case_not_asked_again(stack: Stack) -> None:
    sender = f"case-{uuid.uuid4().hex[:10]}"
    asked = send(stack.rasa_url, sender, "đăng ký thường trú cần những giấy tờ gì")
    assert "Bạn thuộc trường hợp nào?" in asked[0]["text"]
    assert [b["title"] for b in asked[0]["buttons"]][-2:] == ["Nhà thuê, mượn, ở nhờ", "Trường hợp khác"]
    fee = send(stack.rasa_url, sender, "lệ phí bao nhiêu")
    texts = [m.get("text") or "" for m in fee]
    assert sum("— lệ phí:" in t for t in texts) == 1, texts
    state = tracker(stack, sender)
    assert state["slots"]["case"] == "Trường hợp khác" and not state["active_loop"].get("name")
    documents = send(stack.rasa_url, sender, "/ask_documents", payload=True)
    assert "Giấy tờ chung trước, rồi giấy tờ của từng trường hợp" in documents[0]["text"]
    assert "Bạn thuộc trường hợp nào?" not in documents[0]["text"]
