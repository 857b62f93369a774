"""Client for Rasa's REST channel, with the retry policy for when Rasa is down or slow.

Only failures where Rasa cannot have seen the message (refused connection, gateway errors while it
restarts) are retried, so a message is never processed twice; a slow answer is awaited, not re-sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from settings.retry import Backoff

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {502, 503, 504}


class RasaError(RuntimeError):
    """Rasa answered with something unusable, or could not be reached in time."""


class RasaUnavailable(RasaError):
    """Rasa could not be reached or is restarting: safe to send the same message again."""


class Stopping(Exception):
    """The bridge is shutting down: the message stays pending and is replayed at the next start."""


class RasaClient:
    def __init__(self, url: str, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=5.0))

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, sender: str, message: str, payload: bool = False) -> list[dict[str, Any]]:
        """One attempt: the bot's replies to `message` from `sender`. With `payload`, `message` is the payload of
        one of the bot's buttons (`/ask_fee`), which the REST channel accepts only in that field."""
        body = {"sender": sender, "payload" if payload else "message": message}
        try:
            response = await self._client.post(f"{self.url}/webhooks/rest/webhook", json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError) as error:
            raise RasaUnavailable(f"{type(error).__name__}: {error}") from error
        except httpx.HTTPError as error:  # read timeout etc.: Rasa may have the message, do not re-send
            raise RasaError(f"{type(error).__name__}: {error}") from error
        if response.status_code in RETRYABLE_STATUS:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise RasaError(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            replies = response.json()
        except ValueError as error:
            raise RasaError("Rasa answered with invalid JSON") from error
        if not isinstance(replies, list):
            raise RasaError(f"Rasa answered {type(replies).__name__}, expected a list")
        return [reply for reply in replies if isinstance(reply, dict)]


async def send_with_retry(
    send: Callable[[], Awaitable[list[dict[str, Any]]]],
    on_delay: Callable[[], Awaitable[None]],
    notice_after: float = 8.0,
    give_up_after: float = 300.0,
    first_backoff: float = 1.0,
    max_backoff: float = 20.0,
    stop: asyncio.Event | None = None,
) -> list[dict[str, Any]]:
    """Call `send` until it succeeds; `on_delay` runs at most once, as soon as the wait exceeds `notice_after`
    seconds or the first attempt fails. Raises RasaError after `give_up_after` seconds or on a non-retryable error,
    and Stopping as soon as `stop` is set."""
    stop = stop or asyncio.Event()
    start = time.monotonic()
    noticed = False
    waits = Backoff(first_backoff, max_backoff).delays()

    async def notice() -> None:
        nonlocal noticed
        if not noticed:
            noticed = True
            await on_delay()

    async def wait(task: asyncio.Future, timeout: float | None) -> bool:
        """True when `task` finished within `timeout`; raises Stopping when asked to stop first."""
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, stopped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if stop.is_set():
            raise Stopping
        return task.done()

    while True:
        attempt = asyncio.ensure_future(send())
        try:
            if not noticed and not await wait(attempt, max(0.0, notice_after - (time.monotonic() - start))):
                await notice()
            await wait(attempt, None)
            return attempt.result()
        except RasaUnavailable as error:
            elapsed, backoff = time.monotonic() - start, next(waits)
            if elapsed + backoff > give_up_after:
                raise RasaError(f"Rasa unreachable for {elapsed:.0f}s: {error}") from error
            log.warning("Rasa unavailable (%s); retrying in %.1fs", error, backoff)
            await notice()
            pause = asyncio.ensure_future(asyncio.sleep(backoff))
            try:
                await wait(pause, None)
            finally:
                pause.cancel()
        finally:
            if not attempt.done():
                attempt.cancel()
