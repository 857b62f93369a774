"""Thin Rasa actions: read the tracker into a `Turn`, let actions.dialogue decide, send replies, log, set slots."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

import journal
from actions import answers, cases, dialogue
from actions.dialogue import Outcome, Turn

logger = logging.getLogger(__name__)


def knowledge_base() -> dialogue.KnowledgeBaseLike:
    """The process-wide index (MOCUA_INDEX_DIR); imported lazily so the server starts before the index loads."""
    from knowledge.search import get_knowledge_base

    return get_knowledge_base()


def deliver(outcome: Outcome, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    for reply in outcome.replies:
        dispatcher.utter_message(**reply.as_kwargs())
    if outcome.journal:
        try:
            journal.record(sender=turn.sender, **outcome.journal)
        except Exception:  # a full disk must not cost the citizen the answer
            logger.exception("journal write failed")
    slots = dict(outcome.slots)
    if turn.forget_offered:  # "delete my data?" is answered in the next turn or not at all
        slots.setdefault("forget_offered", False)
    events: list[EventType] = [SlotSet(name, value) for name, value in slots.items()]
    if slots.get("case_question"):  # the papers depend on the citizen's case: case_form asks (actions/cases.py)
        events.append(FollowupAction("case_form"))
    return events


class _DialogueAction:
    """Mixin (not an Action itself: rasa_sdk registers every Action subclass and asks its name)."""

    decide: Callable[..., Outcome]
    needs_kb = False

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn = Turn.from_tracker(tracker)
        outcome = type(self).decide(knowledge_base(), turn) if self.needs_kb else type(self).decide(turn)
        return deliver(outcome, turn, dispatcher)


class ActionAnswer(_DialogueAction, Action):
    """Every aspect question, general procedure question and procedure choice button."""

    decide = staticmethod(dialogue.answer)
    needs_kb = True

    def name(self) -> str:
        return "action_answer"


class ActionFallback(_DialogueAction, Action):
    """Message not understood (nlu_fallback): try the search, else ask to rephrase; twice in a row, offer a person."""

    decide = staticmethod(dialogue.fallback)
    needs_kb = True

    def name(self) -> str:
        return "action_fallback"


class ActionOutOfScope(_DialogueAction, Action):
    """Off-topic by NLU: answered only if the search is sure of one record, else a polite refusal."""

    decide = staticmethod(dialogue.out_of_scope)
    needs_kb = True

    def name(self) -> str:
        return "action_out_of_scope"


class ActionHandoff(_DialogueAction, Action):
    """Hand the conversation to staff: journal it and tell the Telegram bridge through a custom JSON message."""

    decide = staticmethod(dialogue.handoff_unless_asked)
    needs_kb = True

    def name(self) -> str:
        return "action_handoff"


class ActionConfirm(_DialogueAction, Action):
    """"có"/"không": answers an open offer of a person, otherwise a short acknowledgement."""

    decide = staticmethod(dialogue.confirm)

    def name(self) -> str:
        return "action_confirm"


class ActionFeedback(_DialogueAction, Action):
    """👍/👎 buttons: stored with the question and the procedure."""

    decide = staticmethod(dialogue.feedback_unless_asked)
    needs_kb = True

    def name(self) -> str:
        return "action_feedback"


class ActionAskForget(_DialogueAction, Action):
    """"Xóa dữ liệu của tôi": ask for confirmation, with buttons."""

    decide = staticmethod(dialogue.ask_forget)

    def name(self) -> str:
        return "action_ask_forget"


class ActionForget(_DialogueAction, Action):
    """The confirmation's answer: on yes the reply tells the channel to delete (journal/erasure.py)."""

    decide = staticmethod(dialogue.forget)

    def name(self) -> str:
        return "action_forget"


class ActionHelp(Action):
    """"Bạn làm được gì": what the bot answers, with counts and examples from the knowledge base."""

    def name(self) -> str:
        return "action_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            kb: Any = knowledge_base()
        except FileNotFoundError:
            kb = None
        return deliver(dialogue.help_outcome(kb), Turn.from_tracker(tracker), dispatcher)


class ActionRestart(Action):
    """/restart: Rasa's reset (all slots, procedure under discussion) plus a confirmation in Vietnamese."""

    def name(self) -> str:
        return "action_restart"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        deliver(dialogue.restart(), Turn.from_tracker(tracker), dispatcher)
        return [Restarted()]


# ---------------------------------------------------------------- the citizen's case (actions/cases.py)


def _facts_under_discussion(tracker: Tracker) -> Any:
    doc_id = tracker.get_slot("procedure_id")
    return knowledge_base().facts(doc_id) if doc_id else None


class ActionAskCase(Action):
    """case_form's question: which case, one button per case in plain words and «Trường hợp khác»."""

    def name(self) -> str:
        return "action_ask_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        facts = _facts_under_discussion(tracker)
        if facts is None or not facts.cases:
            return [SlotSet("case", cases.OTHER)]
        text = cases.question_text(facts, answers.procedure_title(facts))
        dispatcher.utter_message(text=text, buttons=cases.case_buttons(facts))
        return []


