"""Session-length benchmark (`make bench` runs it after the load benchmark; run on purpose, never a test): what one
message costs as its conversation grows, on the real servers (scripts/stack.py, SQLite tracker).

One citizen sends 200 messages in one session through the REST channel, one after the other: a question naming a
procedure, follow-ups about it, now and then a greeting or a thanks (tests/benchmarks/conversations.yml, in order).
For each message it measures the round trip and the CPU the Rasa server and the action server spent on it (read
from /proc before and after: on a shared machine CPU time is steadier than wall time). It prints, over the ten turns
ending at turn 10, 50, 100 and 200, the median round trip and the mean CPU (the kernel counts CPU time in 10 ms
ticks: a mean over ten turns is precise to 1 ms), and the ratio of turn 200 to turn 10 against the target 1.5.

    --store windowed   the tracker store of endpoints.yml (channels/tracker_store.py), the default
    --store rasa       Rasa's own SQLTrackerStore, which loads the whole session at every message (the figure before)
    --store both       one after the other, then whether the two conversations are the same event for event (the
                       actions run, intents, the bot's texts and the slots set; a response with random variations
                       may differ)
    --turns N          200 by default
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.chat import send  # noqa: E402
from scripts.stack import Stack, free_port, rasa_command  # noqa: E402

HERE = Path(__file__).resolve().parent
VAR = ROOT / "var/bench/session"
MARKS = (10, 50, 100, 200)
TARGET_RATIO = 1.5
RASA_STORE = "tracker_store:\n  type: SQL\n  url: ${TRACKER_DB_URL}\n"


def messages(count: int) -> list[str]:
    """The citizen's messages: each opening, then three follow-ups, a greeting or thanks every fifth message."""
    conversations = yaml.safe_load((HERE / "conversations.yml").read_text(encoding="utf-8"))
    follow_ups = [f for f in conversations["follow_ups"] if isinstance(f, str)]
    chat = conversations["greetings"] + conversations["closings"]
    said: list[str] = []
    for index, opening in enumerate(conversations["openings"] * (count // 20 + 1)):
        said += [opening, *(follow_ups[(index + k) % len(follow_ups)] for k in range(3)), chat[index % len(chat)]]
    return said[:count]


@dataclass
class Turn:
    wall_ms: float
    rasa_cpu_ms: float
    actions_cpu_ms: float


class SessionStack(Stack):
    """The embedded stack, with Rasa's own SQL tracker store when asked (an endpoints file of the run's own)."""

    endpoints: str = "endpoints.yml"

    def _spawn_rasa(self) -> None:
        self.spawn_command("rasa", rasa_command(self.model, self.endpoints, self.rasa_port, self.rasa_interface))


def endpoints_with_rasas_store(var_dir: Path) -> Path:
    text = (ROOT / "endpoints.yml").read_text(encoding="utf-8")
    start = text.index("tracker_store:")
    path = var_dir / "endpoints-rasa-store.yml"
    path.write_text(text[:start] + RASA_STORE, encoding="utf-8")
    return path


def cpu_ms(pid: int) -> float:
    process = psutil.Process(pid)
    times = [process.cpu_times(), *(child.cpu_times() for child in process.children(recursive=True))]
    return sum(t.user + t.system for t in times) * 1000


def run(store: str, count: int) -> list[Turn]:
    var_dir = VAR / store
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    stack = SessionStack(rasa_port=free_port(), action_port=free_port(), var_dir=var_dir)
    if store == "rasa":
        stack.endpoints = str(endpoints_with_rasas_store(var_dir))
    turns: list[Turn] = []
    with stack:
        for index, text in enumerate(["xin chào", "làm căn cước cần gì", "mất phí không"]):
            send(stack.rasa_url, f"warm-up-{index}", text, timeout=300)
        rasa, actions = stack.processes["rasa"].pid, stack.processes["actions"].pid
        sender = f"long-session-{int(time.time())}"
        for text in messages(count):
            before = time.perf_counter(), cpu_ms(rasa), cpu_ms(actions)
            replies = send(stack.rasa_url, sender, text, timeout=120)
            after = time.perf_counter(), cpu_ms(rasa), cpu_ms(actions)
            if not replies:
                raise RuntimeError(f"no answer to {text!r} at turn {len(turns) + 1}")
            turns.append(Turn((after[0] - before[0]) * 1000, after[1] - before[1], after[2] - before[2]))
    return turns


def at(turns: list[Turn], mark: int, part: str) -> float:
    """Over the ten turns ending at `mark`: the median round trip, the mean CPU."""
    values = [getattr(t, part) for t in turns[max(0, mark - 10) : mark]]
    return statistics.median(values) if part == "wall_ms" else statistics.mean(values)


def report(store: str, turns: list[Turn]) -> list[str]:
    marks = [m for m in MARKS if m <= len(turns)]
    lines = [f"session length, {store} tracker store (the 10 turns ending at each turn: median, mean CPU; ms):",
             f"  {'turn':>5} {'round trip':>11} {'Rasa CPU':>9} {'actions CPU':>12}"]  # fmt: skip
    for mark in marks:
        lines.append(f"  {mark:>5} {at(turns, mark, 'wall_ms'):>11.0f} {at(turns, mark, 'rasa_cpu_ms'):>9.0f} "
                     f"{at(turns, mark, 'actions_cpu_ms'):>12.0f}")  # fmt: skip
    first, last = marks[0], marks[-1]
    wall = at(turns, last, "wall_ms") / at(turns, first, "wall_ms")
    cpu = (at(turns, last, "rasa_cpu_ms") + at(turns, last, "actions_cpu_ms")) / (
        at(turns, first, "rasa_cpu_ms") + at(turns, first, "actions_cpu_ms")
    )
    verdict = "met" if wall <= TARGET_RATIO else "MISSED"
    lines.append(f"target: turn {last} within {TARGET_RATIO}× of turn {first}: round trip {wall:.2f}×, "
                 f"server CPU {cpu:.2f}× ({store}): {verdict}")  # fmt: skip
    return lines


def conversation(store: str) -> list[tuple[str, ...]]:
    """The long session's events as the store saved them: kind, action or slot, intent, bot text or slot value."""
    engine = sa.create_engine(f"sqlite:///{VAR / store / 'tracker.db'}")
    query = ("SELECT type_name, action_name, intent_name, data FROM events WHERE sender_id LIKE 'long-session%' "
             "ORDER BY id")  # fmt: skip
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(query).all()
    engine.dispose()
    said = [(kind, name or "", intent or "", json.loads(data)) for kind, name, intent, data in rows]
    return [(kind, name, intent, json.dumps(d.get("text") if kind == "bot" else d.get("value"), ensure_ascii=False))
            for kind, name, intent, d in said]  # fmt: skip


def same_conversation() -> str:
    before, after = conversation("rasa"), conversation("windowed")
    differ = sum(1 for a, b in zip(before, after, strict=False) if a != b) + abs(len(before) - len(after))
    return f"the two stores' conversations: {len(before)} and {len(after)} events, {differ} different"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", choices=("windowed", "rasa", "both"), default="windowed")
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    stores = ("rasa", "windowed") if args.store == "both" else (args.store,)
    print(f"session benchmark: {args.turns} messages in one session; load average {os.getloadavg()[0]:.2f}",
          flush=True)  # fmt: skip
    for store in stores:
        turns = run(store, args.turns)
        print("\n".join(report(store, turns)), flush=True)
    if len(stores) == 2:
        print(same_conversation())
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
