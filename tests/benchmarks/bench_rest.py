"""End-to-end benchmark: citizens' questions through the REST channel → Rasa → action server → search.

Run on purpose: `make bench` (starts its own servers on free ports) or, against a running server,
`.venv/app/bin/python tests/benchmarks/bench_rest.py --url http://localhost:5005`.
Prints latency p50/p95/max, throughput with concurrent citizens, and the servers' memory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.chat import send  # noqa: E402
from scripts.stack import Stack, free_port  # noqa: E402

DEVSET = ROOT / "tests/data/questions/dev.yml"  # latency only: the frozen test split is not needed here


def questions(limit: int) -> list[str]:
    blocks = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))
    return [row["q"] for block in blocks for row in block["questions"]][:limit]


def ask(rasa_url: str, text: str) -> float:
    """Milliseconds for one question, as a new citizen, through the REST channel."""
    started = time.perf_counter()
    send(rasa_url, f"bench-{uuid.uuid4().hex[:8]}", text)
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(rasa_url: str, count: int, concurrency: int, stack: Stack | None) -> None:
    texts = questions(count)
    ask(rasa_url, texts[0])  # warm-up: first call loads lazily initialised parts
    sequential = [ask(rasa_url, text) for text in texts]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda text: ask(rasa_url, text), texts))
    elapsed = time.perf_counter() - started
    print(f"questions: {len(texts)} (from {DEVSET.relative_to(ROOT)})")
    print(
        f"latency one at a time: p50 {statistics.median(sequential):.0f} ms, "
        f"p95 {percentile(sequential, 0.95):.0f} ms, max {max(sequential):.0f} ms"
    )
    print(f"throughput with {concurrency} concurrent citizens: {len(texts) / elapsed:.1f} questions/s")
    if stack is not None:
        for name, process in stack.processes.items():
            print(f"memory {name}: {rss_mb(process.pid):.0f} MB RSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Rasa server; default: start one on free ports")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if args.url:
        run(args.url, args.count, args.concurrency, None)
        return
    with Stack(rasa_port=free_port(), action_port=free_port(), var_dir=ROOT / "var/bench") as stack:
        run(stack.rasa_url, args.count, args.concurrency, stack)


if __name__ == "__main__":
    main()
