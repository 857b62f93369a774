"""End-to-end answer accuracy: the dev, calibration and frozen test questions through REST → NLU → actions → search.

Where `make bench-retrieval` measures the search alone, this measures what the citizen actually gets, so NLU
mistakes (a real question taken for off-topic) count too. It prints four figures per split, side by side: the right
procedure answered, the right one answered or first among the "which one?" buttons, another procedure answered
(of all questions: off-topic ones answered count too), and answerable questions declined. Confident mistakes and
the answerable questions left without an answer or the right button are listed for dev and calibration: the test
split (tests/data/questions/test.yml) is frozen and never printed question by question. Run on purpose:
`make bench-dialogue`, or against a running server:
`.venv/app/bin/python tests/benchmarks/bench_dialogue.py --url http://localhost:5005 [--split dev]`.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from actions.answers import choose_payload, procedure_title  # noqa: E402
from knowledge.search import get_knowledge_base  # noqa: E402
from knowledge.search.metrics import (  # noqa: E402
    ANSWERED,
    DECLINED,
    FROZEN,
    MEASURED,
    WHICH_ONE,
    Figures,
    equivalents,
    figures_table,
    gold,
    load_questions,
    question_file,
)
from knowledge.text import has_diacritics  # noqa: E402
from scripts.chat import send  # noqa: E402
from scripts.stack import Stack, free_port  # noqa: E402

SPLITS = MEASURED  # dev, calibration and the frozen test split
ANSWER_MARKS = ("📄 ", "ℹ️ ")
WHICH_ONE_MARK = "Bạn muốn hỏi thủ tục nào"  # actions/answers.py clarify()
MISTAKES = ("WRONG", "answered unanswerable")


def answered_title(replies: list[dict]) -> str | None:
    """The procedure or guide the bot answered with (its title line: "Name (mã code)" or a guide's title), or None
    for a question back or a refusal."""
    for reply in replies:
        first = (reply.get("text") or "").split("\n", 1)[0]
        for mark in ANSWER_MARKS:
            if first.startswith(mark):
                return first[len(mark):].split(" — ", 1)[0].strip()
    return None


def title_of(kb: Any, doc_id: str) -> str | None:
    """The title line the bot answers with: a procedure's name and code, or a guide's title."""
    guide = kb.guide(doc_id)
    if guide:
        return guide.title
    facts = kb.facts(doc_id)
    if facts is None:
        return None
    return procedure_title(facts).removeprefix("📄 ")


def offered(replies: list[dict]) -> set[str]:
    """Payloads of the buttons offered ("which of these?", "which case?"): a label may be shortened to tell
    lookalike names apart (actions/choices.py), the payload names the record."""
    return {button.get("payload", "") for reply in replies for button in reply.get("buttons", [])}


def first_choice(replies: list[dict]) -> str | None:
    """The payload of the first button of a "which one?" question (None when the bot did not ask one)."""
    for reply in replies:
        if (reply.get("text") or "").startswith(WHICH_ONE_MARK) and reply.get("buttons"):
            return reply["buttons"][0].get("payload")
    return None


Titles = dict[str, tuple[str | None, str]]  # doc id -> (the answer's title line, the payload of a button offering it)


def titles_of(kb: Any, doc_ids: set[str]) -> Titles:
    return {doc_id: (title_of(kb, doc_id), choose_payload(doc_id)) for doc_id in doc_ids}


def outcome(want: set[str], replies: list[dict], titles: Titles) -> tuple[str, str | None]:
    title = answered_title(replies)
    answers = {titles[d][0] for d in want if d in titles} - {None}
    buttons = {titles[d][1] for d in want if d in titles} - {None}
    if not want:
        return ("refused ok" if title is None else "answered unanswerable"), title
    if title is None:
        return ("asked back, right one offered" if buttons & offered(replies) else "asked back / refused"), title
    return ("right" if title in answers else "WRONG"), title


def citizen_figure(figures: Figures, want: set[str], replies: list[dict], titles: Titles) -> None:
    """Count one question in the four figures: answered (right or not), "which one?" (right first or not), declined."""
    title, first = answered_title(replies), first_choice(replies)
    answers = {titles[d][0] for d in want if d in titles} - {None}
    buttons = {titles[d][1] for d in want if d in titles} - {None}
    kind = ANSWERED if title is not None else WHICH_ONE if first is not None else DECLINED
    figures.add(bool(want), kind, title in answers, first in buttons)


def run_split(rasa_url: str, kb: Any, split: str) -> dict[str, float]:
    same, indexed = equivalents(kb), set(kb.doc_ids())
    titles = titles_of(kb, indexed)
    tallies: dict[str, Counter] = {"all": Counter(), "with diacritics": Counter(), "without diacritics": Counter()}
    wrong: list[str] = []
    declined: list[str] = []  # answerable questions the citizen got no answer nor the right button for
    asked, unindexed = [], 0
    figures = Figures()
    for row in load_questions(question_file(split)):
        want = gold(row, same)
        if want and not want & indexed:  # an official-only procedure this index does not hold
            unindexed += 1
            continue
        asked.append(row)
        replies = send(rasa_url, f"bench-{uuid.uuid4().hex[:8]}", row["q"])
        result, title = outcome(want, replies, titles)
        citizen_figure(figures, want, replies, titles)
        for group in ("all", "with diacritics" if has_diacritics(row["q"]) else "without diacritics"):
            tallies[group][result] += 1
        if result in MISTAKES:
            wrong.append(f"  {result}: {row['q']!r} -> {title!r} (expected {row['expect']!r})")
        elif result == "asked back / refused":
            declined.append(f"  {row['q']!r} (expected {row['expect']!r})")
    report(split, tallies, wrong, asked, unindexed)
    if split != FROZEN:
        print("answerable questions left without an answer or the right button:")
        print("\n".join(declined) or "  none")
    return figures.figures()


def report(split: str, tallies: dict[str, Counter], wrong: list[str], asked: list[dict], unindexed: int) -> None:
    print(f"\n[{split}]" + (f" ({unindexed} official-only questions left out: not in this index)" if unindexed else ""))
    for group, counts in tallies.items():
        total = sum(counts.values())
        shares = ", ".join(f"{name} {100 * n / total:.1f}%" for name, n in counts.most_common())
        print(f"{group} ({total} questions): {shares}")
    if split != FROZEN:  # the frozen split's questions are never printed
        print("confident mistakes a citizen would see:")
        print("\n".join(wrong) or "  none")
    answerable = sum(1 for r in asked if r["expect"]) or 1
    right, choice = tallies["all"]["right"], tallies["all"]["asked back, right one offered"]
    print(
        f"dialogue {split}: right {100 * right / answerable:.1f}% of answerable "
        f"(+{100 * choice / answerable:.1f}% as one of the offered choices), "
        f"confident mistakes {100 * len(wrong) / max(len(asked), 1):.1f}% of all"
    )


def run(rasa_url: str, splits: list[str]) -> None:
    kb = get_knowledge_base()
    by_split = {split: run_split(rasa_url, kb, split) for split in splits}
    print("\nwhat a citizen gets, end to end (fresh conversation per question):")
    print(figures_table(by_split))
    for split, f in by_split.items():
        print(f"dialogue {split}: right {f['right']:.1f}% right-or-first-button {f['right_or_first']:.1f}% "
              f"another-answered {f['wrong']:.1f}% declined {f['declined']:.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Rasa server; default: start one on free ports")
    parser.add_argument("--split", choices=SPLITS, action="append", help="default: dev, calibration and test")
    args = parser.parse_args()
    splits = args.split or list(SPLITS)
    if args.url:
        run(args.url, splits)
        return
    with Stack(rasa_port=free_port(), action_port=free_port(), var_dir=ROOT / "var/bench") as stack:
        run(stack.rasa_url, splits)


if __name__ == "__main__":
    main()
