"""The fault suite (`make test-faults`): the production profile carries Telegram conversations while one part
fails, and no citizen's message is lost.

Each test runs a few citizens' conversations through the Bot API emulator -> balancer -> bridge replicas ->
Rasa replicas -> action replicas, breaks one thing mid-way, and counts per message: answered, lost (no answer
within the turn's time limit), duplicated (the same answer delivered twice), and what the citizen saw meanwhile.
The counts are printed at the end of the run. A supervisor (scripts/serve.py's) restarts crashed children, as
in `make serve`.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from scripts.production import ProductionStack
from scripts.serve import Supervisor, supervise_in_background
from scripts.services import Postgres, Redis
from scripts.stack import http_ok
from tests.production.counts import FAULT_COUNTS, FaultCount
from tests.telegram.bot_api_emulator import BotApiEmulator

pytestmark = [pytest.mark.production, pytest.mark.faults]

TURN_TIMEOUT = 120.0  # an answer later than this counts as lost
DELAY_NOTICE = "chậm hơn"  # words of the bridge's "the answer is coming later" notice
FEEDBACK = "Câu trả lời có hữu ích không?"  # asked after an answer, as a message of its own (actions/answers.py)
QUESTIONS = [  # each answer names another procedure or aspect, so a repeated answer is a duplicate
    "làm căn cước cần gì",
    "đăng ký kết hôn nộp ở đâu",
    "xin giấy khai sinh cho con mất bao lâu",
    "cấp hộ chiếu lệ phí bao nhiêu",
    "đăng ký thường trú cần giấy tờ gì",
    "khai tử cho người nhà làm ở đâu",
]


@dataclass
class Conversation:
    """One citizen's chat: what was asked, and the first answer message of each turn."""

    chat: int
    questions: list[str]
    answers: list[str | None] = field(default_factory=list)
    notices: int = 0


def ask_all(telegram: BotApiEmulator, conversation: Conversation, pause: float = 0.3) -> None:
    """Ask every question in turn, each after the previous one was answered (or given up on)."""
    chat = conversation.chat
    for question in conversation.questions:
        before = len(telegram.sent(chat))
        telegram.send_text(chat, question)
        try:
            first = telegram.wait_for(lambda n=before: next_answer(telegram, chat, n), TURN_TIMEOUT, "an answer")
        except AssertionError:
            conversation.answers.append(None)
            continue
        conversation.answers.append(first["text"])
        # The rest of the turn (the feedback question), which the bridge's pacing (3 messages in 3 s per chat) may
        # hold back a second or two: otherwise it would be taken for the next turn's answer.
        telegram.wait_quiet(chat, quiet=2.5, timeout=TURN_TIMEOUT)
        time.sleep(pause)


def is_answer(text: str) -> bool:
    return DELAY_NOTICE not in text and text != FEEDBACK


def next_answer(telegram: BotApiEmulator, chat: int, after: int) -> dict | None:
    return next((m for m in telegram.sent(chat)[after:] if is_answer(m["text"])), None)


def tally(name: str, telegram: BotApiEmulator, conversations: list[Conversation], outcome: str) -> FaultCount:
    """Settle, then count over every chat: a turn's answer delivered more than once is a duplicate."""
    time.sleep(3)  # a late duplicate (a retried send) would arrive now
    count = FaultCount(name, outcome=outcome)
    for conversation in conversations:
        texts = [m["text"] for m in telegram.sent(conversation.chat)]
        count.sent += len(conversation.questions)
        count.answered += sum(answer is not None for answer in conversation.answers)
        count.lost += sum(answer is None for answer in conversation.answers)
        count.duplicated += sum(texts.count(a) - 1 for a in set(conversation.answers) if a is not None)
        count.notices += sum(DELAY_NOTICE in text for text in texts)
    FAULT_COUNTS.append(count)
    print(f"\n{count.line()}")
    return count


