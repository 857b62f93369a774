"""Locust users for the load benchmark: one user is one citizen's conversation. Started by bench_load.py
(`make bench`), which sets the BENCH_* variables below and reads the records this file writes.

    BENCH_CHANNEL       rest | telegram
    BENCH_RECORDS       file to write one JSON line per message (start, end, ok, error) when locust quits
    BENCH_THINK         "min,max" seconds a citizen waits after an answer before the next message (default 0.5,1.5)
    BENCH_RUN           a small number that keeps this run's chat ids apart from earlier runs' (Telegram)
    BENCH_SESSIONS      short (default): each conversation a new sender id; long: each citizen keeps one sender id (one
                        Telegram chat, one Rasa session) for the whole run, as a citizen keeps their chat for ever
    rest:      --host is the Rasa REST channel (or the balancer in front of the Rasa replicas)
    telegram:  BENCH_CONTROL   the benchmark's Bot API emulator control endpoint (tests/benchmarks/bench_load.py)
               BENCH_WEBHOOK   the bridge's webhook URL (behind the balancer); with BENCH_SECRET, its secret token.
                               Unset: the update is queued at the emulator for a bridge that long-polls.

A conversation (tests/benchmarks/conversations.yml): sometimes a greeting, one opening question naming a
procedure (drawn from some 4,000: tests/benchmarks/openings.py, so that most are first-time questions), 2-4
follow-ups (typed or a button of the last answer), sometimes a thanks; then the user starts a new conversation, with
a new sender id unless BENCH_SESSIONS=long. Each task is one message, so locust's --stop-timeout lets every message
in flight finish. Latency of a message: from sending it until the bot's answer is there (REST: the HTTP response;
Telegram: the bridge's first sendMessage for that turn, as the emulator timed it).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import yaml
from locust import FastHttpUser, events, task

from actions.answers import ASPECTS, FEEDBACK_QUESTION, HUMAN_BUTTON
from bot import handlers
from tests.benchmarks.openings import pool

HERE = Path(__file__).resolve().parent
CONVERSATIONS = yaml.safe_load((HERE / "conversations.yml").read_text(encoding="utf-8"))
OPENINGS = pool(CONVERSATIONS["openings"])
LONG_SESSIONS = os.environ.get("BENCH_SESSIONS", "short") == "long"
THINK = tuple(float(x) for x in os.environ.get("BENCH_THINK", "0.5,1.5").split(","))
RECORDS: list[dict[str, Any]] = []
ANSWER_TIMEOUT = 120.0
# What the bridge says when it could not answer: a turn answered with one of these is an error.
BRIDGE_FAILURES = tuple(
    text.split("{")[0][:40]
    for text in (handlers.DELAYED, handlers.GAVE_UP, handlers.NO_REPLY, handlers.STORE_DOWN, handlers.FLOOD,
                 handlers.EXPIRED_BUTTON)  # fmt: skip
)
BUTTON_TITLES = {f"/{a.intent}": a.button for a in ASPECTS.values()}
STATIC_TITLES = {a.button for a in ASPECTS.values()} | {HUMAN_BUTTON["title"], "👍", "👎"}
NOT_CHOICES = ("Xem tiếp", "Trường hợp")  # under an answer: the next page, another case of the same procedure
_chat_ids = itertools.count(1)


def record(kind: str, started: float, ended: float, error: str = "") -> None:
    RECORDS.append({"kind": kind, "start": started, "end": ended, "ok": not error, "error": error[:200]})
    events.request.fire(request_type="turn", name=kind, response_time=(ended - started) * 1000,
                        response_length=0, exception=Exception(error) if error else None, context={})  # fmt: skip


@events.quitting.add_listener
def write_records(environment: Any, **kwargs: Any) -> None:
    path = os.environ.get("BENCH_RECORDS")
    if path:
        Path(path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")


class Script:
    """What one citizen says, step by step; a step is ("text", words) or ("button", payload)."""

    def __init__(self, rng: random.Random) -> None:
        steps: list[tuple[str, str]] = []
        if rng.random() < 0.2:
            steps.append(("text", rng.choice(CONVERSATIONS["greetings"])))
        steps.append(("opening", rng.choice(OPENINGS)))
        for follow_up in rng.sample(CONVERSATIONS["follow_ups"], rng.randint(2, 4)):
            steps.append(("button", follow_up["button"]) if isinstance(follow_up, dict) else ("text", follow_up))
        if rng.random() < 0.5:
            steps.append(("text", rng.choice(CONVERSATIONS["closings"])))
        self.steps = steps

    def next(self, buttons: list[tuple[str, str]], texts: list[str]) -> tuple[str, str, str | None]:
        """(kind, words or payload, the button token to press or None) for the next message, given the last answer's
        buttons [(title, token)] and texts. A clarification ("which procedure?") gets its first choice pressed."""
        asked_which = not any(FEEDBACK_QUESTION in t for t in texts)
        choices = [(title, token) for title, token in buttons
                   if title not in STATIC_TITLES and not title.startswith(NOT_CHOICES)]  # fmt: skip
        if asked_which and choices and self.steps[0][0] != "opening":
            return "choice", choices[0][0], choices[0][1]
        kind, value = self.steps.pop(0)
        if kind == "button":
            title = BUTTON_TITLES[value]
            token = next((tok for t, tok in buttons if t == title), None)
            return ("button", value, token) if token else ("typed-button", title, None)
        return kind, value, None


class Citizen(FastHttpUser):
    abstract = True
    network_timeout = ANSWER_TIMEOUT
    connection_timeout = 10.0

    def wait_time(self) -> float:
        return random.uniform(*THINK)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.lost_track = False  # an answer went missing: a late one would be taken for the next, so a new chat
        self.new_conversation()

    def new_conversation(self, new_chat: bool = False) -> None:
        self.script = Script(self.rng)
        if LONG_SESSIONS and not new_chat and hasattr(self, "sender"):
            return  # the same citizen goes on in the same chat and session
        self.new_chat()

    def new_chat(self) -> None:
        self.chat_id = int(os.environ.get("BENCH_RUN", "0")) * 10_000_000 + 1_000_000_000 + next(_chat_ids)
        self.sender = f"bench-{self.chat_id}"
        self.buttons: list[tuple[str, str]] = []
        self.texts: list[str] = []

    @task
    def say_next(self) -> None:
        if not self.script.steps:
            self.new_conversation(new_chat=self.lost_track)
            self.lost_track = False
        self.read_last_answer()
        kind, value, token = self.script.next(self.buttons, self.texts)
        self.send(kind, value, token)

    def read_last_answer(self) -> None:
        """Make sure self.buttons and self.texts hold the whole of the bot's last answer."""

    def send(self, kind: str, value: str, token: str | None) -> None:
        raise NotImplementedError


