"""The bridge's client for the action server's admin API (actions/admin.py), behind /stats and /reload.

The bridge may run on another host than the action servers, the journal and the index: it reads and builds none
of them itself, it asks an action server over HTTP (ACTION_ADMIN_URL, the load balancer in production) with the
token ADMIN_API_TOKEN. Every failure becomes an AdminUnavailable whose text tells the staff member, in Vietnamese,
what is wrong.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)

NO_TOKEN = "Cầu nối chưa được cấu hình ADMIN_API_TOKEN nên không hỏi được máy chủ hành động."
UNREACHABLE = "Không kết nối được máy chủ hành động ({url}). Máy chủ có thể đang tắt hoặc khởi động lại."
TIMED_OUT = "Máy chủ hành động ({url}) không trả lời kịp."
REFUSED = "Máy chủ hành động từ chối mã quản trị: ADMIN_API_TOKEN của cầu nối không khớp."
DISABLED = "Máy chủ hành động chưa bật API quản trị (chưa đặt ADMIN_API_TOKEN ở đó)."
BUSY = "Đang có một lần dựng chỉ mục khác chạy. Bạn thử lại sau ít phút nhé."
FAILED = "Máy chủ hành động trả lỗi HTTP {status}."
NOT_JSON = "Máy chủ hành động trả lời không đúng định dạng."


class AdminUnavailable(Exception):
    """The admin API gave no usable answer; str() is a Vietnamese sentence for staff."""


class AdminClient:
    def __init__(self, url: str, token: str, timeout: float = 15.0, reload_timeout: float = 1300.0) -> None:
        """`reload_timeout`: a full index build takes minutes (the server itself stops one after 20)."""
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.reload_timeout = reload_timeout
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=5.0))

    async def close(self) -> None:
        await self._client.aclose()

    async def stats(self) -> dict[str, Any]:
        return await self._call("GET", "/admin/stats", self.timeout)

    async def reload(self) -> dict[str, Any]:
        return await self._call("POST", "/admin/reload", self.reload_timeout)

    async def keep_callback_number(self, chat_id: int, text: str) -> dict[str, Any]:
        """Keep the phone number a citizen in a handoff typed, for the officer (journal/callbacks.py)."""
        body = {"sender": str(chat_id), "text": text}
        return await self._call("POST", "/admin/callback-numbers", self.timeout, body)

    async def _call(self, method: str, path: str, timeout: float, body: dict[str, str] | None = None) -> dict[str, Any]:
        if not self.token:
            raise AdminUnavailable(NO_TOKEN)
        try:
            answer = await self._client.request(
                method, self.url + path, headers={"Authorization": f"Bearer {self.token}"}, json=body,
                timeout=httpx.Timeout(timeout, connect=5.0),
            )  # fmt: skip
        except httpx.TimeoutException as error:
            log.warning("admin API %s %s: %s", method, path, type(error).__name__)
            raise AdminUnavailable(TIMED_OUT.format(url=self.url)) from error
        except httpx.HTTPError as error:
            log.warning("admin API %s %s unreachable: %s", method, path, error)
            raise AdminUnavailable(UNREACHABLE.format(url=self.url)) from error
        return self._decode(method, path, answer)

    def _decode(self, method: str, path: str, answer: httpx.Response) -> dict[str, Any]:
        problem = {401: REFUSED, 403: REFUSED, 404: DISABLED, 409: BUSY}.get(answer.status_code)
        if problem is None and answer.status_code != 200:
            problem = FAILED.format(status=answer.status_code)
        if problem is not None:
            log.warning("admin API %s %s answered HTTP %s", method, path, answer.status_code)
            raise AdminUnavailable(problem)
        try:
            body = answer.json()
        except ValueError as error:
            raise AdminUnavailable(NOT_JSON) from error
        if not isinstance(body, dict):
            raise AdminUnavailable(NOT_JSON)
        return body
