"""Our REST channel (credentials.yml), at Rasa's usual /webhooks/rest/webhook.

Unlike Rasa's own RestInput it refuses what should never reach the dialogue (see channels/guard.py): bodies that
are not a JSON object, missing senders, non-JSON content types, payloads no button of ours sends. It answers an
over-long message politely without running NLU, masks personal numbers before anything is stored, and answers 503
when a custom action failed (channels/outage.py), so clients treat it as an outage and send the message again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard, outage, speedups

logger = logging.getLogger(__name__)
outage.install()
speedups.install()


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
        return response.json(collector.messages)
