"""Dialogue: what to reply, once the one decision (knowledge/search/decision.py) has said which procedure. No
rasa_sdk import.

NLU says WHAT the citizen wants (the intent: an aspect such as fee or documents); the search decides WHICH
procedure — answer, "which one?", stay on the procedure under discussion, or not sure — from its evidence and the
conversation's context given here (the procedure under discussion, whether the message names anything, what NLU
made of it). This module only applies that decision: naming another procedure switches to it and keeps the aspect
asked before when the new message asks none ("còn khai sinh thì sao").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from actions import answers, cases, choices
from actions.answers import INTENT_TO_ASPECT, Reply
from knowledge import language
from knowledge.search.decision import Context, Decision, for_button
from knowledge.search.reading import distinctive_words
from knowledge.text import clean, words

ORIGINAL_TEXT = "text_original"  # set by nlu_components/vietnamese.py
CHOOSE_INTENT = "choose_procedure"
GENERIC_INTENT = "ask_procedure"  # a question about a procedure as a whole: the overview
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
# NLU learnt a request for a person and feedback from a few words each. A procedure question sharing one ("người giám
# hộ cho người…", "đóng cửa hộ kinh doanh vĩnh viễn") is read as one of them, but less surely (0.5–0.75) than most
# real ones (0.9–1.0 on tests/nlu/heldout*.yml; feedback as short as "tl linh tinh" lower). Below this, the message is
# first searched as a question, and answered when the search is sure enough to overrule NLU (_sure_answer).
SURE_READING = 0.9
# Fields of law named in the help message (largest first); the rest are implied by "...".
HELP_DOMAINS = 6


class KnowledgeBaseLike(Protocol):
    def search(self, query: str, k: int = 5, method: str = "combined", context: Context | None = None) -> Any: ...
    def facts(self, doc_id: str) -> Any: ...
    def guide(self, doc_id: str) -> Any: ...


@dataclass
class Turn:
    """What the actions need from the tracker, as plain values."""

    text: str
    intent: str | None
    sender: str | None = None
    entities: dict[str, str] = field(default_factory=dict)
    procedure_id: str | None = None
    aspect: str | None = None
    last_question: str | None = None
    fallback_count: float = 0
    human_offered: bool = False
    forget_offered: bool = False  # "delete my data?" was asked in the turn before
    choices: list[str] = field(default_factory=list)  # doc ids offered as buttons last time
    previous_intent: str | None = None  # intent of the user message before this one
    case: str | None = None  # the citizen's case of the procedure under discussion (actions/cases.py)
    confidence: float = 1.0  # how sure NLU is of `intent`

    @property
    def is_payload(self) -> bool:
        return self.text.startswith("/")

    @classmethod
    def from_tracker(cls, tracker: Any) -> Turn:
        latest = tracker.latest_message or {}
        entities = {e.get("entity"): e.get("value") for e in latest.get("entities", []) if e.get("entity")}
        user_intents = [e.get("parse_data", {}).get("intent", {}).get("name") for e in _user_events(tracker.events)]
        return cls(
            text=user_text(tracker),
            intent=(latest.get("intent") or {}).get("name"),
            sender=tracker.sender_id,
            entities={k: str(v) for k, v in entities.items() if v is not None},
            procedure_id=tracker.get_slot("procedure_id"),
            aspect=tracker.get_slot("aspect"),
            last_question=tracker.get_slot("last_question"),
            fallback_count=float(tracker.get_slot("fallback_count") or 0),
            human_offered=bool(tracker.get_slot("human_offered")),
            forget_offered=bool(tracker.get_slot("forget_offered")),
            choices=list(tracker.get_slot("choices") or []),
            previous_intent=user_intents[-2] if len(user_intents) > 1 else None,
            case=tracker.get_slot("case"),
            confidence=float((latest.get("intent") or {}).get("confidence") or 0.0),
        )


def _user_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("event") == "user"]


def user_text(tracker: Any) -> str:
    """The citizen's message as typed, in NFC.

    `latest_message["text"]` holds the pipeline's folded text (diacritics stripped), useless for dense search;
    the normaliser keeps the original in `text_original`. Payloads and older models lack it: then the user
    event's own `text`, which Rasa stores exactly as the channel sent it.
    """
    latest = tracker.latest_message or {}
    text = latest.get(ORIGINAL_TEXT)
    if not text:
        users = _user_events(tracker.events)
        text = users[-1].get("text") if users else None
    return clean(text or latest.get("text") or "")


def picked_choice(turn: Turn) -> str | None:
    """A typed choice ("cái thứ hai", "số 1", "cái cuối") among the procedures offered last time, read as a typed
    case is (actions/cases.typed_position)."""
    index = cases.typed_position(turn.text) if turn.choices else None
    if index == -1:
        return turn.choices[-1]
    return turn.choices[index - 1] if index and 0 < index <= len(turn.choices) else None


def names_something(text: str) -> bool:
    """True when the message carries words beyond aspect and question scaffolding, i.e. may name a procedure."""
    return bool(distinctive_words(text))


@dataclass
class Outcome:
    replies: list[Reply]
    slots: dict[str, Any]
    journal: dict[str, Any] | None = None  # keyword arguments for journal.record


# ---------------------------------------------------------------- answering


def _procedure_outcome(
    kb: KnowledgeBaseLike,
    turn: Turn,
    doc_id: str,
    aspect: str | None,
    assumed: bool = False,
    variants: list[Any] | None = None,
) -> Outcome | None:
    facts = kb.facts(doc_id)
    if facts is None:
        return None
    page = _page(turn) if turn.is_payload else 1
    case = cases.view(facts, turn, aspect)  # the citizen's case: named, chosen, kept, or to be asked (a form)
    aspect = case.aspect
    slots = {"procedure_id": facts.doc_id, "aspect": aspect, "last_question": _question(turn), "fallback_count": 0,
             "human_offered": False, **case.slots()}  # fmt: skip
    if case.ask:  # case_form asks which case (data/rules/cases.yml), then the answer follows
        return Outcome([], slots)
    if variants:  # offered as buttons: a typed "cái thứ hai" picks one
        slots["choices"] = [h.doc_id for h in variants]
    return Outcome(
        answers.procedure_answer(
            facts, aspect, assumed=assumed, page=page, variants=_variant_labels(kb, facts, variants or []),
            case=case.case,
        ),
        slots,
        {"kind": "answered", "question": _question(turn), "procedure_id": facts.doc_id, "intent": turn.intent},
    )


def _variant_labels(kb: KnowledgeBaseLike, facts: Any, variants: list[Any]) -> list[tuple[str, str]]:
    """The other cases offered beside an answer, labelled apart from it and from each other (the same procedure at
    another level or agency has the same name)."""
    if not variants:
        return []
    offered = labelled(kb, [(facts.doc_id, facts.name), *_titles(variants)], answers.VARIANT_ROOM)
    return offered[1:]


def _page(turn: Turn) -> int:
    """Which page of a long list a "Xem tiếp" button asks for (1 otherwise)."""
    value = turn.entities.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100 else 1


def _guide_outcome(kb: KnowledgeBaseLike, turn: Turn, doc_id: str, passage: str | None) -> Outcome | None:
    guide = kb.guide(doc_id)
    if guide is None:
        return None
    text = passage or _guide_lead(guide.body)
    aspect = INTENT_TO_ASPECT.get(turn.intent or "") or turn.aspect
    return Outcome(
        answers.guide_answer(guide, text),
        # The aspect is kept so that naming a procedure next ("còn khai sinh thì sao") answers it.
        {"aspect": aspect, "last_question": _question(turn), "fallback_count": 0, "human_offered": False},
        {"kind": "answered", "question": _question(turn), "procedure_id": guide.id, "intent": turn.intent},
    )


def _guide_lead(body: str, limit: int = 400) -> str:
    """First paragraph of a guide body (used when a guide is chosen by button, with no matched passage)."""
    paragraphs = [p.strip() for p in body.split("\n\n") if p.strip() and not p.lstrip().startswith("#")]
    lead = paragraphs[0] if paragraphs else ""
    return lead if len(lead) <= limit else lead[:limit].rsplit(" ", 1)[0] + " …"


def _question(turn: Turn) -> str | None:
    """The question worth remembering: typed text, not a button payload (then the earlier question stays)."""
    return turn.last_question if turn.is_payload else turn.text


def _doc_outcome(
    kb: KnowledgeBaseLike, turn: Turn, hit: Any, aspect: str | None, variants: list[Any] | None = None
) -> Outcome | None:
    if hit.kind == "guide":
        return _guide_outcome(kb, turn, hit.doc_id, hit.passage)
    return _procedure_outcome(kb, turn, hit.doc_id, aspect, variants=variants)


def labelled(
    kb: KnowledgeBaseLike, offered: list[tuple[str, str]], room: int = choices.BUTTON_CHARS
) -> list[tuple[str, str]]:
    """(doc_id, button label) per offered (doc_id, title): labels a phone shows apart (actions/choices.py)."""
    facts = [kb.facts(doc_id) for doc_id, _ in offered]
    read = [
        choices.Choice(title, getattr(f, "agency", None), (getattr(f, "codes", None) or (None,))[0])
        for (_, title), f in zip(offered, facts, strict=True)
    ]
    return list(zip((doc_id for doc_id, _ in offered), choices.labels(read, room), strict=True))


def _titles(hits: Iterable[Any]) -> list[tuple[str, str]]:
    return [(h.doc_id, h.title) for h in hits]


def _not_sure(kb: KnowledgeBaseLike, turn: Turn, decision: Decision) -> Outcome:
    nearest = labelled(kb, _titles(decision.choices[:3]))
    # Remember the aspect: "còn khai sinh thì sao" right after should answer that aspect for the named procedure.
    aspect = INTENT_TO_ASPECT.get(turn.intent or "") or turn.aspect
    return Outcome(
        [answers.not_sure(nearest)],
        {"aspect": aspect, "last_question": turn.text, "human_offered": True, "fallback_count": 0,
         "choices": [d for d, _ in nearest]},
        {"kind": "unanswered", "question": turn.text, "procedure_id": turn.procedure_id, "intent": turn.intent},
    )


def context(turn: Turn, nlu: str = "question") -> Context:
    """What the conversation adds to the search's evidence."""
    return Context(
        current=turn.procedure_id,
        names_something=not turn.is_payload and names_something(turn.text),
        aspect_asked=turn.intent in INTENT_TO_ASPECT,
        nlu=nlu,  # type: ignore[arg-type]
    )


