"""The labelled question splits (tests/data/questions/): kept apart, with provenance, and the frozen one never shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from knowledge.language import expand_abbreviations, syllables
from knowledge.records.loader import KNOWLEDGE_ROOT, knowledge_files, parse_files
from knowledge.search.metrics import (
    FROZEN,
    SPLITS,
    check_fittable,
    coverage,
    evaluate,
    gold,
    is_official_code,
    load_questions,
    question_file,
)
from knowledge.text import has_diacritics


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict]]:
    return {split: load_questions(question_file(split)) for split in SPLITS}


def test_no_question_is_in_two_splits(splits: dict[str, list[dict]]) -> None:
    seen: dict[str, str] = {}
    for split, rows in splits.items():
        for row in rows:
            folded = " ".join(syllables(expand_abbreviations(row["q"])))  # as the linter compares words
            assert seen.setdefault(folded, split) == split, f"«{row['q']}» is in {seen[folded]} and {split}"


def test_every_question_has_provenance_and_a_known_answer(splits: dict[str, list[dict]]) -> None:
    ids = {item.record.id for item in parse_files(knowledge_files(KNOWLEDGE_ROOT)) if item.record}
    for rows in splits.values():
        for row in rows:
            assert row["by"] and row["on"], f"«{row['q']}» says neither who wrote it nor when"
            for doc_id in gold(row):
                assert doc_id in ids or is_official_code(doc_id), f"«{row['q']}» expects unknown {doc_id!r}"


def test_frozen_split_is_big_and_varied(splits: dict[str, list[dict]]) -> None:
    rows = splits[FROZEN]
    kinds = [coverage(r) for r in rows]
    assert len(rows) >= 350
    assert kinds.count("none") >= 40 and kinds.count("official") >= 80
    assert sum(not has_diacritics(r["q"]) for r in rows) >= len(rows) // 3


def test_fitting_refuses_the_measured_splits(splits: dict[str, list[dict]]) -> None:
    check_fittable(splits["calibration"])
    for split in ("dev", FROZEN):
        with pytest.raises(ValueError, match=split):
            check_fittable(splits["calibration"] + splits[split][:1])


def test_blocks_give_provenance_and_rows_may_override_it(tmp_path: Path) -> None:
    path = tmp_path / "dev.yml"
    path.write_text(
        "- by: a tester\n  on: 2026-11-27\n  questions:\n"
        "    - q: lam can cuoc\n      expect: can-cuoc-cap-moi\n"
        "    - q: nhận con nuôi\n      expect: '2.001263'\n      by: someone else\n"
        "    - q: giá vàng\n      expect: null\n",
        encoding="utf-8",
    )
    rows = load_questions(path)
    assert [(r["by"], r["on"], r["split"]) for r in rows] == [
        ("a tester", "2026-11-27", "dev"),
        ("someone else", "2026-11-27", "dev"),
        ("a tester", "2026-11-27", "dev"),
    ]
    assert [coverage(r) for r in rows] == ["curated", "official", "none"]


# ---------------------------------------------------------------- evaluate() against a stand-in knowledge base


@dataclass
class _Procedure:
    official_codes: list[str] = field(default_factory=list)


@dataclass
class _Hit:
    doc_id: str


@dataclass
class _Decision:
    best: _Hit | None


@dataclass
class _Result:
    hits: list[_Hit]
    verdict: str

    @property
    def decision(self) -> _Decision:  # the search answers its first hit, as the real decision would here
        return _Decision(self.hits[0] if self.verdict == "sure" and self.hits else None)


class _FakeKB:
    """Answers every question with the same record: a curated record that names one official code."""

    def doc_ids(self) -> list[str]:
        return ["ho-tich-khai-sinh", "ho-tich-ket-hon"]

    def procedure(self, doc_id: str) -> _Procedure | None:
        return _Procedure(["1.001193"]) if doc_id == "ho-tich-khai-sinh" else _Procedure()

    def search(self, query: str, k: int = 5, method: str = "combined") -> _Result:
        return _Result([_Hit("ho-tich-khai-sinh"), _Hit("ho-tich-ket-hon")], "sure")


def _rows(split: str) -> list[dict]:
    made = [
        {"q": "khai sinh", "expect": "1.001193"},  # the code the curated record names: right
        {"q": "ket hon", "expect": "ho-tich-ket-hon"},  # second: a miss at top-1
        {"q": "nhan con nuoi", "expect": "2.001263"},  # official-only, not in this index: left out
        {"q": "gia vang", "expect": None},  # answered though nothing does: a miss
    ]
    return [{**r, "also": [], "by": "t", "on": "2026-11-27", "split": split} for r in made]


def test_official_code_named_by_a_curated_record_counts_as_that_record() -> None:
    result = evaluate(_FakeKB(), _rows("dev"))  # type: ignore[arg-type]
    assert (result["curated"], result["official"], result["unindexed"], result["null"]) == (1, 1, 1, 1)
    assert result["official_top1"] == 100.0 and result["curated_top1"] == 0.0 and result["top3"] == 100.0
    assert [m[0] for m in result["misses"]] == ["ket hon", "gia vang"]


def test_misses_of_the_frozen_split_are_never_returned() -> None:
    result = evaluate(_FakeKB(), _rows(FROZEN))  # type: ignore[arg-type]
    assert result["frozen"] and result["misses"] == []
    assert result["top1"] == 50.0  # the scores are still measured
