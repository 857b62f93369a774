"""Thin Rasa actions: read the tracker into a `Turn`, let actions.dialogue decide, send replies, log, set slots."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import journal
from actions import dialogue
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
    return [SlotSet(name, value) for name, value in slots.items()]


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

    decide = staticmethod(dialogue.handoff)

    def name(self) -> str:
        return "action_handoff"


class ActionConfirm(_DialogueAction, Action):
    """"có"/"không": answers an open offer of a person, otherwise a short acknowledgement."""

    decide = staticmethod(dialogue.confirm)

    def name(self) -> str:
        return "action_confirm"


class ActionFeedback(_DialogueAction, Action):
    """👍/👎 buttons: stored with the question and the procedure."""

    decide = staticmethod(dialogue.feedback)

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
