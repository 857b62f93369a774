"""channels/run_rasa.py, how every Rasa server starts: the API token comes from RASA_API_TOKEN, never from a command
line (a running server's arguments: tests/e2e/test_supervisor.py, tests/production/test_topology.py)."""

from __future__ import annotations

import os
import subprocess

from scripts.stack import RASA_PYTHON, ROOT


def run_rasa(*arguments: str, token: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_API_TOKEN": token}
    return subprocess.run([str(RASA_PYTHON), "-m", "channels.run_rasa", *arguments], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_a_token_on_the_command_line_is_refused() -> None:
    result = run_rasa("run", "--enable-api", "--auth-token", "visible-in-ps", token="secret")
    assert result.returncode == 2 and "RASA_API_TOKEN" in result.stderr


def test_the_api_is_not_started_without_a_token() -> None:
    result = run_rasa("run", "--enable-api", token="")
    assert result.returncode == 2 and "RASA_API_TOKEN is empty" in result.stderr


def test_a_token_starting_with_a_dash_reaches_rasa_whole() -> None:
    """Generated tokens (secrets.token_urlsafe) start with "-" one time in 64: Rasa's own parser must still read it
    as the token, not as an unknown option (a production replica once exited with "expected one argument")."""
    check = (
        "import sys; from rasa.__main__ import create_argument_parser; from channels.run_rasa import rasa_arguments; "
        "args = create_argument_parser().parse_args(rasa_arguments(['run', '--enable-api'], '-45pu_token')); "
        "sys.exit(0 if args.auth_token == '-45pu_token' else 1)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([str(RASA_PYTHON), "-c", check], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