def decided(kb: KnowledgeBaseLike, turn: Turn, nlu: str = "question") -> Decision:
    """The one decision on this message (a button press is not searched: it names nothing). A message that tells
    its background first is read by the search itself (knowledge/search/engine.py): the clause that asks."""
    ctx = context(turn, nlu)
    if turn.is_payload:
        return for_button(ctx)
    return kb.search(turn.text, context=ctx).decision


def typed_case(kb: KnowledgeBaseLike, turn: Turn, facts: Any) -> str | None:
    """Asked which case of the procedure under discussion applies: the case the typed message answers, or None when
    it names none clearly or asks something new ("khai tử cho người nhà làm ở đâu" is a death, not a home "của
    mình"). The case's reading (actions/cases.py) says how clearly; the one decision, whether it is a new question."""
    typed = None if turn.is_payload else cases.typed_answer(turn.text, facts)
    if typed is None or typed.case is None:
        return None
    ctx = replace(context(turn), case_answer=typed.clearness)
    return typed.case if kb.search(turn.text, context=ctx).decision.kind == "stay" else None


def answer(kb: KnowledgeBaseLike, turn: Turn) -> Outcome:
    """Reply to an aspect question, a general procedure question or a choice button."""
    if turn.intent == CHOOSE_INTENT:
        return _chosen(kb, turn)
    turn = with_cued_aspect(turn)
    decision = decided(kb, turn)
    return apply(kb, turn, decision) or _ask_name_or_not_sure(kb, turn, decision)


