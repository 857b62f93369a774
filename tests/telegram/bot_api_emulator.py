"""A Telegram Bot API emulator: a real HTTP server on 127.0.0.1 speaking enough of the Bot API for
python-telegram-bot (polling and webhook), with a Python API for tests to inject updates, read what the
bot sent and inject faults (429 with retry_after, 502).

It runs its own asyncio loop in a background thread, so synchronous tests can drive a bridge running in a
subprocess over real HTTP. Point the bridge at it with TELEGRAM_BASE_URL=<emulator.base_url>.

Like Telegram, it enforces the flood limits (bot/pacing.py's Limits: 30 messages a second per bot, 3 in 3 s per
chat, 20 a minute per group): a message beyond them is refused with 429 and the `retry_after` that would have
made it fit. `limits=None` turns that off; `clock` is the time it counts by (a test may move it by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.pacing import PACED_METHODS, Limits

JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "reply_parameters", "entities", "link_preview_options"}
UPDATE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post", "callback_query")


@dataclass
class Fault:
    status: int
    retry_after: int | None = None
    delay: float = 0.0  # > 0: the call succeeds, but its answer comes this many seconds late


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class EmulatorState:
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  # messages the bot sent (sendMessage), in order
    calls: list[Call] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    webhook_deliveries: list[tuple[int, int]] = field(default_factory=list)  # (update_id, HTTP status)
    # Like Telegram, POST an update again (after this many seconds) until the webhook answers 2xx; None: once only.
    redeliver_after: float | None = None
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    accepted: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))  # per limit's scope


class BotApiEmulator:
    def __init__(
        self,
        token: str = "123456:TEST-TOKEN-emulator-0123456789abcdef",
        username: str = "mocua_test_bot",
        port: int = 0,
        host: str = "127.0.0.1",  # another address: the multi-host test's "Telegram" network namespace
        limits: Limits | None = Limits(),  # noqa: B008 - frozen, shared safely
        clock: Callable[[], float] = time.time,
    ):
        self.token = token
        self.limits, self.clock = limits, clock
        self.bot_user = {"id": 999000, "is_bot": True, "first_name": "Trợ lý Một Cửa", "username": username,
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False}  # fmt: skip
        self.state = EmulatorState()
        # One bot's update ids only grow, and the bridge's store remembers them (an update sent again is answered
        # once): every emulator is the same bot, so each starts past the ones before it, as Telegram would.
        self._ids = itertools.count(time.time_ns() // 1000)
        self._message_ids = itertools.count(100)
        self._cond = threading.Condition()  # test thread waits on it; the loop thread notifies
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="bot-api-emulator")
        self._new_update: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.port = port
        self.host = host

    # ------------------------------------------------------------ lifecycle
    def start(self) -> BotApiEmulator:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._new_update = asyncio.Event()
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        async def _stop() -> None:
            await self._session.close()
            if self._runner:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> BotApiEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    def _run(self, fn: Callable[[], Any]) -> Any:
        """Run fn on the emulator's loop (all state changes happen there) and return its result."""

        async def call() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(10)

    # ------------------------------------------------------------ HTTP side
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params, self.clock())
        self.state.calls.append(call)
        faults = self.state.faults.get(method)
        late = faults.pop(0).delay if faults and faults[0].delay else 0.0  # takes effect, answered too late
        if faults and not late:
            fault = faults.pop(0)
            call.status = fault.status
            if fault.status == 429:
                return self._error(429, f"Too Many Requests: retry after {fault.retry_after}",
                                   {"retry_after": fault.retry_after})  # fmt: skip
            return self._error(fault.status, "Bad Gateway" if fault.status == 502 else "Internal Server Error")
        retry_after = self._beyond_limits(method, params)
        if retry_after is not None:
            call.status = 429
            self._notify()
            return self._error(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._ok(True)  # lenient: methods the bridge may call but tests do not inspect
        result = await handler(params)
        if late:
            self._notify()
            await asyncio.sleep(late)
        if isinstance(result, web.Response):
            call.status = result.status
            return result
        self._notify()
        return self._ok(result)

    def _beyond_limits(self, method: str, params: dict[str, Any]) -> int | None:
        """Seconds to wait (whole, at least 1, as Telegram says them) when this message would exceed a limit;
        None when it fits, and then it counts."""
        if self.limits is None or method not in PACED_METHODS:
            return None
        now = self.clock()
        scopes = self.limits.scopes(params.get("chat_id"), margin=0.0)
        wait = 0.0
        for scope, count, window in scopes:
            times = self.state.accepted[scope]
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= count:
                wait = max(wait, times[0] + window - now)
        if wait > 0:
            return max(1, math.ceil(wait))
        for scope, _, _ in scopes:
            self.state.accepted[scope].append(now)
        return None

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            raw = await request.json()
        else:
            raw = dict(await request.post())
            raw.update(request.query)
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str) and key in JSON_FIELDS:
                value = json.loads(value)
            params[key] = value
        return params

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------ Bot API methods
    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.state.webhook.get("url"):
            return self._error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        allowed = params.get("allowed_updates") or list(UPDATE_KINDS)
        if offset:
            self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            ready = [u for u in self.state.updates if any(k in u for k in allowed)][:limit]
            if ready or time.monotonic() >= deadline:
                return ready
            assert self._new_update is not None
            self._new_update.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), max(0.0, deadline - time.monotonic()))

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        if not text.strip():
            return self._error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return self._error(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if markup:
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if len(button.get("callback_data", "").encode()) > 64:
                        return self._error(400, "Bad Request: BUTTON_DATA_INVALID")
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": self._chat(chat_id),
                   "from": self.bot_user, "text": text}  # fmt: skip
        if markup:
            message["reply_markup"] = markup
        reply_to = params.get("reply_to_message_id") or (params.get("reply_parameters") or {}).get("message_id")
        if reply_to and int(reply_to) in self.state.messages:
            message["reply_to_message"] = self.state.messages[int(reply_to)]
        self.state.messages[message["message_id"]] = message
        self.state.sent.append(message)
        return message

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        message = self.state.messages.get(int(params.get("message_id") or 0))
        if message is None:
            return self._error(400, "Bad Request: message to edit not found")
        message["text"] = params["text"]
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.state.webhook = {"url": params.get("url", ""), "secret": params.get("secret_token"),
                              "allowed_updates": params.get("allowed_updates")}  # fmt: skip
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.state.webhook = {}
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self.state.updates.clear()
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.state.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.state.updates)}  # fmt: skip

    # ------------------------------------------------------------ building updates
    def _chat(self, chat_id: int, chat_type: str | None = None, title: str | None = None) -> dict[str, Any]:
        chat = self.state.chats.get(chat_id)
        if chat is None:
            kind = chat_type or ("private" if chat_id > 0 else "group")
            chat = {"id": chat_id, "type": kind}
            if kind == "private":
                chat["first_name"] = f"Dân {chat_id}"
            else:
                chat["title"] = title or f"Nhóm {chat_id}"
            self.state.chats[chat_id] = chat
        return chat

    @staticmethod
    def user(user_id: int, first_name: str = "Công dân", username: str | None = None) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}
        if username:
            user["username"] = username
        return user

    def inject(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue one update (or POST it to the webhook, like Telegram, when one is set)."""

        def add() -> dict[str, Any]:
            update = {"update_id": next(self._ids), kind: payload}
            if kind != "callback_query" and "message_id" in payload:
                self.state.messages[payload["message_id"]] = payload
            if self.state.webhook.get("url"):
                asyncio.ensure_future(self._deliver(update))
            else:
                self.state.updates.append(update)
                assert self._new_update is not None
                self._new_update.set()
            return update

        return self._run(add)

    async def _deliver(self, update: dict[str, Any]) -> None:
        while True:
            headers = {}
            if self.state.webhook.get("secret"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.state.webhook["secret"]
            try:
                async with self._session.post(self.state.webhook["url"], json=update, headers=headers) as response:
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            self.state.webhook_deliveries.append((update["update_id"], status))
            self._notify()
            if 200 <= status < 300 or self.state.redeliver_after is None:
                return
            await asyncio.sleep(self.state.redeliver_after)

    def message(self, chat_id: int, user_id: int | None = None, chat_type: str | None = None,
                **fields: Any) -> dict[str, Any]:  # fmt: skip
        user_id = user_id if user_id is not None else chat_id
        chat = self._run(lambda: self._chat(chat_id, chat_type))
        return {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                "from": self.user(user_id), **fields}  # fmt: skip

    def send_text(self, chat_id: int, text: str, user_id: int | None = None, chat_type: str | None = None,
                  reply_to: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            fields["reply_to_message"] = reply_to
        message = self.message(chat_id, user_id, chat_type, **fields)
        self.inject("message", message)
        return message

    def send_sticker(self, chat_id: int) -> dict[str, Any]:
        sticker = {"file_id": "CAACAgIAAxkBAAE", "file_unique_id": "AgAD", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}  # fmt: skip
        message = self.message(chat_id, sticker=sticker)
        self.inject("message", message)
        return message

    def send_photo(self, chat_id: int) -> dict[str, Any]:
        photo = [{"file_id": "AgACAgIAAxkBAAE", "file_unique_id": "AQAD", "width": 90, "height": 90}]
        message = self.message(chat_id, photo=photo)
        self.inject("message", message)
        return message

    def edit_message(self, original: dict[str, Any], new_text: str) -> None:
        edited = {**original, "text": new_text, "edit_date": int(time.time())}
        self.inject("edited_message", edited)

    def channel_post(self, chat_id: int, text: str) -> None:
        chat = self._run(lambda: self._chat(chat_id, "channel"))
        self.inject("channel_post", {"message_id": next(self._message_ids), "date": int(time.time()),
                                     "chat": chat, "text": text})  # fmt: skip

    def press_button(self, bot_message: dict[str, Any], callback_data: str, user_id: int | None = None) -> None:
        user_id = user_id if user_id is not None else bot_message["chat"]["id"]
        query = {"id": str(next(self._ids) + 10_000), "from": self.user(user_id), "chat_instance": "42",
                 "message": bot_message, "data": callback_data}  # fmt: skip
        self.inject("callback_query", query)

    # ------------------------------------------------------------ observing
    def fail_next(self, method: str, count: int = 1, status: int = 429, retry_after: int | None = 1) -> None:
        self._run(lambda: self.state.faults.setdefault(method, []).extend(
            Fault(status, retry_after if status == 429 else None) for _ in range(count)))  # fmt: skip

    def answer_late(self, method: str, count: int = 1, delay: float = 8.0) -> None:
        """The next `count` calls of `method` take effect but are answered `delay` s later (a client timeout)."""
        late = [Fault(200, None, delay) for _ in range(count)]
        self._run(lambda: self.state.faults.setdefault(method, []).extend(late))

    # Reads copy lists the loop thread only appends to (atomic under the GIL), so they never block on the loop.
    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [m for m in list(self.state.sent) if chat_id is None or m["chat"]["id"] == chat_id]

    def refused(self) -> list[Call]:
        """Calls answered 429 (Too Many Requests), whether by the limits or by `fail_next`."""
        return [c for c in self.calls() if c.status == 429]

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in list(self.state.calls) if method is None or c.method == method]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            with self._cond:
                self._cond.wait(min(remaining, 0.2))

    def wait_for_messages(self, chat_id: int, count: int, after: int = 0, timeout: float = 30.0
                          ) -> list[dict[str, Any]]:  # fmt: skip
        """Wait until the bot has sent at least `count` messages to chat_id beyond the first `after`."""
        return self.wait_for(lambda: (lambda m: m if len(m) >= count else None)(self.sent(chat_id)[after:]),
                             timeout, f"{count} message(s) to chat {chat_id}")  # fmt: skip

    def wait_for_text(self, chat_id: int, contains: str, after: int = 0, timeout: float = 30.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((m for m in self.sent(chat_id)[after:] if contains.lower() in m["text"].lower()), None)

        return self.wait_for(found, timeout, f"a message to chat {chat_id} containing {contains!r}")

    def wait_quiet(self, chat_id: int, quiet: float = 1.5, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until at least one message arrived and none for `quiet` seconds (a whole turn was delivered)."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.sent(chat_id))
            if count != seen:
                seen, since = count, time.monotonic()
            elif count and time.monotonic() - since >= quiet:
                return self.sent(chat_id)
            time.sleep(0.1)
        raise AssertionError(f"chat {chat_id} did not settle within {timeout:.0f}s")
