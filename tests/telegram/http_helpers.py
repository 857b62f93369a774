"""Small HTTP helpers for the webhook tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from scripts.stack import free_port

WEBHOOK_SECRET = "s3cret-Token_42"


def webhook_env() -> tuple[str, dict[str, str]]:
    """A webhook URL on a free local port and the bridge settings that serve it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    return url, {"TELEGRAM_WEBHOOK_URL": url, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                 "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1", "TELEGRAM_WEBHOOK_PORT": str(port)}  # fmt: skip


def post_update(url: str, update: dict, secret: str | None) -> int:
    """POST an update like Telegram does (optionally with the secret header); the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