def with_cued_aspect(turn: Turn) -> Turn:
    """NLU can read an aspect question with extra words ("làm giấy khai sinh cho con có mất tiền không") as a general
    question about the procedure: when the words clearly ask one aspect (a cue phrase of
    knowledge/data/vocabulary/aspects.yml), that aspect is asked, not the overview. Other intents are kept."""
    if turn.intent != GENERIC_INTENT or turn.is_payload:
        return turn
    cued = language.cued_aspect(turn.text)
    return replace(turn, intent=answers.ASPECTS[cued].intent) if cued in answers.ASPECTS else turn


def _chosen(kb: KnowledgeBaseLike, turn: Turn) -> Outcome:
    doc_id = turn.entities.get("procedure_id") or picked_choice(turn)
    # A choice answers the question that was pending: keep the aspect asked before the buttons.
    chosen = None
    if doc_id:
        chosen = _procedure_outcome(kb, turn, doc_id, turn.aspect) or _guide_outcome(kb, turn, doc_id, None)
    elif not turn.choices and not turn.is_payload:  # nothing offered, nothing chosen: maybe a question ("… số 2 ở đâu")
        chosen = _sure_answer(kb, turn, guides=True)
    # A typed "cái thứ hai" with nothing offered before: ask for the name rather than log a knowledge gap.
    return chosen or Outcome([answers.which_procedure(turn.aspect)], {})


