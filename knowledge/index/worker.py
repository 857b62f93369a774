"""The one way a running process rebuilds the index: in the background, in this process, one build at a time.

The staff console (console/builds.py) and the action server's POST /admin/reload (actions/admin.py) both use it;
`make kb-build` runs the same build (knowledge/index/build.py) in a process of its own. Building in the process that
already serves keeps what a build needs between builds (the encoder, the embeddings, the prepared catalogue, the words
of every text), so a staff edit is published in about a second instead of the 20 s a fresh Python took to load
torch and the model. The running action servers load the new version within a second or two (each checks
MOCUA_INDEX_DIR every second).

A change made while a build runs asks for one more build after it (changes arriving meanwhile share it), so the last
change is always published and two builds never race (the build also takes a file lock of its own).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.index.build import Reporter, build, current_version
from knowledge.records.loader import Problem

MAX_LINES = 200
HISTORY = 10


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class BuildRun:
    reason: str
    started: str
    requested: str = ""  # when the earliest change this build publishes asked for it
    finished: str | None = None
    status: str = "running"  # running | ok | failed
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    step: str = ""  # what the build is doing now, in Vietnamese (the console's progress)
    steps_done: int = 0
    version: str | None = None  # the version serving once it ended
    published: bool = False
    problems: tuple[Problem, ...] = ()  # the knowledge errors that stopped or limited it
    changes: list[str] = field(default_factory=list)  # what the requests said it makes new for citizens, in words

    @property
    def outcome(self) -> str:
        """The build's own last word ("published …", "index up to date …", or the error)."""
        return self.lines[-1] if self.lines else ""


class Ticket:
    """One request for a build: done once a build that started after it ended (`run` is that build)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._then: list[Callable[[BuildRun], None]] = []
        self.run: BuildRun | None = None

    def then(self, callback: Callable[[BuildRun], None]) -> None:
        """Call back with the build once it ended (at once if it already has)."""
        with self._lock:
            if self.run is None:
                self._then.append(callback)
                return
        callback(self.run)

    def finish(self, run: BuildRun) -> None:
        with self._lock:
            self.run, callbacks, self._then = run, self._then, []
        self._done.set()
        for callback in callbacks:
            try:
                callback(run)
            except Exception as error:  # noqa: BLE001 - the build is done; what failed after it is only reported
                run.lines.append(f"after the build: {error!r}")

    def wait(self, timeout: float | None = None) -> BuildRun | None:
        self._done.wait(timeout)
        return self.run


class IndexBuilder:
    """Builds of one knowledge folder into one index directory, in a background thread of this process."""

    def __init__(self, knowledge_dir: Path, index_dir: Path) -> None:
        self.knowledge_dir = Path(knowledge_dir)
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._pending: list[tuple[str, str, Ticket, Sequence[str]]] = []  # (reason, requested at, ticket, changes)
        self._active = False  # a build runs or is about to; changed under the lock only
        self.current: BuildRun | None = None
        self.history: list[BuildRun] = []  # finished builds, latest first

    @property
    def running(self) -> bool:
        return self._active

    def request(self, reason: str, changes: Sequence[str] = ()) -> Ticket:
        """Publish the knowledge as it is now: start a build, or queue one after the build that is running.
        `changes`: what the change makes new for citizens, in the requester's words (shown with the build)."""
        ticket = Ticket()
        with self._lock:
            self._pending.append((reason, now(), ticket, tuple(changes)))
            if self._active:
                return ticket
            self._active = True
        threading.Thread(target=self._loop, name="index-build", daemon=True).start()
        return ticket

    @property
    def queued(self) -> list[str]:
        with self._lock:
            return [reason for reason, _, _, _ in self._pending]

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._active = False
                    return
                batch, self._pending = self._pending, []
            reason = "; ".join(dict.fromkeys(r for r, _, _, _ in batch))
            run = BuildRun(reason, now(), requested=min(at for _, at, _, _ in batch))
            run.changes = list(dict.fromkeys(change for *_, changes in batch for change in changes))
            self.current = run
            start = time.monotonic()
            try:
                self._run(run)
            except Exception as error:  # noqa: BLE001 - a failure here must not leave "building" shown forever
                run.status = "failed"
                run.lines.append(repr(error))
            run.seconds = time.monotonic() - start
            self._finish(run, [ticket for _, _, ticket, _ in batch])

    def _run(self, run: BuildRun) -> None:
        def line(text: str, error: bool) -> None:
            run.lines = [*run.lines[-MAX_LINES + 1 :], text]

        def step(text: str) -> None:
            run.step, run.steps_done = text, run.steps_done + 1

        report = build(self.index_dir, self.knowledge_dir, reporter=Reporter(line, step))
        run.status = "ok" if report.status == 0 else "failed"
        run.version, run.published, run.problems = report.version, report.published, report.problems

    def _finish(self, run: BuildRun, tickets: list[Ticket]) -> None:
        run.finished = now()
        self.history = [run, *self.history[: HISTORY - 1]]
        self.current = None
        for ticket in tickets:
            ticket.finish(run)

    def wait(self, timeout: float = 600.0) -> None:
        """Until no build runs or is queued (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            time.sleep(0.1)

    @property
    def index_version(self) -> str | None:
        version = current_version(self.index_dir)
        return version.name if version is not None else None
