"""`python -m bot`: the Telegram bridge in front of Rasa (long polling, or a webhook if TELEGRAM_WEBHOOK_URL is set)."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

from bot.config import Config, ConfigError
from bot.privacy import setup_logging
from settings.wording import WordingError


def main() -> int:
    os.umask(0o077)  # the bridge's store (var/bot.db) and anything else it writes: readable by its owner only
    try:
        config = Config.from_env()
    except ConfigError as error:
        print(f"Cannot start the Telegram bridge: {error}", file=sys.stderr)
        return 2
    db_password = urlsplit(config.db_url).password if config.db_url else None
    setup_logging(secrets=(config.token, config.webhook_secret or "", config.admin_api_token, db_password or ""))
    from telegram.error import InvalidToken

    try:
        from bot.app import run  # imported late so a config error is reported without loading telegram
    except WordingError as error:  # wording.yml lacks a text the bridge sends
        print(f"Cannot start the Telegram bridge: {error}", file=sys.stderr)
        return 2

    try:
        run(config)
    except InvalidToken:
        print(
            f"Cannot start the Telegram bridge: the Bot API at {config.base_url} rejected TELEGRAM_BOT_TOKEN. "
            "Check the token (from @BotFather) in the environment or .env.",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
