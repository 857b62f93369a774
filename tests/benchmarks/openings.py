"""The load benchmark's opening questions (tests/benchmarks/locustfile.py): a pool large enough that most openings of
a run are first-time questions, as on a real day, not the 33 of conversations.yml whose query embeddings the action
server has cached after their first time (a first-time question costs it about 20 ms more).

The pool: conversations.yml's openings, the dev split's questions (tests/data/questions/dev.yml; never the frozen
test split), and a question about each procedure of the official catalogue that citizens use
(knowledge/data/official/catalog.jsonl.gz), its name shortened, in one of a few everyday phrasings, one in four typed
without diacritics.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

import yaml

from knowledge.text import fold

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "knowledge/data/official/catalog.jsonl.gz"
DEV_SPLIT = ROOT / "tests/data/questions/dev.yml"
PHRASINGS = (
    "{name} cần giấy tờ gì",
    "cho hỏi làm {name} ở đâu",
    "{name} mất bao lâu vậy",
    "thủ tục {name} có nộp online được không",
    "{name} hết bao nhiêu tiền",
)


def dev_questions() -> list[str]:
    blocks = yaml.safe_load(DEV_SPLIT.read_text(encoding="utf-8"))
    return [q["q"] for block in blocks for q in block["questions"] if q.get("expect")]


def short_name(name: str) -> str:
    """As a citizen would type it: up to the first comma or bracket, at most 12 words, no leading 'Thủ tục'."""
    words = re.split(r"[,(;]", name)[0].split()[:12]
    if [w.lower() for w in words[:2]] == ["thủ", "tục"]:
        words = words[2:]
    text = " ".join(words)
    return text.lower() if text.isupper() else text[:1].lower() + text[1:]


def catalogue_questions(rng: random.Random) -> list[str]:
    questions = []
    with gzip.open(CATALOGUE, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if "citizen" not in (record.get("audiences") or []):
                continue
            question = rng.choice(PHRASINGS).format(name=short_name(record["name"]))
            questions.append(fold(question) if rng.random() < 0.25 else question)
    return questions


def pool(written: list[str], seed: int = 7) -> list[str]:
    """Every opening a citizen of the benchmark may send, without duplicates; the same pool at every run."""
    rng = random.Random(seed)
    return list(dict.fromkeys([*written, *dev_questions(), *catalogue_questions(rng)]))
