"""Retrieval benchmark: dense, lexical, routing, rank fusion and combined, on the dev and the frozen test split.

routed = e5 for questions with diacritics, BM25 for questions without (the rule measured in /work/shared/README.md);
rrf = reciprocal-rank fusion of both rankings; combined = the weighted fusion the bot uses (knowledge.search).
The methods are compared on the full index (curated records, official catalogue, guides). The combined method is
also measured on a curated-only index (knowledge/ copied without official/, built in a temporary directory reusing
var/index/cache) and shown beside the full one on the same questions: what indexing the catalogue costs or brings.
On the curated-only index the official-only questions cannot be answered: they are left out there and shown n/a.

Run on purpose (make bench-retrieval):
`python tests/benchmarks/bench_retrieval.py [--index-dir DIR] [--split dev|calibration|test] [--misses] [--full-only]`.
Builds the index first if it is missing or stale. Misses are listed for the dev split only:
the test split (tests/data/questions/test.yml) is frozen, and its questions are never printed. It prints the four
figures a citizen meets (right answered, right answered or first button, another procedure answered, declined on an
answerable question) for dev, calibration and test side by side; the last lines are
`retrieval <split>: right … | top1 X% top3 Y% ascii-top1 Z% noanswer W%` for the combined method.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as in the serving process: one thread for the encoder

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from knowledge.index.build import KNOWLEDGE_DIR, build, index_dir_from_env  # noqa: E402
from knowledge.search.engine import METHODS, KnowledgeBase  # noqa: E402
from knowledge.search.metrics import (  # noqa: E402
    FROZEN,
    MEASURED,
    evaluate,
    figures_table,
    gold,
    is_official_code,
    load_questions,
    question_file,
)

SPLITS = MEASURED  # dev, calibration (what is fitted on: its figures are optimistic) and the frozen test split
BENCH_METHODS = ("dense", "lexical", "routed", "rrf", "combined")
TARGETS = {"top1": 90.0, "top3": 97.0, "ascii_top1": 85.0, "noanswer": 85.0}
ROWS = [  # label, key, count shown beside the label
    ("top-1 %", "top1", "answerable"),
    ("top-3 %", "top3", "answerable"),
    ("  curated-covered top-1 %", "curated_top1", "curated"),
    ("  official-only top-1 %", "official_top1", "official"),
    ("top-1 without diacritics %", "ascii_top1", "ascii"),
    ("no-answer accuracy %", "noanswer", "questions"),
    ("  off-topic -> none %", "null_none", "null"),
    ("latency p50 ms", "p50_ms", ""),
    ("latency p95 ms", "p95_ms", ""),
]


def table(by_split: dict[str, list[dict[str, Any]]]) -> str:
    """One column per method, one group of rows per split (n = questions behind each figure)."""
    methods = [r["method"] for r in next(iter(by_split.values()))]
    head = f"{'':36}" + "".join(f"{m:>10}" for m in methods)
    lines = [head, "-" * len(head)]
    for split, results in by_split.items():
        lines.append(f"[{split}]")
        for label, key, count in ROWS:
            n = f" (n={results[-1][count]})" if count else ""
            lines.append(f"{label + n:36}" + "".join(f"{r[key]:>10.1f}" for r in results))
    return "\n".join(lines)


def side_by_side(combined: dict[str, dict[str, Any]]) -> str:
    """The combined method on dev and test; the gap is how much of the dev figure came from tuning on dev."""
    if not {"dev", FROZEN} <= set(combined):
        return ""
    dev, test = combined["dev"], combined[FROZEN]
    lines = [f"{'combined':28}{'dev':>8}{'test':>8}{'gap':>8}"]
    for label, key, count in ROWS[:7]:
        if not (dev[count] and test[count]):  # e.g. no official-only question measured on a curated-only index
            lines.append(f"{label.strip():28}{'—':>8}{'—':>8}{'':>8}")
            continue
        lines.append(f"{label.strip():28}{dev[key]:>8.1f}{test[key]:>8.1f}{dev[key] - test[key]:>+8.1f}")
    return "\n".join(lines)


SCALE_ROWS = [  # label, key, count behind the figure (0 questions: not measurable on that index)
    ("top-1 %", "top1", "answerable"),
    ("top-3 %", "top3", "answerable"),
    ("  curated-covered top-1 %", "curated_top1", "curated"),
    ("  official-only top-1 %", "official_top1", "official"),
    ("  official-only top-3 %", "official_top3", "official"),
    ("top-1 without diacritics %", "ascii_top1", "ascii"),
    ("no-answer accuracy %", "noanswer", "questions"),
    ("latency p50 ms", "p50_ms", "questions"),
    ("latency p95 ms", "p95_ms", "questions"),
]


# On the curated-only index the official-only group is at most the few codes a curated record names: not comparable.
UNINDEXED = {("curated-only", "official_top1"), ("curated-only", "official_top3")}


def curated_only_index(work: Path, shared_cache: Path) -> Path:
    """Build an index of the curated records and guides alone (no official/ in the copy) under `work`."""
    knowledge = work / "knowledge"
    for part in ("procedures", "guides"):
        shutil.copytree(KNOWLEDGE_DIR / part, knowledge / part)
    index_dir = work / "index"
    (index_dir / "cache").mkdir(parents=True)
    for name in ("embeddings.json", "embeddings.npy"):  # same model, same texts: same vectors, nothing re-embedded
        if (shared_cache / name).is_file():
            shutil.copy2(shared_cache / name, index_dir / "cache" / name)
    report = build(index_dir, knowledge)
    if report.version is None:
        raise SystemExit(f"the curated-only index could not be built: {report.problems}")
    return index_dir


def scale_table(curated: dict[str, dict[str, Any]], full: dict[str, dict[str, Any]]) -> str:
    """The combined method on the curated-only and the full index, per split, on the same questions."""
    splits = list(full)
    cols = [(name, split, by[split]) for name, by in (("curated-only", curated), ("full", full)) for split in splits]
    lines = [
        f"{'combined, same questions':32}" + "".join(f"{name:>14}" for name, _, _ in cols),
        f"{'':32}" + "".join(f"{split:>14}" for _, split, _ in cols),
        f"{'answerable measured (n)':32}" + "".join(f"{r['answerable']:>14}" for _, _, r in cols),
        f"{'  of which official-only (n)':32}" + "".join(f"{r['official']:>14}" for _, _, r in cols),
        f"{'official-only unindexed (n)':32}" + "".join(f"{r['unindexed']:>14}" for _, _, r in cols),
    ]
    for label, key, count in SCALE_ROWS:
        cells = [f"{'n/a':>14}" if not r[count] or (name, key) in UNINDEXED else f"{r[key]:>14.1f}"
                 for name, _, r in cols]  # fmt: skip
        lines.append(f"{label:32}" + "".join(cells))
    lines.append(
        "curated-only: official-only questions are not in that index (n/a); the few whose code a curated record "
        "names (official_codes) are answerable there and counted in its top-1 / top-3."
    )
    return "\n".join(lines)


def evaluate_curated_only(index_dir: Path, splits: list[str]) -> dict[str, dict[str, Any]]:
    """The combined method on a curated-only index built beside `index_dir`'s shared cache, then removed."""
    with tempfile.TemporaryDirectory(prefix="bench-curated-", dir=index_dir.parent) as tmp:
        kb = KnowledgeBase(curated_only_index(Path(tmp), index_dir / "cache"), watch=False)
        kb.search("khởi động")
        return {split: evaluate(kb, load_questions(question_file(split)), "combined") for split in splits}


