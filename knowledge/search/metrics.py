"""Retrieval metrics over labelled questions: what the benchmark, the tests and the calibration report measure."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.search.engine import KnowledgeBase, query_vector
from knowledge.text import has_diacritics


def load_questions(path: Path) -> list[dict[str, Any]]:
    import yaml

    rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [{"q": str(r["q"]), "expect": r.get("expect"), "also": list(r.get("also") or [])} for r in rows]


def gold(row: dict[str, Any]) -> set[str]:
    return ({row["expect"]} | set(row["also"])) if row["expect"] else set()


def evaluate(kb: KnowledgeBase, questions: list[dict[str, Any]], method: str = "combined") -> dict[str, Any]:
    """top-1 / top-3 / unaccented top-1 / no-answer accuracy (in %) and latency (ms) of one method.

    No-answer accuracy counts both directions: an off-topic question must get "none" and an answerable one must not.
    Latency is measured with the query-embedding cache emptied, as for a first-time question.
    """
    top1, top3, ascii1, noanswer, null_none, times, misses = [], [], [], [], [], [], []
    for row in questions:
        query_vector.cache_clear()
        start = time.perf_counter()
        result = kb.search(row["q"], k=5, method=method)
        times.append((time.perf_counter() - start) * 1000)
        ids = [h.doc_id for h in result.hits]
        want = gold(row)
        noanswer.append((result.verdict == "none") == (not want))
        if want:
            top1.append(bool(ids) and ids[0] in want)
            top3.append(bool(want & set(ids[:3])))
            if not has_diacritics(row["q"]):
                ascii1.append(top1[-1])
            if not top1[-1]:
                misses.append((row["q"], row["expect"], ids[:3], result.verdict))
        else:
            null_none.append(result.verdict == "none")
            if not null_none[-1]:
                misses.append((row["q"], None, ids[:1], result.verdict))

    def pct(xs: list[bool]) -> float:
        return 100.0 * sum(xs) / len(xs) if xs else 0.0

    return {
        "method": method,
        "top1": pct(top1),
        "top3": pct(top3),
        "ascii_top1": pct(ascii1),
        "noanswer": pct(noanswer),
        "null_none": pct(null_none),
        "p50_ms": float(np.percentile(times, 50)) if times else 0.0,
        "p95_ms": float(np.percentile(times, 95)) if times else 0.0,
        "answerable": len(top1),
        "ascii": len(ascii1),
        "null": len(questions) - len(top1),
        "misses": misses,
    }
