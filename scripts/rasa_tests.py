"""Rasa's own tests, with the gates `make test` enforces.

1. `rasa test nlu` on two held-out splits: intent F1 (weighted) must reach the gate of each.
   - tests/nlu/heldout.yml, written with diacritics as people type on a computer;
   - tests/nlu/heldout_noisy.yml, as phones send it: no diacritics, chat abbreviations, teen code, typos.
   There is no "heldout with the diacritics stripped" gate: the first pipeline component folds every message to
   lower case without diacritics, so such a copy featurises exactly like the original and scores the same.
2. `rasa test core` on the conversation stories in tests/stories/: the intent NLU gives each typed text and the
   action the dialogue policies predict at each step. It never runs the custom actions.
3. The same stories replayed on the real Rasa and action servers (scripts/stories.py): the actions that ran and the
   slots they set (`slot_was_set`: which procedure is under discussion). A wrong procedure fails a story here.
Every story must pass both.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from scripts.stack import MODEL, RASA_BIN, ROOT, Stack, StackError, free_port
from scripts.stories import load_stories, replay_all

HELDOUT = {
    "held-out, with diacritics": (ROOT / "tests/nlu/heldout.yml", 0.90),
    "held-out, as phones type (abbreviations, teen code, typos)": (ROOT / "tests/nlu/heldout_noisy.yml", 0.90),
}
STORIES = ROOT / "tests/stories"
RESULTS = ROOT / "results"


def run_rasa(args: list[str], env: dict[str, str]) -> int:
    print("$ rasa " + " ".join(args), flush=True)
    return subprocess.call([str(RASA_BIN), *args], cwd=ROOT, env=env)


def intent_f1(nlu_file: Path, out: Path, env: dict[str, str]) -> float:
    code = run_rasa(["test", "nlu", "--nlu", str(nlu_file), "--model", str(MODEL), "--out", str(out)], env)
    report = out / "intent_report.json"
    if code != 0 or not report.exists():
        raise StackError(f"`rasa test nlu` failed on {nlu_file} (exit {code}).")
    return float(json.loads(report.read_text())["weighted avg"]["f1-score"])


def failed_stories(out: Path) -> int:
    failed = out / "failed_test_stories.yml"
    if not failed.exists():
        return 0
    return sum(1 for line in failed.read_text(encoding="utf-8").splitlines() if line.startswith("- story:"))


def replay_stories(stack: Stack) -> list[str]:
    """Stories on the running servers; the failures, also written to results/stories/failed_stories.txt."""
    failures = replay_all(load_stories(STORIES), stack.rasa_url, stack.api)
    out = RESULTS / "stories"
    out.mkdir(parents=True, exist_ok=True)
    (out / "failed_stories.txt").write_text("".join(f"{f}\n" for f in failures), encoding="utf-8")
    return [str(f) for f in failures]


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    stack = Stack(rasa_port=free_port(), action_port=free_port(), var_dir=ROOT / "var/test-rasa")
    env = stack.environment()
    problems: list[str] = []
    try:
        scores = {name: intent_f1(path, RESULTS / f"nlu-{path.stem}", env) for name, (path, _) in HELDOUT.items()}
        stack.start()
        code = run_rasa(
            ["test", "core", "--stories", str(STORIES), "--model", str(MODEL), "--endpoints", "endpoints.yml",
             "--out", str(RESULTS / "core")],
            env,
        )  # fmt: skip
        predicted_wrong = failed_stories(RESULTS / "core")
        replayed_wrong = replay_stories(stack)
    except StackError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()

    print("\n== Rasa test results ==")
    for name, score in scores.items():
        gate = HELDOUT[name][1]
        verdict = "ok" if score >= gate else "TOO LOW"
        print(f"intent F1 on the {name}: {score:.3f} (gate {gate:.2f}) {verdict}")
        if score < gate:
            problems.append(f"intent F1 on the {name} {score:.3f} < {gate}")
    story_count = sum(len(re.findall(r"^- story:", p.read_text(encoding="utf-8"), re.M)) for p in STORIES.glob("*.yml"))
    print(f"stories, rasa test core: {story_count - predicted_wrong} passed, {predicted_wrong} failed")
    if code != 0 or predicted_wrong:
        problems.append(f"{predicted_wrong} stories failed rasa test core (see results/core/failed_test_stories.yml)")
    print(f"stories, on the real servers: {story_count - len(replayed_wrong)} passed, {len(replayed_wrong)} failed")
    for failure in replayed_wrong:
        print(failure)
    if replayed_wrong:
        problems.append(f"{len(replayed_wrong)} stories failed on the real servers (see results/stories/)")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
