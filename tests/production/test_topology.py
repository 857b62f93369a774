"""The production profile serves citizens across replicas: a conversation spread over two Rasa replicas keeps its
procedure, messages of one conversation arriving together are processed one at a time (Redis lock store), and
two bridge replicas behind the balancer carry a Telegram conversation with buttons and a handoff. No secret is in
any process's arguments, and the profile's files are readable by their owner only."""

from __future__ import annotations

import concurrent.futures
import csv
import io
import os
import time
import urllib.parse
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa

from knowledge.text import fold
from scripts.production import SERVED_BY, ProductionStack, app_db_url
from scripts.services import Postgres, Redis
from scripts.stack import SECRET_NAMES, free_port, http_ok, rasa_command
from tests.exposure import readable_by_others, secrets_in_arguments
from tests.helpers import reply_text
from tests.production.conftest import new_sender
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import STAFF_CHAT

pytestmark = pytest.mark.production

MARRIAGE_QUESTION = "tôi muốn đăng ký kết hôn"
BURST = [  # what one impatient citizen types in a few seconds, before the first answer arrives
    "làm căn cước cần gì",
    "lam can cuoc o dau",
    "mất bao lâu",
    "có mất phí không",
    "nộp online được không",
    "cảm ơn",
]


def rest(base_url: str, sender: str, message: str) -> tuple[list[dict], str]:
    """One turn over the REST channel; also which replica answered (the balancer's header)."""
    response = httpx.post(f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=120)
    response.raise_for_status()
    return response.json(), response.headers.get(SERVED_BY, "")


def tracker_events(stack: ProductionStack, sender: str) -> list[dict]:
    response = httpx.get(stack.api(f"/conversations/{urllib.parse.quote(sender)}/tracker"), timeout=60)
    response.raise_for_status()
    return response.json()["events"]


def balancer_sessions(stack: ProductionStack) -> dict[str, int]:
    """Requests each replica has served so far, from HAProxy's statistics page."""
    text = httpx.get(f"http://127.0.0.1:{stack.stats_port}/;csv", timeout=10).text.lstrip("# ")
    rows = csv.DictReader(io.StringIO(text))  # a replica is in its kind's backend (and actions-admin: not counted)
    return {row["svname"]: int(row["stot"] or 0) for row in rows if row["pxname"] == row["svname"].rsplit("-", 1)[0]}


def test_a_conversation_spread_over_two_rasa_replicas_keeps_its_procedure(production: ProductionStack) -> None:
    sender = new_sender()
    first, first_replica = rest(production.rasa_url, sender, MARRIAGE_QUESTION)
    follow_up, second_replica = rest(production.rasa_url, sender, "thế mất phí không?")
    assert {first_replica, second_replica} == {"rasa-1", "rasa-2"}, "the balancer spread the two turns"
    assert "kết hôn" in reply_text(first).lower()
    assert "kết hôn" in reply_text(follow_up).lower(), "the second replica knew the procedure under discussion"
    assert "phí" in reply_text(follow_up).lower()
    engine = sa.create_engine(app_db_url(production.database_url))
    with engine.connect() as con:
        stored = con.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar()
        journal = con.execute(sa.text("SELECT count(*) FROM entries WHERE kind = 'answered'")).scalar()
    engine.dispose()
    assert stored and stored > 0, "the conversation is in PostgreSQL"
    assert journal and journal >= 2, "the action replicas write the journal to PostgreSQL"
    served = balancer_sessions(production)
    assert served.get("actions-1", 0) > 0 and served.get("actions-2", 0) > 0, served


def send_burst(urls: list[str], sender: str) -> None:
    """BURST's messages at once, alternately to each URL (a replica, bypassing the balancer)."""
    with concurrent.futures.ThreadPoolExecutor(len(BURST)) as pool:
        futures = [pool.submit(rest, urls[i % len(urls)], sender, text) for i, text in enumerate(BURST)]
        for future in futures:
            future.result()


def turn_anomalies(events: list[dict]) -> list[str]:
    """What a conversation processed one message at a time never shows: a message missing from the
    conversation, or a second message taken in before the first one was answered."""
    users = [e.get("text") for e in events if e.get("event") == "user"]
    problems = [f"lost: {text!r}" for text in BURST if text not in users]
    problems += [f"twice: {text!r}" for text in BURST if users.count(text) > 1]
    previous, latest = None, 0.0
    for event in events:
        kind = event.get("event")
        if kind == "user" and previous == "user":
            problems.append(f"interleaved before: {event.get('text')!r}")
        # Taken in while an earlier turn was still being answered: the tracker store saves each turn's own events
        # (channels/tracker_store.py), so two turns processed at once are both kept, in the order they ended, with
        # this message's time before the end of the turn stored ahead of it (the replicas share one clock here).
        if kind == "user" and event.get("timestamp", latest) < latest:
            problems.append(f"taken in before the previous turn was answered: {event.get('text')!r}")
        if kind in ("user", "bot"):
            previous = kind
        latest = max(latest, event.get("timestamp") or 0.0)
    return problems


