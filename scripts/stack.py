"""Start, watch and stop the servers the bot needs: the action server and the Rasa server.

Used by `make run` / `make serve` (scripts/serve.py) and by the tests' `stack` fixture, so both
start the system the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_PYTHON = ROOT / ".venv/app/bin/python"
RASA_BIN = ROOT / ".venv/rasa/bin/rasa"
MODEL = ROOT / "models/mocua.tar.gz"


class StackError(RuntimeError):
    """A problem a person can fix; the message says how."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Stack:
    """The action server and the Rasa server as child processes, each in its own process group."""

    rasa_port: int = 5005
    action_port: int = 5055
    var_dir: Path = ROOT / "var"
    model: Path = MODEL
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("ACTION_ENDPOINT_URL", f"{self.action_url}/webhook")
        env.setdefault("TRACKER_DB_URL", f"sqlite:///{self.var_dir / 'tracker.db'}")
        env.setdefault("MOCUA_JOURNAL_DB", str(self.var_dir / "journal.db"))
        env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("PYTHONPATH", str(ROOT))
        env.update(self.extra_env)
        return env

    def check_ready_to_start(self) -> None:
        for name, path in (("action server", APP_PYTHON), ("Rasa", RASA_BIN)):
            if not path.exists():
                raise StackError(f"The {name} environment is missing ({path}). Run `make setup` first.")
        if not self.model.exists():
            raise StackError(f"No trained Rasa model at {self.model}. Run `make train` first.")
        for name, port in (("action server", self.action_port), ("Rasa server", self.rasa_port)):
            if not port_is_free(port):
                raise StackError(
                    f"Port {port} for the {name} is already in use. Stop whatever uses it "
                    f"(`ss -ltnp | grep {port}`) or choose another port with "
                    f"{'ACTION_PORT' if name == 'action server' else 'RASA_PORT'}=..."
                )

    def start(self, timeout: float = 180.0, with_rasa: bool = True) -> None:
        """Start the action server and (unless with_rasa is False) the Rasa server; wait until both answer."""
        self.check_ready_to_start()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._spawn_actions()
        if with_rasa:
            self._spawn_rasa()
        self.wait_until_ready(timeout)

    def _spawn_actions(self) -> None:
        command = [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.action_port)]
        self._spawn("actions", command)

    def _spawn_rasa(self) -> None:
        command = [
            str(RASA_BIN), "run", "--enable-api", "--model", str(self.model),
            "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
            "--port", str(self.rasa_port), "--interface", "127.0.0.1",
        ]  # fmt: skip
        self._spawn("rasa", command)

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_until_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        checks = {"actions": f"{self.action_url}/health", "rasa": f"{self.rasa_url}/status"}
        pending = {name: url for name, url in checks.items() if name in self.processes}
        while pending:
            for name, url in list(pending.items()):
                process = self.processes[name]
                if process.poll() is not None:
                    raise StackError(
                        f"The {name} server exited with code {process.returncode} while starting. "
                        f"See {self.log_dir / (name + '.log')}."
                    )
                if http_ok(url):
                    del pending[name]
            if pending and time.monotonic() > deadline:
                waiting = ", ".join(pending)
                raise StackError(f"Timed out after {timeout:.0f}s waiting for {waiting}; see {self.log_dir}.")
            time.sleep(0.5)

    def stop_process(self, name: str, grace: float = 10.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_rasa(self) -> None:
        self.stop_process("rasa")

    def start_rasa(self, timeout: float = 180.0) -> None:
        """Start (again) the Rasa server alone and wait until it answers, e.g. after stop_rasa()."""
        self._spawn_rasa()
        self.wait_until_ready(timeout)

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
