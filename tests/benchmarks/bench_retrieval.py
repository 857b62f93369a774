"""Retrieval benchmark: dense only, lexical only, routing, rank fusion and combined, on the same dev-set questions.

routed = e5 for questions with diacritics, BM25 for questions without (the rule measured in /work/shared/README.md);
rrf = reciprocal-rank fusion of both rankings; combined = the weighted fusion the bot uses (knowledge.search).

Run on purpose: `python tests/benchmarks/bench_retrieval.py [--index-dir DIR] [--devset FILE] [--misses]`
(make bench-retrieval). Builds the index first if it is missing or stale. The last line is
`retrieval: top1 X% top3 Y% ascii-top1 Z% noanswer W%` for the combined method.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as in the serving process: one thread for the encoder

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from knowledge.index.build import build, index_dir_from_env  # noqa: E402
from knowledge.search.engine import METHODS, KnowledgeBase  # noqa: E402
from knowledge.search.metrics import evaluate, load_questions  # noqa: E402

DEVSET = ROOT / "tests" / "data" / "retrieval_devset.yml"
TARGETS = {"top1": 90.0, "top3": 97.0, "ascii_top1": 85.0, "noanswer": 85.0}


def table(results: list[dict]) -> str:
    rows = [
        ("top-1 %", "top1", "{:.1f}"),
        ("top-3 %", "top3", "{:.1f}"),
        ("top-1 without diacritics %", "ascii_top1", "{:.1f}"),
        ("no-answer accuracy %", "noanswer", "{:.1f}"),
        ("  of which off-topic -> none %", "null_none", "{:.1f}"),
        ("latency p50 ms", "p50_ms", "{:.1f}"),
        ("latency p95 ms", "p95_ms", "{:.1f}"),
    ]
    head = f"{'':28}" + "".join(f"{r['method']:>11}" for r in results)
    lines = [head, "-" * len(head)]
    for label, key, fmt in rows:
        lines.append(f"{label:28}" + "".join(f"{fmt.format(r[key]):>11}" for r in results))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--misses", action="store_true", help="list the questions the combined method gets wrong")
    args = parser.parse_args(argv)
    index_dir = index_dir_from_env(args.index_dir)
    build(index_dir)  # no-op when up to date; with knowledge errors the previous index keeps serving
    kb = KnowledgeBase(index_dir, watch=False)
    questions = load_questions(args.devset)
    kb.search("khởi động")  # load the encoder before timing
    results = [evaluate(kb, questions, m) for m in ("dense", "lexical", "routed", "rrf", "combined")]
    combined = results[-1]
    print(
        f"\n{len(questions)} questions: {combined['answerable']} answerable "
        f"({combined['ascii']} without diacritics), {combined['null']} with no answer in the base"
    )
    print(table(results))
    if args.misses:
        print("\ncombined misses (question | expected | got top-3 | verdict):")
        for q, want, got, verdict in combined["misses"]:
            print(f"  {q} | {want} | {', '.join(got)} | {verdict}")
    asked = {r["expect"] for r in questions} | {a for r in questions for a in r["also"]}
    unasked = sorted(set(kb.doc_ids()) - asked)
    if unasked:
        print(f"\nrecords without a dev-set question ({len(unasked)}): {', '.join(unasked)}")
    short = [k for k, target in TARGETS.items() if combined[k] < target]
    if short:
        print(f"\nbelow target: {', '.join(short)}")
    assert set(METHODS) == {r["method"] for r in results}
    print(
        f"retrieval: top1 {combined['top1']:.1f}% top3 {combined['top3']:.1f}% "
        f"ascii-top1 {combined['ascii_top1']:.1f}% noanswer {combined['noanswer']:.1f}%"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
