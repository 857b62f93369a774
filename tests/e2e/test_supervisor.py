"""`make serve` / `make run` (scripts/serve.py): a crashed child is restarted with backoff instead of the supervisor
stopping everything; a second SIGTERM during the shutdown still stops every child; the API needs the token, which,
like every secret, is in no process's arguments; what the stack keeps is readable by its owner only."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.config import load_dotenv
from scripts.chat import send as rest_send
from scripts.serve import FIRST_BACKOFF, MAX_BACKOFF, STABLE_AFTER, Supervisor
from scripts.stack import APP_PYTHON, ROOT, SECRET_NAMES, Stack, free_port, http_ok
from tests.exposure import mode, readable_by_others, secrets_in_arguments


@dataclass
class FakeProcess:
    returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


@dataclass
class FakeStack:
    processes: dict[str, FakeProcess] = field(default_factory=dict)
    log_dir: Path = Path("var/log")


def supervised(names: tuple[str, ...] = ("actions",)) -> tuple[Supervisor, FakeStack, list[str], list[float]]:
    stack, started, now = FakeStack(), [], [0.0]

    def spawner(name: str):  # noqa: ANN202
        def spawn() -> None:
            started.append(name)
            stack.processes[name] = FakeProcess()

        return spawn

    for name in names:
        stack.processes[name] = FakeProcess()
    supervisor = Supervisor(stack, {n: spawner(n) for n in names}, clock=lambda: now[0])  # type: ignore[arg-type]
    return supervisor, stack, started, now


def crash_and_wait_for_restart(supervisor: Supervisor, stack: FakeStack, started: list[str], now: list[float]) -> float:
    """Crash the action server, then advance the clock second by second until it is restarted; the delay."""
    stack.processes["actions"].returncode = -9
    crashed, before = now[0], len(started)
    supervisor.check()
    for _ in range(int(4 * MAX_BACKOFF)):  # half-second steps, up to twice the longest backoff
        if len(started) > before:
            return now[0] - crashed
        now[0] += 0.5
        supervisor.check()
    raise AssertionError(f"not restarted within {2 * MAX_BACKOFF} s")


def test_a_crashed_child_is_restarted_with_growing_backoff_that_resets_once_stable() -> None:
    supervisor, stack, started, now = supervised()
    supervisor.check()
    delays = [crash_and_wait_for_restart(supervisor, stack, started, now) for _ in range(8)]
    assert started == ["actions"] * 8, "restarted every time, never given up"
    assert delays[0] == pytest.approx(FIRST_BACKOFF, abs=0.5)
    assert delays == sorted(delays) and delays[-1] == pytest.approx(MAX_BACKOFF, abs=0.5), delays
    now[0] += STABLE_AFTER
    supervisor.check()
    assert crash_and_wait_for_restart(supervisor, stack, started, now) == pytest.approx(FIRST_BACKOFF, abs=0.5)


def test_the_other_children_keep_running_while_one_is_restarted() -> None:
    supervisor, stack, started, now = supervised(("actions", "rasa", "bot"))
    supervisor.check()
    rasa = stack.processes["rasa"]
    crash_and_wait_for_restart(supervisor, stack, started, now)
    assert started == ["actions"] and stack.processes["rasa"] is rasa


# ---------------------------------------------------------------- the real `make serve`


@dataclass
class Serve:
    process: subprocess.Popen
    rasa_port: int
    action_port: int
    var_dir: Path
    output: list[str] = field(default_factory=list)

    def wait_for_output(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.output):
            assert self.process.poll() is None or time.monotonic() < deadline, "".join(self.output)
            assert time.monotonic() < deadline, f"no {text!r} in:\n" + "".join(self.output)
            time.sleep(0.2)

    def children(self) -> dict[str, int]:
        """pid of each server by name, from the process table."""
        out = subprocess.run(["pgrep", "-P", str(self.process.pid), "-a"], capture_output=True, text=True).stdout
        found = {}
        for line in out.splitlines():
            pid, command = line.split(" ", 1)
            found["actions" if "actions.server" in command else "rasa" if "run_rasa" in command else command] = int(pid)
        return found


OLD_LOG = "log/rasa.log"  # as an older version left it: readable by all


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    var_dir = tmp_path_factory.mktemp("serve")
    (var_dir / OLD_LOG).parent.mkdir(mode=0o755)
    (var_dir / OLD_LOG).write_text("a log of an older version\n", encoding="utf-8")
    (var_dir / OLD_LOG).chmod(0o644)
    rasa_port, action_port, console_port = free_port(), free_port(), free_port()
    # Our own settings only: a session fixture of another suite may have pointed MOCUA_JOURNAL_DB at its stack.
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("MOCUA_")}
    env = inherited | {
        "RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port), "TELEGRAM_BOT_TOKEN": "",
        "CONSOLE_PORT": str(console_port), "MOCUA_VAR_DIR": str(var_dir),  # its tracker, journal, accounts, logs
    }  # fmt: skip
    process = subprocess.Popen(
        [str(APP_PYTHON), "-m", "scripts.serve", "--front", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    running = Serve(process, rasa_port, action_port, var_dir)
    lines = iter(process.stdout.readline, "")  # type: ignore[union-attr]
    threading.Thread(target=lambda: running.output.extend(lines), daemon=True).start()
    started = []
    try:
        running.wait_for_output("Ready.", timeout=240)
        started = list(running.children().values())
        deadline = time.monotonic() + 120
        while not http_ok(f"http://127.0.0.1:{console_port}/"):  # the console starts after "Ready."
            assert time.monotonic() < deadline, (var_dir / "log/console.log").read_text()
            time.sleep(0.5)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        for pid in started + list(running.children().values()):  # whatever the test left behind
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def test_serve_needs_the_token_for_the_api(serve: Serve) -> None:
    url = f"http://127.0.0.1:{serve.rasa_port}/status"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 401
    token = Stack(var_dir=serve.var_dir).secrets["RASA_API_TOKEN"]
    assert http_ok(f"{url}?token={token}")


def test_no_secret_is_in_any_process_arguments(serve: Serve) -> None:
    """`ps` shows every process's arguments to every user of the machine: Rasa gets its token another way."""
    secrets = load_dotenv(serve.var_dir / "secrets.env")
    assert set(SECRET_NAMES) | {"CONSOLE_SECRET_KEY"} <= set(secrets)
    assert http_ok(f"http://127.0.0.1:{serve.rasa_port}/status?token={secrets['RASA_API_TOKEN']}"), "Rasa has it"
    assert len(serve.children()) == 3, "action server, Rasa server, staff console"
    assert secrets_in_arguments(secrets, [serve.process.pid]) == []


