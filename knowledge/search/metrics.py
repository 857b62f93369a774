"""Retrieval metrics over labelled questions: what the benchmarks, the tests and the calibration report measure.

The questions live in tests/data/questions/: ``dev.yml`` (looked at while improving), ``test.yml`` (frozen: the
published figures; its misses are never returned) and ``calibration.yml`` (the only split anything is fitted on).
Each file is a list of blocks ``{by, on, note, questions: [{q, expect, also}]}``; a question's ``expect`` is a
curated record id, an official procedure code ("1.001193") or null when nothing in the base answers it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.search.engine import KnowledgeBase, SearchResult, query_vector
from knowledge.text import has_diacritics

QUESTIONS_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "questions"
SPLITS = ("dev", "test", "calibration")
MEASURED = ("dev", "calibration", "test")  # the order the benchmarks print them side by side
FROZEN = "test"  # the split whose misses are never shown and on which nothing is fitted
OFFICIAL_CODE = re.compile(r"^\d+\.\d+$")  # national catalogue codes: "1.001193", "2.000635"

Row = dict[str, Any]


def question_file(split: str) -> Path:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: one of {', '.join(SPLITS)}")
    return QUESTIONS_DIR / f"{split}.yml"


def load_questions(path: Path) -> list[Row]:
    """Rows ``{q, expect, also, by, on, split}``; provenance comes from the row or else from its block.

    The split is the file's name (dev / test / calibration); a flat list of rows (an older format) is read too.
    """
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    rows: list[Row] = []
    for block in data:
        for item in block.get("questions", [block]) or []:
            rows.append(_row(item, block, path.stem))
    return rows


def _row(item: dict[str, Any], block: dict[str, Any], split: str) -> Row:
    def provenance(key: str) -> str | None:
        # YAML 1.1 (PyYAML) reads an unquoted `on:` key as the boolean True
        keys = (key, True) if key == "on" else (key,)
        value = next((d[k] for d in (item, block) for k in keys if k in d), None)
        return None if value is None else str(value)

    expect = item.get("expect")
    return {
        "q": str(item["q"]),
        "expect": None if expect is None else str(expect),
        "also": [str(a) for a in item.get("also") or []],
        "by": provenance("by"),
        "on": provenance("on"),
        "split": split,
    }


def is_official_code(doc_id: str | None) -> bool:
    return bool(doc_id) and bool(OFFICIAL_CODE.match(doc_id))  # type: ignore[arg-type]


def coverage(row: Row) -> str:
    """Who answers it: "curated" (a curated record or guide), "official" (only the national catalogue), "none"."""
    if not row["expect"]:
        return "none"
    return "official" if is_official_code(row["expect"]) else "curated"


def equivalents(kb: KnowledgeBase) -> dict[str, set[str]]:
    """Ids that answer the same procedure: a curated record and the official codes it names (``official_codes``).

    Read defensively: records without that field simply have no equivalents.
    """
    same: dict[str, set[str]] = {}
    for doc_id in kb.doc_ids():
        if is_official_code(doc_id):  # an official record names no other code
            continue
        record = kb.procedure(doc_id)
        for code in getattr(record, "official_codes", None) or []:
            same.setdefault(doc_id, set()).add(str(code))
            same.setdefault(str(code), set()).add(doc_id)
    return same


def gold(row: Row, same: dict[str, set[str]] | None = None) -> set[str]:
    """Every id that counts as a right first answer (empty when the right answer is "don't know")."""
    want = ({row["expect"]} | set(row["also"])) if row["expect"] else set()
    for doc_id in list(want):
        want |= (same or {}).get(doc_id, set())
    return want


def with_equivalents(questions: list[Row], same: dict[str, set[str]]) -> list[Row]:
    """The questions with every equivalent id in ``also``, for code that reads ``gold(row)`` alone (the fitting)."""
    return [{**r, "also": sorted(gold(r, same) - {r["expect"]})} if r["expect"] else r for r in questions]


def check_fittable(questions: list[Row]) -> None:
    """Nothing is fitted on the measured splits: refuse dev and test questions."""
    measured = sorted({r["split"] for r in questions} & {"dev", FROZEN})
    if measured:
        raise ValueError(
            f"refusing to fit on the {' and '.join(measured)} split: fit on {question_file('calibration')} only"
        )


def _pct(xs: list[bool]) -> float:
    return 100.0 * sum(xs) / len(xs) if xs else 0.0


# What a citizen gets, in four figures (both benchmarks print them for every split side by side): label, key.
FIGURES = (
    ("right procedure answered, % of answerable", "right"),
    ("right answered or first button, % of answerable", "right_or_first"),
    ("another procedure answered, % of all", "wrong"),
    ("declined on answerable, % of answerable", "declined"),
)
ANSWERED, WHICH_ONE, DECLINED = "answered", "which one", "declined"


@dataclass
class Figures:
    """Outcomes of one split as a citizen meets them: an answer, a "which one?" with buttons, or a refusal."""

    answerable: list[tuple[str, bool, bool]] = field(default_factory=list)  # (kind, answer right, first button right)
    unanswerable: list[str] = field(default_factory=list)  # kinds

    def add(self, answerable: bool, kind: str, right: bool = False, first_right: bool = False) -> None:
        if answerable:
            self.answerable.append((kind, right, first_right))
        else:
            self.unanswerable.append(kind)

    def figures(self) -> dict[str, float]:
        ans = self.answerable
        wrong = sum(k == ANSWERED and not r for k, r, _ in ans) + sum(k == ANSWERED for k in self.unanswerable)
        return {
            "right": _pct([k == ANSWERED and r for k, r, _ in ans]),
            "right_or_first": _pct([(k == ANSWERED and r) or (k == WHICH_ONE and f) for k, r, f in ans]),
            "wrong": 100.0 * wrong / max(len(ans) + len(self.unanswerable), 1),
            "declined": _pct([k == DECLINED for k, _, _ in ans]),
            "measured": float(len(ans) + len(self.unanswerable)),
        }


def figures_table(by_split: dict[str, dict[str, float]]) -> str:
    """The four figures, one column per split (n = questions measured)."""
    splits = list(by_split)
    lines = [f"{'':50}" + "".join(f"{s:>13}" for s in splits),
             f"{'questions measured':50}" + "".join(f"{int(by_split[s]['measured']):>13}" for s in splits)]
    for label, key in FIGURES:
        lines.append(f"{label:50}" + "".join(f"{by_split[s][key]:>13.1f}" for s in splits))
    return "\n".join(lines)


@dataclass
class _Tally:
    """Outcomes of one method over a split, kept per group so the benchmark can break them down."""

    top1: dict[str, list[bool]] = field(default_factory=lambda: {"curated": [], "official": []})
    top3: dict[str, list[bool]] = field(default_factory=lambda: {"curated": [], "official": []})
    ascii1: dict[str, list[bool]] = field(default_factory=lambda: {"curated": [], "official": []})
    noanswer: list[bool] = field(default_factory=list)
    null_none: list[bool] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    misses: list[tuple[str, str | None, list[str], str]] = field(default_factory=list)
    unindexed: int = 0
    citizen: Figures = field(default_factory=Figures)

    def add(self, row: Row, want: set[str], result: SearchResult) -> None:
        ids = [h.doc_id for h in result.hits]
        kind, first = citizen_outcome(result)
        self.citizen.add(bool(want), kind, kind == ANSWERED and first in want, kind == WHICH_ONE and first in want)
        self.noanswer.append((result.verdict == "none") == (not want))
        if not want:
            self.null_none.append(result.verdict == "none")
            if not self.null_none[-1]:
                self.misses.append((row["q"], None, ids[:1], result.verdict))
            return
        group = coverage(row)
        right = bool(ids) and ids[0] in want
        self.top1[group].append(right)
        self.top3[group].append(bool(want & set(ids[:3])))
        if not has_diacritics(row["q"]):
            self.ascii1[group].append(right)
        if not right:
            self.misses.append((row["q"], row["expect"], ids[:3], result.verdict))

    def summary(self, method: str, frozen: bool) -> dict[str, Any]:
        top1 = self.top1["curated"] + self.top1["official"]
        top3 = self.top3["curated"] + self.top3["official"]
        ascii1 = self.ascii1["curated"] + self.ascii1["official"]
        return {
            "method": method,
            "top1": _pct(top1),
            "top3": _pct(top3),
            "ascii_top1": _pct(ascii1),
            **{f"{g}_ascii_top1": _pct(self.ascii1[g]) for g in ("curated", "official")},
            "noanswer": _pct(self.noanswer),
            "null_none": _pct(self.null_none),
            **{f"{g}_top{k}": _pct(getattr(self, f"top{k}")[g]) for g in ("curated", "official") for k in (1, 3)},
            "p50_ms": float(np.percentile(self.times, 50)) if self.times else 0.0,
            "p95_ms": float(np.percentile(self.times, 95)) if self.times else 0.0,
            "questions": len(self.noanswer),
            "answerable": len(top1),
            "curated": len(self.top1["curated"]),
            "official": len(self.top1["official"]),
            "ascii": len(ascii1),
            "null": len(self.null_none),
            "unindexed": self.unindexed,
            "frozen": frozen,
            **self.citizen.figures(),
            "misses": [] if frozen else self.misses,  # the frozen split is never shown as a list of misses
        }


def citizen_outcome(result: SearchResult) -> tuple[str, str | None]:
    """What a citizen in a fresh conversation gets from this search: an answer, a "which one?" or a refusal, and
    the record answered or offered on the first button."""
    # The record answered is the decision's: a family's common case may rank below a rarer case in the hits.
    best = result.decision.best if result.decision is not None else None
    if result.verdict == "sure" and best is not None:
        return ANSWERED, best.doc_id
    if result.verdict == "ambiguous" and result.choices:
        return WHICH_ONE, result.choices[0].doc_id
    return DECLINED, None


def evaluate(kb: KnowledgeBase, questions: list[Row], method: str = "combined") -> dict[str, Any]:
    """top-1 / top-3 / unaccented top-1 / no-answer accuracy (in %) and latency (ms) of one method, with breakdowns
    by who answers the question (curated, official-only).

    No-answer accuracy counts both directions: an off-topic question must get "none" and an answerable one must not.
    Official-only questions whose procedure is not in the index at all (a curated-only index) are left out and
    counted in ``unindexed``, so the figures compare like with like until the catalogue is indexed.
    Misses are listed only when no question comes from the frozen test split.
    Latency is measured with the query-embedding cache emptied, as for a first-time question.
    """
    same, indexed = equivalents(kb), set(kb.doc_ids())
    tally = _Tally()
    for row in questions:
        want = gold(row, same)
        if want and coverage(row) == "official" and not want & indexed:
            tally.unindexed += 1
            continue
        query_vector.cache_clear()
        start = time.perf_counter()
        result = kb.search(row["q"], k=5, method=method)
        tally.times.append((time.perf_counter() - start) * 1000)
        tally.add(row, want, result)
    return tally.summary(method, frozen=any(r["split"] == FROZEN for r in questions))
