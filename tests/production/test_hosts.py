"""The production profile across hosts (`make test-hosts`): the same replicas as tests/production/conftest.py, each
on a host of its own — network namespaces this test makes (tests/production/hosts.py) on a private network that
reaches nothing else:

    telegram  10.200.0.1    this test and the Bot API emulator
    data      10.200.0.2    PostgreSQL :5432, Redis :6379, HAProxy (Rasa :5005, actions :5055, webhook :8443)
    app-1     10.200.0.11   rasa-1 :5011, actions-1 :5061, bridge-1 :8451
    app-2     10.200.0.12   rasa-2 :5011, actions-2 :5061, bridge-2 :8451

Every address reaches the processes through their settings (MOCUA_DATABASE_URL, MOCUA_REDIS_URL, BALANCER_INTERFACE,
each replica's host, TELEGRAM_BASE_URL, TELEGRAM_WEBHOOK_URL): a host name written into the code (127.0.0.1) points
at a host's own loopback, where nothing of the others listens, and the conversation fails. Then a whole application
host disappears in the middle of citizens' conversations (its cable is pulled), and the other host carries them on.
"""

from __future__ import annotations

import contextlib
import csv
import io
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from knowledge.text import fold
from scripts.production import Host, ProductionStack, Replicas, app_db_url
from scripts.services import Postgres, Redis
from scripts.stack import ROOT
from tests.production.counts import FAULT_COUNTS, FaultCount
from tests.production.hosts import Network, remove_stale
from tests.production.test_faults import DELAY_NOTICE, TURN_TIMEOUT, Conversation, is_answer
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import ADMIN_ID, STAFF_CHAT

pytestmark = [pytest.mark.production, pytest.mark.hosts]

HOSTS = {"telegram": "10.200.0.1", "data": "10.200.0.2", "app-1": "10.200.0.11", "app-2": "10.200.0.12"}
PLACEMENT = {f"{kind}-{n}": f"app-{n}" for kind in ("rasa", "actions", "bridge") for n in (1, 2)}
PORTS = {"rasa": 5011, "actions": 5061, "bridge": 8451}  # the same on both hosts, as with the systemd units
HOSTS_VAR = ROOT / "var/test-hosts"
WEBHOOK_PATH = "/telegram/webhook"
# PostgreSQL notices a vanished client within seconds instead of hours (the kernel's default keepalive), and ends its
# session: the bridge's chat locks (advisory locks) that session held are free again (docs/deploy.md, "Several hosts").
NOTICE_VANISHED_CLIENTS = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3",
                           "tcp_user_timeout": "10000"}  # fmt: skip
# Questions the bot answers at once (no "which case?" back), each about another procedure, named in its answer.
TOPICS = {
    "làm căn cước cần gì": "can cuoc",
    "đăng ký kết hôn nộp ở đâu": "ket hon",
    "xin giấy khai sinh cho con mất bao lâu": "khai sinh",
    "cấp hộ chiếu lệ phí bao nhiêu": "ho chieu",
    "khai tử làm ở đâu": "khai tu",
}
QUESTIONS = list(TOPICS)


@dataclass
class Cluster:
    network: Network
    production: ProductionStack
    postgres: Postgres
    telegram: BotApiEmulator

    def address(self, host: str) -> str:
        return self.network.addresses[host]


@pytest.fixture(scope="module")
def network(knowledge_copy) -> Iterator[Network]:
    """The hosts; this test's thread runs on "telegram" meanwhile. Everything is removed at the end, also after a
    failure: the processes in the namespaces (all started by this test) are killed with them."""
    remove_stale()
    hosts = Network(HOSTS)
    try:
        hosts.create()
        with hosts.inside("telegram"):
            yield hosts
    finally:
        hosts.destroy()


