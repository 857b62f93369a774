"""Logging that keeps chat ids and metadata but never a citizen's ID/phone number or the bot token."""

from __future__ import annotations

import logging
import re

from knowledge.text import mask_personal_numbers

_TOKEN = re.compile(r"\b\d{6,}:[A-Za-z0-9_-]{30,}\b")


def redact(text: str) -> str:
    return mask_personal_numbers(_TOKEN.sub("<bot-token>", text))


class PrivacyFilter(logging.Filter):
    """Masks personal numbers (knowledge.text.mask_personal_numbers) and bot tokens in every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not lose the record
            return True
        record.msg, record.args = redact(message), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PrivacyFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every Bot API URL at INFO, and those URLs contain the token: keep it to warnings.
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
