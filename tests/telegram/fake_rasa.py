"""A tiny stand-in for Rasa's REST channel (real HTTP, own thread) for the bridge's fast tests.

It can be slowed down, stopped and restarted on the same port, and records every message it processed,
so tests can check that nothing is lost or processed twice.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web

LONG_PARAGRAPH = "Đoạn {n}: " + "hồ sơ gồm tờ khai, giấy tờ tùy thân và giấy tờ chứng minh nơi cư trú. " * 8
# A payload whose UTF-8 form is far beyond Telegram's 64-byte callback_data limit.
LONG_PAYLOAD = '/choose_procedure{"procedure_id":"hộ-tịch-đăng-ký-khai-sinh-có-yếu-tố-nước-ngoài-tại-ủy-ban"}'


def answer(message: str) -> list[dict[str, Any]]:
    text = message.lower()
    if message == "/restart":
        return [{"text": "Đã bắt đầu lại cuộc trò chuyện."}]
    if "khai sinh" in text:
        return [{"text": "Đăng ký khai sinh: nộp tại UBND cấp xã nơi cư trú của cha hoặc mẹ.",
                 "buttons": [{"title": "Lệ phí", "payload": "/ask_fee"},
                             {"title": "Khai sinh có yếu tố nước ngoài", "payload": LONG_PAYLOAD}]}]  # fmt: skip
    if message == "/ask_fee":
        return [{"text": "Lệ phí đăng ký khai sinh đúng hạn: miễn lệ phí."}]
    if message == LONG_PAYLOAD:
        return [{"text": "Khai sinh có yếu tố nước ngoài: nộp tại UBND cấp xã theo quy định mới."}]
    if "cán bộ" in text:
        return [{"text": "Mình đã chuyển câu hỏi của bạn đến cán bộ."},
                {"custom": {"handoff": True, "question": "hỏi về đất đai"}}]  # fmt: skip
    if "dài" in text:
        return [{"text": "\n\n".join(LONG_PARAGRAPH.format(n=n).strip() for n in range(1, 13))}]
    if "html" in text:
        return [{"text": "Mẫu <b>tờ khai</b> & phụ lục <i>số 1</i> — dùng dấu < và >."}]
    return [{"text": f"Bạn hỏi: {message}"}]


class FakeRasa:
    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.payloads: list[tuple[str, str]] = []  # the subset of `received` sent as button payloads
        self.delay = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fake-rasa")
        self._runner: web.AppRunner | None = None
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def start(self) -> FakeRasa:
        self._call(self._start())
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        """Stop listening (connections are refused) but keep the port for start()."""
        if self._runner is not None:
            self._call(self._runner.cleanup())
            self._runner = None

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        # Like our REST channel (channels/guard.py): typed text in "message", a button's payload in "payload".
        message = body["payload"] if "payload" in body else body["message"]
        if "payload" in body:
            self.payloads.append((body["sender"], message))
        if self.delay or "chậm" in message:
            await asyncio.sleep(self.delay or 3.0)
        self.received.append((body["sender"], message))
        replies = [{"recipient_id": body["sender"], **reply} for reply in answer(message)]
        return web.json_response(replies)

    def messages(self, sender: int | str) -> list[str]:
        return [message for who, message in list(self.received) if who == str(sender)]