def test_conversations_journal_accounts_and_logs_are_readable_by_their_owner_only(serve: Serve) -> None:
    replies = rest_send(f"http://127.0.0.1:{serve.rasa_port}", "owner-only", "làm căn cước cần gì", timeout=60)
    assert replies, "answered"
    kept = {path.name for path in serve.var_dir.rglob("*")}
    assert {"secrets.env", "tracker.db", "journal.db", "console.db", "log", "rasa.log", "actions.log"} <= kept
    assert readable_by_others(serve.var_dir) == []
    assert mode(serve.var_dir / OLD_LOG) == 0o600, "an older version's file is tightened at start"


def test_a_killed_action_server_is_restarted(serve: Serve) -> None:
    before = serve.children()
    os.killpg(before["actions"], signal.SIGKILL)
    serve.wait_for_output("Restarted the actions process", timeout=30)
    deadline = time.monotonic() + 120
    while not http_ok(f"http://127.0.0.1:{serve.action_port}/health"):
        assert time.monotonic() < deadline, "".join(serve.output)
        time.sleep(0.5)
    after = serve.children()
    assert after["actions"] != before["actions"] and after["rasa"] == before["rasa"]
    assert serve.process.poll() is None, "the supervisor kept running"


def test_a_second_sigterm_during_shutdown_still_stops_every_child(serve: Serve) -> None:
    children = list(serve.children().values())
    assert len(children) == 3  # action server, Rasa server, staff console
    serve.process.send_signal(signal.SIGTERM)
    serve.wait_for_output("Stopping…", timeout=10)
    serve.process.send_signal(signal.SIGTERM)  # while the first one is stopping the servers
    assert serve.process.wait(60) == 0, "".join(serve.output)
    deadline = time.monotonic() + 5
    while [pid for pid in children if Path(f"/proc/{pid}").exists()] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "every server stopped"
    assert not http_ok(f"http://127.0.0.1:{serve.action_port}/health")
