"""Long situational messages end to end: dev questions told after (or amid) a citizen's background.

Citizens often tell their story first — dates, amounts, what an officer said — and ask last, or name the procedure
in the middle and close with "Vậy tôi phải làm sao?". NLU learnt from short questions, so such messages are where
it reads "off-topic" or "not understood" and the search must find the clause that asks. This benchmark builds such
messages deterministically from the dev split (never the frozen test split; tests/data/questions/README.md):
background sentences written here (neutral: they name no procedure) are put around a dev question, in two shapes,
each typed with and without diacritics:

- ``end``: three sentences of background, then the question ("… Cho tôi hỏi <question>?");
- ``middle``: one sentence of background, the question as a sentence, two more of background, and a closing
  question that names nothing ("Vậy tôi phải làm sao ạ?");
- ``statement``: the need told as a statement in the middle ("Chuyện là tôi đang lo giấy khai sinh cho con."): the
  question's asking words taken out, one sentence of background before it and one after, and a closing that names
  nothing — no clause both asks and names the procedure.

For each message it prints what a citizen gets (the four figures of bench_dialogue), the same with the search alone
(in this process: was it NLU or the search?), and how NLU read the messages. Run on purpose:
`.venv/app/bin/python tests/benchmarks/bench_long_messages.py [--limit 60] [--misses]`
(`--url` for a running Rasa server: then NLU's readings are not printed, they need the API token).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from knowledge.search import get_knowledge_base  # noqa: E402
from knowledge.search.metrics import (  # noqa: E402
    ANSWERED,
    DECLINED,
    WHICH_ONE,
    Figures,
    equivalents,
    figures_table,
    gold,
    load_questions,
    question_file,
)
from knowledge.text import fold, has_diacritics  # noqa: E402
from scripts.chat import send  # noqa: E402
from scripts.stack import Stack, free_port  # noqa: E402
from tests.benchmarks.bench_dialogue import answered_title, first_choice, titles_of  # noqa: E402

# Background a citizen tells before asking: dates, amounts, what an officer or a neighbour said. None of it names a
# procedure, so the question alone decides which one is meant.
BACKGROUND = (
    "Tôi năm nay 46 tuổi, làm nghề chạy xe ôm ở chợ huyện từ năm 2015.",
    "Hôm thứ hai vừa rồi tôi đã lên ủy ban một lần, xếp hàng gần hai tiếng mà chưa xong.",
    "Cán bộ ở bộ phận một cửa bảo tôi về chuẩn bị thêm giấy tờ rồi quay lại sau.",
    "Nhà tôi ở xa trung tâm khoảng 25 cây số, đi lại rất vất vả.",
    "Tuần trước tôi có hỏi mấy người quen nhưng mỗi người nói một kiểu.",
    "Vợ chồng tôi đi làm công nhân, chỉ rảnh được ngày chủ nhật.",
    "Tháng 8 năm ngoái tôi đã chuyển vào Bình Dương sống cùng con gái.",
    "Anh cán bộ nói là hồ sơ của tôi còn thiếu, nhưng không nói rõ thiếu gì.",
    "Tôi đã mất hơn 300 nghìn tiền xe đi lại mà việc vẫn chưa đâu vào đâu.",
    "Ngày 15/4 tôi có gọi điện lên tổng đài nhưng không ai nghe máy.",
    "Người hàng xóm bảo bây giờ làm qua mạng được, nhưng tôi không rành điện thoại.",
    "Mẹ tôi đã ngoài 70 tuổi, mắt kém nên tôi phải lo giấy tờ giúp bà.",
    "Tôi có hỏi thử trên mạng thì thấy mỗi trang viết một khác.",
    "Sáng nay tôi xin nghỉ làm nửa ngày để đi hỏi cho rõ.",
    "Chị cán bộ bảo tôi nộp 50 nghìn trước rồi mới nhận hồ sơ, tôi cũng không hiểu lắm.",
    "Năm 2023 tôi đã làm một lần rồi nhưng giấy tờ cũ để ở quê.",
)
LEADS = ("Cho tôi hỏi", "Vậy xin hỏi", "Giờ tôi muốn hỏi", "Vậy", "Cho em hỏi là")
CLOSINGS = ("Vậy tôi phải làm sao ạ?", "Mong được hướng dẫn giúp, tôi cảm ơn.", "Tôi nên làm thế nào đây?",
            "Nhờ mọi người tư vấn giúp với.")  # fmt: skip
SHAPES = ("end", "middle", "statement")
# How a citizen tells the need instead of asking it; {need} is a dev question with its asking words taken out.
STATEMENTS = ("Chuyện là tôi đang cần {need}.", "Việc của tôi là {need}.", "Nhà tôi đang phải lo vụ {need}.",
              "Tôi đang vướng chuyện {need}.")  # fmt: skip
# Asking words taken out of a question to tell it as a statement (the asking phrases of questions.yml, and the
# particles that end a question).
_ASKING = re.compile(
    r"\b(cho (tôi|em|mình) hỏi|cho hỏi|xin hỏi|muốn hỏi|thì sao|như thế nào|thế nào|làm sao|làm thế nào|phải làm gì|"
    r"cần làm gì|có được không|được không|có phải|phải không|hay không|có cần|ở đâu|bao nhiêu|bao lâu|khi nào|"
    r"thủ tục gì|giấy tờ gì|ra sao|không ạ|không|gì|ạ|vậy|nhỉ|nhé|hả|à)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LongMessage:
    text: str
    shape: str  # end / middle / statement
    accented: bool
    row: dict[str, Any]  # the dev question it was built from (expect, also)


def _sentence(question: str) -> str:
    question = question.strip().rstrip(".?!")
    return question[:1].upper() + question[1:]


def _need(question: str) -> str:
    """The question told as a need: its asking words taken out ("làm lại căn cước ở đâu?" → "làm lại căn cước")."""
    words = _ASKING.sub(" ", question.strip().rstrip(".?!")).split()
    return " ".join(words).strip(" ,") or question.strip().rstrip(".?!")


def long_messages(rows: list[dict[str, Any]]) -> list[LongMessage]:
    """Every shape of every dev question, with and without diacritics; the same messages on every run."""
    out = []
    for row in rows:
        rng = random.Random(hashlib.sha256(row["q"].encode()).hexdigest())
        story = rng.sample(BACKGROUND, 3)
        end = f"{' '.join(story)} {rng.choice(LEADS)} {row['q'].strip().rstrip('.?!')}?"
        middle = f"{story[0]} {_sentence(row['q'])}. {story[1]} {story[2]} {rng.choice(CLOSINGS)}"
        need = rng.choice(STATEMENTS).format(need=_need(row["q"]))
        statement = f"{story[0]} {need} {story[1]} {rng.choice(CLOSINGS)}"
        for shape, text in (("end", end), ("middle", middle), ("statement", statement)):
            out.append(LongMessage(text, shape, True, row))
            out.append(LongMessage(fold(text), shape, False, row))
    return out


def dev_rows(limit: int) -> list[dict[str, Any]]:
    """Dev questions typed with diacritics (their unaccented copies are made here), a fixed sample: answerable ones
    and, in their proportion, ones nothing answers (a story around them must not make the bot answer)."""
    rows = [r for r in load_questions(question_file("dev")) if has_diacritics(r["q"])]
    rows.sort(key=lambda r: hashlib.sha256(r["q"].encode()).hexdigest())
    return rows[:limit]


def nlu_intent(stack: Stack | None, sender: str) -> str:
    if stack is None:
        return "?"
    with urllib.request.urlopen(stack.api(f"/conversations/{sender}/tracker"), timeout=30) as response:
        tracker = json.load(response)
    return str(((tracker.get("latest_message") or {}).get("intent") or {}).get("name"))


def search_kind(kb: Any, text: str, want: set[str]) -> str:
    """The search alone, in a fresh conversation, as a citizen figure: answered / which one / declined."""
    decision = kb.search(text).decision
    if decision.kind == "answer" and decision.best is not None:
        return "answered right" if decision.best.doc_id in want else "answered WRONG"
    if decision.kind == "which_one":
        return "which one, right first" if decision.choices and decision.choices[0].doc_id in want else "which one"
    return "declined"


def run(rasa_url: str, stack: Stack | None, limit: int, misses: bool) -> None:
    kb = get_knowledge_base()
    same, indexed = equivalents(kb), set(kb.doc_ids())
    titles = titles_of(kb, indexed)
    groups: dict[str, Figures] = {}
    alone: dict[str, Counter] = {}
    intents: dict[str, Counter] = {}
    shown: list[str] = []
    for message in long_messages(dev_rows(limit)):
        want = gold(message.row, same)
        if want and not want & indexed:
            continue
        sender = f"long-{uuid.uuid4().hex[:8]}"
        replies = send(rasa_url, sender, message.text)
        title, first = answered_title(replies), first_choice(replies)
        answers = {titles[d][0] for d in want if d in titles} - {None}
        buttons = {titles[d][1] for d in want if d in titles} - {None}
        kind = ANSWERED if title is not None else WHICH_ONE if first is not None else DECLINED
        intent = nlu_intent(stack, sender)
        by_search = search_kind(kb, message.text, want)
        for group in (message.shape + ("" if message.accented else " unacc."), "all"):
            groups.setdefault(group, Figures()).add(bool(want), kind, title in answers, first in buttons)
            alone.setdefault(group, Counter())[by_search] += 1
            intents.setdefault(group, Counter())[intent] += 1
        missed = (want and not (title in answers or (kind == WHICH_ONE and first in buttons))) or (
            not want and kind == ANSWERED)
        if misses and missed:
            shown.append(f"  [{message.shape}] {kind} {title or first!r} nlu={intent} search={by_search} "
                         f"(expected {message.row['expect']!r}): {message.text}")
    print("\nlong messages, what a citizen gets end to end (fresh conversation per message):")
    print(figures_table({name: f.figures() for name, f in groups.items()}))
    print("\nthe search alone (no NLU), messages:")
    for name, counts in alone.items():
        print(f"  {name}: " + ", ".join(f"{k} {n}" for k, n in counts.most_common()))
    print("\nNLU's reading, messages:")
    for name, counts in intents.items():
        print(f"  {name}: " + ", ".join(f"{k} {n}" for k, n in counts.most_common()))
    if misses:
        print("\nmisses (not right, not first among the buttons; or an unanswerable one answered):")
        print("\n".join(shown) or "  none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Rasa server; default: start one on free ports")
    parser.add_argument("--limit", type=int, default=60, help="dev questions to build messages from (6 each)")
    parser.add_argument("--misses", action="store_true", help="list the messages a citizen would not get right")
    args = parser.parse_args()
    if args.url:
        run(args.url, None, args.limit, args.misses)
        return
    with Stack(rasa_port=free_port(), action_port=free_port(), var_dir=ROOT / "var/bench-long") as stack:
        run(stack.rasa_url, stack, args.limit, args.misses)


if __name__ == "__main__":
    main()