def apply(kb: KnowledgeBaseLike, turn: Turn, decision: Decision) -> Outcome | None:
    """The reply for a decision; None when it cannot be given (a record missing from the index)."""
    asked = INTENT_TO_ASPECT.get(turn.intent or "")
    current = turn.procedure_id
    if decision.kind == "stay" and current:
        return _procedure_outcome(kb, turn, current, asked, assumed=decision.assumed)
    if decision.kind == "answer" and decision.best is not None:
        # Switching procedure without asking an aspect keeps the aspect asked before.
        top = decision.best
        aspect = asked or (turn.aspect if top.doc_id != current else None)
        return _doc_outcome(kb, turn, top, aspect, variants=decision.cases)
    if decision.kind == "which_one" and decision.choices:
        pending = asked or turn.aspect
        choices = decision.choices
        return Outcome(
            [answers.clarify(labelled(kb, _titles(choices[: answers.MAX_CHOICES])), pending)],
            {"aspect": pending, "last_question": turn.text, "fallback_count": 0,
             "choices": [h.doc_id for h in choices[: answers.MAX_CHOICES]]},
        )  # fmt: skip
    return None


def _ask_name_or_not_sure(kb: KnowledgeBaseLike, turn: Turn, decision: Decision) -> Outcome:
    if turn.is_payload or not names_something(turn.text):  # a follow-up before any procedure: ask for its name
        asked = INTENT_TO_ASPECT.get(turn.intent or "")
        return Outcome([answers.which_procedure(asked)], {"aspect": asked})
    return _not_sure(kb, turn, decision)


def try_search_rescue(kb: KnowledgeBaseLike, turn: Turn) -> Outcome | None:
    """NLU did not understand, but the search may be sure the message names a procedure ("sổ đỏ"), or half
    recognise a real question ("ai là trưởng ban chỉ đạo … Quảng Nam"): then it offers the candidates."""
    if turn.is_payload:
        return None
    # The words may still ask one aspect ("làm giấy khai sinh cho con mất bao lâu"): answer that, not the overview.
    as_question = with_cued_aspect(replace(turn, intent=GENERIC_INTENT))
    return apply(kb, as_question, decided(kb, as_question, nlu="not_understood"))


