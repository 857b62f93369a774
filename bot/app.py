"""Build the python-telegram-bot Application and run it by long polling or behind a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.admin_client import AdminClient
from bot.config import Config
from bot.handlers import Bridge
from bot.pacing import Limits, SharedRateLimiter
from bot.rasa_client import RasaClient
from bot.store import Store
from settings import wording
from settings.retry import Backoff

log = logging.getLogger(__name__)
T = TypeVar("T")
POLL_RETRY = Backoff(first=1.0, most=30.0)  # waits after a failed getUpdates, or an update not stored

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "channel_post"]
COMMANDS = [  # the chat menu's descriptions: wording.yml
    BotCommand("start", wording.text("bridge.command_start")),
    BotCommand("help", wording.text("bridge.command_help")),
    BotCommand("reset", wording.text("bridge.command_reset")),
    BotCommand("xoadulieu", wording.text("bridge.command_forget")),
]


def build_application(config: Config) -> tuple[Application, Bridge]:
    store = Store(config.db_target)  # opened at the first use: a database down at start is not fatal
    bridge = Bridge(
        config,
        RasaClient(config.rasa_url, config.rasa_timeout),
        store,
        AdminClient(config.action_admin_url, config.admin_api_token),
    )
    builder = (
        Application.builder()
        .token(config.token)
        .base_url(config.base_url)
        .base_file_url(config.base_file_url)
        .concurrent_updates(True)  # chats run concurrently; Bridge.lock keeps each chat in order
        .post_shutdown(lambda app: close(bridge))
    )
    limits = Limits.parse(config.send_limits)
    if limits is not None:  # every message waits for its slot in the budget all replicas share
        builder = builder.rate_limiter(SharedRateLimiter(store, limits))
    application = builder.build()
    add_handlers(application, bridge, config)
    return application, bridge


def add_handlers(application: Application, bridge: Bridge, config: Config) -> None:
    admin = {"stats": bridge.on_stats, "reload": bridge.on_reload}
    for name, callback in admin.items():  # also usable in the staff group
        application.add_handler(CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE))
    if config.staff_chat_id is not None:
        # Everything in the staff group is staff business: never answered by the bot or sent to Rasa.
        application.add_handler(
            MessageHandler(filters.Chat(config.staff_chat_id) & filters.UpdateType.MESSAGE, bridge.on_staff_message)
        )
    citizen = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", bridge.on_start, filters=citizen))
    application.add_handler(CommandHandler("help", bridge.on_help, filters=citizen))
    application.add_handler(CommandHandler("reset", bridge.on_reset, filters=citizen))
    application.add_handler(CommandHandler("xoadulieu", bridge.on_forget, filters=citizen))
    application.add_handler(MessageHandler(citizen & filters.COMMAND, bridge.on_unknown_command))
    application.add_handler(CallbackQueryHandler(bridge.on_button))
    application.add_handler(MessageHandler(citizen & filters.TEXT, bridge.on_text))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, bridge.on_edited))
    application.add_handler(TypeHandler(Update, bridge.on_other))
    application.add_error_handler(bridge.on_error)


async def announce_commands(application: Application) -> None:
    try:
        await application.bot.set_my_commands(COMMANDS)
    except Exception as error:  # noqa: BLE001 - the menu is a nicety; the bot works without it
        log.warning("setMyCommands failed: %s", error)
    log.info("connected to the Bot API as @%s", application.bot.username)


async def close(bridge: Bridge) -> None:
    await bridge.close()


# ---------------------------------------------------------------- polling mode


async def serve_polling(config: Config, stop: asyncio.Event | None = None) -> None:
    application, bridge = build_application(config)
    stop = stop or asyncio.Event()
    stop_on_signals(bridge, stop)
    if not await until_connected(application.initialize, "getMe", stop):  # Telegram unreachable: keep trying
        return
    try:
        await announce_commands(application)
        if not await until_connected(application.bot.delete_webhook, "deleteWebhook", stop):
            return
        await application.start()
        bridge.start_background(application.bot)
        log.info("long polling %s (Rasa at %s)", config.base_url, config.rasa_url)
        try:
            await poll(application, bridge, config, stop)
        finally:
            log.info("stopping")
            await application.stop()
    finally:
        await application.shutdown()
        await close_bridge_of(application)


async def poll(application: Application, bridge: Bridge, config: Config, stop: asyncio.Event) -> None:
    """getUpdates in a loop. Its offset tells Telegram to forget the updates before it, so it moves past an update
    only once the update's message is stored (Bridge.take); one not stored is fetched again at the next call."""
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        try:
            updates = await until_stopped(application.bot.get_updates(
                offset=offset, timeout=int(config.poll_timeout), allowed_updates=ALLOWED_UPDATES,
                read_timeout=config.poll_timeout + 10,
            ), stop)  # fmt: skip
        except TelegramError as error:  # network down, Telegram's 5xx, another poller (409): wait and ask again
            failures += 1
            log.warning("getUpdates failed (%s); asking again in %.0fs", error, POLL_RETRY.delay(failures))
            await pause(POLL_RETRY.delay(failures), stop)
            continue
        failures = 0
        for update in updates or ():
            if not await bridge.take(update, application.process_update):
                log.warning("update %s not stored; fetching it again", update.update_id)
                await pause(POLL_RETRY.delay(1), stop)
                break
            offset = update.update_id + 1


