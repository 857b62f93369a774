"""The staff console as staff meet it: the real `python -m console` process, pointed at the journal, tracker,
knowledge copy and index of the session's real Rasa and action servers (tests/conftest.py `stack`), driven by headless
Debian Chromium through selenium, or by a plain HTTP client for the security checks.

Accounts are made with the real command (`python -m console staff-add`, what `make staff-add` runs). The dev question
split is a copy (attaching a question must not touch the shipped file); the test split is the real, frozen one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console.config import Settings
from knowledge.catalog.snapshot import load_snapshot, snapshot_bytes
from knowledge.records.loader import KNOWLEDGE_ROOT
from scripts.stack import APP_PYTHON, ROOT, Stack, free_port, http_ok, signal_group
from tests.console.support import MARKUP, PASSWORDS, ROLES, UNKNOWN_WORDINGS, Console, console_command

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _copy_questions(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for split in ("dev", "test", "calibration"):
        shutil.copyfile(ROOT / "tests/data/questions" / f"{split}.yml", target / f"{split}.yml")
    return target / "dev.yml"


@pytest.fixture(scope="session")
def console(stack: Stack, knowledge_copy: Any) -> Iterator[Console]:
    console_var = stack.var_dir / "console"  # beside the stack's journal, tracker and knowledge copy
    shutil.rmtree(console_var, ignore_errors=True)
    port = free_port()
    env = stack.environment() | {
        "CONSOLE_PORT": str(port),
        "MOCUA_VAR_DIR": str(console_var),
        # The Telegram bridge's store, where the handoffs are: the bridges the tests start use this one (never var/)
        "MOCUA_BOT_DB": str(console_var / "bot.db"),
        "MOCUA_BOT_DB_URL": "",
        "MOCUA_CONSOLE_DB_URL": f"sqlite:///{console_var / 'console.db'}",
        "MOCUA_KNOWLEDGE_DIR": str(knowledge_copy.knowledge_dir),
        "MOCUA_INDEX_DIR": str(knowledge_copy.index_dir),
        "MOCUA_DEV_QUESTIONS": str(_copy_questions(console_var / "questions")),
        "MOCUA_CATALOG_SYNC_DIR": str(console_var / "catalog-sync"),
        "CONSOLE_SECRET_KEY": secrets.token_urlsafe(32),
        "RASA_URL": stack.rasa_url,
    }
    for username, role in ROLES.items():
        made = console_command(env, "staff-add", username, "--role", role, password=PASSWORDS[username])
        assert made.returncode == 0, made.stdout + made.stderr
        assert "đã sẵn sàng" in made.stdout
    with running_console(env, stack.log_dir / "console.log") as (url, process):
        yield Console(url, env, knowledge_copy, Path(env["MOCUA_DEV_QUESTIONS"]), process)


@pytest.fixture(scope="session")
def proxied_console(stack: Stack, console: Console) -> Iterator[Console]:
    """A second console, on its own database, that believes X-Forwarded-For from 127.0.0.1 (CONSOLE_TRUSTED_PROXIES):
    as one behind a reverse proxy on the same machine."""
    console_var = stack.var_dir / "console-proxied"
    shutil.rmtree(console_var, ignore_errors=True)
    env = console.env | {"CONSOLE_PORT": str(free_port()), "MOCUA_VAR_DIR": str(console_var),
                         "MOCUA_CONSOLE_DB_URL": f"sqlite:///{console_var / 'console.db'}",
                         "CONSOLE_TRUSTED_PROXIES": "127.0.0.1"}  # fmt: skip
    with running_console(env, stack.log_dir / "console-proxied.log") as (url, process):
        yield Console(url, env, console.knowledge, console.dev_questions, process)


@contextlib.contextmanager
def running_console(env: dict[str, str], log_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python -m console` with this environment, until the block ends: its address and process."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen([str(APP_PYTHON), "-m", "console"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{env['CONSOLE_PORT']}"
    deadline = time.monotonic() + 60
    while not http_ok(f"{url}/health"):
        assert process.poll() is None, f"the console exited; see {log_path}"
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.3)
    try:
        yield url, process
    finally:
        signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            signal_group(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def journal_env(stack: Stack) -> Iterator[None]:
    """This test process reads the test stack's journal (journal.stats(), journal.gaps()) as the console does."""
    before = os.environ.get("MOCUA_JOURNAL_DB")
    os.environ["MOCUA_JOURNAL_DB"] = stack.environment()["MOCUA_JOURNAL_DB"]
    yield
    if before is None:
        os.environ.pop("MOCUA_JOURNAL_DB", None)
    else:
        os.environ["MOCUA_JOURNAL_DB"] = before


