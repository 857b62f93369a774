"""Command line: `python -m knowledge.search "câu hỏi"` (make kb-search) and `--calibrate` (make kb-calibrate)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from knowledge.index.published import index_dir_from_env
from knowledge.search.engine import CALIBRATION_FILE, Calibration, KnowledgeBase, _encoder
from knowledge.search.fit import calibrate, fit_decision
from knowledge.search.metrics import load_questions, question_file
from settings import environment


def _print_result(kb: KnowledgeBase, query: str, k: int) -> None:
    _encoder()  # load the model first so the time shown is the search's own
    start = time.perf_counter()
    result = kb.search(query, k=k)
    took = (time.perf_counter() - start) * 1000
    why = f", {result.decision.reason}" if result.decision else ""
    print(f"verdict: {result.verdict}   ({took:.0f} ms, index {kb.version}{why})")
    for i, hit in enumerate(result.hits, 1):
        print(f"{i}. {hit.score:.3f}  [{hit.kind}] {hit.doc_id} — {hit.title}")
        print(f"   {hit.passage[:160]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Search the knowledge base.")
    parser.add_argument("query", nargs="*", help="question (Vietnamese, with or without diacritics)")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--calibrate", action="store_true", help="refit knowledge/search/calibration.json")
    parser.add_argument("--questions", type=Path, default=None, help="calibration questions (YAML)")
    parser.add_argument(
        "--decision-only", action="store_true",
        help="with --calibrate: refit only the decision's own thresholds (close_ratio, topic_mass, off_topic_answer)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    environment.set_default("OMP_NUM_THREADS", "1")
    if args.calibrate:  # refit from scratch: the shipped weights may be for another feature set
        path = args.questions or question_file("calibration")
        questions = load_questions(path)
        if args.decision_only:
            kb = KnowledgeBase(index_dir_from_env(args.index_dir), watch=False)
            cal = fit_decision(kb, questions, kb.calibration)
        else:
            start = Calibration.load(check=False) if CALIBRATION_FILE.is_file() else Calibration.starting_point()
            kb = KnowledgeBase(index_dir_from_env(args.index_dir), start, watch=False)
            cal = calibrate(kb, questions)
        cal.save(extra={"fitted_on": str(path.name), "questions": len(questions)})
        print(f"calibration written to {CALIBRATION_FILE} from {len(questions)} questions")
        shown = {k: v for k, v in cal.__dict__.items() if k not in ("coef", "method_thresholds")}
        print(json.dumps(shown, ensure_ascii=False))
        return 0
    kb = KnowledgeBase(index_dir_from_env(args.index_dir), watch=False)
    if not args.query:
        parser.error("give a question, or --calibrate")
    _print_result(kb, " ".join(args.query), args.k)
    return 0


if __name__ == "__main__":
    sys.exit(main())