class RestCitizen(Citizen):
    """Through the REST channel, as the terminal chat and any web client talk to the bot."""

    def send(self, kind: str, value: str, token: str | None) -> None:
        body = {"sender": self.sender, "payload": token} if token else {"sender": self.sender, "message": value}
        started = time.time()
        error = ""
        replies: list[dict[str, Any]] = []
        with self.client.post("/webhooks/rest/webhook", json=body, name="rest", catch_response=True) as response:
            if response.status_code != 200:
                error = f"HTTP {response.status_code}"
            else:
                try:
                    replies = response.json()
                except ValueError:
                    error = "not JSON"
                if not error and not replies:
                    error = "no reply"
            if error:
                response.failure(error)
            else:
                response.success()
        record(kind, started, time.time(), error)
        self.buttons = [(b["title"], b["payload"]) for r in replies for b in r.get("buttons", [])]
        self.texts = [r.get("text", "") for r in replies]


class TelegramCitizen(Citizen):
    """Through the Telegram bridge: the update is posted to the bridge's webhook as Telegram posts it (or queued
    for a long-polling bridge), and the answer is the bridge's sendMessage recorded by the Bot API emulator."""

    def on_start(self) -> None:
        self.control = os.environ["BENCH_CONTROL"]
        self.webhook = os.environ.get("BENCH_WEBHOOK", "")
        self.secret = os.environ.get("BENCH_SECRET", "")
        self.update_ids = itertools.count(int(time.time() * 1000) * 1000 + random.randrange(1000))
        super().on_start()

    def new_chat(self) -> None:
        super().new_chat()
        self.seen = 0  # messages the bot has sent to this chat before the last turn
        self.last_messages: list[dict[str, Any]] = []

    def read_last_answer(self) -> None:
        """The previous answer may still be sending its last part (the feedback question): wait until the chat is
        quiet, then take every message of that turn."""
        if not self.last_messages:
            return
        settled = self.client.get(f"{self.control}/settle?chat={self.chat_id}&after={self.seen}",
                                  name="emulator: settle")  # fmt: skip
        if settled.status_code == 200:
            self.take(settled.json()["messages"])

    def take(self, messages: list[dict[str, Any]]) -> None:
        self.last_messages = messages
        self.buttons = [(b["text"], b.get("callback_data", "")) for m in messages
                        for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row]  # fmt: skip
        self.texts = [m["text"] for m in messages]

    def update(self, kind: str, value: str, token: str | None) -> dict[str, Any]:
        user = {"id": self.chat_id, "is_bot": False, "first_name": "Công dân", "language_code": "vi"}
        if token:
            message = next(m for m in self.last_messages if any(
                b.get("callback_data") == token
                for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row))  # fmt: skip
            message = {k: v for k, v in message.items() if k != "received"}
            return {"update_id": next(self.update_ids), "callback_query": {
                "id": str(next(self.update_ids)), "from": user, "chat_instance": str(self.chat_id),
                "message": message, "data": token}}  # fmt: skip
        chat = {"id": self.chat_id, "type": "private", "first_name": "Công dân"}
        return {"update_id": next(self.update_ids), "message": {
            "message_id": next(self.update_ids) % 2_000_000_000, "date": int(time.time()), "chat": chat,
            "from": user, "text": value}}  # fmt: skip

    def send(self, kind: str, value: str, token: str | None) -> None:
        self.seen += len(self.last_messages)
        update = self.update(kind, value, token)
        started = time.time()
        error = ""
        if self.webhook:
            posted = self.client.post(self.webhook, json=update, name="telegram: webhook",
                                      headers={"X-Telegram-Bot-Api-Secret-Token": self.secret})  # fmt: skip
        else:
            posted = self.client.post(f"{self.control}/update", json=update, name="emulator: queue update")
        messages: list[dict[str, Any]] = []
        if posted.status_code != 200:
            error = f"webhook HTTP {posted.status_code}"
        else:
            waited = self.client.get(f"{self.control}/wait?chat={self.chat_id}&after={self.seen}"
                                     f"&timeout={ANSWER_TIMEOUT:.0f}", name="emulator: wait for answer")  # fmt: skip
            if waited.status_code != 200:
                error = f"no answer within {ANSWER_TIMEOUT:.0f} s"
            else:
                answer = waited.json()
                self.seen, messages = int(answer["start"]), answer["messages"]
        ended = messages[0]["received"] if messages else time.time()
        if not error and any(m["text"].startswith(BRIDGE_FAILURES) for m in messages):
            error = "bridge: " + messages[0]["text"][:60]
        record(kind, started, ended, error)
        self.take(messages)
        if error:  # a late answer would be taken for the next one: this citizen starts a new conversation
            self.script.steps.clear()
            self.last_messages = []
            self.lost_track = True
