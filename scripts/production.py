"""The production profile: replicas of Rasa, the action server and the Telegram bridge behind HAProxy.

Selected by MOCUA_PROFILE=production (`make serve` / `make run`); docs/deploy.md describes the topology:

    Telegram ──HTTPS──▶ HAProxy :8443 ──▶ bridge-1, bridge-2      (webhook mode; state in PostgreSQL)
                        HAProxy :5005 ──▶ rasa-1, rasa-2          (internal only; API token; Redis lock store)
                        HAProxy :5055 ──▶ actions-1, actions-2    (internal only; shared secret)
    PostgreSQL: Rasa's tracker store, the journal, the bridge's state.   Redis: Rasa's lock store.

Every replica talks to the others only through the balancer, so a replica killed or restarted costs nothing
but the requests HAProxy retries on a live one. The action replicas share one index directory
(MOCUA_INDEX_DIR): a build published there by any of them (POST /admin/reload) is served by all within seconds.

Every address is a setting: the balancer's internal frontends listen on BALANCER_INTERFACE (127.0.0.1 by default),
which is also where the replicas reach them, and each replica listens on its host's address (`Host`), where HAProxy
reaches it; PostgreSQL and Redis are wherever their URLs say. One host by default; tests/production/test_hosts.py
places the replicas on hosts of their own (network namespaces).
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from scripts.stack import (
    APP_PYTHON,
    ROOT,
    Stack,
    StackError,
    client_host,
    free_port,
    http_ok,
    load_secrets,
    rasa_command,
    var_dir_from_env,
    write_private,
)
from settings import app_db_url as app_db_url  # the tests import it from here
from settings.environment import load_dotenv

PROFILE_VARIABLE = "MOCUA_PROFILE"
ENDPOINTS = "endpoints.production.yml"
SERVED_BY = "X-Served-By"  # the balancer names the replica that answered: how tests see turns spread


def production_selected(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    return environ.get(PROFILE_VARIABLE, "").strip().lower() == "production"


@dataclass(frozen=True)
class Host:
    """Where a replica (or the balancer) runs: the address it listens on and is reached at, and the command prefix
    that starts a process there (none: this host; the multi-host test's `ip netns exec <namespace>`)."""

    address: str = "127.0.0.1"
    launcher: tuple[str, ...] = ()


LOCAL = Host()


@dataclass(frozen=True)
class Replicas:
    rasa: int = 2
    actions: int = 2
    bridge: int = 2

    @classmethod
    def from_env(cls) -> Replicas:
        def count(name: str, default: int) -> int:
            value = os.environ.get(name, "").strip()
            return int(value) if value else default

        return cls(count("RASA_REPLICAS", 2), count("ACTION_REPLICAS", 2), count("BRIDGE_REPLICAS", 2))


def balancer_interface() -> str:
    """BALANCER_INTERFACE: the address of the balancer's internal frontends (Rasa, actions, statistics), where they
    listen and where every replica reaches them; a private address when the replicas are on other hosts."""
    return os.environ.get("BALANCER_INTERFACE", "").strip() or "127.0.0.1"


def redis_settings(url: str) -> dict[str, str]:
    """MOCUA_REDIS_URL (redis://:password@host:port/db) as the variables endpoints.production.yml reads."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "redis" or not parts.hostname:
        raise StackError(f"MOCUA_REDIS_URL must look like redis://:password@host:6379/1, got {url!r}")
    return {
        "REDIS_HOST": parts.hostname,
        "REDIS_PORT": str(parts.port or 6379),
        "REDIS_PASSWORD": urllib.parse.unquote(parts.password or ""),
        "REDIS_DB": parts.path.strip("/") or "1",
    }


@dataclass
class ProductionStack(Stack):
    """rasa_port / action_port are the balancer's internal frontends; bridge_port its public one."""

    database_url: str = ""
    redis_url: str = ""
    replicas: Replicas = field(default_factory=Replicas)
    bridge_port: int = 8443
    bridge_interface: str = "0.0.0.0"
    stats_port: int = 8404
    replica_ports: dict[str, int] = field(default_factory=dict)
    balancer: Host = LOCAL  # HAProxy: its internal frontends and statistics page listen on balancer.address
    hosts: dict[str, Host] = field(default_factory=dict)  # replica name -> its host; LOCAL when not named

    def __post_init__(self) -> None:
        if not self.database_url.startswith(("postgresql://", "postgres://")):
            raise StackError("The production profile needs MOCUA_DATABASE_URL=postgresql://user:password@host/db")
        if not self.redis_url:
            raise StackError("The production profile needs MOCUA_REDIS_URL=redis://:password@host:6379/1")
        for name in self.replica_names():
            self.replica_ports.setdefault(name, free_port())

    @classmethod
    def from_env(cls) -> ProductionStack:
        return cls(
            rasa_port=int(os.environ.get("RASA_PORT", 5005)),
            action_port=int(os.environ.get("ACTION_PORT", 5055)),
            database_url=os.environ.get("MOCUA_DATABASE_URL", "").strip(),
            redis_url=os.environ.get("MOCUA_REDIS_URL", "").strip(),
            replicas=Replicas.from_env(),
            bridge_port=int(os.environ.get("BRIDGE_PORT", 8443)),
            bridge_interface=os.environ.get("BRIDGE_INTERFACE") or "0.0.0.0",
            stats_port=int(os.environ.get("BALANCER_STATS_PORT", 8404)),
            balancer=Host(balancer_interface()),
            var_dir=var_dir_from_env(),
        )

    # ------------------------------------------------------------ names, ports, environment
    def replica_names(self, kind: str | None = None) -> list[str]:
        counts = {"rasa": self.replicas.rasa, "actions": self.replicas.actions, "bridge": self.bridge_count}
        return [f"{k}-{i}" for k, n in counts.items() if kind in (None, k) for i in range(1, n + 1)]

    @property
    def bridge_count(self) -> int:
        return self.replicas.bridge if self.telegram_enabled else 0

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.extra_env.get("TELEGRAM_BOT_TOKEN") or os.environ.get("TELEGRAM_BOT_TOKEN"))

    def host_of(self, name: str) -> Host:
        return self.hosts.get(name, LOCAL)

    def replica_url(self, name: str) -> str:
        return f"http://{self.host_of(name).address}:{self.replica_ports[name]}"

    @property
    def rasa_url(self) -> str:
        """The balancer's Rasa frontend: what the bridges (RASA_URL) and tools use."""
        return f"http://{client_host(self.balancer.address)}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{client_host(self.balancer.address)}:{self.action_port}"

    @property
    def bridge_url(self) -> str:
        return f"http://{client_host(self.bridge_interface)}:{self.bridge_port}"

    @property
    def stats_url(self) -> str:
        return f"http://{client_host(self.balancer.address)}:{self.stats_port}/"

    def environment(self) -> dict[str, str]:
        env = super().environment()
        shared = {
            "TRACKER_DB_URL": self.database_url,
            "MOCUA_JOURNAL_URL": app_db_url(self.database_url),
            "MOCUA_BOT_DB_URL": app_db_url(self.database_url),
            "ACTION_ENDPOINT_URL": f"{self.action_url}/webhook",
            "ACTION_ADMIN_URL": self.action_url,
            "RASA_URL": self.rasa_url,
            **redis_settings(self.redis_url),
            **load_secrets(self.var_dir / "secrets.env", ("TELEGRAM_WEBHOOK_SECRET",)),
        }
        return env | shared | self.extra_env

    # ------------------------------------------------------------ processes
    def check_ready_to_start(self) -> None:
        self.check_built()
        if self.telegram_enabled and not self.environment().get("TELEGRAM_WEBHOOK_URL"):
            raise StackError(
                "The production profile runs the bridge behind the balancer in webhook mode: set "
                "TELEGRAM_WEBHOOK_URL to the public HTTPS address that reaches the balancer's port "
                f"{self.bridge_port}."
            )

    def start(self, timeout: float = 300.0, with_rasa: bool = True) -> None:
        self.check_ready_to_start()
        self.prepare_var_dir()
        try:
            self.spawn_balancer()
            for name in self.replica_names("actions"):
                self.spawn(name)
            # Rasa replicas start one after the other: two model loads at once on 2 cores take longer than
            # two in turn, and the first replica can serve while the second loads.
            for name in self.replica_names("rasa"):
                self.spawn(name)
                self.wait_until_ready(timeout)
            for name in self.replica_names("bridge"):
                self.spawn(name)
            self.wait_until_ready(timeout)
        except BaseException:  # also Ctrl-C: a half-started stack must not leave a server running
            self.stop()
            raise

    def spawners(self) -> dict[str, Callable[[], None]]:
        """How the supervisor (scripts/serve.py) starts each child again after a crash."""
        found: dict[str, Callable[[], None]] = {
            name: functools.partial(self.spawn, name) for name in self.replica_names()
        }
        found["haproxy"] = self.spawn_balancer
        return found

    def spawn(self, name: str) -> None:
        """Start replica `name` (e.g. "rasa-2") again without waiting; what it left behind is stopped first."""
        self.stop_process(name)
        kind = name.rsplit("-", 1)[0]
        port = str(self.replica_ports[name])
        host = self.host_of(name)
        env = self.environment()
        if kind == "rasa":
            command = rasa_command(self.model, ENDPOINTS, int(port), host.address)
        elif kind == "actions":
            command = [str(APP_PYTHON), "-m", "actions.server", "--port", port, "--interface", host.address]
        elif kind == "bridge":
            command = [str(APP_PYTHON), "-m", "bot"]
            env |= {"TELEGRAM_WEBHOOK_PORT": port, "TELEGRAM_WEBHOOK_LISTEN": host.address}
        else:
            raise ValueError(f"no replica called {name!r}")
        self.spawn_command(name, [*host.launcher, *command], env)

    def health_checks(self) -> dict[str, str]:
        token = urllib.parse.quote(self.environment()["RASA_API_TOKEN"])
        paths = {"rasa": f"/status?token={token}", "actions": "/health", "bridge": "/healthz"}
        checks = {name: self.replica_url(name) + paths[name.rsplit("-", 1)[0]] for name in self.replica_names()}
        checks["haproxy"] = self.stats_url
        return checks

    def wait_until_ready(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        super().wait_until_ready(timeout)
        self.wait_for_balancer(deadline)

    def wait_for_balancer(self, deadline: float) -> None:
        """HAProxy sends traffic to a replica only after its own health check passed: wait for that too."""
        while not all(http_ok(url) for url in self.balanced_checks().values()):
            if time.monotonic() > deadline:
                raise StackError(f"The balancer does not reach the replicas; see {self.log_dir / 'haproxy.log'}.")
            time.sleep(0.3)

    def balanced_checks(self) -> dict[str, str]:
        token = urllib.parse.quote(self.environment()["RASA_API_TOKEN"])
        checks = {"rasa": f"{self.rasa_url}/status?token={token}", "actions": f"{self.action_url}/health"}
        if self.bridge_count:
            checks["bridge"] = f"{self.bridge_url}/healthz"
        started = {name.rsplit("-", 1)[0] for name in self.processes}
        return {kind: url for kind, url in checks.items() if kind in started}

    def spawn_balancer(self) -> None:
        self.stop_process("haproxy")
        path = self.var_dir / "haproxy.cfg"
        write_private(path, haproxy_config(self))
        check = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise StackError(f"HAProxy refused {path}:\n{check.stdout}{check.stderr}")
        self.spawn_command("haproxy", [*self.balancer.launcher, "haproxy", "-db", "-f", str(path)])


ADMIN_RULE = "use_backend actions-admin if { path_beg /admin/ }"


# A replica whose host vanished (cable cut, power lost) answers nothing at all: no refused or closed connection for
# `retry-on conn-failure empty-response` to see. HAProxy takes it out after two failed checks (about 3 s), and what
# it was answering meanwhile is saved this way (tests/production/test_hosts.py):
# - Rasa: its requests are cut when it is marked down, and the bridge sends the message again (bot/rasa_client.py);
# - action servers: Rasa never sends a call again (a failed action loses the turn's answer), so a call unanswered
#   after ACTION_CALL_TIMEOUT goes to another replica (an action takes milliseconds; 30 s is a replica in trouble);
# - bridges: a webhook call is answered as soon as the update is queued; unanswered after 10 s it goes to another.
CUT_ON_DOWN = "on-marked-down shutdown-sessions"
RESEND_UNANSWERED = "retry-on conn-failure empty-response response-timeout"
ACTION_CALL_TIMEOUT = "timeout server 30s"
WEBHOOK_CALL_TIMEOUT = "timeout server 10s"


def haproxy_config(stack: ProductionStack) -> str:
    """Round robin over live replicas; a request whose replica died before answering is sent to another."""
    backends = [
        backend("rasa", stack, "GET /", server_options=CUT_ON_DOWN),
        backend("actions", stack, "GET /health", extra=[ACTION_CALL_TIMEOUT, RESEND_UNANSWERED]),
        # /admin/reload answers when the index build ends: minutes for a full build, never resent.
        backend("actions", stack, "GET /health", name="actions-admin", extra=["timeout server 1300s", "retries 0"]),
    ]
    internal = stack.balancer.address
    frontends = [
        frontend("rasa", f"{internal}:{stack.rasa_port}"),
        frontend("actions", f"{internal}:{stack.action_port}", rules=[ADMIN_RULE]),
    ]
    if stack.bridge_count:
        backends.append(backend("bridge", stack, "GET /healthz", extra=[WEBHOOK_CALL_TIMEOUT, RESEND_UNANSWERED]))
        frontends.append(frontend("bridge", f"{stack.bridge_interface}:{stack.bridge_port}", tls=True))
    return "\n".join([HAPROXY_HEAD.format(stats=f"{internal}:{stack.stats_port}"), *frontends, *backends])


HAPROXY_HEAD = """\
# Written by scripts/production.py at every start; edit that file, not this one.
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 150s
    timeout server 150s
    timeout queue 30s
    # A replica busy with a burst answers its health check late (Rasa serves it in the event loop that runs the
    # messages): with the default check timeout (inter, 1 s) the load benchmark saw the only Rasa replica marked
    # DOWN over and over at 100 conversations, and 1 message in 10 refused with 503. A dead replica is still out
    # at once (connection refused); a hung one after two checks of 10 s.
    timeout check 10s
    # A replica that died (connection refused, or closed without an answer) costs a retry on another replica,
    # never the citizen's message. A replica that answered is never asked twice.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend stats
    bind {stats}
    stats enable
    stats uri /
    stats refresh 5s
"""


def frontend(kind: str, bind: str, tls: bool = False, rules: list[str] | None = None) -> str:
    certificate = os.environ.get("MOCUA_TLS_CERT", "").strip()
    ssl = f" ssl crt {certificate}" if tls and certificate else ""
    rules_lines = [f"    {rule}" for rule in rules or []]
    lines = [f"frontend {kind}", f"    bind {bind}{ssl}", *rules_lines, f"    default_backend {kind}"]
    return "\n".join(lines) + "\n"


def backend(kind: str, stack: ProductionStack, check: str, name: str = "", extra: list[str] | None = None,
            server_options: str = "") -> str:  # fmt: skip
    options = f"check inter 1s fall 2 rise 1 {server_options}".strip()
    servers = [
        f"    server {replica} {stack.host_of(replica).address}:{stack.replica_ports[replica]} {options}"
        for replica in stack.replica_names(kind)
    ]
    head = [f"backend {name or kind}", "    balance roundrobin", f"    option httpchk {check}"]
    head += [f"    {line}" for line in extra or []]
    # Which replica answered: for our own clients and tests, never told to the internet (the bridge's frontend).
    served_by = [] if kind == "bridge" else [f"    http-response set-header {SERVED_BY} %[srv_name]"]
    return "\n".join([*head, *served_by, *servers, ""])


# ---------------------------------------------------------------- for replicas that systemd or Compose start


def server_list(text: str) -> list[tuple[str, int]]:
    """"5011,5012" (replicas on this host) or "10.0.0.11:5011,10.0.0.12:5011" (replicas on other hosts)."""
    servers = []
    for part in (part.strip() for part in text.split(",")):
        address, _, port = part.rpartition(":")
        if not port.isdigit():
            raise argparse.ArgumentTypeError(f"expected ports such as 5011,5012 or 10.0.0.11:5011, got {text!r}")
        servers.append((address or LOCAL.address, int(port)))
    return servers


def main(argv: list[str] | None = None) -> int:
    """python -m scripts.production --print-haproxy-config --rasa-ports 5011,5012 --actions-ports 5061,5062
    [--bridge-ports 8451,8452]

    Prints the HAProxy configuration `make serve` writes to var/haproxy.cfg, for replicas on these fixed ports
    instead of free ones (deploy/systemd/, docker-compose.yml; docs/deploy.md). A replica on another host is
    ADDRESS:PORT (--rasa-ports 10.0.0.11:5011,10.0.0.12:5011). It reads the same settings (environment, then .env):
    RASA_PORT, ACTION_PORT, BALANCER_INTERFACE, BRIDGE_PORT, BRIDGE_INTERFACE, BALANCER_STATS_PORT, MOCUA_TLS_CERT,
    and TELEGRAM_BOT_TOKEN, without which there is no bridge frontend.
    """
    parser = argparse.ArgumentParser(prog="python -m scripts.production", description=main.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--print-haproxy-config", action="store_true", required=True)
    parser.add_argument("--rasa-ports", type=server_list, required=True, metavar="[ADDRESS:]PORT,...")
    parser.add_argument("--actions-ports", type=server_list, required=True, metavar="[ADDRESS:]PORT,...")
    parser.add_argument("--bridge-ports", type=server_list, default=[], metavar="[ADDRESS:]PORT,...")
    args = parser.parse_args(argv)
    for key, value in load_dotenv(ROOT / ".env").items():
        os.environ.setdefault(key, value)
    ports = {"rasa": args.rasa_ports, "actions": args.actions_ports, "bridge": args.bridge_ports}
    servers = {f"{kind}-{i}": server for kind, found in ports.items() for i, server in enumerate(found, 1)}
    stack = ProductionStack(
        rasa_port=int(os.environ.get("RASA_PORT", 5005)),
        action_port=int(os.environ.get("ACTION_PORT", 5055)),
        database_url="postgresql://",  # the configuration names neither database nor Redis
        redis_url="redis://",
        replicas=Replicas(len(ports["rasa"]), len(ports["actions"]), len(ports["bridge"])),
        bridge_port=int(os.environ.get("BRIDGE_PORT", 8443)),
        bridge_interface=os.environ.get("BRIDGE_INTERFACE") or "0.0.0.0",
        stats_port=int(os.environ.get("BALANCER_STATS_PORT", 8404)),
        replica_ports={name: port for name, (_, port) in servers.items()},
        balancer=Host(balancer_interface()),
        hosts={name: Host(address) for name, (address, _) in servers.items()},
    )
    if ports["bridge"] and not stack.telegram_enabled:
        print("TELEGRAM_BOT_TOKEN is not set: no bridge frontend or backend.", file=sys.stderr)
    written_by = "# Written by scripts/production.py at every start; edit that file, not this one."
    printed_by = "# Printed by `python -m scripts.production --print-haproxy-config`: print it again, do not edit it."
    print(haproxy_config(stack).replace(written_by, printed_by, 1), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
