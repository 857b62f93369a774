"""Speed at catalogue scale: full index build, one edit live in a running bot, search latency, server memory.

Run on purpose (a benchmark, not a timed test), make bench-scale [ARGS=...]:
`python tests/benchmarks/bench_scale.py [--reuse-cache] [--build-threads N] [--keep]`.
Everything happens in a scratch directory under var/ (removed afterwards unless --keep):

1. build: the whole snapshot (curated records, official catalogue, guides) from an empty index directory with an
   EMPTY embedding cache, so every view is embedded, as `python -m knowledge.index.build` runs it. --reuse-cache
   copies var/index/cache first instead (only the build work around the encoder is measured then); the output says
   which was measured. --build-threads sets MOCUA_TORCH_THREADS for that build (default: unset, one thread).
2. live: the real action server (scripts.stack.Stack, MOCUA_INDEX_DIR on a copy of knowledge/) is running; one
   alias is added to a curated record and the build is run as staff would; measured from starting the build until
   the action server answers a question with that alias with that record (asked every 100 ms over its webhook).
3. search latency p50/p95 in this process over the dev and test question texts, the query-embedding cache emptied
   before each question (a first-time question) and warm. Nothing is printed per question.
4. memory: peak RSS (VmHWM) of the action server after it answered every dev and test question over its webhook,
   an index reload included (what a running bot goes through).

The load average is printed at the start and the end: with other work on the two cores the figures are noisy.
The last line is `bench-scale: build X s, live Y s, p95 Z ms, rss W MB`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as in the serving process: one thread for the encoder

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from knowledge.index.build import DEFAULT_INDEX_DIR, KNOWLEDGE_DIR  # noqa: E402
from knowledge.search.engine import KnowledgeBase, query_vector  # noqa: E402
from knowledge.search.metrics import FROZEN, load_questions, question_file  # noqa: E402
from scripts.stack import Stack, free_port  # noqa: E402

TARGETS = {"build": 300.0, "live": 5.0, "p95": 60.0, "rss": 1536.0}  # s, s, ms, MB (item 7 of the catalogue issue)
KNOWLEDGE_PARTS = ("procedures", "guides", "official")
EDITED = "ho-tich-khai-sinh"
# Words no record has, so the question finds the record only once the new alias is live.
ALIAS = "zqxv bốp chíp"
POLL_SECONDS = 0.1
LIVE_LIMIT = 60.0  # give up waiting for the edit after this long
SECRET_HEADER = "X-Action-Secret"


# ---------------------------------------------------------------- the machine


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))  # fmt: skip
    cores = os.cpu_count() or 1
    busy = os.getloadavg()[0] > 0.5 * cores  # someone else is using the cores: say so beside the figures
    note = "  (other work is running: figures are noisy)" if busy else ""
    return (
        f"{dt.datetime.now():%Y-%m-%d %H:%M}, {cores} cores, {mem_kb / 1024**2:.1f} GB RAM, "
        f"load average {load_average()}{note}"
    )


# ---------------------------------------------------------------- building as staff would


@dataclass(frozen=True)
class Built:
    seconds: float  # wall clock, start to exit
    cpu: float  # user + system seconds of the build process: what other work on the cores cannot inflate much
    summary: str  # the build's "published …" line


def children_cpu() -> float:
    """CPU seconds of the child processes waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_build(knowledge_dir: Path, index_dir: Path, threads: int | None = None) -> Built:
    """`python -m knowledge.index.build` in a process of its own, timed from start to exit."""
    env = dict(os.environ)
    if threads:  # the encoder's torch threads (knowledge/index/encoder.py reads it; default 1)
        env["MOCUA_TORCH_THREADS"] = str(threads)
    start, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(build_command(knowledge_dir, index_dir), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=3600, check=False)  # fmt: skip
    seconds, cpu = time.perf_counter() - start, children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"build failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return Built(seconds, cpu, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "")


def build_command(knowledge_dir: Path, index_dir: Path) -> list[str]:
    return [sys.executable, "-m", "knowledge.index.build", "--knowledge-dir", str(knowledge_dir),
            "--index-dir", str(index_dir)]  # fmt: skip


def copy_knowledge(target: Path, parts: tuple[str, ...] = KNOWLEDGE_PARTS) -> Path:
    for part in parts:
        shutil.copytree(KNOWLEDGE_DIR / part, target / part)
    return target


def seed_cache(source: Path, index_dir: Path) -> None:
    """Reuse embeddings (same model, same texts: same vectors) so only the changed text is embedded."""
    if source.is_dir():
        shutil.copytree(source, index_dir / "cache")


def full_build(work: Path, reuse_cache: bool, threads: int | None) -> tuple[Built, Path, str]:
    index_dir = work / "full-index"
    shipped_cache = DEFAULT_INDEX_DIR / "cache"
    if reuse_cache and shipped_cache.is_dir():
        seed_cache(shipped_cache, index_dir)
        what = "full build, embedding cache copied from var/index/cache (NOT the target's measure)"
    else:
        what = "full build, empty index dir and EMPTY embedding cache"
    what += f", {threads} encoder threads" if threads else ", 1 encoder thread (the default)"
    return run_build(KNOWLEDGE_DIR, index_dir, threads), index_dir, what


