"""Logging that keeps chat ids and metadata but never a citizen's ID/phone number or the bot token."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from knowledge.text import mask_personal_numbers

_TOKEN = re.compile(r"\b\d{6,}:[A-Za-z0-9_-]{30,}\b")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, "<secret>")
    return mask_personal_numbers(_TOKEN.sub("<bot-token>", text))


class PrivacyFilter(logging.Filter):
    """Masks personal numbers (knowledge.text.mask_personal_numbers), bot tokens and the given secrets
    (the configured token and webhook secret) in every record, including tracebacks.

    Chat and user ids stay readable: they are logged as int arguments ("chat %s", chat.id), which are kept as they
    are, while text (the message format, string arguments, exceptions) is masked, since a 9- or 10-digit Telegram
    id looks just like an ID card or a phone number."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(str(record.msg), self.secrets)
        if isinstance(record.args, Mapping):
            record.args = {key: self._argument(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(self._argument(value) for value in record.args)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True

    def _argument(self, value: object) -> object:
        if isinstance(value, int | float):  # ids and counts (bool is an int too)
            return value
        return redact(str(value), self.secrets)


def setup_logging(level: int = logging.INFO, secrets: tuple[str, ...] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PrivacyFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every Bot API URL at INFO, and those URLs contain the token: keep it to warnings.
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