@pytest.fixture(scope="module")
def cluster(network: Network, knowledge_copy) -> Iterator[Cluster]:
    data = network.addresses["data"]
    with contextlib.ExitStack() as started:
        postgres = Postgres(port=5432, host=data, launcher=network.launcher("data"), settings=NOTICE_VANISHED_CLIENTS)
        started.callback(postgres.stop)
        postgres.start()
        redis = Redis(port=6379, host=data, launcher=network.launcher("data"))
        started.callback(redis.stop)
        redis.start()
        telegram = BotApiEmulator(host=network.addresses["telegram"], port=8081).start()
        started.callback(telegram.stop)
        production = ProductionStack(
            rasa_port=5005,
            action_port=5055,
            bridge_port=8443,
            bridge_interface=data,
            stats_port=8404,
            var_dir=HOSTS_VAR,
            database_url=postgres.url(),
            redis_url=redis.url(),
            replicas=Replicas(rasa=2, actions=2, bridge=2),
            replica_ports={name: PORTS[name.split("-")[0]] for name in PLACEMENT},
            balancer=Host(data, network.launcher("data")),
            hosts={name: Host(network.addresses[host], network.launcher(host)) for name, host in PLACEMENT.items()},
            extra_env={
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_BASE_URL": telegram.base_url,
                "TELEGRAM_WEBHOOK_URL": f"http://{data}:8443{WEBHOOK_PATH}",
                "STAFF_CHAT_ID": str(STAFF_CHAT),
                "ADMIN_USER_IDS": str(ADMIN_ID),
                "BOT_RASA_NOTICE_AFTER": "20",
                "MOCUA_BOT_DB": "/nonexistent/bridge-must-use-postgresql.db",
                "MOCUA_INDEX_DIR": str(knowledge_copy.index_dir),  # one shared directory, as NFS would be
                "MOCUA_KNOWLEDGE_DIR": str(knowledge_copy.knowledge_dir),
            },
        )
        started.callback(production.stop)
        production.start()
        yield Cluster(network, production, postgres, telegram)


def balancer_rows(cluster: Cluster) -> dict[str, dict[str, str]]:
    """HAProxy's statistics per replica (each kind's own backend): status UP/DOWN and requests served (stot)."""
    text = httpx.get(cluster.production.stats_url + ";csv", timeout=10).text.lstrip("# ")
    rows = csv.DictReader(io.StringIO(text))
    return {row["svname"]: row for row in rows if row["pxname"] == row["svname"].rsplit("-", 1)[0]}


def listening(cluster: Cluster, host: str) -> set[str]:
    """The addresses of every listening TCP socket on `host`."""
    command = [*cluster.network.launcher(host), "ss", "-Hltn"]
    lines = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout.splitlines()
    return {line.split()[3].rsplit(":", 1)[0] for line in lines}


def test_a_telegram_conversation_is_served_by_both_application_hosts(cluster: Cluster) -> None:
    telegram = cluster.telegram
    before = {name: int(row["stot"] or 0) for name, row in balancer_rows(cluster).items()}
    chat = 810_001
    telegram.send_text(chat, "con mới sinh làm giấy khai sinh ở đâu")
    turn = telegram.wait_quiet(chat, quiet=2.0, timeout=120)
    assert any("khai sinh" in m["text"].lower() for m in turn), turn
    menu = next(m for m in turn if m.get("reply_markup"))
    buttons = {b["text"]: b["callback_data"] for row in menu["reply_markup"]["inline_keyboard"] for b in row}
    fee = next(data for title, data in buttons.items() if "phí" in title.lower())
    count = len(telegram.sent(chat))
    telegram.press_button(menu, fee)
    reply = telegram.wait_for_messages(chat, 1, after=count, timeout=120)[0]
    assert "phí" in reply["text"].lower() and "khai sinh" in reply["text"].lower()
    telegram.wait_quiet(chat, quiet=2.0)
    for question in ("thế mất bao lâu", "làm căn cước cần gì"):
        count = len(telegram.sent(chat))
        telegram.send_text(chat, question)
        telegram.wait_for_messages(chat, 1, after=count, timeout=120)
        telegram.wait_quiet(chat, quiet=2.0)

    # An admin's /stats: the bridge asks the action servers through the balancer (ACTION_ADMIN_URL).
    count = len(telegram.sent(ADMIN_ID))
    telegram.send_text(ADMIN_ID, "/stats")
    stats = telegram.wait_for_messages(ADMIN_ID, 1, after=count, timeout=60)[0]
    assert "Chỉ mục tri thức đang dùng" in stats["text"], stats["text"]

    after = balancer_rows(cluster)
    served = {name: int(row["stot"] or 0) - before.get(name, 0) for name, row in after.items()}
    assert all(served[name] > 0 for name in PLACEMENT), f"every replica on both hosts served: {served}"
    for host in ("app-1", "app-2"):
        assert listening(cluster, host) == {cluster.address(host)}, f"{host}'s replicas listen on its address only"
    assert listening(cluster, "data") == {cluster.address("data")}, "PostgreSQL, Redis and HAProxy too"


