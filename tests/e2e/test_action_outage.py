"""With the action server down, Rasa used to answer 200 with no messages and record the turn as done (a "gặp cán
bộ" lost, yet the handoff in the tracker). Now the REST channel answers 503 and saves nothing, so the client sends
the message again after the recovery and it is handled once."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

from scripts.chat import send
from scripts.stack import Stack

pytestmark = pytest.mark.stack


def tracker_events(stack: Stack, sender: str) -> list[dict]:
    with urllib.request.urlopen(stack.api(f"/conversations/{sender}/tracker"), timeout=30) as response:
        return json.load(response)["events"]


def test_a_message_during_an_action_server_outage_is_a_503_and_is_handled_once_after_it(stack: Stack) -> None:
    sender = f"outage-{uuid.uuid4().hex[:8]}"
    stack.stop_process("actions")
    try:
        with pytest.raises(urllib.error.HTTPError) as outage:
            send(stack.rasa_url, sender, "tôi muốn gặp cán bộ")
        assert outage.value.code == 503
        failed_turn = tracker_events(stack, sender)
        assert not [e for e in failed_turn if e["event"] == "user" or e.get("name") == "action_handoff"], failed_turn
    finally:
        stack.restart("actions")

    replies = send(stack.rasa_url, sender, "tôi muốn gặp cán bộ")  # what a client does after a 503
    assert any(reply.get("custom", {}).get("handoff") for reply in replies)
    events = tracker_events(stack, sender)
    assert [e["text"] for e in events if e["event"] == "user"] == ["tôi muốn gặp cán bộ"]
    assert len([e for e in events if e.get("name") == "action_handoff"]) == 1
