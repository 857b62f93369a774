"""Fixtures shared by every test package.

`stack` starts the real action server and Rasa server once per test session, on free ports, with
their own SQLite tracker and journal under var/test-stack/. It needs a trained model
(`make train`) and a built index (`make index`); `make test` does both first.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator

import pytest

from scripts.stack import ROOT, Stack, free_port


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    var_dir = ROOT / "var/test-stack"
    for stale in ("tracker.db", "journal.db"):
        (var_dir / stale).unlink(missing_ok=True)
    servers = Stack(rasa_port=free_port(), action_port=free_port(), var_dir=var_dir)
    servers.start()
    yield servers
    servers.stop()


Say = Callable[..., list[dict]]


@pytest.fixture
def say(stack: Stack) -> Say:
    """`say(text)` sends one message as this test's citizen through Rasa's REST channel over real HTTP
    and returns the bot's replies; each test is its own conversation (pass sender= to share one)."""
    default_sender = f"test-{uuid.uuid4().hex[:10]}"

    def send(message: str, sender: str = default_sender, timeout: float = 60.0) -> list[dict]:
        request = urllib.request.Request(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)

    return send

