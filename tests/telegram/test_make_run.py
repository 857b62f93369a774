"""`make run` with TELEGRAM_BOT_TOKEN and TELEGRAM_BASE_URL set serves citizens on that Bot API server,
with no other change; SIGTERM (Ctrl-C) stops every process it started. The bot token is in no process's arguments
and the bridge's store is readable by its owner only."""

from __future__ import annotations

import os
import signal
import subprocess

from bot.config import load_dotenv
from scripts.stack import APP_PYTHON, ROOT, free_port
from tests.exposure import readable_by_others, secrets_in_arguments
from tests.telegram.bot_api_emulator import BotApiEmulator


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def test_run_serves_telegram_through_any_bot_api_server(emulator: BotApiEmulator, tmp_path) -> None:
    env = os.environ | {
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_BASE_URL": emulator.base_url,
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "MOCUA_BOT_DB": str(tmp_path / "bot.db"),
        "TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "MOCUA_JOURNAL_DB": str(tmp_path / "journal.db"),
        "CONSOLE_PORT": str(free_port()),
        "MOCUA_CONSOLE_DB_URL": f"sqlite:///{tmp_path / 'console.db'}",
        "MOCUA_VAR_DIR": str(tmp_path),
    }
    serve = subprocess.Popen(
        [str(APP_PYTHON), "-m", "scripts.serve", "--front", "auto"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        emulator.send_text(82001, "lam giay khai sinh cho con o dau")
        reply = emulator.wait_for_text(82001, "khai sinh", timeout=240)
        assert "xã" in reply["text"].lower()
        secrets = load_dotenv(tmp_path / "secrets.env") | {"TELEGRAM_BOT_TOKEN": emulator.token}
        assert secrets_in_arguments(secrets, [serve.pid]) == []
        assert (tmp_path / "bot.db").exists() and readable_by_others(tmp_path) == []
    finally:
        started = children_of(serve.pid)
        serve.send_signal(signal.SIGTERM)
        output, _ = serve.communicate(timeout=60)
    assert serve.returncode == 0, output
    assert "Telegram bridge started" in output
    assert "Staff console: http://127.0.0.1:" in output
    assert len(started) == 4, "action server, Rasa server, staff console and Telegram bridge"
    assert not [pid for pid in started if os.path.exists(f"/proc/{pid}")], "every child stopped"
