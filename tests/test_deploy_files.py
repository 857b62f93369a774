"""The deployment files an operator copies stay what the tested code would write."""

from __future__ import annotations

import os
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
    assert "endpoints.production.yml" in rasa_command and "--auth-token" in rasa_command