def test_messages_of_one_conversation_are_processed_in_order_across_replicas(production: ProductionStack) -> None:
    replicas = [production.replica_url(name) for name in production.replica_names("rasa")]
    for _ in range(5):  # Rasa's own RedisLockStore lost a message in some bursts (channels/lock_store.py)
        sender = new_sender()
        send_burst(replicas, sender)
        assert turn_anomalies(tracker_events(production, sender)) == []


def test_without_the_lock_store_the_same_burst_is_garbled(production: ProductionStack) -> None:
    """The control experiment: the same two-replica setup with Rasa's default in-memory lock store."""
    names = ["unlocked-1", "unlocked-2"]
    ports = {name: free_port() for name in names}
    env = production.environment()
    try:
        for name in names:
            production.spawn_command(name, rasa_command(production.model, "endpoints.yml", ports[name]), env)
        token = urllib.parse.quote(env["RASA_API_TOKEN"])
        wait_until(lambda: all(http_ok(f"http://127.0.0.1:{p}/status?token={token}") for p in ports.values()), 300)
        replicas = [f"http://127.0.0.1:{port}" for port in ports.values()]
        seen: list[str] = []
        for _ in range(5):  # one burst is nearly always enough; a few more make it certain
            sender = new_sender()
            send_burst(replicas, sender)
            seen = turn_anomalies(tracker_events(production, sender))
            if seen:
                break
        print(f"\nwithout a shared lock store: {seen}")
        assert seen, "two replicas with in-memory locks should lose or interleave messages of one conversation"
    finally:
        for name in names:
            production.stop_process(name)


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def test_two_bridge_replicas_carry_a_telegram_conversation_with_buttons_and_a_handoff(
    production: ProductionStack, telegram: BotApiEmulator
) -> None:
    before = balancer_sessions(production)
    chat = 93001
    telegram.send_text(chat, "con mới sinh làm giấy khai sinh ở đâu")
    turn = telegram.wait_quiet(chat, quiet=2.0, timeout=90)
    assert any("khai sinh" in m["text"].lower() for m in turn)

    menu = next(m for m in turn if buttons_of(m))
    fee = next(data for title, data in buttons_of(menu).items() if "phí" in title.lower())
    count = len(telegram.sent(chat))
    telegram.press_button(menu, fee)
    reply = telegram.wait_for_messages(chat, 1, after=count, timeout=90)[0]
    assert "phí" in reply["text"].lower() and "khai sinh" in reply["text"].lower()
    telegram.wait_quiet(chat, quiet=2.0)

    telegram.send_text(chat, "tôi muốn gặp cán bộ")
    request = telegram.wait_for_text(STAFF_CHAT, "Yêu cầu gặp cán bộ", timeout=90)
    assert f"chat {chat}" in request["text"]
    telegram.send_text(chat, "con tôi sinh ở nước ngoài thì sao")
    relayed = telegram.wait_for_text(STAFF_CHAT, "sinh ở nước ngoài", timeout=60)
    telegram.send_text(STAFF_CHAT, "Chị nộp tại UBND xã nhé.", user_id=7007, chat_type="supergroup",
                       reply_to=relayed)  # fmt: skip
    telegram.wait_for_text(chat, "Chị nộp tại UBND xã nhé.", timeout=60)
    telegram.send_text(STAFF_CHAT, "/done", user_id=7007, chat_type="supergroup", reply_to=request)
    telegram.wait_for_text(chat, "trợ lý tự động tiếp tục", timeout=60)
    count = len(telegram.wait_quiet(chat, quiet=2.0))
    telegram.send_text(chat, "lam can cuoc can gi")
    back = telegram.wait_for_messages(chat, 1, after=count, timeout=90)[0]
    assert "can cuoc" in fold(back["text"]), "back with the bot"

    after = balancer_sessions(production)
    served = {name: after.get(name, 0) - before.get(name, 0) for name in production.replica_names("bridge")}
    assert all(n > 0 for n in served.values()), f"both bridge replicas took updates: {served}"
    assert all(status == 200 for _, status in telegram.state.webhook_deliveries), "every update was accepted"


def buttons_of(message: dict) -> dict[str, str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


SECRETS = (*SECRET_NAMES, "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "REDIS_PASSWORD")


def test_no_secret_is_in_any_process_arguments(production: ProductionStack, postgres: Postgres,
                                               redis_server: Redis) -> None:  # fmt: skip
    """Rasa and bridge replicas, action servers, HAProxy, Redis, PostgreSQL's server processes: `ps` shows every
    process's arguments to every user of the machine."""
    env = production.environment()
    secrets = {name: env[name] for name in SECRETS} | {"database password": postgres.password}
    assert redis_server.password == env["REDIS_PASSWORD"]
    postmaster = int((postgres.data / "postmaster.pid").read_text().split()[0])  # PostgreSQL runs detached
    assert secrets_in_arguments(secrets, [os.getpid(), postmaster]) == []
    assert readable_by_others(production.var_dir) == [], "logs, secrets, the balancer's configuration"
    assert redis_server.base and readable_by_others(redis_server.base) == [], "its configuration has the password"
    assert postgres.base and readable_by_others(postgres.base) == [], "the database: conversations, journal"
