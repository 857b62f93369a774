"""The action server: rasa-sdk's app, bound to one interface, answering only Rasa, ready only with the index loaded.

    python -m actions.server [--port 5055] [--interface 127.0.0.1]

Unlike `python -m rasa_sdk` (all interfaces, no authentication, CORS for any origin), it listens on
`--interface` (env ACTION_INTERFACE, default 127.0.0.1) and runs actions only for requests carrying the shared
secret ACTION_SERVER_SECRET in the X-Action-Secret header, which Rasa sends (endpoints.yml). A forged tracker
could otherwise write handoffs and 👎 into the journal. /health stays open, and answers only once the knowledge
index is loaded, so the first question after a start is not the one that waits for it.

/admin/* (statistics, index rebuild: actions/admin.py) is for staff tools such as the Telegram bridge, with its own
token ADMIN_API_TOKEN as `Authorization: Bearer …`; without that variable the admin paths answer 404.
Rasa's secret opens only /admin/callback-numbers and /admin/forget, which its REST channel calls once Rasa answered.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import time

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

import settings
from actions import admin

SECRET_HEADER = "X-Action-Secret"
OPEN_PATHS = frozenset({"/health"})

logger = logging.getLogger("actions.server")


def guarded_app(secret: str, admin_token: str = "") -> Sanic:
    app = create_app("actions", cors_origins=None)  # no CORS: no browser has any business here

    @app.middleware("request")
    async def require_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get(SECRET_HEADER, "")
        from_rasa = hmac.compare_digest(given.encode(), secret.encode())
        if admin.is_admin_path(request.path):  # the admin token only, but for what Rasa's REST channel asks
            return None if from_rasa and request.path in admin.PRIVACY_PATHS else admin.refusal(request, admin_token)
        if from_rasa:
            return None
        logger.warning("refused %s %s from %s: %s secret", request.method, request.path, request.ip,
                       "wrong" if given else "no")  # fmt: skip
        return response.json({"error": "unauthorized"}, status=401)

    admin.watch_index(app)
    admin.purge_daily(app)
    admin.install_privacy(app)
    if admin_token:
        admin.install(app)
    return app


def load_knowledge() -> None:
    """Load the index and the embedding model now, with one search, instead of at the first question. A missing or
    stale calibration (CalibrationError) is raised: it ships with the code, so the server must not start without it."""
    from actions.actions import knowledge_base
    from knowledge.search import CalibrationError

    started = time.monotonic()
    try:
        kb = knowledge_base()
        kb.search("thủ tục đăng ký khai sinh")
    except CalibrationError:
        raise
    except FileNotFoundError as error:  # answers that need it say so; `make kb-build` publishes one
        logger.warning("no knowledge index yet (%s)", error)
        return
    except Exception:  # noqa: BLE001 - greetings and handoffs to staff must work even with a broken index
        logger.exception("the knowledge index could not be loaded; questions will fail until it is fixed")
        return
    logger.info("knowledge index %s loaded in %.1fs", getattr(kb, "version", "?"), time.monotonic() - started)


def main() -> int:
    os.umask(0o077)  # the journal and the index builds of /admin/reload: readable by their owner only
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    config = settings.current()
    parser.add_argument("--port", type=int, default=config.action_port)
    parser.add_argument("--interface", default=config.action_interface)
    args = parser.parse_args()
    secret = config.action_secret
    if not secret:
        print("ACTION_SERVER_SECRET is not set: the action server would run actions for anyone. `make serve` sets "
              "it (var/secrets.env); see README.md, 'Deploying for real'.", file=sys.stderr)  # fmt: skip
        return 2
    utils.configure_colored_logging(config.log_level)
    utils.update_sanic_log_level()
    logger.info("action server starting (pid %s)", os.getpid())
    from knowledge.search import CalibrationError

    try:
        load_knowledge()
    except CalibrationError as error:  # every question would fail: say why now rather than answer nothing
        print(f"The action server cannot search without its calibration: {error}", file=sys.stderr)
        return 2
    # One BLAS thread (numpy's matrix-vector product over the index): the server answers one request at a time and
    # OpenBLAS's other thread only spins. With two, the load benchmark measured 14 ms of CPU per message, with one
    # 5 ms, at the same latency (docs/performance.md). Torch has its own setting, MOCUA_TORCH_THREADS.
    threadpool_limits(1, user_api="blas")
    admin_token = config.admin_api_token
    app = guarded_app(secret, admin_token)
    logger.info("action server listening on %s:%s (admin API %s)", args.interface, args.port,
                "on" if admin_token else "off: ADMIN_API_TOKEN is not set")  # fmt: skip
    app.run(args.interface, args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
