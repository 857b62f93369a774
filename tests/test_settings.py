"""Settings in one place (settings/): the running code reads the environment once, through one module, and every
process finds the same databases and directories from the same variables."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import settings
from bot.config import Config
from console.config import from_env as console_settings
from journal import erasure
from scripts.mask_stored import databases

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ("actions", "bot", "channels", "console", "journal", "knowledge", "nlu_components", "settings")
THE_READER = ROOT / "settings" / "environment.py"


def reads_environment(tree: ast.AST) -> bool:
    """os.environ, os.getenv, os.putenv or `from os import environ/getenv` anywhere in the module."""
    names = ("environ", "environb", "getenv", "putenv", "unsetenv")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            found = node.attr in names
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found = any(alias.name in names for alias in node.names)
        else:
            found = False
        if found:
            return True
    return False


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(ROOT))
        for package in RUNTIME
        for path in sorted((ROOT / package).rglob("*.py"))
        if reads_environment(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    ]
    assert readers == [str(THE_READER.relative_to(ROOT))]


def test_settings_are_read_once_until_refreshed(monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.search.engine import query_provinces

    monkeypatch.delenv("MOCUA_PROVINCE", raising=False)
    assert query_provinces("làm căn cước ở đâu") == set()
    monkeypatch.setitem(os.environ, "MOCUA_PROVINCE", "Hải Phòng")  # changed behind the settings' back
    assert query_provinces("làm căn cước ở đâu") == set(), "a question does not read the environment again"
    settings.refresh()
    assert query_provinces("làm căn cước ở đâu") == {"Thành phố Hải Phòng"}


def test_every_process_finds_the_same_databases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TRACKER_DB_URL", "MOCUA_CONSOLE_DB_URL", "MOCUA_BOT_DB_URL", "MOCUA_BOT_DB", "MOCUA_JOURNAL_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOCUA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    env = dict(os.environ)
    console = console_settings()
    stored = databases(env)
    assert console.tracker_url == erasure.tracker_url() == stored["tracker"][0] == f"sqlite:///{tmp_path}/tracker.db"
    assert console.db_url == stored["console"][0] == f"sqlite:///{tmp_path}/console.db"
    bridge = Config.from_env({**env, "TELEGRAM_BOT_TOKEN": "1:abc"}, dotenv=None)
    assert bridge.db_path == settings.current().bridge_db and stored["bridge"][0] == f"sqlite:///{bridge.db_path}"
    assert bridge.db_path == ROOT / "var" / "bot.db", "the bridge's file stays where older versions kept it"
    assert stored["journal"][0] == f"sqlite:///{tmp_path}/journal.db"


def test_a_secret_not_in_the_environment_is_generated_once_into_the_secrets_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MOCUA_CALLBACK_KEY", raising=False)
    first = settings.load_secrets(tmp_path / "secrets.env", ("MOCUA_CALLBACK_KEY",))
    assert first["MOCUA_CALLBACK_KEY"] and settings.load_dotenv(tmp_path / "secrets.env") == first
    assert settings.load_secrets(tmp_path / "secrets.env", ("MOCUA_CALLBACK_KEY",)) == first
    assert (tmp_path / "secrets.env").stat().st_mode & 0o077 == 0
