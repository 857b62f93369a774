"""Start, watch and stop the servers the bot needs: the action server and the Rasa server.

Used by `make run` / `make serve` (scripts/serve.py) and by the tests' `stack` fixture, so both
start the system the same way: both servers listen on 127.0.0.1 unless RASA_INTERFACE / ACTION_INTERFACE say
otherwise, Rasa's HTTP API needs RASA_API_TOKEN, and the action server answers only Rasa, which sends
ACTION_SERVER_SECRET. Secrets not set in the environment are generated once into var/secrets.env.
No secret is ever on a command line (`ps` shows those to every user): children get them in their environment, and
Rasa, which reads its token only from its arguments, starts through channels/run_rasa.py. Everything under var/
(conversations, journal, accounts, logs) is readable by its owner only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import settings

# The secrets and .env helpers live in the runtime's settings; the launchers and the tests import them from here too.
from settings.environment import SECRET_NAMES as SECRET_NAMES
from settings.environment import environ, load_secrets
from settings.environment import load_dotenv as load_dotenv
from settings.environment import write_private as write_private

ROOT = Path(__file__).resolve().parent.parent
APP_PYTHON = ROOT / ".venv/app/bin/python"
RASA_BIN = ROOT / ".venv/rasa/bin/rasa"
RASA_PYTHON = ROOT / ".venv/rasa/bin/python"
MODEL = ROOT / "models/mocua.tar.gz"
PRIVATE_UMASK = 0o077  # what children create (databases, logs, index) is readable by its owner only


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


def make_private(var_dir: Path) -> None:
    """Files under `var_dir` 0600 and directories 0700, as older versions did not make them (0644, 0755).
    The embedding model (var/models) is no personal data and stays readable, as scripts/convert_e5.py made it, for
    a bot run by another user: the directories on its way are 0711, which lets others through but not list them."""
    from knowledge.index.encoder import model_dir_from_env  # numpy: only when a stack starts

    kept = model_dir_from_env().resolve()
    var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for folder, directories, files in os.walk(var_dir):
        here = Path(folder)
        directories[:] = [name for name in directories if (here / name).resolve() != kept]
        owner_only(here, others_may_pass=kept.is_relative_to(here.resolve()))
        for name in files:
            owner_only(here / name)


def owner_only(path: Path, others_may_pass: bool = False) -> None:
    """Take group and others' permissions away from `path` (but for "x" on a directory if they may pass), unless it
    is a symbolic link (its target may be outside var/) or someone else's."""
    with contextlib.suppress(OSError):
        info = path.lstat()
        mode = stat.S_IMODE(info.st_mode)
        kept = mode & (0o711 if others_may_pass else 0o700)
        if not stat.S_ISLNK(info.st_mode) and kept != mode:
            path.chmod(kept)


def var_dir_from_env() -> Path:
    """MOCUA_VAR_DIR, where every process looks (settings/__init__.py), else var/; read now (.env may have been
    loaded into the environment since the process started)."""
    return settings.Settings.from_environ(environ()).var_dir