class ValidateCaseForm(FormValidationAction):
    """The case from a button ("case" entity: its number) or typed ("tôi ở nhờ", "trường hợp thứ hai"). Anything
    else ends the form with no case: the question asked instead is answered (action_case_answer), not re-asked."""

    def name(self) -> str:
        return "validate_case_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[str]:
        answering = tracker.get_slot("requested_slot") == "case"
        if answering and tracker.get_slot("case") is None and self._typed(tracker) is None:
            return []
        return domain_slots

    def _typed(self, tracker: Tracker) -> str | None:
        facts = _facts_under_discussion(tracker)
        return None if facts is None else dialogue.typed_case(knowledge_base(), Turn.from_tracker(tracker), facts)

    async def extract_case(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "case" or tracker.get_slot("case") is not None:
            return {}
        typed = self._typed(tracker)
        return {"case": typed} if typed else {}

    def validate_case(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is None:  # action_answer reset it in this turn: nothing to validate, the form asks
            return {"case": None}
        facts = _facts_under_discussion(tracker)
        if facts is None:
            return {"case": cases.OTHER}
        if isinstance(value, str) and (value == cases.OTHER or cases.find_case(facts, value)):
            return {"case": value}
        return {"case": cases.chosen_case(facts, str(value)) or cases.OTHER}  # a button's number


class ActionCaseAnswer(Action):
    """After case_form: the documents for the case chosen; or, when the citizen wrote something else instead, the
    reply to that (the question is not asked again for this procedure: the case is kept as «Trường hợp khác»)."""

    def name(self) -> str:
        return "action_case_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn = Turn.from_tracker(tracker)
        kb = knowledge_base()
        if turn.case is not None and turn.procedure_id:
            chosen = replace(turn, intent="choose_procedure", entities={"procedure_id": turn.procedure_id})
            return deliver(dialogue.answer(kb, chosen), turn, dispatcher)
        if _answered_this_turn(tracker):  # case_form stood aside and a rule already answered the message
            if _asked_this_turn(tracker):  # ... about a procedure whose papers depend on the case too: ask that
                return [SlotSet("case", None), SlotSet("case_question", True), FollowupAction("case_form")]
            same = _procedure_before_this_turn(tracker) == turn.procedure_id
            return deliver(Outcome([], _case_left(turn) if same else {}), turn, dispatcher)
        outcome = _reply_instead(kb, replace(turn, case=cases.OTHER))
        if outcome.slots.get("procedure_id", turn.procedure_id) == turn.procedure_id:
            outcome.slots = {**_case_left(turn), **outcome.slots}
        outcome.slots.setdefault("case_question", False)
        return deliver(outcome, turn, dispatcher)


def _case_left(turn: Turn) -> dict[str, Any]:
    """The question was not answered: the documents come, when asked again, for every case (not asked twice)."""
    return {"case": cases.OTHER, "case_question": False}


def _procedure_before_this_turn(tracker: Tracker) -> str | None:
    seen_user = False
    for event in reversed(tracker.events):
        seen_user = seen_user or event.get("event") == "user"
        if seen_user and event.get("event") == "slot" and event.get("name") == "procedure_id":
            return event.get("value")
    return None


def _asked_this_turn(tracker: Tracker) -> bool:
    """An answer since the citizen's last message asked which case (actions/cases.py)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == "case_question" and event.get("value"):
            return True
    return False


def _answered_this_turn(tracker: Tracker) -> bool:
    """An action other than the form has run since the citizen's last message."""
    since_user: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "action":
            since_user.append(event.get("name") or "")
    return any(name not in ("case_form", "action_listen", "action_case_answer") for name in since_user)


def _reply_instead(kb: dialogue.KnowledgeBaseLike, turn: Turn) -> Outcome:
    """What the rules would have run for a message that did not answer the case question."""
    by_intent: dict[str, Callable[[], Outcome]] = {
        "request_human": lambda: dialogue.handoff_unless_asked(kb, turn),
        "affirm": lambda: dialogue.confirm(turn),
        "deny": lambda: dialogue.confirm(turn),
        "feedback": lambda: dialogue.feedback_unless_asked(kb, turn),
        "forget_me": lambda: dialogue.ask_forget(turn),
        "confirm_forget": lambda: dialogue.forget(turn),
        "cancel_forget": lambda: dialogue.forget(turn),
        "nlu_fallback": lambda: dialogue.fallback(kb, turn),
        "out_of_scope": lambda: dialogue.out_of_scope(kb, turn),
        "help": lambda: dialogue.help_outcome(kb),
    }  # fmt: skip
    if turn.intent in ("greet", "goodbye", "thank", "bot_challenge"):  # fixed responses (data/rules/chitchat.yml)
        return Outcome([answers.utter(f"utter_{turn.intent}")], {})
    decide = by_intent.get(turn.intent or "")
    return decide() if decide else dialogue.answer(kb, turn)
