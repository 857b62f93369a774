"""Rasa's own tests, with the gates `make test` enforces.

1. `rasa test nlu` on the held-out split, and on a copy of it with diacritics stripped:
   intent F1 (weighted) must reach 0.90 and 0.85.
2. `rasa test core` on the conversation stories in tests/stories/, against a real action server:
   every story must pass.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from knowledge.text import fold
from scripts.stack import MODEL, RASA_BIN, ROOT, Stack, StackError, free_port

HELDOUT = ROOT / "tests/nlu/heldout.yml"
STORIES = ROOT / "tests/stories"
RESULTS = ROOT / "results"
F1_GATES = {"with diacritics": 0.90, "without diacritics": 0.85}
_EXAMPLE_LINE = re.compile(r"^(\s*- )(.*)$")


def strip_examples(source: Path, target: Path) -> None:
    """Copy an NLU file with every example folded to lower case without diacritics, as phones type."""
    lines, in_examples = [], False
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("examples:"):
            in_examples = True
        elif re.match(r"^\s*- (intent|synonym|regex|lookup):", line) or not line.startswith(" "):
            in_examples = False
        match = _EXAMPLE_LINE.match(line)
        if in_examples and match and not line.strip().startswith("- intent:"):
            line = match.group(1) + fold(match.group(2))
        lines.append(line)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_rasa(args: list[str], env: dict[str, str]) -> int:
    print("$ rasa " + " ".join(args), flush=True)
    return subprocess.call([str(RASA_BIN), *args], cwd=ROOT, env=env)


def intent_f1(nlu_file: Path, out: Path, env: dict[str, str]) -> float:
    code = run_rasa(["test", "nlu", "--nlu", str(nlu_file), "--model", str(MODEL), "--out", str(out)], env)
    report = out / "intent_report.json"
    if code != 0 or not report.exists():
        raise StackError(f"`rasa test nlu` failed on {nlu_file} (exit {code}).")
    return json.loads(report.read_text())["weighted avg"]["f1-score"]


def failed_stories(out: Path) -> int:
    failed = out / "failed_test_stories.yml"
    if not failed.exists():
        return 0
    return sum(1 for line in failed.read_text(encoding="utf-8").splitlines() if line.startswith("- story:"))


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    stack = Stack(rasa_port=free_port(), action_port=free_port(), var_dir=ROOT / "var/test-rasa")
    env = stack.environment()
    problems: list[str] = []
    try:
        stripped = RESULTS / "heldout-stripped.yml"
        strip_examples(HELDOUT, stripped)
        scores = {
            "with diacritics": intent_f1(HELDOUT, RESULTS / "nlu", env),
            "without diacritics": intent_f1(stripped, RESULTS / "nlu-stripped", env),
        }
        stack.start(with_rasa=False)
        code = run_rasa(
            ["test", "core", "--stories", str(STORIES), "--model", str(MODEL), "--endpoints", "endpoints.yml",
             "--out", str(RESULTS / "core")],
            env,
        )  # fmt: skip
        stories_failed = failed_stories(RESULTS / "core")
    except StackError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()

    print("\n== Rasa test results ==")
    for name, score in scores.items():
        gate = F1_GATES[name]
        verdict = "ok" if score >= gate else "TOO LOW"
        print(f"intent F1 on held-out split ({name}): {score:.3f} (gate {gate:.2f}) {verdict}")
        if score < gate:
            problems.append(f"intent F1 {name} {score:.3f} < {gate}")
    story_count = sum(len(re.findall(r"^- story:", p.read_text(encoding="utf-8"), re.M)) for p in STORIES.glob("*.yml"))
    print(f"conversation stories: {story_count - stories_failed} passed, {stories_failed} failed")
    if code != 0 or stories_failed:
        problems.append(f"{stories_failed} stories failed (see results/core/failed_test_stories.yml)")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
