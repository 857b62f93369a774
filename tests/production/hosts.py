"""Hosts made of Linux network namespaces, for the multi-host test (tests/production/test_hosts.py).

Each host is a network namespace of its own with one interface, `eth0`, on a private network (10.200.0.0/24) whose
switch is a Linux bridge in one more namespace. Nothing routes out of that network: no namespace has a default
route, and the machine's own namespace has no interface on it, so the processes started there can reach each other
and nothing else. The test's own thread joins the "telegram" host (`inside`), so that it, too, talks only to
addresses on that network. A host "disappears" when its cable is pulled (`cut`: its port on the switch goes down).

Names carry the test process's id: a run that was killed leaves namespaces a later run removes (`remove_stale`).
Needs root (`ip netns`), as on the project's machines.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

NETWORK = "10.200.0"
PREFIX = "mocua-hosts"
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True, timeout=30).stdout


def namespaces() -> list[str]:
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()]


def namespace_pids(name: str) -> list[int]:
    with contextlib.suppress(subprocess.CalledProcessError):
        return [int(pid) for pid in ip("netns", "pids", name).split()]
    return []


def signal_all(name: str, signum: int) -> list[int]:
    """Signal every process in namespace `name` (all of them started by the test, inside namespaces it made)."""
    pids = namespace_pids(name)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    return pids


def remove_namespace(name: str) -> None:
    signal_all(name, signal.SIGKILL)  # a namespace lives on while a process is in it
    with contextlib.suppress(subprocess.CalledProcessError):
        ip("netns", "delete", name)


def remove_stale() -> None:
    """Namespaces left by an earlier run of this test that was killed before it could clean up."""
    for name in namespaces():
        if not name.startswith(f"{PREFIX}-"):
            continue
        owner = name.split("-")[2]
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            remove_namespace(name)


@dataclass
class Network:
    """Hosts by name, each with its address (10.200.0.<n>)."""

    addresses: dict[str, str]
    tag: str = field(default_factory=lambda: f"{PREFIX}-{os.getpid()}")
    made: list[str] = field(default_factory=list)

    @property
    def switch(self) -> str:
        return f"{self.tag}-switch"

    def namespace(self, host: str) -> str:
        return f"{self.tag}-{host}"

    def launcher(self, host: str) -> tuple[str, ...]:
        """The command prefix that runs a process on `host`."""
        return ("ip", "netns", "exec", self.namespace(host))

    def create(self) -> None:
        ip("netns", "add", self.switch)
        self.made.append(self.switch)
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")
        for host, address in self.addresses.items():
            name = self.namespace(host)
            ip("netns", "add", name)
            self.made.append(name)
            ip("-n", name, "link", "set", "lo", "up")
            ip("link", "add", self.port(host), "netns", self.switch, "type", "veth", "peer", "name", "eth0",
               "netns", name)  # fmt: skip
            ip("-n", self.switch, "link", "set", self.port(host), "master", "br0", "up")
            ip("-n", name, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", name, "link", "set", "eth0", "up")

    def port(self, host: str) -> str:
        return f"to-{host}"[:15]

    def cut(self, host: str) -> None:
        """Pull the host's cable: from now on nothing it sends arrives and nothing reaches it."""
        ip("-n", self.switch, "link", "set", self.port(host), "down")

    def freeze(self, host: str) -> list[int]:
        return signal_all(self.namespace(host), signal.SIGSTOP)

    def thaw(self, host: str) -> None:
        signal_all(self.namespace(host), signal.SIGCONT)

    def destroy(self) -> None:
        for name in reversed(self.made):
            remove_namespace(name)
        self.made.clear()

    @contextlib.contextmanager
    def inside(self, host: str) -> Iterator[None]:
        """Run this thread (and the threads and processes it starts meanwhile) on `host`."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{self.namespace(host)}", os.O_RDONLY)
        try:
            enter(target)
            try:
                yield
            finally:
                enter(home)
        finally:
            os.close(home)
            os.close(target)


def enter(namespace_fd: int) -> None:
    if _libc.setns(namespace_fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns: {os.strerror(error)}")
