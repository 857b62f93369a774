"""The console's pages and forms, one module per area of the menu (console.routes.responses.NAV), each an
`APIRouter` that console.app includes.

A route asks for what it needs through `console.routes.deps`: `SIGNED_IN` for a page, `Edit` for a change (the
CSRF token, a signed-in account, the editor role), the settings, the database and the index builder from
`app.state`. Pages are rendered by `console.routes.responses.page`; a change runs through `one_change_at_a_time`,
is logged in the audit log (console.audit) and, when it touches the knowledge, published by a background index
build (console.builds).
"""

from __future__ import annotations

from fastapi import APIRouter

from console.routes import (
    audit,
    catalog,
    conversations,
    dashboard,
    handoffs,
    publish,
    records,
    signin,
    unanswered,
)

ROUTERS: tuple[APIRouter, ...] = (
    signin.router,
    dashboard.router,
    unanswered.router,
    records.router,
    catalog.router,
    publish.router,
    conversations.router,
    handoffs.router,
    audit.router,
)