def converse(telegram: BotApiEmulator, conversation: Conversation, waits: list[float]) -> None:
    """Ask each question once the previous one was answered (or given up on); note each turn's answer, and in
    `waits` how long it took."""
    chat = conversation.chat
    for question in conversation.questions:
        before = len(telegram.sent(chat))
        asked = time.monotonic()
        telegram.send_text(chat, question)

        def answer(after: int = before) -> dict | None:
            return next((m for m in telegram.sent(chat)[after:] if is_answer(m["text"])), None)

        try:
            conversation.answers.append(telegram.wait_for(answer, TURN_TIMEOUT, "an answer")["text"])
        except AssertionError:
            conversation.answers.append(None)
            continue
        waits.append(time.monotonic() - asked)
        # The rest of the turn (the feedback question), which the bridge's pacing may hold back a second or two.
        telegram.wait_quiet(chat, quiet=2.5, timeout=TURN_TIMEOUT)


@dataclass
class Citizens:
    """`count` citizens in conversation at once, each asking `turns` questions (each a different one)."""

    telegram: BotApiEmulator
    first_chat: int
    count: int = 4
    turns: int = 5

    def __post_init__(self) -> None:
        self.conversations = [
            Conversation(self.first_chat + i, [QUESTIONS[(i + t) % len(QUESTIONS)] for t in range(self.turns)])
            for i in range(self.count)
        ]
        self.waits: list[float] = []
        self.threads = [threading.Thread(target=converse, args=(self.telegram, c, self.waits), daemon=True)
                        for c in self.conversations]  # fmt: skip

    def __enter__(self) -> Citizens:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for thread in self.threads:
            thread.join(TURN_TIMEOUT * (self.turns + 1))

    def wait_for_turns(self, turns: int) -> None:
        deadline = time.monotonic() + TURN_TIMEOUT * turns
        while any(len(c.answers) < turns for c in self.conversations):
            assert time.monotonic() < deadline, "the conversations did not get going"
            time.sleep(0.1)

    def tally(self, fault: str, outcome: str) -> FaultCount:
        """Settle, then count: a turn's answer delivered more than once is a duplicate."""
        time.sleep(3)  # a late duplicate (a retried send) would arrive now
        count = FaultCount(fault, outcome=outcome)
        for conversation in self.conversations:
            answers = [m["text"] for m in self.telegram.sent(conversation.chat) if is_answer(m["text"])]
            count.sent += len(conversation.questions)
            count.answered += sum(answer is not None for answer in conversation.answers)
            count.lost += sum(answer is None for answer in conversation.answers)
            count.duplicated += len(answers) - len(set(answers))
            count.notices += sum(DELAY_NOTICE in m["text"] for m in self.telegram.sent(conversation.chat))
        FAULT_COUNTS.append(count)
        print(f"\n{count.line()}")
        return count


def bridge_pending(cluster: Cluster, name: str, fresh: float | None = None) -> list[int]:
    """Ids of the messages replica `name` owns in the bridge's table of unanswered messages (if `fresh`, only those
    it took in the last `fresh` seconds). The owner is `host:pid:random` (bot/store.py's replica_id)."""
    query = "SELECT id FROM bot_pending WHERE owner LIKE :owner"
    values: dict[str, object] = {"owner": f"%:{cluster.production.processes[name].pid}:%"}
    if fresh is not None:
        query += " AND created > :since"
        values["since"] = time.time() - fresh
    engine = sa.create_engine(app_db_url(cluster.production.database_url))
    try:
        with engine.connect() as con:
            return [int(row[0]) for row in con.execute(sa.text(query), values)]
    finally:
        engine.dispose()