def describe(split: str, combined: dict[str, Any]) -> str:
    unindexed = (
        f"; {combined['unindexed']} official-only questions left out: their procedures are not in this index"
        if combined["unindexed"]
        else ""
    )
    return (
        f"{split}: {combined['questions']} questions measured, {combined['answerable']} answerable "
        f"({combined['curated']} curated-covered, {combined['official']} official-only, {combined['ascii']} "
        f"without diacritics), {combined['null']} with no answer in the base{unindexed}"
    )


def print_misses(combined: dict[str, Any]) -> None:
    print("\ndev misses of the combined method (question | expected | got top-3 | verdict):")
    for q, want, got, verdict in combined["misses"]:
        print(f"  {q} | {want} | {', '.join(got)} | {verdict}")


def unasked(kb: KnowledgeBase, questions: list[dict[str, Any]]) -> list[str]:
    """Curated records and guides no question expects: add questions for them to dev.yml."""
    asked = set().union(*(gold(r) for r in questions))
    return sorted(d for d in kb.doc_ids() if not is_official_code(d) and d not in asked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--split", choices=SPLITS, action="append", help="default: dev, calibration and test")
    parser.add_argument("--misses", action="store_true", help="list the dev questions the combined method gets wrong")
    parser.add_argument("--full-only", action="store_true", help="skip the curated-only index beside the full one")
    args = parser.parse_args(argv)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores at the start "
          "(latencies are noisy when other work shares the cores)")  # fmt: skip
    index_dir = index_dir_from_env(args.index_dir)
    build(index_dir)  # no-op when up to date; with knowledge errors the previous index keeps serving
    kb = KnowledgeBase(index_dir, watch=False)
    kb.search("khởi động")  # load the encoder before timing
    splits = args.split or list(SPLITS)
    by_split, asked = {}, []
    for split in splits:
        questions = load_questions(question_file(split))
        by_split[split] = [evaluate(kb, questions, m) for m in BENCH_METHODS]
        asked += questions
    assert set(METHODS) == set(BENCH_METHODS)
    combined = {split: results[-1] for split, results in by_split.items()}
    print()
    print("\n".join(describe(split, c) for split, c in combined.items()))
    print(table(by_split))
    print("\n" + side_by_side(combined) if len(combined) > 1 else "")
    print("\nwhat a citizen gets from the search alone (combined method, fresh conversation):")
    print(figures_table(combined))
    if not args.full_only:
        print("\n" + scale_table(evaluate_curated_only(index_dir, splits), combined))
    if args.misses and "dev" in combined:
        print_misses(combined["dev"])
    missing = unasked(kb, asked)
    if missing:
        print(f"\nrecords no question asks for ({len(missing)}): {', '.join(missing)}")
    for split, c in combined.items():
        short = [k for k, target in TARGETS.items() if c[k] < target]
        if short:
            print(f"{split} below target: {', '.join(short)}")
    for split, c in combined.items():
        print(
            f"retrieval {split}: right {c['right']:.1f}% right-or-first-button {c['right_or_first']:.1f}% "
            f"another-answered {c['wrong']:.1f}% declined {c['declined']:.1f}% | "
            f"top1 {c['top1']:.1f}% top3 {c['top3']:.1f}% ascii-top1 {c['ascii_top1']:.1f}% "
            f"noanswer {c['noanswer']:.1f}%"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
