"""The Telegram bridge alone under load (run on purpose, never a test): what the bridge itself costs per message.

`python -m bot` (long polling, SQLite store; --postgres: a throw-away PostgreSQL, as the production replicas share)
against the Bot API emulator, which enforces Telegram's limits, and the instant fake Rasa of the Telegram tests, so
nothing but the bridge (and the emulator and this driver, on the same cores) does any work. N conversations, each
sending a message, waiting for its answer, thinking 0.5–1.5 s, again, for --seconds. Prints the latency from the
update being offered to the answer's arrival (p50/p95/p99), answered messages per second, the bridge's CPU ms per
message and the 429s (--no-limits: neither side keeps Telegram's limits, for the bridge's own cost alone).

    .venv/app/bin/python tests/benchmarks/bench_bridge.py --users 20 --seconds 20 [--think 0.5,1.5] [--profile]

--profile runs py-spy on the bridge (`--py-spy PATH`; it is in neither environment: `pip install --target DIR py-spy`)
and prints the functions with the most samples.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.pacing import Limits  # noqa: E402
from scripts.stack import APP_PYTHON, free_port  # noqa: E402
from tests.telegram.bot_api_emulator import BotApiEmulator  # noqa: E402
from tests.telegram.fake_rasa import FakeRasa  # noqa: E402

QUESTIONS = ["khai sinh ở đâu", "làm căn cước cần gì", "mất phí không", "nộp ở đâu", "cảm ơn"]


class TimedEmulator(BotApiEmulator):
    """Each chat's messages with the time they arrived, and an event per chat to wait for the next one."""

    def __init__(self, limits: Limits | None) -> None:
        super().__init__(limits=limits)
        self.arrived: dict[int, list[float]] = defaultdict(list)
        self.events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        result = await super()._api_sendMessage(params)
        if isinstance(result, dict):
            chat = int(result["chat"]["id"])
            self.arrived[chat].append(time.time())
            self.events[chat].set()
        return result

    def offer(self, chat_id: int, text: str) -> None:
        """Queue a citizen's message for getUpdates (on the emulator's loop)."""
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": self._chat(chat_id),
                   "from": self.user(chat_id), "text": text}  # fmt: skip
        self.state.updates.append({"update_id": next(self._ids), "message": message})
        assert self._new_update is not None
        self._new_update.set()


async def citizen(emulator: TimedEmulator, chat_id: int, until: float, think: tuple[float, float],
                  latencies: list[float], rng: random.Random) -> None:  # fmt: skip
    while time.time() < until:
        seen = len(emulator.arrived[chat_id])
        started = time.time()
        emulator.offer(chat_id, rng.choice(QUESTIONS))
        while len(emulator.arrived[chat_id]) <= seen:
            emulator.events[chat_id].clear()
            try:
                await asyncio.wait_for(emulator.events[chat_id].wait(), 60)
            except asyncio.TimeoutError:
                latencies.append(float("inf"))
                return
        latencies.append(emulator.arrived[chat_id][seen] - started)
        await asyncio.sleep(rng.uniform(*think))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def bridge_env(emulator: BotApiEmulator, rasa: FakeRasa, var: Path, db_url: str | None,
               bridge_root: Path) -> dict[str, str]:  # fmt: skip
    return {**os.environ, "PYTHONPATH": f"{bridge_root}:{ROOT}", "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_BASE_URL": emulator.base_url, "RASA_URL": rasa.url, "TELEGRAM_WEBHOOK_URL": "",
            "MOCUA_BOT_DB": str(var / "bot.db"), "MOCUA_BOT_DB_URL": db_url or "", "BOT_FLOOD_LIMIT": "100000",
            "ACTION_ADMIN_URL": f"http://127.0.0.1:{free_port()}", "BOT_POLL_TIMEOUT": "10"}  # fmt: skip