def client_host(interface: str) -> str:
    """Where a local client reaches a server listening on `interface` (all interfaces: through loopback)."""
    return "127.0.0.1" if interface in ("0.0.0.0", "::", "") else interface


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
    rasa_interface: str = "127.0.0.1"
    action_interface: str = "127.0.0.1"

    @property
    def rasa_url(self) -> str:
        return f"http://{client_host(self.rasa_interface)}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{client_host(self.action_interface)}:{self.action_port}"

    @property
    def secrets(self) -> dict[str, str]:
        return load_secrets(self.var_dir / "secrets.env")

    def api(self, path: str) -> str:
        """The URL of a Rasa HTTP API path (`/conversations/u1/tracker`), with the API token."""
        token = urllib.parse.quote(self.secrets["RASA_API_TOKEN"])
        return f"{self.rasa_url}{path}{'&' if '?' in path else '?'}token={token}"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("ACTION_ENDPOINT_URL", f"{self.action_url}/webhook")
        env.setdefault("ACTION_ADMIN_URL", self.action_url)  # the Telegram bridge's /stats and /reload
        env.setdefault("TRACKER_DB_URL", f"sqlite:///{self.var_dir / 'tracker.db'}")
        env.setdefault("MOCUA_JOURNAL_DB", str(self.var_dir / "journal.db"))
        # The bridge's store, where a callback number's request is found open or closed (journal/callbacks.py)
        env.setdefault("MOCUA_BOT_DB", str(self.var_dir / "bot.db"))
        env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("PYTHONPATH", str(ROOT))
        env.update(self.secrets)
        env.update(self.extra_env)
        return env

    def check_built(self) -> None:
        """The environments and the trained model every start needs."""
        for name, path in (("action server", APP_PYTHON), ("Rasa", RASA_BIN)):
            if not path.exists():
                raise StackError(f"The {name} environment is missing ({path}). Run `make setup` first.")
        if not self.model.exists():
            raise StackError(f"No trained Rasa model at {self.model}. Run `make train` first.")

    def check_ready_to_start(self) -> None:
        self.check_built()
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
        self.prepare_var_dir()
        try:
            self._spawn_actions()
            if with_rasa:
                self._spawn_rasa()
            self.wait_until_ready(timeout)
        except BaseException:  # also Ctrl-C: a half-started stack must not leave a server running
            self.stop()
            raise

    def prepare_var_dir(self) -> None:
        """var/ and its log directory exist, and what older versions left readable by all is the owner's only."""
        make_private(self.var_dir)
        self.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _spawn_actions(self) -> None:
        command = [
            str(APP_PYTHON), "-m", "actions.server", "--port", str(self.action_port),
            "--interface", self.action_interface,
        ]  # fmt: skip
        self.spawn_command("actions", command)

    def _spawn_rasa(self) -> None:
        self.spawn_command("rasa", rasa_command(self.model, "endpoints.yml", self.rasa_port, self.rasa_interface))

    def spawn_command(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        """Run `command` as child `name` in a session of its own, its output appended to var/log/<name>.log.
        If the log cannot be written (disk full, directory gone or read-only), the child still starts and writes
        to our own output instead: a server that is down costs citizens more than a lost log."""
        path = self.log_dir / f"{name}.log"
        try:
            # closed below; the child keeps its own copy
            log: IO[bytes] | None = open(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")  # noqa: SIM115
        except OSError as error:
            print(f"WARNING: cannot write {path} ({error}); {name} logs to this terminal instead.", flush=True)
            log = None
        try:
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=env or self.environment(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, umask=PRIVATE_UMASK,
            )  # fmt: skip
        finally:
            if log is not None:
                log.close()

    def health_checks(self) -> dict[str, str]:
        """Each child's URL that answers 200 once it is ready."""
        return {"actions": f"{self.action_url}/health", "rasa": self.api("/status")}

    def wait_until_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        pending = {name: url for name, url in self.health_checks().items() if name in self.processes}
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
        """Stop a server and everything in its process group (also what it left behind if it already died)."""
        process = self.processes.pop(name, None)
        if process is None:
            return
        if process.poll() is None:
            signal_group(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(grace)
        signal_group(process.pid, signal.SIGKILL)
        process.wait()

    def spawn(self, name: str) -> None:
        """Start server `name` ("actions" or "rasa") again without waiting; what it left behind is stopped first."""
        self.stop_process(name)
        {"actions": self._spawn_actions, "rasa": self._spawn_rasa}[name]()

    def restart(self, name: str, timeout: float = 180.0) -> None:
        """Start a server again (after it crashed or was stopped) and wait until it answers."""
        self.spawn(name)
        self.wait_until_ready(timeout)

    def stop_rasa(self) -> None:
        self.stop_process("rasa")

    def start_rasa(self, timeout: float = 180.0) -> None:
        """Start (again) the Rasa server alone and wait until it answers, e.g. after stop_rasa()."""
        self.restart("rasa", timeout)

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rasa_command(model: Path, endpoints: str, port: int, interface: str = "127.0.0.1") -> list[str]:
    """`rasa run` with its HTTP API, through channels/run_rasa.py: the API token comes from RASA_API_TOKEN in the
    child's environment, never from its command line."""
    return [
        str(RASA_PYTHON), "-m", "channels.run_rasa", "run", "--enable-api", "--model", str(model),
        "--endpoints", endpoints, "--credentials", "credentials.yml", "--port", str(port), "--interface", interface,
    ]  # fmt: skip


def signal_group(pid: int, signum: int) -> None:
    """Signal the process group led by `pid` (each server runs in its own session); gone already is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