def out_of_scope(kb: KnowledgeBaseLike, turn: Turn) -> Outcome:
    """NLU says off-topic, but facts in the guides (a province's reform plan, its targets) and questions told after
    their background can sound off-topic too: answered (or asked which one) when the decision overrules NLU,
    otherwise a polite refusal."""
    if not turn.is_payload:
        outcome = apply(kb, replace(turn, aspect=None), decided(kb, turn, nlu="off_topic"))
        if outcome:
            return outcome
    # Refused, so unanswered: staff see it among the gaps, and mark it out of scope or add what was asked for.
    journal = _unanswered(turn, OUT_OF_SCOPE_INTENT)
    return Outcome([answers.utter("utter_out_of_scope")], {"fallback_count": 0}, journal)


def _unanswered(turn: Turn, intent: str) -> dict[str, Any] | None:
    """The journal row of a typed message the bot could not answer (none for a button or a message of no words)."""
    if turn.is_payload or not words(turn.text):
        return None
    return {"kind": "unanswered", "question": turn.text, "procedure_id": turn.procedure_id, "intent": intent}


def fallback(kb: KnowledgeBaseLike, turn: Turn) -> Outcome:
    rescued = try_search_rescue(kb, turn)
    if rescued:
        return rescued
    count = int(turn.fallback_count) + 1 if turn.previous_intent == FALLBACK_INTENT else 1
    slots: dict[str, Any] = {"fallback_count": count}
    if not turn.is_payload:
        slots["last_question"] = turn.text  # what staff should see if the citizen then accepts a person
    if count >= 2:
        slots["human_offered"] = True
    journal = _unanswered(turn, FALLBACK_INTENT)
    # First miss: ask to rephrase. Second miss in a row: offer a person (yes/no buttons in the response).
    reply = answers.utter("utter_offer_human" if count >= 2 else "utter_ask_rephrase")
    return Outcome([reply], slots, journal)


# ---------------------------------------------------------------- handoff, yes/no, feedback


def handoff_question(turn: Turn) -> str:
    """The question staff should see: the last real question, else what was just typed."""
    if turn.last_question:
        return turn.last_question
    # "có" accepting an offer, or a button press, is not a question worth relaying.
    return "" if turn.is_payload or turn.intent in ("affirm", "deny") else turn.text


def misread_question(kb: KnowledgeBaseLike, turn: Turn) -> Outcome | None:
    """The answer to a procedure question NLU took, unsurely, for a request for a person or for feedback; None when
    NLU was sure, or the search is not sure enough to overrule it. A guide is not answered: one on reaching staff
    or on the office's workings is what a real request for a person also finds."""
    if turn.is_payload or turn.confidence >= SURE_READING:
        return None
    return _sure_answer(kb, turn, guides=False)


def _sure_answer(kb: KnowledgeBaseLike, turn: Turn, *, guides: bool) -> Outcome | None:
    """The answer to the message read as a question, when the search is sure enough to overrule NLU's reading of
    it as something else (the bar an off-topic reading must pass), else None."""
    as_question = with_cued_aspect(replace(turn, intent=GENERIC_INTENT))
    decision = decided(kb, as_question, nlu="off_topic")
    if decision.kind != "answer" or decision.best is None or (decision.best.kind == "guide" and not guides):
        return None
    return apply(kb, as_question, decision)


def handoff_unless_asked(kb: KnowledgeBaseLike, turn: Turn) -> Outcome:
    """A request for a person, unless it was a procedure question misread (misread_question)."""
    return misread_question(kb, turn) or handoff(turn)


def feedback_unless_asked(kb: KnowledgeBaseLike, turn: Turn) -> Outcome:
    """Feedback, unless it was a procedure question misread (misread_question)."""
    return misread_question(kb, turn) or feedback(turn)


