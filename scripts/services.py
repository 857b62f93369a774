"""Throw-away PostgreSQL and Redis servers, from Debian's packages (HAProxy: scripts/production.py).

The production profile's tests, fault suite and benchmark start these; a real deployment runs its own servers
and gives their URLs (docs/deploy.md). Each server lives in a private directory under /tmp (short paths: it
also holds PostgreSQL's socket) and is gone after stop(). Passwords are in owner-only files or the environment,
never on a command line (`ps` shows those to every user). A server listens on `host` (127.0.0.1 unless told) and
its commands run through `launcher`, a command prefix that runs them on another host (the multi-host test's
`ip netns exec <namespace>`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from scripts.stack import PRIVATE_UMASK, write_private

RUNNING_AS_ROOT = os.geteuid() == 0


class ServiceError(RuntimeError):
    """A server did not start; the message says which and where its log is."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def wait_for_port(port: int, what: str, log: Path, timeout: float = 30.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port, host):
        if time.monotonic() > deadline:
            raise ServiceError(f"{what} did not open port {port} within {timeout:.0f}s; see {log}")
        time.sleep(0.1)


def private_dir(name: str) -> Path:
    base = Path("/tmp") / f"mocua-{name}-{uuid.uuid4().hex[:8]}"
    base.mkdir(mode=0o700)
    return base


def pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        raise ServiceError("PostgreSQL server not installed: run scripts/install-test-services.sh (as root)")
    return found[-1]


def as_postgres(
    *command: str, timeout: float = 120, launcher: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root; Debian's package provides the `postgres` user.
    prefix = ["runuser", "-u", "postgres", "--"] if RUNNING_AS_ROOT else []
    return subprocess.run([*launcher, *prefix, *command], capture_output=True, text=True, timeout=timeout, check=True)


@dataclass
class Postgres:
    """A PostgreSQL cluster of its own: `url(db)` for SQLAlchemy (psycopg 3) or Rasa (psycopg2)."""

    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    base: Path | None = None
    host: str = "127.0.0.1"
    launcher: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)  # more `-c name=value` for the server

    @property
    def data(self) -> Path:
        assert self.base is not None, "start() first"
        return self.base / "data"

    @property
    def log(self) -> Path:
        assert self.base is not None, "start() first"
        return self.base / "server.log"

    def url(self, database: str = "mocua", driver: str = "postgresql") -> str:
        return f"{driver}://mocua:{self.password}@{self.host}:{self.port}/{database}"

    def start(self, databases: tuple[str, ...] = ("mocua",)) -> Postgres:
        self.base = private_dir("pg")
        if RUNNING_AS_ROOT:
            shutil.chown(self.base, "postgres")
        pwfile = self.base / "pw"
        write_private(pwfile, self.password)
        if RUNNING_AS_ROOT:
            shutil.chown(pwfile, "postgres")
        as_postgres(
            pg_bin("initdb"), "-D", str(self.data), "-A", "scram-sha-256", "-U", "mocua", "--pwfile", str(pwfile),
            "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8",
        )  # fmt: skip
        pwfile.unlink()
        if self.host != "127.0.0.1":  # clients on the networks its address is on (other hosts), with a password
            with (self.data / "pg_hba.conf").open("a", encoding="utf-8") as rules:
                rules.write("host all all samenet scram-sha-256\n")
        self._ctl("start")
        env = {**os.environ, "PGPASSWORD": self.password}
        for database in databases:
            subprocess.run(
                [pg_bin("createdb"), "-h", self.host, "-p", str(self.port), "-U", "mocua", database],
                env=env, capture_output=True, text=True, timeout=60, check=True,
            )  # fmt: skip
        return self

    def _ctl(self, action: str, *extra: str) -> None:
        settings = {"listen_addresses": self.host, "max_connections": "200", "fsync": "off", **self.settings}
        options = f"-p {self.port} -k {self.base} " + " ".join(f"-c {key}={value}" for key, value in settings.items())
        as_postgres(pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.log), "-o", options, *extra, action,
                    launcher=self.launcher)  # fmt: skip

    def restart(self) -> None:
        """A fast restart, as an operator's upgrade would do: every open connection is cut."""
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if self.base is None:
            return
        with contextlib.suppress(subprocess.SubprocessError):
            as_postgres(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", launcher=self.launcher)
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None


@dataclass
class ChildServer:
    """A server run in the foreground as our child, in its own session, its output in a log file."""

    name: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    base: Path | None = None
    host: str = "127.0.0.1"
    launcher: tuple[str, ...] = ()

    def command(self) -> list[str]:
        raise NotImplementedError

    @property
    def log(self) -> Path:
        assert self.base is not None
        return self.base / f"{self.name}.log"

    def prepare(self) -> None:
        """Write what the server reads before it starts (a config file)."""

    def start(self, timeout: float = 30.0) -> ChildServer:
        if self.base is None:
            self.base = private_dir(self.name)
            self.prepare()
        with open(os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as log:
            self.process = subprocess.Popen(
                [*self.launcher, *self.command()], cwd=self.base, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, umask=PRIVATE_UMASK,
            )  # fmt: skip
        wait_for_port(self.port, self.name, self.log, timeout, self.host)
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None


@dataclass
class Redis(ChildServer):
    """Redis with a password and no persistence: Rasa's lock store only needs short-lived locks."""

    name: str = "redis"
    password: str = field(default_factory=lambda: secrets.token_hex(12))

    @property
    def config(self) -> Path:
        assert self.base is not None
        return self.base / "redis.conf"

    def prepare(self) -> None:
        settings = {"port": self.port, "bind": self.host, "requirepass": self.password, "save": '""',
                    "appendonly": "no", "daemonize": "no"}  # fmt: skip
        write_private(self.config, "".join(f"{key} {value}\n" for key, value in settings.items()))

    def command(self) -> list[str]:
        return [shutil.which("redis-server") or "/usr/bin/redis-server", str(self.config)]

    def url(self, db: int = 1) -> str:
        return f"redis://:{self.password}@{self.host}:{self.port}/{db}"