def profile_summary(raw: Path, top: int = 12) -> list[str]:
    """py-spy's raw (collapsed) stacks: the share of samples in which each of the bridge's own functions is on the
    stack, and the share each package has at the top of the stack (where the CPU is spent)."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        for frame in {f for f in frames if "(bot/" in f}:
            inclusive[frame] += int(count)
        leaves[package_of(frames[-1])] += int(count)
    lines = ["  the bridge's functions (share of samples with them on the stack):"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines.append("  where the samples end (package):")
    lines += [f"  {100 * n / total:5.1f}%  {package}" for package, n in leaves.most_common(top)]
    return lines


def package_of(frame: str) -> str:
    """'send (httpx/_client.py:12)' -> 'httpx'; the standard library's modules by file name."""
    where = frame.rpartition("(")[2].rstrip(")")
    path = where.split(":")[0]
    return path.split("/")[0] if "/" in path else path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--think", default="0.5,1.5")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--py-spy", default="py-spy")
    parser.add_argument(
        "--no-limits",
        action="store_true",
        help="neither the emulator nor the bridge keeps Telegram's limits: the bridge's own cost alone",
    )
    parser.add_argument(
        "--bridge-root",
        type=Path,
        default=ROOT,
        help="run the package bot/ from this directory (another version, for a before/after)",
    )
    args = parser.parse_args()
    think = tuple(float(x) for x in args.think.split(","))
    var = Path(tempfile.mkdtemp(prefix="bench-bridge-"))
    postgres = None
    if args.postgres:
        from scripts.services import Postgres

        postgres = Postgres().start()
    rasa = FakeRasa().start()
    with TimedEmulator(None if args.no_limits else Limits()) as emulator:
        env = bridge_env(emulator, rasa, var, postgres.url() if postgres else None, args.bridge_root)
        if args.no_limits:
            env["BOT_SEND_LIMITS"] = "off"
        log = (var / "bridge.log").open("wb")
        bridge = subprocess.Popen([str(APP_PYTHON), "-m", "bot"], cwd=args.bridge_root, env=env, stdout=log, stderr=log)
        try:
            emulator.wait_for(lambda: emulator.calls("getUpdates"), 60, "the bridge to poll")
            spy = None
            if args.profile:
                spy = subprocess.Popen([args.py_spy, "record", "-p", str(bridge.pid), "-f", "raw", "-r", "200",
                                        "-o", str(var / "bridge.raw"), "--nonblocking"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            process = psutil.Process(bridge.pid)
            cpu_before, load_before = sum(process.cpu_times()[:2]), os.getloadavg()[0]
            latencies: list[float] = []
            until = time.time() + args.seconds

            async def everyone() -> None:
                await asyncio.gather(*(citizen(emulator, 5_000_000 + n, until, think, latencies,
                                               random.Random(n)) for n in range(args.users)))  # fmt: skip

            started = time.time()
            asyncio.run_coroutine_threadsafe(everyone(), emulator._loop).result(args.seconds + 120)
            elapsed = time.time() - started
            cpu = sum(process.cpu_times()[:2]) - cpu_before
            if spy is not None:
                spy.send_signal(2)
                spy.wait(30)
        finally:
            bridge.terminate()
            bridge.wait(30)
            rasa.close()
            if postgres is not None:
                postgres.stop()
        answered = [x for x in latencies if x != float("inf")]
        refused = len(emulator.refused())
    print(
        f"bridge alone, {'PostgreSQL' if args.postgres else 'SQLite'} store, {args.users} conversations, "
        f"think {args.think} s, {elapsed:.0f} s; load average {load_before:.1f} → {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  answered {len(answered)} of {len(latencies)} ({len(answered) / elapsed:.1f} msg/s); latency ms p50 "
        f"{1000 * percentile(answered, 0.5):.0f} p95 {1000 * percentile(answered, 0.95):.0f} p99 "
        f"{1000 * percentile(answered, 0.99):.0f}; bridge CPU {1000 * cpu / max(1, len(answered)):.1f} ms per "
        f"message; 429 answers {refused}"
    )
    if args.profile and (var / "bridge.raw").exists():
        print("\n".join(profile_summary(var / "bridge.raw")))
    print(f"  log: {var / 'bridge.log'}")


if __name__ == "__main__":
    main()