def handoff(turn: Turn) -> Outcome:
    question = handoff_question(turn)
    return Outcome(
        [answers.handoff(question)],
        {"human_offered": False, "fallback_count": 0},
        {"kind": "handoff", "question": question or None, "procedure_id": turn.procedure_id, "intent": turn.intent},
    )


def confirm(turn: Turn) -> Outcome:
    affirm = turn.intent == "affirm"
    if turn.forget_offered:  # "có"/"không" to "delete my data?"
        return forget(replace(turn, intent="confirm_forget" if affirm else "cancel_forget"))
    if turn.human_offered:
        if affirm:
            return handoff(turn)
        return Outcome([answers.utter("utter_human_declined")], {"human_offered": False, "fallback_count": 0})
    # A bare "có"/"không" with no open question from the bot.
    return Outcome([answers.utter("utter_acknowledge" if affirm else "utter_acknowledge_no")], {})


def feedback_value(turn: Turn) -> str | None:
    """👍/👎 from the button's entity, else from the typed words, scored with their negations ("không rõ" is 👎,
    "rất rõ" is 👍; knowledge/data/vocabulary/feedback.yml)."""
    value = turn.entities.get("feedback")
    if value in ("up", "down"):
        return value
    if turn.is_payload:
        return None
    return "down" if language.feedback_score(turn.text) < 0 else "up"


def feedback(turn: Turn) -> Outcome:
    value = feedback_value(turn)
    slots: dict[str, Any] = {"human_offered": True} if value == "down" else {}
    journal = {"kind": "feedback", "question": turn.last_question, "procedure_id": turn.procedure_id,
               "intent": turn.intent, "value": value}
    # 👎 also offers a person (buttons in utter_feedback_sorry).
    reply = answers.utter("utter_feedback_sorry" if value == "down" else "utter_feedback_thanks")
    return Outcome([reply], slots, journal if value else None)


def ask_forget(turn: Turn) -> Outcome:
    """"Delete my data": ask first (buttons Đồng ý xóa / Không); the offer lasts one turn (actions.deliver)."""
    return Outcome([answers.utter("utter_ask_forget")], {"forget_offered": True, "human_offered": False})


def forget(turn: Turn) -> Outcome:
    """The answer to "delete my data?". Yes: the reply carries {"forget": true}, and the channel deletes once Rasa
    has answered (a deletion now would be undone when Rasa saves this turn). Nothing asked: ask now."""
    if not turn.forget_offered:
        return ask_forget(turn)
    if turn.intent == "confirm_forget":
        return Outcome([answers.forget_done()], {"forget_offered": False})
    return Outcome([answers.utter("utter_forget_cancelled")], {"forget_offered": False})


def restart() -> Outcome:
    return Outcome([answers.utter("utter_restart")], {})



def help_outcome(kb: Any) -> Outcome:
    """Counts and fields from the index, one example procedure per field (the first four fields met)."""
    try:
        ids = kb.doc_ids()
        records = [p for p in (kb.procedure(d) for d in ids) if p is not None]
        count = sum(kb.kind(d) in ("procedure", "official") for d in ids)
    except OSError:  # no index published yet: still explain what the bot does (a renamed API fails loudly)
        records, count = [], 0
    by_domain: dict[str, list[Any]] = {}
    for record in records:
        by_domain.setdefault(record.domain, []).append(record)
    # Largest fields first: they are what citizens most likely came for.
    ranked = sorted(by_domain.items(), key=lambda item: (-len(item[1]), item[0]))
    domains = [domain for domain, _ in ranked[:HELP_DOMAINS]]
    # The shortest name in a field is usually an everyday procedure ("Đăng ký tạm trú"): a fair example.
    common = [min(procs, key=lambda p: (len(p.name), p.id)) for _, procs in ranked[: answers.MAX_CHOICES]]
    examples = [(p.id, p.name) for p in common]
    return Outcome([answers.help_reply(count, domains, examples)], {})
