"""Run the whole bot: action server + Rasa server, then a front end.

    serve.py --front auto   Telegram bridge when TELEGRAM_BOT_TOKEN is set, else a terminal chat (make run)
    serve.py --front none   only the servers, until Ctrl-C (make serve)

Ctrl-C (or SIGTERM) stops every process it started. Logs: var/log/.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from bot.config import load_dotenv
from scripts.chat import chat
from scripts.stack import APP_PYTHON, ROOT, Stack, StackError


def start_bridge(stack: Stack) -> subprocess.Popen:
    env = stack.environment() | {"RASA_URL": stack.rasa_url}
    log = open(stack.log_dir / "bot.log", "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [str(APP_PYTHON), "-m", "bot"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_forever(stack: Stack, bridge: subprocess.Popen | None) -> None:
    while True:
        for name, process in [*stack.processes.items(), *([("bot", bridge)] if bridge else [])]:
            if process.poll() is not None:
                log = stack.log_dir / f"{name}.log"
                raise StackError(f"The {name} process stopped (exit {process.returncode}); see {log}")
        time.sleep(1)


def stop_like_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM (from systemd or a test harness) unwinds like Ctrl-C, so every child is stopped."""
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--front", choices=["auto", "chat", "telegram", "none"], default="auto")
    args = parser.parse_args()
    # A git-ignored .env fills in what the environment does not set (ports, token, tracker URL…).
    for key, value in load_dotenv(ROOT / ".env").items():
        os.environ.setdefault(key, value)
    front = args.front
    if front == "auto":
        front = "telegram" if os.environ.get("TELEGRAM_BOT_TOKEN") else "chat"

    stack = Stack(
        rasa_port=int(os.environ.get("RASA_PORT", 5005)), action_port=int(os.environ.get("ACTION_PORT", 5055))
    )
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
    bridge = None
    try:
        print(f"Starting the action server (:{stack.action_port}) and Rasa (:{stack.rasa_port})…", flush=True)
        stack.start()
        print(f"Ready. REST channel: {stack.rasa_url}/webhooks/rest/webhook — logs in {stack.log_dir}", flush=True)
        if front == "chat":
            chat(stack.rasa_url)
        else:
            if front == "telegram":
                bridge = start_bridge(stack)
                print("Telegram bridge started (long polling unless TELEGRAM_WEBHOOK_URL is set).", flush=True)
            wait_forever(stack, bridge)
    except StackError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping…", flush=True)
        if bridge is not None and bridge.poll() is None:
            os.killpg(bridge.pid, signal.SIGTERM)
            bridge.wait(10)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