# ---------------------------------------------------------------- the action server's webhook


def action_call(text: str) -> dict[str, Any]:
    """What Rasa sends to run action_answer for a new citizen who typed `text` (classified as ask_procedure)."""
    parse = {"intent": {"name": "ask_procedure", "confidence": 0.95}, "entities": [], "text": text,
             "text_original": text}  # fmt: skip
    tracker = {
        "sender_id": "bench-scale", "slots": {}, "latest_message": parse, "paused": False, "followup_action": None,
        "events": [{"event": "user", "timestamp": time.time(), "text": text, "parse_data": parse}],
        "active_loop": {}, "latest_action_name": "action_listen",
    }  # fmt: skip
    return {"next_action": "action_answer", "sender_id": "bench-scale", "tracker": tracker, "domain": {},
            "version": "3.6.21"}  # fmt: skip


def answered_with(stack: Stack, text: str) -> str | None:
    """The procedure the action server answered `text` with (its procedure_id slot), None if it found none."""
    body = json.dumps(action_call(text)).encode()
    headers = {"Content-Type": "application/json", SECRET_HEADER: stack.secrets["ACTION_SERVER_SECRET"]}
    request = urllib.request.Request(f"{stack.action_url}/webhook", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        events = json.load(response).get("events", [])
    return next((e.get("value") for e in events if e.get("event") == "slot" and e.get("name") == "procedure_id"), None)


def proc_status_mb(pid: int, field: str) -> float:
    """VmHWM (peak resident) or VmRSS of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---------------------------------------------------------------- live edit and memory, on the real action server


@dataclass(frozen=True)
class Edit:
    live: float  # build start -> first answer with the edited record
    build: float  # the build process, start to exit
    build_cpu: float  # its CPU seconds


@dataclass(frozen=True)
class Live:
    edit: Edit
    peak_mb: float  # action server VmHWM after the questions
    rss_mb: float  # its VmRSS at the end
    webhook_ms: tuple[float, float]  # p50, p95 of action_answer over HTTP


def add_alias(knowledge_dir: Path) -> None:
    path = knowledge_dir / "procedures" / f"{EDITED}.yml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace("aliases:\n", f"aliases:\n  - {ALIAS}\n", 1)
    if edited == text:
        raise SystemExit(f"{path}: no 'aliases:' list to add to")
    path.write_text(edited, encoding="utf-8")


def wait_until_live(stack: Stack, knowledge_dir: Path, index_dir: Path) -> Edit:
    """Run the build and ask every 100 ms until the answer is the edited record."""
    add_alias(knowledge_dir)
    start, cpu = time.perf_counter(), children_cpu()
    log = index_dir.parent / "edit-build.log"
    with log.open("w") as out:  # a file, not a pipe: a build printing many warnings must not block on a full pipe
        build = subprocess.Popen(build_command(knowledge_dir, index_dir), cwd=ROOT, stdout=out, stderr=out)
    build_seconds: float | None = None
    try:
        while time.perf_counter() - start < LIVE_LIMIT:
            if build_seconds is None and build.poll() is not None:
                build_seconds = time.perf_counter() - start
                if build.returncode != 0:
                    raise SystemExit(f"build of the edit failed ({build.returncode}):\n{log.read_text()}")
            if answered_with(stack, ALIAS) == EDITED:
                live = time.perf_counter() - start
                build.wait()
                build_seconds = build_seconds if build_seconds is not None else time.perf_counter() - start
                return Edit(live, build_seconds, children_cpu() - cpu)
            time.sleep(POLL_SECONDS)
    finally:
        build.wait()
    raise SystemExit(f"the edit was not live after {LIVE_LIMIT:.0f} s")


def live_and_memory(work: Path, seed: Path, texts: list[str]) -> Live:
    knowledge_dir, index_dir = copy_knowledge(work / "knowledge"), work / "live-index"
    seed_cache(seed, index_dir)
    run_build(knowledge_dir, index_dir)
    stack = Stack(action_port=free_port(), var_dir=work / "var", extra_env={"MOCUA_INDEX_DIR": str(index_dir)})
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    stack.spawn("actions")  # the action server alone (no Rasa model needed): /health answers once the index is in
    try:
        return measure_live(stack, knowledge_dir, index_dir, texts)
    except urllib.error.HTTPError as error:  # the scratch directory goes away: show why the server failed now
        log = (stack.log_dir / "actions.log").read_text(encoding="utf-8", errors="replace")
        raise SystemExit(f"the action server answered {error.code}; the end of its log:\n{log[-3000:]}") from error
    finally:
        stack.stop()


def measure_live(stack: Stack, knowledge_dir: Path, index_dir: Path, texts: list[str]) -> Live:
    """The edit made live, then every question answered over the webhook, then the server's memory."""
    stack.wait_until_ready()
    if answered_with(stack, ALIAS) == EDITED:
        raise SystemExit(f"'{ALIAS}' already finds {EDITED} before the edit: choose other words")
    edit = wait_until_live(stack, knowledge_dir, index_dir)
    times = []
    for text in texts:
        start = time.perf_counter()
        answered_with(stack, text)
        times.append((time.perf_counter() - start) * 1000)
    pid = stack.processes["actions"].pid
    peak, rss = proc_status_mb(pid, "VmHWM"), proc_status_mb(pid, "VmRSS")
    return Live(edit, peak, rss, percentiles(times))


# ---------------------------------------------------------------- search latency in this process


def percentiles(times: list[float]) -> tuple[float, float]:
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def search_latency(index_dir: Path, texts: list[str]) -> tuple[tuple[float, float], tuple[float, float]]:
    """(p50, p95) in ms with the query-embedding cache emptied before each question, then with it warm."""
    kb = KnowledgeBase(index_dir, watch=False)
    kb.search("khởi động")  # load the encoder before timing
    cold, warm = [], []
    for text in texts:
        query_vector.cache_clear()  # as for a first-time question: the e5 query embedding is computed
        start = time.perf_counter()
        kb.search(text)
        cold.append((time.perf_counter() - start) * 1000)
    for text in texts:  # the cache (1024 entries) now holds every question
        kb.search(text)
        start = time.perf_counter()
        kb.search(text)
        warm.append((time.perf_counter() - start) * 1000)
    return percentiles(cold), percentiles(warm)


# ---------------------------------------------------------------- report


Row = tuple[str, str, str, str]


def row(name: str, value: str, measured: float | None = None, target: float | None = None, unit: str = "") -> Row:
    """One line of the table; with a target, the target and whether it is met."""
    if measured is None or target is None:
        return name, value, "", ""
    return name, value, f"≤ {target:.0f} {unit}", "ok" if measured <= target else "MISSED"


def report(built: Built, what: str, live: Live, cold: tuple[float, float], warm: tuple[float, float],
           self_peak: float, questions: int) -> str:  # fmt: skip
    web, edit = live.webhook_ms, live.edit
    rows = [
        row(what, f"{built.seconds:.1f} s", built.seconds, TARGETS["build"], "s"),
        row("  its CPU time (user + sys)", f"{built.cpu:.1f} s"),
        row("one edited record live in the running action server", f"{edit.live:.1f} s", edit.live,
            TARGETS["live"], "s"),
        row("  the build of that edit, start to exit / its CPU time", f"{edit.build:.1f} / {edit.build_cpu:.1f} s"),
        row(f"search p50 / p95, first-time questions (n={questions})", f"{cold[0]:.0f} / {cold[1]:.0f} ms", cold[1],
            TARGETS["p95"], "ms"),
        row("search p50 / p95, repeated questions (query cached)", f"{warm[0]:.0f} / {warm[1]:.0f} ms"),
        row("action_answer over HTTP p50 / p95 (same questions)", f"{web[0]:.0f} / {web[1]:.0f} ms"),
        row("action server peak RSS (VmHWM, after reload + questions)", f"{live.peak_mb:.0f} MB", live.peak_mb,
            TARGETS["rss"], "MB"),
        row("  its RSS at the end (VmRSS)", f"{live.rss_mb:.0f} MB"),
        row("  this process: index + encoder + questions (VmHWM)", f"{self_peak:.0f} MB"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'figure':{width}}{'measured':>16}  {'target':<12}", "-" * (width + 36)]
    lines += [f"{name:{width}}{value:>16}  {target:<12}{mark}" for name, value, target, mark in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse-cache", action="store_true", help="copy var/index/cache instead of embedding all")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (its path is printed)")
    parser.add_argument("--build-threads", type=int, default=None,
                        help="MOCUA_TORCH_THREADS for the full build (default: unset, as `make kb-build` runs)")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    texts = [r["q"] for split in ("dev", FROZEN) for r in load_questions(question_file(split))]  # texts only
    (ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=ROOT / "var"))
    try:
        built, index_dir, what = full_build(work, args.reuse_cache, args.build_threads)
        build_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the only child so far: the build
        print(f"1. {what}: {built.seconds:.1f} s (CPU {built.cpu:.1f} s), peak RSS {build_peak:.0f} MB\n"
              f"   {built.summary}", flush=True)  # fmt: skip
        cold, warm = search_latency(index_dir, texts)
        self_peak = proc_status_mb(os.getpid(), "VmHWM")
        print(f"2. search latency measured on {len(texts)} questions (dev + test)", flush=True)
        live = live_and_memory(work, index_dir / "cache", texts)
        print(f"3. edit live after {live.edit.live:.1f} s; action server answered {len(texts)} questions", flush=True)
    finally:
        if args.keep:
            print(f"scratch directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(report(built, what, live, cold, warm, self_peak, len(texts)))
    print(f"\nload average at the end: {load_average()} ({os.cpu_count()} cores)")
    print(f"bench-scale: build {built.seconds:.1f} s, live {live.edit.live:.1f} s, p95 {cold[1]:.0f} ms, "
          f"rss {live.peak_mb:.0f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
