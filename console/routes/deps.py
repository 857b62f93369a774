"""What the console's routes ask for (FastAPI `Depends`): the process's shared state and who is asking.

The state lives on `app.state` (console.app.create_app): the settings, the console's database, the background index
builder. A reading page asks for `SIGNED_IN` (a visitor without a session is sent to the sign-in page); a form that
changes something asks for `Edit` (its CSRF token, a signed-in account, the editor role, checked in that order, each
refused with 403). A route with a parameter of its own (a row id, a page number) has a dependency that carries the
parameter, so a bad one is a 400 before anything else is checked, as it always was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi import Path as PathParameter
from starlette.datastructures import FormData

from console.accounts import Staff
from console.builds import Builder
from console.config import Settings
from console.web import Forbidden, checked_form, current_user, signed_in

MAX_PAGE = 100_000  # a larger page number shows the (empty) last page rather than overflowing the database
RowId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]  # a row id in a path: beyond an INTEGER column is a 400
NOT_SIGNED_IN = "Bạn cần đăng nhập để thực hiện thao tác này."
VIEWER_ONLY = "Tài khoản của bạn chỉ có quyền xem; chỉ cán bộ biên tập mới được thay đổi."


def app_settings(request: Request) -> Settings:
    return request.app.state.settings


def database(request: Request) -> sa.Engine:
    return request.app.state.db


def index_builder(request: Request) -> Builder:
    """The background index build (tests put a stand-in there after the app is created)."""
    return request.app.state.builder


AppSettings = Annotated[Settings, Depends(app_settings)]
Db = Annotated[sa.Engine, Depends(database)]
AppBuilder = Annotated[Builder, Depends(index_builder)]

SIGNED_IN = Depends(signed_in)  # a reading page: a visitor without a session goes to the sign-in page
CheckedForm = Annotated[FormData, Depends(checked_form)]  # the posted form once its CSRF token matches (else 403)


def page_number(request: Request, page_no: int = 1) -> int:
    """A list's page asked for by a signed-in visitor, within 1…MAX_PAGE (`page_no` that is no number: 400)."""
    signed_in(request)
    return min(max(1, page_no), MAX_PAGE)


PageNo = Annotated[int, Depends(page_number)]


@dataclass(frozen=True)
class Change:
    """A change asked for by a signed-in account: who, and the form it posted (its CSRF token checked)."""

    user: Staff
    form: FormData

    @property
    def username(self) -> str:
        return self.user.username


async def staff_change(request: Request) -> Change:
    """A valid CSRF token, then a signed-in account (a form posted without a session is refused, not redirected)."""
    form = await checked_form(request)
    user = current_user(request)
    if user is None:
        raise Forbidden(NOT_SIGNED_IN)
    return Change(user, form)


async def editor_change(request: Request) -> Change:
    """A change to what the console holds or citizens are told: a staff change by an account with the editor role."""
    change = await staff_change(request)
    if not change.user.can_edit:
        raise Forbidden(VIEWER_ONLY)
    return change


async def row_editor_change(request: Request, entry_id: RowId) -> Change:
    """An editor's change to row `entry_id` (a handoff, an audit entry): a bad id is a 400 before the checks."""
    return await editor_change(request)


StaffChange = Annotated[Change, Depends(staff_change)]
Edit = Annotated[Change, Depends(editor_change)]
RowEdit = Annotated[Change, Depends(row_editor_change)]
