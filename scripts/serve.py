"""Run the whole bot: action server + Rasa server, then a front end.

    serve.py --front auto   Telegram bridge when TELEGRAM_BOT_TOKEN is set, else a terminal chat (make run)
    serve.py --front none   only the servers, until Ctrl-C (make serve)

With MOCUA_PROFILE=production, the servers are the production profile's replicas behind HAProxy
(scripts/production.py, docs/deploy.md), the bridge replicas among them.
A child that crashes is started again, after 1 s, then 2 s, 4 s… up to a minute if it keeps crashing.
Ctrl-C (or SIGTERM) stops every process it started; a second one during the shutdown changes nothing.
Files: var/ (MOCUA_VAR_DIR), readable by this user only; logs in var/log/.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from scripts.chat import chat
from scripts.mask_stored import mask_at_start
from scripts.production import ProductionStack, production_selected
from scripts.stack import (
    APP_PYTHON,
    PRIVATE_UMASK,
    ROOT,
    Stack,
    StackError,
    client_host,
    port_is_free,
    var_dir_from_env,
)
from settings.environment import load_dotenv
from settings.retry import Backoff

FIRST_BACKOFF, MAX_BACKOFF = 1.0, 60.0
RESTARTS = Backoff(first=FIRST_BACKOFF, most=MAX_BACKOFF)
STABLE_AFTER = 120.0  # a child up this long is healthy again: its next crash waits FIRST_BACKOFF


@dataclass
class Supervisor:
    """Restarts crashed children of the stack with exponential backoff instead of giving up on everything."""

    stack: Stack
    spawners: dict[str, Callable[[], None]]
    clock: Callable[[], float] = time.monotonic
    failures: dict[str, int] = field(default_factory=dict)  # crashes in a row, by child
    started: dict[str, float] = field(default_factory=dict)
    retry_at: dict[str, float] = field(default_factory=dict)

    def check(self) -> None:
        """One look at every child: schedule a restart for those that stopped, and start those that are due."""
        now = self.clock()
        for name, spawn in self.spawners.items():
            process = self.stack.processes.get(name)
            if process is not None and process.poll() is None:
                if now - self.started.setdefault(name, now) >= STABLE_AFTER:
                    self.failures.pop(name, None)
                continue
            if name not in self.retry_at:
                self.retry_at[name] = now + self._next_backoff(name, process)
            elif now >= self.retry_at[name]:
                del self.retry_at[name]
                spawn()
                self.started[name] = now
                say(f"Restarted the {name} process; its log: {self.stack.log_dir / (name + '.log')}")

    def _next_backoff(self, name: str, process: object) -> float:
        failures = self.failures[name] = self.failures.get(name, 0) + 1
        delay = RESTARTS.delay(failures)
        code = getattr(process, "returncode", None)
        say(f"The {name} process stopped (exit {code}); restarting it in {delay:.0f} s.")
        return delay


def say(text: str) -> None:
    print(text, flush=True)


def supervise_in_background(supervisor: Supervisor) -> Callable[[], None]:
    """For the terminal chat, which holds the main thread: supervise from a thread; returns its stop function."""
    stopped = threading.Event()

    def loop() -> None:
        while not stopped.wait(1.0):
            supervisor.check()

    thread = threading.Thread(target=loop, name="supervisor", daemon=True)
    thread.start()

    def stop() -> None:
        stopped.set()
        thread.join(30)

    return stop


def stop_like_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM (systemd, a test harness) and Ctrl-C unwind to the shutdown, which then ignores both: a second
    signal must not interrupt it half-way and leave servers running."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt


def stack_from_env() -> Stack:
    if production_selected():
        return ProductionStack.from_env()
    return Stack(
        rasa_port=int(os.environ.get("RASA_PORT", 5005)),
        action_port=int(os.environ.get("ACTION_PORT", 5055)),
        rasa_interface=os.environ.get("RASA_INTERFACE") or "127.0.0.1",
        action_interface=os.environ.get("ACTION_INTERFACE") or "127.0.0.1",
        var_dir=var_dir_from_env(),
    )


def spawners(stack: Stack, front: str) -> dict[str, Callable[[], None]]:
    if isinstance(stack, ProductionStack):  # its bridge replicas are part of the stack, in webhook mode
        return stack.spawners()
    found: dict[str, Callable[[], None]] = {name: functools.partial(stack.spawn, name) for name in ("actions", "rasa")}
    if front == "telegram":
        env = stack.environment() | {"RASA_URL": stack.rasa_url}
        found["bot"] = lambda: stack.spawn_command("bot", [str(APP_PYTHON), "-m", "bot"], env)
    return found


def start_console(stack: Stack, supervisor: Supervisor) -> None:
    """The staff console (python -m console) beside the servers, on the journal, tracker and index they use."""
    port, interface = int(os.environ.get("CONSOLE_PORT") or 5080), os.environ.get("CONSOLE_INTERFACE") or "127.0.0.1"
    if not port_is_free(port, interface):
        say(f"Staff console not started: port {port} is in use (choose another with CONSOLE_PORT=...).")
        return
    env = stack.environment() | {"RASA_URL": stack.rasa_url, "MOCUA_VAR_DIR": str(stack.var_dir),
                                 "CONSOLE_PORT": str(port), "CONSOLE_INTERFACE": interface}  # fmt: skip
    supervisor.spawners["console"] = lambda: stack.spawn_command("console", [str(APP_PYTHON), "-m", "console"], env)
    supervisor.spawners["console"]()
    say(f"Staff console: http://{client_host(interface)}:{port}/ (accounts: make staff-add USER=... ROLE=editor)")


def serve(stack: Stack, front: str) -> None:
    if isinstance(stack, ProductionStack):
        names = ", ".join(stack.replica_names())
        say(f"Production profile: starting HAProxy and {names}…")
    else:
        say(f"Starting the action server (:{stack.action_port}) and Rasa (:{stack.rasa_port})…")
    say(mask_at_start(stack.environment()))  # rows stored before the masking knew every spelling of a number
    stack.start()
    supervisor = Supervisor(stack, spawners(stack, front))
    start_console(stack, supervisor)
    say(f"Ready. REST channel: {stack.rasa_url}/webhooks/rest/webhook — logs in {stack.log_dir}")
    if isinstance(stack, ProductionStack):
        front = "none"  # the bridge replicas are already running behind the balancer
    if front == "telegram":
        supervisor.spawners["bot"]()
        say("Telegram bridge started (long polling unless TELEGRAM_WEBHOOK_URL is set).")
    if front == "chat":
        stop_supervising = supervise_in_background(supervisor)
        try:
            chat(stack.rasa_url)
        finally:
            stop_supervising()
        return
    while True:
        supervisor.check()
        time.sleep(1)


def main() -> int:
    os.umask(PRIVATE_UMASK)  # and so every child's: conversations, journal, accounts and logs are ours only
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--front", choices=["auto", "chat", "telegram", "none"], default="auto")
    args = parser.parse_args()
    # A git-ignored .env fills in what the environment does not set (ports, token, tracker URL…).
    for key, value in load_dotenv(ROOT / ".env").items():
        os.environ.setdefault(key, value)
    front = args.front
    if front == "auto":
        front = "telegram" if os.environ.get("TELEGRAM_BOT_TOKEN") else "chat"
    stack = stack_from_env()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop_like_ctrl_c)
    code = 0
    try:
        serve(stack, front)
    except StackError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        pass
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # also after an error or the end of the chat
            signal.signal(sig, signal.SIG_IGN)
        say("Stopping…")
        stack.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
