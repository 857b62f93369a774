"""Small assertion helpers shared by test modules."""

from __future__ import annotations


def reply_text(replies: list[dict]) -> str:
    """All the text the citizen sees in one turn."""
    return "\n".join(reply.get("text", "") for reply in replies)


def button_payloads(replies: list[dict]) -> list[str]:
    """The payloads of every button offered in one turn."""
    return [button["payload"] for reply in replies for button in reply.get("buttons", [])]