async def until_stopped(call: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The call's result, or None (the call cancelled) as soon as `stop` is set."""
    task, stopping = asyncio.ensure_future(call), asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not task.done():
        task.cancel()
        return None
    return task.result()


async def pause(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def stop_on_signals(bridge: Bridge, stop: asyncio.Event) -> None:
    def on_signal() -> None:
        bridge.stopping.set()  # handlers waiting for Rasa give up at once; their messages stay pending
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal)


# ---------------------------------------------------------------- webhook mode


def webhook_app(application: Application, bridge: Bridge, path: str, secret: str) -> web.Application:
    """Telegram's POST is answered 200 only once the update's message is stored (Telegram never sends again an
    update it was told it got), and 503 when storing failed, so that Telegram sends it again."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning(
                "webhook: rejected a request from %s with %s secret token",
                request.remote, "no" if given is None else "a wrong",
            )  # fmt: skip
            return web.Response(status=403, text="forbidden")
        try:
            update = Update.de_json(await request.json(), application.bot)
        except (ValueError, json.JSONDecodeError, TypeError, KeyError):
            log.warning("webhook: rejected a request that is not a Telegram update")
            return web.Response(status=400, text="bad update")
        if not await bridge.take(update, application.process_update):
            return web.Response(status=503, text="not stored; send it again")
        return web.Response(text="ok")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=2**20)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", health)
    return app


async def serve_webhook(config: Config, stop: asyncio.Event | None = None) -> None:
    assert config.webhook_url
    secret = config.webhook_secret or secrets.token_urlsafe(32)
    application, bridge = build_application(config)
    stop = stop or asyncio.Event()
    stop_on_signals(bridge, stop)
    if not await until_connected(application.initialize, "getMe", stop):
        return
    try:
        await announce_commands(application)
        runner = web.AppRunner(webhook_app(application, bridge, config.webhook_path, secret), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, config.webhook_listen, config.webhook_port).start()
        registered = await until_connected(
            lambda: application.bot.set_webhook(
                config.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            ),
            "setWebhook",
            stop,
        )
        if not registered:
            await runner.cleanup()
            return
        await application.start()
        bridge.start_background(application.bot)
        log.info(
            "webhook %s registered; listening on %s:%s%s (Rasa at %s)",
            config.webhook_url, config.webhook_listen, config.webhook_port, config.webhook_path, config.rasa_url,
        )  # fmt: skip
        try:
            await stop.wait()
        finally:
            log.info("stopping")
            await runner.cleanup()
            await application.stop()
    finally:
        await application.shutdown()
        await close_bridge_of(application)


async def until_connected(call: Callable[[], Awaitable[object]], what: str, stop: asyncio.Event) -> bool:
    """Retry a start-up call while Telegram is unreachable; False if asked to stop meanwhile.
    A bad token or a bad request fails at once."""
    waits = Backoff(first=1.0, most=60.0).delays()
    while not stop.is_set():
        try:
            await call()
            return True
        except BadRequest:
            raise
        except NetworkError as error:
            backoff = next(waits)
            log.warning("%s: Telegram unreachable (%s); retrying in %.0fs", what, error, backoff)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
    return False


async def close_bridge_of(application: Application) -> None:
    """post_shutdown only runs under PTB's own run_polling/run_webhook: close the bridge ourselves."""
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


def run(config: Config) -> None:
    if config.webhook_url:
        asyncio.run(serve_webhook(config))
    else:
        asyncio.run(serve_polling(config))
