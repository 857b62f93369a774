"""What the bot would answer to a typed question if the edited record were published — before publishing it.

The dialogue's own decision (actions.dialogue.answer) runs in this process on the published index
(knowledge.search), with the edited record's facts standing in for the published ones; the answer is rendered by
actions.answers, filled in as Rasa fills the domain's responses, and cut into Telegram messages with their keyboards
by the bridge's own bot.render: staff see what a citizen would read on Telegram. The intent (fee, documents…)
comes from the running Rasa server's NLU (/model/parse) when it answers, else from the aspect staff choose. Aliases
added in the form are not in the index yet: the search sees them only after publishing, which the preview says.

The search (index and embedding model) is loaded once per console process, in the background when it starts
(`warm_up`), so the first preview does not wait for it.
"""

from __future__ import annotations

import functools
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from actions import answers, dialogue
from actions.answers import ASPECTS, Reply
from bot.render import Outgoing, render
from console.config import ROOT, Settings
from console.labels import intent_label
from console.records import catalog
from knowledge.records.facts import ProcedureFacts, from_curated
from knowledge.records.schema import Procedure, procedure_model
from knowledge.search.decision import Context
from knowledge.text import clean, fold

_KB: Any = None
_KB_LOCK = threading.Lock()


def knowledge_base(index_dir: Path) -> Any:
    """The published index, loaded once (the first preview waits for it and the embedding model)."""
    global _KB
    with _KB_LOCK:
        if _KB is None or _KB.index_dir != index_dir:
            from knowledge.search.engine import KnowledgeBase

            _KB = KnowledgeBase(index_dir)
    return _KB


def warm_up(settings: Settings) -> None:
    """Load the official catalogue, the published index and the embedding model now (the console starts this in
    the background): the first editor and the first preview need them."""
    from knowledge.search.engine import query_vector

    catalog(settings)
    try:
        knowledge_base(settings.index_dir)
        query_vector("thủ tục")
    except (FileNotFoundError, OSError, ValueError, RuntimeError) as error:  # no index yet: the first preview says so
        print(f"console: the preview's search is not loaded yet: {error}")


@dataclass
class Overlay:
    """The knowledge base with one procedure's facts replaced by the edited ones."""

    kb: Any
    record_id: str
    edited: ProcedureFacts

    def search(self, query: str, k: int = 5, method: str = "combined", context: Context | None = None) -> Any:
        return self.kb.search(query, k, method, context)

    def facts(self, doc_id: str) -> Any:
        return self.edited if doc_id == self.record_id else self.kb.facts(doc_id)

    def guide(self, doc_id: str) -> Any:
        return self.kb.guide(doc_id)


@dataclass
class Preview:
    question: str
    understood: str  # what the question was read as asking, as the console names intents («hỏi lệ phí»)
    chosen_by_staff: bool  # the aspect was chosen in the form rather than read by Rasa
    picked: str | None  # the procedure the bot settled on (None: it asked back or did not know)
    messages: list[Outgoing]  # the Telegram messages, keyboards included
    direct: list[Outgoing]  # this record's answer for that aspect, whatever the search picked
    note: str | None = None
    picked_name: str = ""


@functools.lru_cache(maxsize=1)
def _responses() -> dict[str, dict[str, Any]]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {name: variants[0] for name, variants in (domain.get("responses") or {}).items() if variants}


def as_sent(reply: Reply) -> dict[str, Any]:
    """The reply as Rasa sends it on: a domain response filled in, its own buttons before the reply's."""
    sent: dict[str, Any] = {"text": reply.text or "", "buttons": list(reply.buttons)}
    if reply.response:
        response = _responses().get(reply.response, {"text": reply.response})
        text = str(response.get("text") or "")
        for name, value in reply.variables.items():
            text = text.replace("{" + name + "}", str(value))
        sent = {"text": reply.text or text, "buttons": [*(response.get("buttons") or []), *reply.buttons]}
    if reply.custom is not None:
        sent["custom"] = reply.custom
    return sent


def on_telegram(replies: list[Reply]) -> list[Outgoing]:
    """The messages the Telegram bridge would send for these replies."""
    return render([as_sent(r) for r in replies]).messages


def edited_facts(data: Any, settings: Settings) -> tuple[Procedure | None, ProcedureFacts | None, str | None]:
    """The edited record's facts as the bot would give them, or why the form cannot be read yet."""
    try:
        proc = procedure_model(data).model_validate(data)
    except ValidationError as error:
        return None, None, f"Bản sửa chưa hợp lệ ({error.error_count()} lỗi), sửa các lỗi bên dưới trước."
    official = catalog(settings)
    linked = [official[c] for c in proc.official_codes if c in official]
    return proc, from_curated(proc, linked), None


def nlu_intent(settings: Settings, question: str, token: str) -> str | None:
    """The intent the running Rasa server reads in the question, or None when it does not answer."""
    url = f"{settings.rasa_url}/model/parse?token={urllib.parse.quote(token)}"
    request = urllib.request.Request(url, data=json.dumps({"text": question}).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (json.load(response).get("intent") or {}).get("name")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def preview(settings: Settings, data: Any, question: str, aspect: str, token: str) -> Preview | str:
    """The preview, or a message saying why there is none."""
    question = clean(question)
    if not question:
        return "Gõ một câu hỏi như người dân sẽ hỏi."
    proc, facts, problem = edited_facts(data, settings)
    if problem or proc is None or facts is None:
        return problem or "Bản sửa chưa hợp lệ."
    chosen = aspect in ASPECTS
    intent = ASPECTS[aspect].intent if chosen else nlu_intent(settings, question, token) or "ask_procedure"
    overlay = Overlay(knowledge_base(settings.index_dir), proc.id, facts)
    outcome = dialogue.answer(overlay, dialogue.Turn(text=question, intent=intent))
    picked = outcome.slots.get("procedure_id")
    asked = answers.INTENT_TO_ASPECT.get(intent or "")
    understood = intent_label(intent)
    direct = on_telegram(answers.procedure_answer(facts, asked))
    note = None
    if picked != proc.id:
        wording = {fold(a) for a in proc.aliases}
        new_alias = fold(question) in wording
        note = (
            "Câu hỏi này trùng một tên gọi trong bản sửa: sau khi xuất bản, trợ lý sẽ nhận ra thủ tục này."
            if new_alias
            else "Với chỉ mục đang dùng, trợ lý không trả lời câu này bằng thủ tục đang sửa; bên dưới là câu trả lời "
            "của thủ tục này cho cùng câu hỏi."
        )
    picked_name = facts.name if picked == proc.id else (_name(overlay, picked) if picked else "")
    return Preview(question, understood, chosen, picked, on_telegram(outcome.replies), direct, note, picked_name)


def aspect_choices() -> dict[str, str]:
    """The kinds of question staff may preview, named as everywhere in the console (console/intent_labels.yml)."""
    return {key: intent_label(aspect.intent) for key, aspect in ASPECTS.items()}


def _name(kb: Any, doc_id: str) -> str:
    found = kb.facts(doc_id)
    return str(found.name) if found is not None else doc_id