class Load:
    """`citizens` conversations running in threads while a test breaks something."""

    def __init__(self, telegram: BotApiEmulator, first_chat: int, citizens: int = 4, turns: int = 5) -> None:
        self.telegram = telegram
        self.conversations = [
            Conversation(first_chat + i, [QUESTIONS[(i + t) % len(QUESTIONS)] for t in range(turns)])
            for i in range(citizens)
        ]
        self.threads = [
            threading.Thread(target=ask_all, args=(telegram, c), daemon=True) for c in self.conversations
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for thread in self.threads:
            thread.join(TURN_TIMEOUT * 8)

    def wait_for_turns(self, turns: int = 1) -> None:
        """Until every citizen has had `turns` answers: the fault then hits conversations in progress."""
        deadline = time.monotonic() + TURN_TIMEOUT
        while any(len(c.answers) < turns for c in self.conversations):
            assert time.monotonic() < deadline, "the conversations did not get going"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def supervised(production: ProductionStack) -> Iterator[ProductionStack]:
    """The supervisor of `make serve`, restarting crashed replicas while the faults run."""
    stop = supervise_in_background(Supervisor(production, production.spawners()))
    yield production
    stop()


def wait_healthy(stack: ProductionStack, name: str, timeout: float = 180.0) -> None:
    url = stack.health_checks()[name]
    deadline = time.monotonic() + timeout
    while not http_ok(url):
        assert time.monotonic() < deadline, f"{name} did not come back"
        time.sleep(0.5)


def kill(stack: ProductionStack, name: str) -> None:
    os.killpg(stack.processes[name].pid, signal.SIGKILL)


def run_fault(
    name: str, telegram: BotApiEmulator, first_chat: int, break_it: Callable[[], None], outcome: str, **load: int
) -> FaultCount:
    with Load(telegram, first_chat, **load) as running:
        running.wait_for_turns(1)
        break_it()
    count = tally(name, telegram, running.conversations, outcome)
    assert count.lost == 0, count.line()
    return count


def test_rasa_replica_killed_under_load(supervised: ProductionStack, telegram: BotApiEmulator) -> None:
    killed = supervised.processes["rasa-1"].pid
    count = run_fault(
        "Rasa replica killed -9", telegram, 710_000, lambda: kill(supervised, "rasa-1"),
        "answered by the other replica; HAProxy resends a request the dead one never answered",
    )  # fmt: skip
    assert count.duplicated == 0, count.line()
    wait_healthy(supervised, "rasa-1")
    assert supervised.processes["rasa-1"].pid != killed, "the supervisor started a new rasa-1"


def test_action_server_killed_and_restarted(supervised: ProductionStack, telegram: BotApiEmulator) -> None:
    def break_it() -> None:
        kill(supervised, "actions-2")
        wait_healthy(supervised, "actions-2")  # restarted by the supervisor, index loaded

    count = run_fault("action server killed, restarted", telegram, 720_000, break_it,
                      "answered by the other action replica meanwhile")  # fmt: skip
    assert count.duplicated == 0, count.line()


def test_postgresql_restarted(supervised: ProductionStack, postgres: Postgres, telegram: BotApiEmulator) -> None:
    count = run_fault("PostgreSQL restarted", telegram, 730_000, postgres.restart,
                      "answers resume after the restart; a delay notice at most once per message")  # fmt: skip
    assert count.duplicated == 0, count.line()
    assert count.notices <= count.sent


def test_redis_restarted(supervised: ProductionStack, redis_server: Redis, telegram: BotApiEmulator) -> None:
    count = run_fault("Redis restarted", telegram, 740_000, redis_server.restart,
                      "answers resume; the lock store reconnects")  # fmt: skip
    assert count.duplicated == 0, count.line()


def test_bot_api_429_5xx_and_late_answers(supervised: ProductionStack, telegram: BotApiEmulator) -> None:
    late = 2

    def break_it() -> None:
        telegram.fail_next("sendMessage", 2, status=429, retry_after=1)
        telegram.fail_next("sendMessage", 2, status=502)
        telegram.answer_late("sendMessage", late, delay=8.0)  # the bridge gives up waiting after 5 s

    calls_before = len(telegram.calls("sendMessage"))
    count = run_fault(
        "Bot API 429, 5xx, late answers", telegram, 750_000, break_it,
        "every answer delivered; a message Telegram took but answered too late is sent again",
    )  # fmt: skip
    statuses = [call.status for call in telegram.calls("sendMessage")[calls_before:]]
    assert statuses.count(429) == 2 and statuses.count(502) == 2, "the faults were served"
    # Telegram has no idempotency key: a send that timed out after Telegram took it can only be retried or
    # dropped. We retry (nothing lost), so each late answer may show once more; never more than that.
    assert count.duplicated <= late, count.line()


def test_corrupt_knowledge_file_published(
    supervised: ProductionStack, telegram: BotApiEmulator, knowledge_copy
) -> None:
    broken = knowledge_copy.knowledge_dir / "procedures" / "zz-hong.yml"
    env = supervised.environment()
    admin = {"Authorization": f"Bearer {env['ADMIN_API_TOKEN']}"}
    report: dict = {}

    def break_it() -> None:
        broken.write_text("id: zz-hong\nname: [chưa đóng ngoặc\nfee: 50.000 đồng\n", encoding="utf-8")
        response = httpx.post(f"{supervised.action_url}/admin/reload", headers=admin, timeout=900)
        report.update(response.json())

    try:
        count = run_fault("corrupt knowledge file published", telegram, 760_000, break_it,
                          "refused with file and line; the previous index keeps answering")  # fmt: skip
    finally:
        broken.unlink(missing_ok=True)
    assert report.get("ok") is False, report
    assert "zz-hong.yml" in str(report), "the report names the broken file"
    assert count.duplicated == 0, count.line()


def test_log_directory_unwritable(supervised: ProductionStack, telegram: BotApiEmulator) -> None:
    log_dir = supervised.log_dir
    kept = log_dir.with_name("log-kept")

    def break_it() -> None:
        log_dir.rename(kept)
        log_dir.write_text("not a directory: nothing can be written under it\n")  # also stops root
        kill(supervised, "actions-1")
        wait_healthy(supervised, "actions-1")  # the supervisor restarted it without a log file

    try:
        count = run_fault("log directory unwritable", telegram, 770_000, break_it,
                          "answers go on; a crashed replica restarts, logging to the supervisor's output")  # fmt: skip
    finally:
        if log_dir.is_file():
            log_dir.unlink()
        if kept.exists():
            shutil.move(str(kept), str(log_dir))
    assert count.duplicated == 0, count.line()


def test_flood_from_one_chat(supervised: ProductionStack, telegram: BotApiEmulator) -> None:
    flooder = 780_999
    flood = 60

    def break_it() -> None:
        for i in range(flood):
            telegram.send_text(flooder, f"spam {i} làm căn cước")

    count = run_fault("flood from one chat", telegram, 780_000, break_it,
                      "other citizens answered as usual; the flooder is told to slow down")  # fmt: skip
    assert count.duplicated == 0, count.line()
    telegram.wait_quiet(flooder, quiet=3.0, timeout=300)
    told = [m["text"] for m in telegram.sent(flooder) if "nhanh" in m["text"].lower()]
    assert told, "the flooding chat is told, politely, that it sends too fast"
    assert len(telegram.sent(flooder)) < flood, "a flood is not answered message by message"
