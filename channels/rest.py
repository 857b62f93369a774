"""Our REST channel (credentials.yml), at Rasa's usual /webhooks/rest/webhook.

Unlike Rasa's own RestInput it refuses what should never reach the dialogue (see channels/guard.py): bodies that
are not a JSON object, missing senders, non-JSON content types, payloads no button of ours sends. It answers an
over-long message politely without running NLU, masks personal numbers before anything is stored, and answers 503
when a custom action failed (channels/outage.py), so clients treat it as an outage and send the message again.

Once Rasa has answered, two things of the citizen's privacy happen here, for REST and Telegram citizens alike (the
bridge talks to this channel), through the action server's admin API (ACTION_ADMIN_URL, else the action endpoint's
host), which opens these two paths to Rasa's action secret ACTION_SERVER_SECRET:
- a phone number typed in the message that asks for a person, or while that request is open, is kept encrypted for
  the officer who takes it (journal/callbacks.py), and the citizen is told for what and how long;
- a confirmed deletion request deletes the conversation's tracker, journal and callback rows (journal/erasure.py):
  here and not in the action, since Rasa saves the tracker after its actions ran.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

import settings
from channels import guard, outage, speedups
from settings import wording

logger = logging.getLogger(__name__)
outage.install()
speedups.install()
ADMIN_TIMEOUT = 15.0
FORGET_FAILED = wording.text("channel.forget_failed")


class AdminUnavailable(RuntimeError):
    """The action server's admin API gave no usable answer."""


async def call_admin(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST to the action server's admin API (the URL of actions, without /webhook, unless ACTION_ADMIN_URL), with
    the action secret Rasa already holds (never the admin token)."""
    base = settings.current().action_admin_url
    secret = settings.current().action_secret
    if not base or not secret:
        raise AdminUnavailable("ACTION_ADMIN_URL (or ACTION_ENDPOINT_URL) and ACTION_SERVER_SECRET are needed")
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ADMIN_TIMEOUT)) as client,
            client.post(base.rstrip("/") + path, json=body, headers={"X-Action-Secret": secret}) as answer,
        ):
            if answer.status != 200:
                raise AdminUnavailable(f"{path} answered HTTP {answer.status}")
            found = await answer.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        raise AdminUnavailable(f"{path}: {type(error).__name__}") from None
    return found if isinstance(found, dict) else {}


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"  # same URL as Rasa's REST channel: /webhooks/rest/webhook

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("mocua_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                incoming = guard.read_request(request.body, request.headers.get("content-type", ""))
            except guard.Rejected as error:
                return response.json({"error": error.reason}, status=error.status)
            if incoming.too_long:
                logger.info("refused a %d-character message without reading it", incoming.too_long)
                return response.json(guard.too_long_reply(incoming.sender, incoming.too_long))
            return await self.handle(on_new_message, incoming)

        return webhook

    async def handle(self, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                     incoming: guard.Incoming) -> HTTPResponse:  # fmt: skip
        collector = CollectingOutputChannel()
        message = UserMessage(incoming.text, collector, incoming.sender, input_channel=self.name())
        strict = outage.strict_actions()
        try:
            await on_new_message(message)
        except outage.ActionServerFailed as failure:
            logger.error("%s: nothing saved, answering 503 so the client sends the message again", failure)
            return response.json({"error": "the action server is unavailable"}, status=503,
                                 headers={"Retry-After": "5"})  # fmt: skip
        except Exception:
            logger.exception("a message failed")
            return response.json({"error": "internal error"}, status=500)
        finally:
            outage.end_strict(strict)
        replies = list(collector.messages)
        if guard.forget_confirmed(replies):
            replies = await forget(incoming.sender, replies)
        elif incoming.callback_text:
            replies += await keep_callback_number(incoming, asked_now=guard.asks_for_person(replies))
        return response.json(replies)


async def keep_callback_number(incoming: guard.Incoming, asked_now: bool) -> list[dict[str, Any]]:
    """Keep the number for the officer if the request for a person is open (journal/callbacks.py request_open
    decides, from the bridge's handoff state or Rasa's tracker); the citizen is told for what and how long (nothing
    when it was not kept or failed: staff still have the conversation, and the citizen can give the number to them)."""
    body = {"sender": incoming.sender, "text": incoming.callback_text, "asked_now": asked_now}
    try:
        kept = await call_admin("/admin/callback-numbers", body)
    except AdminUnavailable as error:
        logger.error("callback number not kept: %s", error)
        return []
    notice = kept.get("notice")
    return [{"recipient_id": incoming.sender, "text": notice}] if isinstance(notice, str) and notice else []


async def forget(sender: str, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Delete the conversation's data now that Rasa saved its last turn; the citizen hears the truth either way."""
    try:
        deleted = await call_admin("/admin/forget", {"sender": sender})
    except AdminUnavailable as error:
        logger.error("a citizen's deletion request failed: %s", error)
        return [{"recipient_id": sender, "text": FORGET_FAILED}]
    logger.info("deleted a conversation's data at its citizen's request: %s", deleted.get("deleted"))
    return replies
