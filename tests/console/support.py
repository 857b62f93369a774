"""Helpers shared by the console tests: the running console, its accounts, what citizens said, screenshots."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from console.accounts import add_staff, authenticate, find_staff, set_disabled
from console.config import Settings
from console.db import engine, upgrade
from scripts.stack import APP_PYTHON, ROOT

# The README's pictures are refreshed on purpose (SCREENSHOTS_DIR=docs/screenshots); a test run keeps its own.
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")
PASSWORDS = {"lan": "mat-khau-bien-tap-1", "minh": "mat-khau-chi-xem-2", "khach": "mat-khau-khoa-thu-3"}
ROLES = {"lan": "editor", "minh": "viewer", "khach": "viewer"}

# What citizens say before staff look at the console: answers, feedback both ways, a wording the bot does not know
# yet (two spellings of it), a request for a person, and text with markup and a phone number in it.
UNKNOWN_WORDINGS = ("xin giấy chào đời cho con", "giấy chào đời cho con gái")
MARKUP = "xin <b>giấy phép</b> thả diều trên phố <script>alert(1)</script> sđt 0912 345 222"
MARKUP_GROUP = "thả diều"  # how the tests find its group of unanswered questions


@dataclass
class Console:
    url: str
    env: dict[str, str]
    knowledge: Any  # tests/conftest.py KnowledgeCopy: knowledge_dir, index_dir, rebuild()
    dev_questions: Path
    process: subprocess.Popen = field(repr=False)

    def record_file(self, record_id: str) -> Path:
        return self.knowledge.knowledge_dir / "procedures" / f"{record_id}.yml"

    def client(self, username: str | None = None) -> httpx.Client:
        """An HTTP client with its own cookies, signed in as `username` through the sign-in form (or anonymous)."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=60)
        if username:
            response = client.post("/login", data={"csrf": csrf_of(client, "/"), "username": username,
                                                  "password": PASSWORDS[username]})  # fmt: skip
            assert response.status_code == 303, response.text
        return client

    def wait_for_builds(self, client: httpx.Client, timeout: float = 300) -> str:
        """Until no index build runs; the publish page's latest result."""
        deadline = time.monotonic() + timeout
        while True:
            page = client.get("/publish").text
            if 'id="build-running"' not in page:
                found = re.search(r'<p class="status">([^<]*)</p>', page)
                return found.group(1) if found else ""
            assert time.monotonic() < deadline, "the index build did not finish"
            time.sleep(0.5)


def console_command(env: dict[str, str], *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    """`python -m console <args>` as `make staff-add` and the others run it (the password from STAFF_PASSWORD)."""
    extra = {"STAFF_PASSWORD": password} if password else {}
    return subprocess.run([str(APP_PYTHON), "-m", "console", *args], cwd=ROOT, env=env | extra, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip


def first_release_accounts(url: str, username: str, password: str) -> None:
    """A console database as the first release made it (its staff table had no `disabled`), with one account."""
    old = sa.create_engine(url)
    key = "SERIAL PRIMARY KEY" if old.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    with old.begin() as con:
        con.execute(sa.text(f"CREATE TABLE staff (id {key}, username VARCHAR(64) NOT NULL UNIQUE, password_hash TEXT "
                            "NOT NULL, role VARCHAR(16) NOT NULL, created_at TEXT NOT NULL)"))  # fmt: skip
        con.execute(sa.text("INSERT INTO staff (username, password_hash, role, created_at) VALUES (:name, :hash, "
                            "'editor', '2026-01-01T00:00:00+00:00')"),
                    {"name": username, "hash": PasswordHasher().hash(password)})  # fmt: skip
    old.dispose()


def check_first_release_accounts_upgrade(url: str) -> None:
    """An account made before accounts could be disabled still signs in and can be disabled; the upgrade runs twice."""
    first_release_accounts(url, "cu", "mat-khau-ban-dau")
    db = engine(url)  # adds the missing column
    upgrade(db)  # again: nothing to do, no error
    assert authenticate(db, "cu", "mat-khau-ban-dau", "127.0.0.1") is not None
    account = find_staff(db, "cu")
    assert account
    set_disabled(db, account.id, True)
    assert authenticate(db, "cu", "mat-khau-ban-dau", "127.0.0.1") is None


def csrf_of(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, f"no CSRF token on {path}: {page.status_code}"
    return found.group(1)


def screenshot(driver: object, name: str) -> Path:
    """The whole page as <name>.png in SCREENSHOTS (docs/screenshots: the README shows them)."""
    # the page's height, plus what the browser's own frame takes from the window
    script = "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight"
    height = driver.execute_script(script)  # type: ignore[attr-defined]
    driver.set_window_size(1280, min(max(900, int(height)), 4000))  # type: ignore[attr-defined]
    time.sleep(0.3)  # the resized window is laid out again before the picture
    path = screenshot_path(name)
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    driver.set_window_size(1280, 900)  # type: ignore[attr-defined]
    return path


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


class QuietBuilder:
    """Stands in for the background index build: records what asked for one, and what it said citizens are told."""

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.changes: list[list[str]] = []
        self.running, self.history, self.queued, self.current, self.index_version = False, [], [], None, None

    def request(self, reason: str, changes: Sequence[str] = ()) -> None:
        self.reasons.append(reason)
        self.changes.append(list(changes))


def app_client(settings: Settings, base_url: str = "http://testserver") -> tuple[TestClient, Any]:
    from console.app import create_app

    app = create_app(settings, "test-secret-key-" * 3)
    app.state.builder = QuietBuilder()
    add_staff(engine(settings.db_url), "lan", "mat-khau-bien-tap", "editor")
    client = TestClient(app, base_url=base_url, follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert token
    signed = client.post("/login", data={"csrf": token.group(1), "username": "lan", "password": "mat-khau-bien-tap"})
    assert signed.status_code == 303
    return client, app
