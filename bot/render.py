"""Rasa REST replies -> Telegram messages. Pure functions, no I/O.

Messages are sent as plain text (no parse_mode), so nothing a citizen or a knowledge record contains can
break Telegram's parsing: there is nothing to escape.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from settings import wording

TELEGRAM_TEXT_LIMIT = 4096  # Telegram counts UTF-16 code units
CALLBACK_PREFIX = "b:"
BUTTON_TEXT_IF_NO_TEXT = wording.text("bridge.buttons_only")
SHORT_TITLE = 18  # titles up to this length go two per keyboard row


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    @property
    def callback_data(self) -> str:
        return CALLBACK_PREFIX + button_id(self.payload)


@dataclass
class Outgoing:
    """One Telegram message to send: text and an optional inline keyboard (rows of buttons)."""

    text: str
    keyboard: list[list[Button]] = field(default_factory=list)


@dataclass
class Rendered:
    messages: list[Outgoing]
    custom: list[dict[str, Any]]  # custom JSON payloads (e.g. {"handoff": true, "question": ...})

    @property
    def handoff(self) -> dict[str, Any] | None:
        return next((c for c in self.custom if c.get("handoff") is True), None)

    @property
    def forget(self) -> bool:
        """The citizen's data was deleted on their request (the REST channel did Rasa's, journal/erasure.py)."""
        return any(c.get("forget") is True for c in self.custom)


def button_id(payload: str) -> str:
    """Short stable id for a payload: 16 hex chars, so callback_data stays far below Telegram's 64 bytes."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> tuple[str, str]:
    """Longest head of `text` within `limit` UTF-16 units, preferring paragraph, line, sentence, word breaks."""
    # Binary search the largest char index whose prefix fits (UTF-16 length grows monotonically).
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if utf16_len(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    head = text[:lo]
    for separator in ("\n\n", "\n", ". ", " "):
        at = head.rfind(separator)
        if at > lo // 3:  # do not produce a tiny first chunk just to honour a separator
            return text[: at + len(separator)].rstrip(), text[at + len(separator) :].lstrip()
    return head, text[lo:]


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split into messages of at most `limit` UTF-16 units, on paragraph boundaries where possible."""
    text = text.strip()
    chunks: list[str] = []
    while utf16_len(text) > limit:
        head, text = _cut(text, limit)
        if head:
            chunks.append(head)
    if text:
        chunks.append(text)
    return chunks


def keyboard_rows(buttons: list[Button]) -> list[list[Button]]:
    """Short titles two per row, long ones alone: readable on a phone."""
    rows: list[list[Button]] = []
    for button in buttons:
        short = len(button.title) <= SHORT_TITLE
        if short and rows and len(rows[-1]) == 1 and len(rows[-1][0].title) <= SHORT_TITLE:
            rows[-1].append(button)
        else:
            rows.append([button])
    return rows


def parse_buttons(raw: Any) -> list[Button]:
    buttons = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        title = str(item.get("title") or "").strip()
        payload = str(item.get("payload") or title).strip()
        if title and payload:
            buttons.append(Button(title, payload))
    return buttons


def render(replies: list[dict[str, Any]], limit: int = TELEGRAM_TEXT_LIMIT) -> Rendered:
    """Turn Rasa's REST replies into Telegram messages; buttons hang under the last part of their text."""
    messages: list[Outgoing] = []
    custom: list[dict[str, Any]] = []
    for reply in replies:
        if isinstance(reply.get("custom"), dict):
            custom.append(reply["custom"])
        text = str(reply.get("text") or "").strip()
        if reply.get("image"):
            text = f"{text}\n{reply['image']}".strip()
        buttons = parse_buttons(reply.get("buttons"))
        if not text and not buttons:
            continue
        parts = split_text(text, limit) if text else [BUTTON_TEXT_IF_NO_TEXT]
        messages.extend(Outgoing(part) for part in parts)
        messages[-1].keyboard = keyboard_rows(buttons)
    return Rendered(messages, custom)


def plain_text(replies: list[dict[str, Any]]) -> str:
    """What the citizen read in one turn, for the conversation history sent to staff."""
    return "\n".join(str(r.get("text")).strip() for r in replies if r.get("text"))
