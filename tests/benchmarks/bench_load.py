"""Load benchmark (`make bench`; run on purpose, never a test): concurrent citizens' conversations against the real
servers, with locust (headless) as the load tool.

For each profile — embedded (one Rasa, one action server: scripts/stack.py) and production with 1 and 2
replicas of everything (scripts/production.py: HAProxy, PostgreSQL, Redis) — and for each channel — the REST
channel, and Telegram through the bridge against the Bot API emulator (tests/telegram/bot_api_emulator.py) — it
runs 20 and 100 concurrent conversations (tests/benchmarks/locustfile.py, conversations.yml) and prints, per run,
latency p50/p95/p99, sustained messages per second, errors, and the peak RSS and the CPU per message of every
process. Openings are drawn from some 4,000 questions (tests/benchmarks/openings.py), so most are asked for the first
time; each run prints how many query embeddings the action servers computed and how many came from their cache
(GET /admin/stats). Next to these short conversations (a new sender id for each), a long-session run at the
smallest count keeps one sender id per citizen for the whole run (channel "rest-long", "telegram-long"), as a
Telegram chat does. Then the summary line (short conversations only):

    bench: p50 X ms p95 Y ms throughput Z msg/s errors E rss W MB

  p50, p95    the embedded profile, REST channel, 20 concurrent conversations (the latency target's setting)
  throughput  the best profile on the REST channel at 100 concurrent conversations (the throughput target's)
  errors      every failed message of every run
  rss         the embedded profile's peak: Rasa + action server + bridge, sampled together

Options: --quick (15 s measured per run instead of 60), --profiles embedded,production-1,production-2,
--channels rest,telegram, --users 20,100, --think 0.5,1.5, --sessions short,long. The whole run takes about 25
minutes; --quick about 10.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from actions.answers import FEEDBACK_QUESTION  # noqa: E402
from scripts.chat import send  # noqa: E402
from scripts.production import ProductionStack, Replicas  # noqa: E402
from scripts.services import Postgres, Redis  # noqa: E402
from scripts.stack import APP_PYTHON, Stack, free_port  # noqa: E402
from tests.telegram.bot_api_emulator import BotApiEmulator  # noqa: E402

HERE = Path(__file__).resolve().parent
LOCUST = ROOT / ".venv/app/bin/locust"
VAR = ROOT / "var/bench"
WEBHOOK_PATH = "/telegram/webhook"
PROFILES = {"embedded": None, "production-1": Replicas(1, 1, 1), "production-2": Replicas(2, 2, 2)}
TARGETS = {"p50": 60.0, "p95": 150.0, "throughput": 60.0, "embedded_rss": 2048.0}


# ---------------------------------------------------------------------------------------- the Telegram side


class BenchEmulator(BotApiEmulator):
    """The Bot API emulator, plus what a load test needs of it: each chat's messages with the time they arrived,
    a long-poll to wait for a chat's answer, and state that does not grow for the whole benchmark."""

    def __init__(self) -> None:
        super().__init__()
        self.by_chat: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.waiters: dict[int, asyncio.Event] = {}
        self.control_port = free_port()

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        result = await super()._api_sendMessage(params)
        if isinstance(result, dict):
            chat = int(result["chat"]["id"])
            self.by_chat[chat].append({**result, "received": time.time()})
            if chat in self.waiters:
                self.waiters[chat].set()
        return result

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    def start(self) -> BenchEmulator:
        super().start()
        asyncio.run_coroutine_threadsafe(self._start_control(), self._loop).result(10)
        return self

    async def _start_control(self) -> None:
        app = web.Application()
        app.router.add_post("/update", self._queue_update)
        app.router.add_get("/wait", self._wait)
        app.router.add_get("/settle", self._settle)
        self._control = web.AppRunner(app, access_log=None)
        await self._control.setup()
        await web.TCPSite(self._control, "127.0.0.1", self.control_port).start()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._control.cleanup(), self._loop).result(10)
        super().stop()

    def reset(self) -> None:
        """Forget the previous run's traffic (the emulator keeps every call otherwise)."""

        def clear() -> None:
            for kept in (self.state.calls, self.state.sent, self.state.messages, self.by_chat, self.state.chats):
                kept.clear()

        self._run(clear)

    async def _queue_update(self, request: web.Request) -> web.Response:
        """For a long-polling bridge: queue the update as Telegram would (its id is the emulator's own)."""
        update = await request.json()
        update["update_id"] = next(self._ids)
        self.state.updates.append(update)
        assert self._new_update is not None
        self._new_update.set()
        return web.json_response({"ok": True})

    def _answer_from(self, chat: int, after: int) -> int | None:
        """Index of the first message of this turn's answer: the first one from `after` on that is not the
        previous turn's late feedback question."""
        messages = self.by_chat[chat]
        for index in range(after, len(messages)):
            if messages[index]["text"] != FEEDBACK_QUESTION or index > after:
                return index
        return None

    async def _wait(self, request: web.Request) -> web.Response:
        chat, after = int(request.query["chat"]), int(request.query["after"])
        deadline = time.monotonic() + float(request.query.get("timeout", 120))
        while (start := self._answer_from(chat, after)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return web.json_response({"error": "no answer"}, status=504)
            event = self.waiters.setdefault(chat, asyncio.Event())
            event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        self.waiters.pop(chat, None)
        return web.json_response({"start": start, "messages": self.by_chat[chat][start:]})

    async def _settle(self, request: web.Request) -> web.Response:
        """The chat's messages from `after` on, once none has arrived for 0.3 s (a whole turn was delivered)."""
        chat, after = int(request.query["chat"]), int(request.query["after"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            messages = self.by_chat[chat]
            if not messages or time.time() - messages[-1]["received"] >= 0.3:
                break
            await asyncio.sleep(0.05)
        return web.json_response({"messages": self.by_chat[chat][after:]})


# ---------------------------------------------------------------------------------------- processes and memory


@dataclass
class Watched:
    """A server to measure: its process and its children (PostgreSQL's backends, a reload's build)."""

    name: str
    pid: int
    part_of_stack: bool = True
    with_children: bool = True

    def tree(self) -> list[psutil.Process]:
        try:
            leader = psutil.Process(self.pid)
            return [leader, *leader.children(recursive=True)] if self.with_children else [leader]
        except psutil.Error:
            return []

    def rss_mb(self) -> float:
        total = 0
        for process in self.tree():
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total / 2**20

    def cpu_seconds(self) -> dict[int, float]:
        found = {}
        for process in self.tree():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                found[process.pid] = times.user + times.system
        return found


class Sampler:
    """Samples every watched process tree's RSS twice a second; keeps each one's peak and the stack's peak total."""

    def __init__(self, watched: list[Watched]) -> None:
        self.watched = watched
        self.peak: dict[str, float] = defaultdict(float)
        self.peak_total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._cpu_start = {w.name: w.cpu_seconds() for w in watched}

    def _loop(self) -> None:
        while not self._stop.is_set():
            total = 0.0
            for w in self.watched:
                rss = w.rss_mb()
                self.peak[w.name] = max(self.peak[w.name], rss)
                total += rss if w.part_of_stack else 0.0
            self.peak_total = max(self.peak_total, total)
            self._stop.wait(0.5)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.cpu = {}
        for w in self.watched:
            end = w.cpu_seconds()
            start = self._cpu_start[w.name]
            self.cpu[w.name] = sum(end[pid] - start.get(pid, 0.0) for pid in end)


def stack_processes(stack: Stack) -> list[Watched]:
    return [Watched(name, process.pid) for name, process in stack.processes.items() if process.poll() is None]


def postgres_pid(server: Postgres) -> int:
    return int((server.data / "postmaster.pid").read_text().split()[0])


# ---------------------------------------------------------------------------------------- one run


@dataclass
class Result:
    profile: str
    channel: str
    users: int
    messages: int = 0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    throughput: float = 0.0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # kind: (messages, p50, p95)
    rss: dict[str, float] = field(default_factory=dict)
    stack_rss: float = 0.0
    cpu_ms_per_message: dict[str, float] = field(default_factory=dict)
    load_before: float = 0.0
    load_after: float = 0.0
    seconds: float = 0.0
    embeddings: tuple[int, int] = (0, 0)  # query embeddings the action servers computed, and took from their cache
    telegram: str = ""  # Telegram's side, as the emulator saw it (telegram_side)

    def row(self) -> str:
        return (
            f"{self.profile:<13} {self.channel:<13} {self.users:>4} {self.messages:>6} {self.p50:>6.0f} "
            f"{self.p95:>6.0f} {self.p99:>6.0f} {self.throughput:>6.1f} {self.errors:>6} {self.stack_rss:>7.0f}   "
            f"{self.load_before:.1f} → {self.load_after:.1f}"
        )


HEADER = (
    f"{'profile':<13} {'channel':<13} {'conv':>4} {'msgs':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'msg/s':>6} "
    f"{'errors':>6} {'RSS MB':>7}   load avg"
)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Plan:
    ramp: float
    warm: float
    measure: float
    think: str

    @property
    def runtime(self) -> float:
        return self.ramp + self.warm + self.measure


def run_locust(plan: Plan, profile: str, channel: str, users: int, env: dict[str, str], host: str,
               watched: list[Watched], run_index: int) -> Result:  # fmt: skip
    """One headless locust run; latency over the steady part (after the ramp and warm-up), throughput as messages
    completed per second over that part, errors over the whole run."""
    records_path = VAR / f"records-{profile}-{channel}-{users}.jsonl"
    records_path.unlink(missing_ok=True)
    user_class = {"rest": "RestCitizen", "telegram": "TelegramCitizen"}[channel]
    command = [
        str(LOCUST), "-f", str(HERE / "locustfile.py"), "--headless", "--users", str(users),
        "--spawn-rate", f"{users / plan.ramp:.2f}", "--run-time", f"{plan.runtime:.0f}s", "--stop-timeout", "130",
        "--host", host, "--only-summary", "--loglevel", "WARNING", user_class,
    ]  # fmt: skip
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_RECORDS": str(records_path), "BENCH_THINK": plan.think,
                 "BENCH_RUN": str(run_index), **env}  # fmt: skip
    result = Result(profile, channel, users, load_before=os.getloadavg()[0])
    log = VAR / "log" / f"locust-{profile}-{channel}-{users}.log"
    started = time.monotonic()
    with open(log, "wb") as out:
        locust = subprocess.Popen(command, cwd=ROOT, env=child_env, stdout=out, stderr=subprocess.STDOUT)
        generator = [Watched("locust (load)", locust.pid, part_of_stack=False),
                     Watched("bench + emulator", os.getpid(), part_of_stack=False, with_children=False)]  # fmt: skip
        watchdog = threading.Timer(plan.runtime + 300, locust.kill)
        watchdog.start()
        with Sampler(watched + generator) as sampler:
            # wait4: the load generator's own CPU time, which psutil can no longer read once it has exited
            _, status, usage = os.wait4(locust.pid, 0)
            locust.returncode = os.waitstatus_to_exitcode(status)
        watchdog.cancel()
        sampler.cpu["locust (load)"] = usage.ru_utime + usage.ru_stime
    result.seconds = time.monotonic() - started
    result.load_after = os.getloadavg()[0]
    if not records_path.exists():
        raise RuntimeError(f"locust wrote no records; see {log}")
    records = [json.loads(line) for line in records_path.read_text(encoding="utf-8").splitlines()]
    if not records:
        raise RuntimeError(f"no message completed; see {log}")
    first = min(r["start"] for r in records)
    since, until = first + plan.ramp + plan.warm, first + plan.runtime
    steady = [r for r in records if since <= r["start"] and r["end"] <= until]
    latencies = [(r["end"] - r["start"]) * 1000 for r in steady if r["ok"]]
    result.messages = len(records)
    result.p50, result.p95, result.p99 = (percentile(latencies, s) for s in (0.50, 0.95, 0.99))
    for kind in sorted({r["kind"] for r in steady}):
        of_kind = [(r["end"] - r["start"]) * 1000 for r in steady if r["ok"] and r["kind"] == kind]
        result.by_kind[kind] = (len(of_kind), round(percentile(of_kind, 0.5)), round(percentile(of_kind, 0.95)))
    completed = [r for r in records if since <= r["end"] <= until and r["ok"]]
    result.throughput = len(completed) / (until - since)
    failed = [r for r in records if not r["ok"]]
    result.errors = len(failed)
    result.error_kinds = dict(sorted(((e, sum(1 for r in failed if r["error"] == e)) for e in
                                      {r["error"] for r in failed}), key=lambda kv: -kv[1]))  # fmt: skip
    result.rss = {name: round(mb) for name, mb in sampler.peak.items()}
    result.stack_rss = sampler.peak_total
    result.cpu_ms_per_message = {name: round(seconds * 1000 / len(records), 1) for name, seconds in
                                 sampler.cpu.items()}  # fmt: skip
    return result


def most_in_window(times: list[float], window: float) -> int:
    ordered, most, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        most = max(most, end - start + 1)
    return most


def telegram_side(emulator: BotApiEmulator, seconds: float) -> str:
    """What reached Telegram in a run: messages per second, the busiest second (the limit is 30; the bridges keep
    under it, queueing the rest), the 429 answers the emulator gave (the bridges' last resort) and the most
    messages one chat got in 3 s (the limit is 3)."""
    calls = emulator.calls("sendMessage")
    delivered = [c for c in calls if c.status == 200]
    by_chat: dict[int, list[float]] = defaultdict(list)
    for call in delivered:
        by_chat[int(call.params["chat_id"])].append(call.at)
    busiest_chat = max((most_in_window(times, 3.0) for times in by_chat.values()), default=0)
    return (f"{len(delivered)} messages ({len(delivered) / seconds:.1f}/s), busiest second "
            f"{most_in_window([c.at for c in delivered], 1.0)}, 429 answers {len(calls) - len(delivered)}, "
            f"busiest chat {busiest_chat} in 3 s")


def action_servers(stack: Stack) -> list[str]:
    if isinstance(stack, ProductionStack):
        return [stack.replica_url(name) for name in stack.replica_names("actions")]
    return [stack.action_url]


def query_embeddings(stack: Stack) -> tuple[int, int]:
    """(computed, taken from the cache) since the action servers started, summed over them (GET /admin/stats)."""
    token = stack.environment()["ADMIN_API_TOKEN"]
    computed = cached = 0
    for url in action_servers(stack):
        request = urllib.request.Request(f"{url}/admin/stats", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            counts = json.load(response)["query_embeddings"]
        computed, cached = computed + counts["misses"], cached + counts["hits"]
    return computed, cached


def session_runs(counts: list[int], sessions: list[str]) -> list[tuple[int, str]]:
    """Short conversations at every count; long sessions (one sender id per citizen for the run) at the smallest."""
    runs = [(users, "short") for users in counts] if "short" in sessions else []
    return runs + ([(min(counts), "long")] if "long" in sessions else [])


# ---------------------------------------------------------------------------------------- profiles


def warm_up(rasa_url: str) -> None:
    """A few turns first: the first message of a fresh server loads what it loads lazily."""
    for index, text in enumerate(["xin chào", "làm căn cước cần gì", "mất phí không", "nộp ở đâu"]):
        send(rasa_url, f"warm-up-{index // 4}", text, timeout=300)


def bridge_env(emulator: BotApiEmulator) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": emulator.token, "TELEGRAM_BASE_URL": emulator.base_url}


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.3)


@contextlib.contextmanager
def embedded(emulator: BenchEmulator) -> Iterator[tuple[Stack, dict[str, str], list[Watched]]]:
    """One Rasa and one action server (make serve); the bridge long-polls as `make run` runs it with a token."""
    var_dir = VAR / "embedded"
    shutil.rmtree(var_dir, ignore_errors=True)
    with Stack(rasa_port=free_port(), action_port=free_port(), var_dir=var_dir) as stack:
        warm_up(stack.rasa_url)
        env = stack.environment() | bridge_env(emulator) | {
            "RASA_URL": stack.rasa_url, "MOCUA_BOT_DB": str(var_dir / "bot.db")}  # fmt: skip
        for name in ("TELEGRAM_WEBHOOK_URL", "MOCUA_BOT_DB_URL"):
            env.pop(name, None)
        stack.spawn_command("bridge", [str(APP_PYTHON), "-m", "bot"], env)
        wait_for(lambda: emulator.calls("getUpdates"), 120, "the bridge to poll the emulator")
        yield stack, {"BENCH_CONTROL": emulator.control_url}, []


@contextlib.contextmanager
def production(replicas: Replicas, emulator: BenchEmulator) -> Iterator[tuple[Stack, dict[str, str], list[Watched]]]:
    """N Rasa, action and bridge replicas behind HAProxy, with a PostgreSQL and a Redis of their own."""
    var_dir = VAR / f"production-{replicas.rasa}"
    shutil.rmtree(var_dir, ignore_errors=True)
    postgres, redis = Postgres().start(), Redis()
    redis.start()
    bridge_port = free_port()
    stack = ProductionStack(
        rasa_port=free_port(), action_port=free_port(), bridge_port=bridge_port, bridge_interface="127.0.0.1",
        stats_port=free_port(), var_dir=var_dir, database_url=postgres.url(), redis_url=redis.url(), replicas=replicas,
        extra_env=bridge_env(emulator) | {"TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{bridge_port}{WEBHOOK_PATH}"},
    )  # fmt: skip
    try:
        stack.start()
        warm_up(stack.rasa_url)
        assert redis.process is not None
        services = [Watched("postgresql", postgres_pid(postgres)), Watched("redis", redis.process.pid)]
        telegram = {"BENCH_CONTROL": emulator.control_url, "BENCH_WEBHOOK": f"{stack.bridge_url}{WEBHOOK_PATH}",
                    "BENCH_SECRET": stack.environment()["TELEGRAM_WEBHOOK_SECRET"]}  # fmt: skip
        yield stack, telegram, services
    finally:
        stack.stop()
        redis.stop()
        postgres.stop()


# ---------------------------------------------------------------------------------------- report


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    ram = psutil.virtual_memory().total / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {ram:.1f} GB RAM, Python {platform.python_version()}, {platform.system()}"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: list[Result]) -> str:
    lines = [HEADER]
    lines += [r.row() for r in results]
    lines.append("")
    lines.append("peak RSS MB per process (CPU ms per message), per run:")
    for r in results:
        parts = [f"{name} {mb} ({r.cpu_ms_per_message.get(name, 0):.0f})" for name, mb in r.rss.items()]
        lines.append(f"  {r.profile} {r.channel} {r.users}: " + ", ".join(parts))
    lines.append("")
    lines.append("p50/p95 ms by kind of message (messages), per run:")
    for r in results:
        parts = [f"{kind} {p50:.0f}/{p95:.0f} ({n})" for kind, (n, p50, p95) in r.by_kind.items()]
        lines.append(f"  {r.profile} {r.channel} {r.users}: " + ", ".join(parts))
    if any(r.telegram for r in results):
        lines.append("")
        lines.append("Telegram's side, whole run (its limits: 30 messages/s, 3 in 3 s a chat, 20/min a group):")
        lines += [f"  {r.profile} {r.channel} {r.users}: {r.telegram}" for r in results if r.telegram]
    lines.append("")
    lines.append("query embeddings of the searches, per run: computed (first-time questions) / from the cache:")
    for r in results:
        computed, cached = r.embeddings
        share = f"{100 * cached / (computed + cached):.0f}% cached" if computed + cached else "no search"
        lines.append(f"  {r.profile} {r.channel} {r.users}: {computed} / {cached} ({share})")
    errors = [r for r in results if r.errors]
    if errors:
        lines.append("")
        lines.append("errors:")
        for r in errors:
            lines.append(f"  {r.profile} {r.channel} {r.users}: {r.error_kinds}")
    return "\n".join(lines)


def summary(results: list[Result]) -> tuple[str, list[str]]:
    def find(profile: str, channel: str, users: int) -> Result | None:
        return next((r for r in results if (r.profile, r.channel, r.users) == (profile, channel, users)), None)

    latency = find("embedded", "rest", 20) or results[0]
    at_100 = [r for r in results if r.channel == "rest" and r.users == 100] or results
    best = max(at_100, key=lambda r: r.throughput)
    errors = sum(r.errors for r in results)
    embedded = [r.stack_rss for r in results if r.profile == "embedded"]
    embedded_rss = max(embedded, default=0.0)
    checks = [
        f"p50 {latency.p50:.0f} ms ≤ {TARGETS['p50']:.0f} ({latency.profile} {latency.channel} {latency.users}): "
        f"{verdict(latency.p50 <= TARGETS['p50'])}",
        f"p95 {latency.p95:.0f} ms ≤ {TARGETS['p95']:.0f}: {verdict(latency.p95 <= TARGETS['p95'])}",
        f"throughput {best.throughput:.1f} msg/s ≥ {TARGETS['throughput']:.0f} with no errors ({best.profile} "
        f"{best.channel} {best.users}): {verdict(best.throughput >= TARGETS['throughput'] and best.errors == 0)}",
        f"embedded stack {embedded_rss:.0f} MB ≤ {TARGETS['embedded_rss']:.0f}: "
        f"{verdict(embedded_rss <= TARGETS['embedded_rss']) if embedded else 'not run'}",
    ]
    line = (f"bench: p50 {latency.p50:.0f} ms p95 {latency.p95:.0f} ms throughput {best.throughput:.1f} msg/s "
            f"errors {errors} rss {embedded_rss:.0f} MB")  # fmt: skip
    return line, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="15 s measured per run instead of 60")
    parser.add_argument("--profiles", default=",".join(PROFILES))
    parser.add_argument("--channels", default="rest,telegram")
    parser.add_argument("--users", default="20,100")
    parser.add_argument("--think", default="0.5,1.5", help="seconds between an answer and the next message")
    parser.add_argument("--sessions", default="short,long", help="short: a new sender id per conversation; long: "
                        "one per citizen for the whole run (at the smallest --users only)")  # fmt: skip
    args = parser.parse_args()
    plan = Plan(ramp=5, warm=5, measure=15, think=args.think) if args.quick else Plan(10, 10, 60, args.think)
    channels, counts = args.channels.split(","), [int(n) for n in args.users.split(",")]
    (VAR / "log").mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}; load average at start {os.getloadavg()[0]:.2f}", flush=True)
    results: list[Result] = []
    run_index = 0
    for profile in args.profiles.split(","):
        with BenchEmulator() as emulator:
            replicas = PROFILES[profile]
            starting = embedded(emulator) if replicas is None else production(replicas, emulator)
            with starting as (stack, telegram_env, services):
                for channel in channels:
                    for users, sessions in session_runs(counts, args.sessions.split(",")):
                        run_index += 1
                        emulator.reset()
                        env = {**(telegram_env if channel == "telegram" else {}), "BENCH_SESSIONS": sessions}
                        watched = stack_processes(stack) + services
                        if channel == "rest" and profile == "embedded":
                            watched = [w for w in watched if w.name != "bridge"]
                        print(f"… {profile} {channel} {users} conversations, {sessions} sessions", flush=True)
                        searched = query_embeddings(stack)
                        result = run_locust(plan, profile, channel, users, env, stack.rasa_url, watched, run_index)
                        after = query_embeddings(stack)
                        result.embeddings = (after[0] - searched[0], after[1] - searched[1])
                        result.channel += "-long" if sessions == "long" else ""
                        if channel == "telegram":
                            result.telegram = telegram_side(emulator, result.seconds)
                        results.append(result)
                        print(HEADER + "\n" + result.row(), flush=True)
    (VAR / "results.json").write_text(json.dumps([r.__dict__ for r in results], indent=1, ensure_ascii=False))
    print()
    print(f"machine: {machine()}")
    print(report(results))
    line, checks = summary(results)
    print()
    for check in checks:
        print(f"target: {check}")
    print(line)


if __name__ == "__main__":
    main()
