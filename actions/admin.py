"""The action server's admin API, for the Telegram bridge's /stats and /reload and for operators.

    GET  /admin/stats   {"journal": journal.stats(), "journal_report": text, "index_version": loaded here,
                         "published_version": in MOCUA_INDEX_DIR, "query_embeddings": {"hits", "misses", "size"},
                         "uptime_seconds", "pid", ...}
    POST /admin/callback-numbers  {"sender", "text"}: keeps the phone numbers of a citizen's text for their open
                        handoff request (journal/callbacks.py); answers {"kept", "notice"}
    POST /admin/forget  {"sender"}: deletes that conversation's tracker, journal, callback and bridge rows
                        (journal/erasure.py), called once Rasa has answered the citizen's confirmation
    POST /admin/reload  builds the index as `make kb-build` does (from MOCUA_KNOWLEDGE_DIR when set), in this process
                        (knowledge/index/worker.py: the loaded encoder embeds only new texts), and answers
                        {"ok", "returncode", "version", "loaded_version", "output"} (the build log's tail).
                        One build at a time per action server: a second request meanwhile gets 409 at once
                        ({"ok": false, "error": "busy"}); builds from several servers on one index directory
                        also take turns (the build locks the directory). A build that fails still answers 200,
                        with "ok": false: the previous index keeps serving.

Every request needs `Authorization: Bearer <ADMIN_API_TOKEN>` (401 otherwise). Without ADMIN_API_TOKEN the admin
paths do not exist (404): the action secret, which Rasa holds, never opens them, and the admin token never runs
actions. The one exception: the action secret also opens /admin/callback-numbers and /admin/forget, which Rasa's
REST channel calls once Rasa answered (channels/rest.py), so Rasa never holds the admin token.

Every action server also checks MOCUA_INDEX_DIR once a second in the background and loads a newly published index
at once, so all replicas serve it within seconds of a build, whichever replica ran it, even with no traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

import settings

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PREFIX = "/admin"
RELOAD_TIMEOUT = settings.current().admin_reload_timeout  # a full build with no cache: ~6 min
TAIL_LINES = 20
WATCH_EVERY = 1.0
PURGE_EVERY = 86400.0  # retention purge: daily
PRIVACY_PATHS = frozenset({"/admin/callback-numbers", "/admin/forget"})  # also opened by Rasa's action secret
PROCESS_STARTED = time.time()  # imported as the server starts, before the index loads

logger = logging.getLogger("actions.admin")


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def refusal(request: Request, token: str) -> HTTPResponse | None:
    """None when the request may use the admin API, else the answer that refuses it."""
    if not token:
        return response.json({"error": "admin API disabled: ADMIN_API_TOKEN is not set"}, status=404)
    given = bearer_token(request)
    if given is not None and hmac.compare_digest(given.encode(), token.encode()):
        return None
    logger.warning("refused %s %s from %s: %s admin token", request.method, request.path, request.ip,
                   "wrong" if given else "no")  # fmt: skip
    return response.json({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})


# ---------------------------------------------------------------- what the endpoints report


def journal_snapshot() -> dict[str, Any]:
    import journal

    try:
        counts = journal.stats()
    except Exception as error:  # noqa: BLE001 - the journal database may be down; the rest of the stats is not
        logger.warning("journal statistics unavailable: %s", error)
        return {"journal": None, "journal_report": None, "journal_error": str(error).splitlines()[0]}
    return {"journal": counts, "journal_report": journal.format_report(counts), "journal_error": None}


def query_embedding_cache() -> dict[str, int]:
    """How many of this process's query embeddings came from its cache (hits) or were computed (misses): the load
    benchmark reports the share, a first-time question costing about 20 ms more."""
    from knowledge.search.engine import query_vector

    info = query_vector.cache_info()
    return {"hits": info.hits, "misses": info.misses, "size": info.currsize}


def loaded_version(wait: bool = False) -> str | None:
    """The index version this process serves (loading it now if none is loaded yet). `wait`: after a build, look at
    once and wait for a load the watcher may have begun, so the answer names the version really served."""
    from knowledge.search import get_knowledge_base

    try:
        return get_knowledge_base().refresh(wait)
    except FileNotFoundError:  # nothing published yet
        return None


def published_version() -> str | None:
    from knowledge.index.published import current_version, index_dir_from_env

    found = current_version(index_dir_from_env())
    return found.name if found is not None else None


_BUILDER: Any = None


def index_builder() -> Any:
    """This server's one index builder (knowledge/index/worker.py, as the console's): it builds in this process,
    whose encoder is already loaded, so a rebuild after a small edit takes a second or two."""
    global _BUILDER
    if _BUILDER is None:
        from knowledge.index.build import KNOWLEDGE_DIR
        from knowledge.index.published import index_dir_from_env
        from knowledge.index.worker import IndexBuilder

        _BUILDER = IndexBuilder(settings.current().knowledge_dir or KNOWLEDGE_DIR, index_dir_from_env())
    return _BUILDER


async def run_build(timeout: float = RELOAD_TIMEOUT) -> dict[str, Any]:
    """Build and publish the index (in a background thread of this process), then load it here at once."""
    started = time.monotonic()
    from knowledge.index.build import release_warm_state

    ticket = index_builder().request("POST /admin/reload")
    run = await asyncio.to_thread(ticket.wait, timeout)
    if not index_builder().running:  # an action server builds rarely: its memory is for serving
        await asyncio.to_thread(release_warm_state)
    if run is None:
        returncode, tail = None, f"build still running after {timeout:.0f} s"
    else:
        returncode, tail = (0 if run.status == "ok" else 1), "\n".join(run.lines[-TAIL_LINES:])
    loaded = await asyncio.to_thread(loaded_version, True)
    logger.info("index build finished with code %s in %.0fs; serving %s", returncode, time.monotonic() - started,
                loaded)  # fmt: skip
    return {
        "ok": returncode == 0, "returncode": returncode, "version": await asyncio.to_thread(published_version),
        "loaded_version": loaded, "output": tail,
    }  # fmt: skip


# ---------------------------------------------------------------- routes and the index watcher


def install(app: Sanic) -> None:
    """Add the admin routes (call only when ADMIN_API_TOKEN is set; the middleware checks the token)."""
    app.ctx.reload_task = None
    # A build may take minutes; Sanic would cut the answer after its default 60 s.
    app.config.RESPONSE_TIMEOUT = max(app.config.RESPONSE_TIMEOUT, int(RELOAD_TIMEOUT) + 60)

    @app.get("/admin/stats")
    async def stats(request: Request) -> HTTPResponse:
        body = await asyncio.to_thread(journal_snapshot)
        body.update(
            index_version=await asyncio.to_thread(loaded_version),
            published_version=await asyncio.to_thread(published_version),
            query_embeddings=query_embedding_cache(),
            uptime_seconds=round(time.time() - PROCESS_STARTED, 1),
            started_at=PROCESS_STARTED,
            pid=os.getpid(),
        )
        return response.json(body)

    @app.post("/admin/reload")
    async def reload(request: Request) -> HTTPResponse:
        running = request.app.ctx.reload_task
        if running is not None and not running.done():
            return response.json({"ok": False, "error": "busy", "detail": "an index build is already running"},
                                 status=409)  # fmt: skip
        task = request.app.ctx.reload_task = asyncio.ensure_future(run_build())
        # Shielded: a client that gives up does not stop a half-done build (a new request meanwhile gets 409).
        return response.json(await asyncio.shield(task))


def _field(request: Request, name: str, limit: int = 128) -> str | None:
    """A non-empty string field of the JSON body, at most `limit` characters, else None."""
    body = request.json if request.headers.get("content-type", "").startswith("application/json") else None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value.strip() and len(value) <= limit else None


def run_while_serving(app: Sanic, loop_forever: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a background loop from the server's start, and cancel it when the server stops."""
    tasks: list[asyncio.Task[None]] = []

    @app.after_server_start
    async def start(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        tasks.append(loop.create_task(loop_forever()))

    @app.before_server_stop
    async def stop(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def purge_daily(app: Sanic) -> None:
    """Delete conversations and journal rows past their retention, and expired callback numbers, at the start and
    then once a day (journal/erasure.py; every replica may run it: deleting twice is harmless)."""

    async def purge() -> None:
        from journal import erasure

        while True:
            try:
                await asyncio.to_thread(erasure.purge_expired)
            except Exception:  # noqa: BLE001 - a database down now is tried again tomorrow; the server goes on
                logger.exception("retention purge failed")
            await asyncio.sleep(PURGE_EVERY)

    run_while_serving(app, purge)


def install_privacy(app: Sanic) -> None:
    """The two paths the REST channel calls once Rasa answered, with Rasa's action secret (actions/server.py), and
    the bridge with the admin token: a callback number to keep, a conversation to delete."""

    @app.post("/admin/callback-numbers")
    async def callback_numbers(request: Request) -> HTTPResponse:
        """{"sender", "text", "asked_now"}: keep the phone numbers of a citizen's raw text for their handoff request
        if it is open (the REST channel and the bridge call it; journal/callbacks.py decides). `asked_now`: the answer
        to this text asks for a person. Answers {"kept": n, "notice": text for the citizen}."""
        from journal import callbacks

        sender, text = _field(request, "sender"), _field(request, "text", 4000)
        if sender is None or text is None:
            return response.json({"error": "give 'sender' and 'text' as strings"}, status=400)
        asked_now = isinstance(request.json, dict) and request.json.get("asked_now") is True
        kept = await asyncio.to_thread(callbacks.capture, sender, text, asked_now)
        return response.json({"kept": kept, "notice": callbacks.notice() if kept else None})

    @app.post("/admin/forget")
    async def forget(request: Request) -> HTTPResponse:
        """{"sender"}: delete the tracker, journal, callback and (reachable) bridge rows of one conversation, once
        Rasa has answered (journal/erasure.py)."""
        from journal import erasure

        sender = _field(request, "sender")
        if sender is None:
            return response.json({"error": "give 'sender' as a string"}, status=400)
        deleted = await asyncio.to_thread(erasure.forget, sender)
        logger.info("deleted the data of one conversation at its citizen's request: %s", deleted)
        return response.json({"deleted": deleted})


def watch_index(app: Sanic) -> None:
    """Load a newly published index within about a second, in every replica, even with no question coming in."""

    async def watch() -> None:
        reported = ""
        while True:
            await asyncio.sleep(WATCH_EVERY)
            try:
                await asyncio.to_thread(loaded_version)
            except Exception as error:  # noqa: BLE001 - a damaged index is reported by the build; keep watching
                if str(error) != reported:  # once per problem, not once a second
                    logger.exception("could not check for a new knowledge index")
                reported = str(error)

    run_while_serving(app, watch)
