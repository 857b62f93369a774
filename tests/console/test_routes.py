"""The order in which the console refuses a request, now that its routes ask for the signed-in account and the editor
role through FastAPI dependencies (console/routes/deps.py), in-process: a bad parameter is a 400 before anything
else is checked, an unknown handoff step a 404 before the form's token and the role, then the CSRF token, the
session and the role, each with its own answer. The real console process and its pages: test_security.py and
test_sessions.py."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from console.accounts import add_staff
from console.config import Settings
from console.db import engine
from console.routes.responses import NAV
from tests.console.support import QuietBuilder, app_client, csrf_of

VIEWER_PASSWORD = "mat-khau-chi-xem-2"


@pytest.fixture
def clients(settings: Settings, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, TestClient]:
    """An editor's, a viewer's and an anonymous visitor's browser on one console."""
    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    monkeypatch.delenv("MOCUA_JOURNAL_URL", raising=False)
    editor, app = app_client(settings)
    assert isinstance(app.state.builder, QuietBuilder)
    add_staff(engine(settings.db_url), "minh", VIEWER_PASSWORD, "viewer")
    viewer = TestClient(app, follow_redirects=False)
    signed = viewer.post("/login", data={"csrf": csrf_of(viewer, "/"), "username": "minh", "password": VIEWER_PASSWORD})
    assert signed.status_code == 303
    return {"editor": editor, "viewer": viewer, "anonymous": TestClient(app, follow_redirects=False)}


def test_every_area_of_the_menu_has_its_page(clients: dict[str, TestClient]) -> None:
    for _key, path, _title in NAV:
        assert clients["viewer"].get(path).status_code == 200, path
        anonymous = clients["anonymous"].get(path)
        assert anonymous.status_code == 303 and anonymous.headers["location"] == f"/?next={path}", path


def test_a_bad_parameter_is_refused_before_who_is_asking(clients: dict[str, TestClient]) -> None:
    anonymous, viewer = clients["anonymous"], clients["viewer"]
    for path in ("/audit?page_no=abc", "/unanswered?page_no=1.5", "/conversations?page_no="):
        assert anonymous.get(path).status_code == 400, path  # not sent to the sign-in page first
    for path in ("/audit/abc/revert", "/handoffs/0/take", "/handoffs/abc/callback", "/handoffs/abc/bogus"):
        assert anonymous.post(path).status_code == 400, path  # no form token: still the parameter first
        refused = viewer.post(path, data={"csrf": csrf_of(viewer, "/dashboard")})
        assert refused.status_code == 400 and "Yêu cầu không hợp lệ" in refused.text, path


def test_an_unknown_handoff_step_is_not_found_for_anyone(clients: dict[str, TestClient]) -> None:
    assert clients["anonymous"].post("/handoffs/1/bogus").status_code == 404
    viewer = clients["viewer"]
    assert viewer.post("/handoffs/1/bogus", data={"csrf": csrf_of(viewer, "/dashboard")}).status_code == 404


def test_a_change_checks_the_token_then_the_session_then_the_role(clients: dict[str, TestClient]) -> None:
    anonymous, viewer, editor = clients["anonymous"], clients["viewer"], clients["editor"]
    for path in ("/audit/1/revert", "/handoffs/1/take", "/publish", "/unanswered/out-of-scope"):
        no_token = viewer.post(path)
        assert no_token.status_code == 403 and "mã bảo vệ CSRF" in no_token.text, path
        anonymous_change = anonymous.post(path, data={"csrf": csrf_of(anonymous, "/")})
        assert anonymous_change.status_code == 403 and "cần đăng nhập" in anonymous_change.text, path
        viewer_change = viewer.post(path, data={"csrf": csrf_of(viewer, "/dashboard")})
        assert viewer_change.status_code == 403 and "chỉ có quyền xem" in viewer_change.text, path
    asked = editor.post("/publish", data={"csrf": csrf_of(editor, "/dashboard")})
    assert asked.status_code == 200 and "Dựng lại và xuất bản chỉ mục ngay?" in asked.text  # the editor gets through
