"""The deployment files an operator copies stay what the tested code would write."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import yaml

from scripts.stack import ROOT

PRINT_COMMAND = [
    sys.executable, "-m", "scripts.production", "--print-haproxy-config", "--rasa-ports", "5011,5012",
    "--actions-ports", "5061,5062", "--bridge-ports", "8451,8452",
]  # fmt: skip


def test_committed_haproxy_config_is_what_the_production_profile_writes() -> None:
    settings = {"TELEGRAM_BOT_TOKEN": "1:x", "MOCUA_TLS_CERT": "/etc/mocua/tls/bot.pem"}
    env = {**os.environ, "PYTHONPATH": str(ROOT), **settings}
    printed = subprocess.run(PRINT_COMMAND, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert printed == (ROOT / "deploy/haproxy.cfg").read_text(encoding="utf-8"), (
        "deploy/haproxy.cfg is out of date: print it again with the command in its first line"
    )


def test_compose_file_runs_the_tested_replicas() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    for name in ("postgres", "redis", "haproxy", "rasa-1", "rasa-2", "actions-1", "actions-2", "bridge-1", "bridge-2"):
        assert name in services, name
    rasa_command = " ".join(map(str, services["rasa-1"].get("command", [])))
    assert "endpoints.production.yml" in rasa_command and "channels.run_rasa" in rasa_command


SECRETS = ("RASA_API_TOKEN", "ACTION_SERVER_SECRET", "ADMIN_API_TOKEN", "CONSOLE_SECRET_KEY", "TELEGRAM_BOT_TOKEN",
           "TELEGRAM_WEBHOOK_SECRET", "REDIS_PASSWORD", "POSTGRES_PASSWORD", "MOCUA_DATABASE_URL",
           "MOCUA_REDIS_URL", "MOCUA_CALLBACK_KEY")  # fmt: skip
# What systemd and Compose replace by a variable's value (`$$NAME` stays as it is, for the shell to expand).
EXPANDED_SECRET = re.compile(r"(?<!\$)\$\{?(" + "|".join(SECRETS) + r")\b")


def test_no_deployment_file_puts_a_secret_on_a_command_line() -> None:
    """`ps` shows every process's arguments to every user: secrets come from the environment or a file."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    commands = [(name, " ".join(map(str, service.get("command", [])))) for name, service in services.items()]
    for path in (ROOT / "deploy/systemd").glob("*.service"):
        text = path.read_text(encoding="utf-8").replace("\\\n", " ")  # continued lines
        commands += [(path.name, line) for line in text.splitlines() if line.startswith("Exec")]
    assert len(commands) > 20
    for name, command in commands:
        assert "--auth-token" not in command and "--requirepass" not in command, name
        assert not EXPANDED_SECRET.search(command), f"{name}: {command}"