def still_pending(cluster: Cluster, ids: list[int] | None = None) -> list[int]:
    engine = sa.create_engine(app_db_url(cluster.production.database_url))
    try:
        with engine.connect() as con:
            found = [int(row[0]) for row in con.execute(sa.text("SELECT id FROM bot_pending"))]
    finally:
        engine.dispose()
    return [i for i in found if ids is None or i in ids]


def pull_the_cable(cluster: Cluster, host: str, timeout: float = 120.0) -> list[int]:
    """Cut `host` off at a moment its bridge has just taken a citizen's message and not answered it yet (so that
    message is certainly left to the other host): the host is frozen for the instant of the cut, then runs on,
    unreachable. Returns the ids of the messages its bridge held."""
    bridge = next(name for name, placed in PLACEMENT.items() if placed == host and name.startswith("bridge"))
    deadline = time.monotonic() + timeout
    while not bridge_pending(cluster, bridge, fresh=0.1):
        assert time.monotonic() < deadline, f"{bridge} took no message"
        time.sleep(0.02)
    cluster.network.freeze(host)
    try:
        cluster.network.cut(host)
    finally:
        cluster.network.thaw(host)
    return bridge_pending(cluster, bridge)


def transcripts(telegram: BotApiEmulator, conversations: list) -> str:
    """What each citizen asked and was sent, for a failure's message."""
    lines = []
    for conversation in conversations:
        lines.append(f"chat {conversation.chat}: asked {conversation.questions}")
        lines += [f"    got: {m['text'][:150]!r}" for m in telegram.sent(conversation.chat)]
    return "\n".join(lines)


def wait_until_retaken(cluster: Cluster, orphans: list[int], timeout: float = 120.0) -> None:
    """Until the other host's bridge has taken over and answered what the lost one held: when their lease (30 s)
    runs out. Its answer to a message the lost bridge had answered but not marked is the late-answer duplicate."""
    deadline = time.monotonic() + timeout
    while still_pending(cluster, orphans):
        assert time.monotonic() < deadline, f"messages {still_pending(cluster, orphans)} were never retaken"
        time.sleep(1)


def test_a_whole_application_host_disappears_mid_conversation(cluster: Cluster) -> None:
    telegram = cluster.telegram
    orphans: list[int] = []
    with Citizens(telegram, 820_000, count=4, turns=5) as running:
        running.wait_for_turns(2)
        orphans = pull_the_cable(cluster, "app-1")
    wait_until_retaken(cluster, orphans)
    waits = sorted(running.waits)
    count = running.tally("a whole host disappears (cable cut)",
                          f"app-2 carries on; {len(orphans)} message(s) app-1's bridge held retaken; answers within "
                          f"{waits[len(waits) // 2]:.1f} s (median), {waits[-1]:.0f} s (slowest)")  # fmt: skip

    assert count.lost == 0, f"{count.line()}\n{transcripts(telegram, running.conversations)}"
    for conversation in running.conversations:
        # The citizen's view: each question answered, about what was asked, one after the other.
        topics = [TOPICS[question] for question in conversation.questions]
        answers = [fold(answer or "") for answer in conversation.answers]
        assert all(topic in answer for topic, answer in zip(topics, answers, strict=True)), (
            conversation.chat, list(zip(conversation.questions, conversation.answers, strict=True)))
        delivered = [m["text"] for m in telegram.sent(conversation.chat) if is_answer(m["text"])]
        assert list(dict.fromkeys(delivered)) == conversation.answers, (
            f"in order, nothing else\n{transcripts(telegram, [conversation])}")
    assert orphans, "app-1's bridge held a message when its cable was pulled"
    assert still_pending(cluster) == [], "nothing is left unanswered"
    # Telegram has no idempotency key: an answer app-1 delivered just before the cut, but could not mark as sent,
    # is sent again by app-2 (the late-answer kind). Nothing else is duplicated.
    assert count.duplicated <= len(orphans), f"{count.line()}\n{transcripts(telegram, running.conversations)}"
    status = {name: row["status"] for name, row in balancer_rows(cluster).items()}
    assert all(status[name].startswith("DOWN") for name, host in PLACEMENT.items() if host == "app-1"), status
    assert all(status[name] == "UP" for name, host in PLACEMENT.items() if host == "app-2"), status
