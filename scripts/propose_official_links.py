"""Propose official codes for curated records: a staff aid, not shipped logic (nothing reads its output).

    .venv/app/bin/python -m scripts.propose_official_links [ID ...] [--top N]

For each curated record, ranks the official records of the shipped snapshot by how many folded word pairs
(bigrams) and words their name shares with the curated name and aliases, and prints the best ones with what a
person needs to decide: source (2026 pages first), levels, fields and agency. A person reads both records
before writing `official_codes:`; the linter then compares the facts.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from knowledge.catalog.model import OfficialRecord
from knowledge.catalog.snapshot import load_snapshot
from knowledge.records.loader import load_knowledge
from knowledge.records.schema import Procedure
from knowledge.text import words

# Words every procedure name shares; they say nothing about which procedure it is.
COMMON = frozenset({"thu", "tuc", "cap", "dang", "ky", "giay", "cho", "va", "cua", "doi", "voi", "the", "hoac"})


def _grams(text: str) -> set[str]:
    tokens = [w for w in words(text)]
    return {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)} | (set(tokens) - COMMON)


def _score(query: set[str], name: str) -> float:
    grams = _grams(name)
    if not grams:
        return 0.0
    shared = query & grams
    # bigrams weigh double: "ket hon" matters more than "hon" and "ket" apart
    return sum(2.0 if " " in g else 1.0 for g in shared) / (len(grams) ** 0.5)


def _rank(proc: Procedure, records: Iterable[OfficialRecord], top: int) -> list[tuple[float, OfficialRecord]]:
    name_grams = _grams(proc.name)
    alias_grams = set().union(*(_grams(a) for a in proc.aliases)) if proc.aliases else set()
    scored = []
    for record in records:
        score = 2 * _score(name_grams, record.name) + _score(alias_grams, record.name)
        score += 0.5 if not record.predates_2025_reform and record.has_details else 0.0
        scored.append((score, record))
    scored.sort(key=lambda pair: -pair[0])
    return scored[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="curated ids (default: all)")
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args(argv)
    records = [r for r in load_snapshot() if r.type != "SPECIFIC"]
    for proc in load_knowledge().procedures:
        if args.ids and proc.id not in args.ids:
            continue
        print(f"## {proc.id} — {proc.name} ({proc.level}) now: {', '.join(getattr(proc, 'official_codes', []))}")
        for score, r in _rank(proc, records, args.top):
            tag = "2024" if r.predates_2025_reform else ("titles" if not r.has_details else r.source)
            print(f"  {score:5.2f} {r.code:10} [{tag}] {'/'.join(r.levels)} | {r.name[:110]}")
            print(f"        {'; '.join(r.fields)[:60]} | {(r.agency or r.competent_authority or '')[:70]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