Ask = Callable[..., list[dict]]

@pytest.fixture(scope="session")
def citizens(stack: Stack) -> dict[str, str]:
    """Real conversations through the REST channel; returns the senders by role in the story."""
    from scripts.chat import send

    def ask(sender: str, text: str, payload: bool = False) -> list[dict]:
        return send(stack.rasa_url, sender, text, 60.0, payload=payload)

    senders = {name: f"console-{name}-{uuid.uuid4().hex[:6]}" for name in ("happy", "unhappy", "lost", "markup")}
    ask(senders["happy"], "làm giấy khai sinh cho con ở đâu")
    ask(senders["happy"], '/feedback{"feedback":"up"}', payload=True)
    ask(senders["happy"], "lệ phí đăng ký kết hôn bao nhiêu")
    ask(senders["happy"], '/feedback{"feedback":"up"}', payload=True)
    ask(senders["unhappy"], "mua BHYT cho cả gia đình hết bao nhiêu tiền")
    ask(senders["unhappy"], '/feedback{"feedback":"down"}', payload=True)
    for wording in UNKNOWN_WORDINGS:
        ask(senders["lost"], wording)
    ask(senders["lost"], UNKNOWN_WORDINGS[0])
    ask(senders["lost"], "/request_human", payload=True)
    ask(senders["markup"], MARKUP)
    return senders


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("Chromium and its driver are needed: scripts/install-test-services.sh installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--lang=vi-VN", "--disable-gpu", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


# ---------------------------------------------------------------- the app in-process, on a small knowledge copy


@pytest.fixture(scope="session")
def small_catalogue() -> bytes:
    records = load_snapshot(KNOWLEDGE_ROOT / "official/catalog.jsonl.gz")
    return snapshot_bytes(r for r in records if r.code in ("1.000005", "1.000010", "1.000014", "1.001193"))


@pytest.fixture
def settings(tmp_path: Path, small_catalogue: bytes) -> Settings:
    """Two curated records (one linked to 1.001193), four official ones, the question splits: each test its own."""
    knowledge = tmp_path / "knowledge"
    (knowledge / "procedures").mkdir(parents=True)
    for name in ("bao-hiem-the-bhyt-ho-gia-dinh.yml", "ho-tich-khai-sinh.yml"):
        shutil.copyfile(KNOWLEDGE_ROOT / "procedures" / name, knowledge / "procedures" / name)
    (knowledge / "official").mkdir()
    (knowledge / "official/catalog.jsonl.gz").write_bytes(small_catalogue)
    questions = tmp_path / "questions"
    questions.mkdir()
    for split in ("dev", "test", "calibration"):
        shutil.copyfile(ROOT / "tests/data/questions" / f"{split}.yml", questions / f"{split}.yml")
    return Settings(
        interface="127.0.0.1", port=0, db_url=f"sqlite:///{tmp_path / 'console.db'}", knowledge_dir=knowledge,
        index_dir=tmp_path / "index", dev_questions=questions / "dev.yml", tracker_url=f"sqlite:///{tmp_path / 't.db'}",
        sync_state=tmp_path / "catalog-sync", secure_cookies=False, rasa_url="http://127.0.0.1:9", var_dir=tmp_path,
    )  # fmt: skip
