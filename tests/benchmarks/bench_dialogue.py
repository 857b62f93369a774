"""End-to-end answer accuracy: every dev-set question through REST → NLU → actions → search, as a citizen asks it.

Where `make bench-retrieval` measures the search alone, this measures what the citizen actually gets, so NLU
mistakes (a real question taken for off-topic) count too. Run on purpose: `make bench-dialogue`, or against a
running server: `.venv/app/bin/python tests/benchmarks/bench_dialogue.py --url http://localhost:5005`.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from knowledge.search import get_knowledge_base  # noqa: E402
from knowledge.text import has_diacritics  # noqa: E402
from scripts.chat import send  # noqa: E402
from scripts.stack import Stack, free_port  # noqa: E402

DEVSET = ROOT / "tests/data/retrieval_devset.yml"
ANSWER_MARKS = ("📄 ", "ℹ️ ")


def answered_title(replies: list[dict]) -> str | None:
    """The procedure or guide the bot answered with (its title line), or None for a question back or a refusal."""
    for reply in replies:
        first = (reply.get("text") or "").split("\n", 1)[0]
        for mark in ANSWER_MARKS:
            if first.startswith(mark):
                return first[len(mark):].split(" — ", 1)[0].strip()
    return None


def title_of(kb, doc_id: str) -> str:
    procedure = kb.procedure(doc_id)
    return procedure.name if procedure else kb.guide(doc_id).title


def offered(replies: list[dict]) -> set[str]:
    return {button["title"] for reply in replies for button in reply.get("buttons", [])}


def outcome(row: dict, replies: list[dict], titles: dict[str, str]) -> tuple[str, str | None]:
    title = answered_title(replies)
    expected = {titles.get(doc_id) for doc_id in {row["expect"], *row.get("also", [])} - {None}}
    if not expected:
        return ("refused ok" if title is None else "answered unanswerable"), title
    if title is None:
        return ("asked back, right one offered" if expected & offered(replies) else "asked back / refused"), title
    return ("right" if title in expected else "WRONG"), title


def run(rasa_url: str) -> None:
    kb = get_knowledge_base()
    titles = {doc_id: title_of(kb, doc_id) for doc_id in kb.doc_ids()}
    rows = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))
    tallies: dict[str, Counter] = {"all": Counter(), "with diacritics": Counter(), "without diacritics": Counter()}
    wrong: list[str] = []
    for row in rows:
        replies = send(rasa_url, f"bench-{uuid.uuid4().hex[:8]}", row["q"])
        result, title = outcome(row, replies, titles)
        for group in ("all", "with diacritics" if has_diacritics(row["q"]) else "without diacritics"):
            tallies[group][result] += 1
        if result in ("WRONG", "answered unanswerable"):
            wrong.append(f"  {result}: {row['q']!r} -> {title!r} (expected {row['expect']!r})")
    for group, counts in tallies.items():
        total = sum(counts.values())
        shares = ", ".join(f"{name} {100 * n / total:.1f}%" for name, n in counts.most_common())
        print(f"{group} ({total} questions): {shares}")
    print("confident mistakes a citizen would see:")
    print("\n".join(wrong) or "  none")
    answerable = [r for r in rows if r["expect"]]
    right, choice = tallies["all"]["right"], tallies["all"]["asked back, right one offered"]
    print(f"dialogue: right {100 * right / len(answerable):.1f}% of answerable "
          f"(+{100 * choice / len(answerable):.1f}% as one of the offered choices), "
          f"confident mistakes {100 * len(wrong) / len(rows):.1f}% of all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Rasa server; default: start one on free ports")
    args = parser.parse_args()
    if args.url:
        run(args.url)
        return
    with Stack(rasa_port=free_port(), action_port=free_port(), var_dir=ROOT / "var/bench") as stack:
        run(stack.rasa_url)


if __name__ == "__main__":
    main()
