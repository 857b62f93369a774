"""The staff console's web application (FastAPI + Jinja2, server-rendered HTML).

`create_app` builds the state every request shares (`app.state`: the settings, the console's database, the
background index builder, the templates, the lock that lets one change through at a time), then includes the
routers of console.routes, one per area of the menu. Reading pages need a signed-in account; every form posts a
CSRF token and every change needs the editor role (console.routes.deps).
"""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from console.builds import Builder
from console.config import Settings
from console.db import engine
from console.routes import ROUTERS
from console.routes.errors import add_error_pages
from console.routes.responses import templates
from console.web import SecurityHeadersMiddleware, SessionMiddleware

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, secret: str) -> FastAPI:
    app = FastAPI(title="Bảng điều khiển cán bộ", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.db = engine(settings.db_url)
    app.state.builder = Builder(settings)
    app.state.rasa_token = ""  # the Rasa API's token for the editor's preview (console.__main__ sets it)
    app.state.templates = templates()
    app.state.changing = threading.Lock()  # one change at a time: each reads a file, checks it and writes it back
    app.router.on_startup.append(lambda: warm_up_index_builds(app))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(SessionMiddleware, secret=secret, secure=settings.secure_cookies)
    app.add_middleware(SecurityHeadersMiddleware)
    add_error_pages(app)
    for router in ROUTERS:
        app.include_router(router)
    return app


def warm_up_index_builds(app: FastAPI) -> None:
    """The encoder and the knowledge read before the first edit, not during it (edits live within seconds)."""
    warm_up = getattr(app.state.builder, "warm_up_in_background", None)
    if warm_up is not None:
        warm_up()
