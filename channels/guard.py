"""What the REST channel accepts, as pure functions (standard library, knowledge.text and settings.wording only, so the
tests of the Python 3.11 environment can import it).

A request is one JSON object with a non-empty `sender` and either `message` (text the citizen typed) or `payload`
(a button the bot itself offered: `/ask_fee`, `/choose_procedure{"procedure_id":"…"}`). Typed text can never
become an intent payload, and only the intents of the bot's own buttons are accepted as payloads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from knowledge.text import MAX_MESSAGE_CHARS, as_typed_text, find_phone_numbers, mask_personal_numbers
from settings import wording

# A 100,000-character message is about 300 KB of JSON: still answered (politely refused); bigger bodies are not read.
MAX_BODY_BYTES = 1_000_000
MAX_SENDER_CHARS = 128
TOO_LONG = wording.text("channel.too_long")  # {length}, {limit}: wording.yml

# The intents the bot's own buttons send (actions/answers.py) and /restart (the bridge's /start and /reset, the
# terminal chat), each with the entities it may carry. tests/e2e/test_rest_guard.py checks every button against it.
BUTTON_INTENTS: dict[str, frozenset[str]] = {
    "restart": frozenset(),
    "request_human": frozenset(),
    "deny": frozenset(),
    "choose_procedure": frozenset({"procedure_id"}),
    "feedback": frozenset({"feedback"}),
    "choose_case": frozenset({"case"}),  # the citizen's case: its number among the procedure's cases (actions/cases.py)
    # The Telegram bridge's /xoadulieu and its help button; the confirmation's two buttons.
    "forget_me": frozenset(),
    "confirm_forget": frozenset(),
    "cancel_forget": frozenset(),
    **{
        intent: frozenset({"page"})  # "Xem tiếp" under a long list (documents, steps, legal texts)
        for intent in (
            "ask_documents", "ask_fee", "ask_time", "ask_place", "ask_online", "ask_steps", "ask_eligibility",
            "ask_legal_basis", "ask_result", "ask_deadline",
        )
    },
}  # fmt: skip
_ENTITY_VALUES: dict[str, re.Pattern[str]] = {
    "procedure_id": re.compile(r"^[a-z0-9.-]{1,100}$"),  # a curated id or an official code ("1.014064")
    "feedback": re.compile(r"^(up|down)$"),
    "page": re.compile(r"^[1-9][0-9]?$"),
    "case": re.compile(r"^(?:0|[1-9][0-9]?)$"),
}
_PAYLOAD = re.compile(r"^/([a-z_]+)(\{.*\})?$", re.DOTALL)


class Rejected(ValueError):
    """A request the channel refuses, with the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Incoming:
    sender: str
    text: str  # what Rasa receives: masked typed text, or a checked payload
    too_long: int = 0  # the length of a refused over-long message, else 0
    # The text as typed when it holds a phone number: a callback number for a handoff (journal/callbacks.py) is
    # kept from it after Rasa answered. Never given to Rasa, never logged (left out of the repr for that).
    callback_text: str = field(default="", repr=False)


def read_request(body: bytes, content_type: str) -> Incoming:
    """The message in a request to /webhooks/rest/webhook; raises Rejected for anything else."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        # Also what keeps a foreign web page out: a browser only sends JSON cross-site after a CORS preflight.
        raise Rejected(415, "Content-Type must be application/json")
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body)
    except ValueError:
        raise Rejected(400, "body must be a JSON object") from None
    if not isinstance(data, dict):
        raise Rejected(400, "body must be a JSON object")
    text, too_long = read_content(data)
    typed = data.get("message") if data.get("payload") is None and not too_long else None
    callback = typed if isinstance(typed, str) and find_phone_numbers(typed) else ""
    return Incoming(read_sender(data), text, too_long, callback)


def read_sender(data: dict) -> str:
    sender = data.get("sender")
    # Without a sender Rasa would put everyone in one "default" conversation.
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise Rejected(400, f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters")
    return sender


def read_content(data: dict) -> tuple[str, int]:
    """(text for Rasa, length when too long) from exactly one of `message` and `payload`."""
    message, payload = data.get("message"), data.get("payload")
    if (message is None) == (payload is None):
        raise Rejected(400, "give exactly one of 'message' (typed text) and 'payload' (a button)")
    if payload is not None:
        return checked_payload(payload), 0
    if not isinstance(message, str):
        raise Rejected(400, "'message' must be a string")
    if len(message) > MAX_MESSAGE_CHARS:
        return "", len(message)
    text = mask_personal_numbers(as_typed_text(message))
    if not text:
        raise Rejected(400, "'message' is empty")
    return text, 0


def checked_payload(payload: object) -> str:
    """The payload if one of the bot's own buttons could have sent it."""
    text = payload if isinstance(payload, str) else ""
    match = _PAYLOAD.match(text)
    if match is None or match.group(1) not in BUTTON_INTENTS:
        raise Rejected(400, "'payload' is not one of the bot's buttons")
    entities = parse_entities(match.group(2))
    allowed = BUTTON_INTENTS[match.group(1)]
    if set(entities) - allowed or any(not _ENTITY_VALUES[k].match(v) for k, v in entities.items()):
        raise Rejected(400, "'payload' carries entities its button never sends")
    return text


def parse_entities(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        entities = json.loads(text)
    except ValueError:
        raise Rejected(400, "'payload' entities are not JSON") from None
    if not isinstance(entities, dict) or not all(isinstance(v, str) for v in entities.values()):
        raise Rejected(400, "'payload' entities must be an object of strings")
    return entities


def too_long_reply(sender: str, length: int) -> list[dict[str, str]]:
    """The bot's polite answer to an over-long message, in the REST channel's reply format."""
    text = TOO_LONG.format(length=f"{length:,}".replace(",", "."), limit=f"{MAX_MESSAGE_CHARS:,}".replace(",", "."))
    return [{"recipient_id": sender, "text": text}]


# ---------------------------------------------------------------- what Rasa's answer asks of the channel


def asks_for_person(replies: list[dict]) -> bool:
    """The answer hands the citizen to staff (actions/answers.py handoff: custom {"handoff": true})."""
    return any(isinstance(r.get("custom"), dict) and r["custom"].get("handoff") is True for r in replies)


def forget_confirmed(replies: list[dict]) -> bool:
    """The citizen confirmed the deletion of their data (actions/answers.py forget_done: custom {"forget": true})."""
    return any(isinstance(r.get("custom"), dict) and r["custom"].get("forget") is True for r in replies)

