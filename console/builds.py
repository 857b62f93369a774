"""Rebuild and publish the search index in the background, one build at a time.

Runs the project's own entry point (`python -m knowledge.index.build`, what `make kb-build` runs) on the console's
knowledge folder and index; the running action servers pick the new version up within seconds. A change made
while a build runs asks for one more build after it (changes arriving meanwhile share it), so the last change is
always published and two builds never race (the build also takes a file lock of its own).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from console.config import ROOT, Settings
from console.db import now
from settings.environment import child_environment

MAX_LINES = 200


@dataclass
class BuildRun:
    reason: str
    started: str
    finished: str | None = None
    status: str = "running"  # running | ok | failed
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def outcome(self) -> str:
        """The build's own last word ("published …", "index up to date …", or the error)."""
        return self.lines[-1] if self.lines else ""


class Builder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._active = False  # a build runs or is about to; changed under the lock only
        self.current: BuildRun | None = None
        self.history: list[BuildRun] = []  # finished builds, latest first

    @property
    def running(self) -> bool:
        return self._active

    def request(self, reason: str) -> None:
        """Publish the knowledge as it is now: start a build, or queue one after the build that is running."""
        with self._lock:
            if self._active:
                self._pending.append(reason)
                return
            self._active = True
        threading.Thread(target=self._loop, args=(reason,), name="index-build", daemon=True).start()

    @property
    def queued(self) -> list[str]:
        with self._lock:
            return list(self._pending)

    def _loop(self, reason: str) -> None:
        while True:
            try:
                self._run(reason)
            except Exception as error:  # noqa: BLE001 - a failure here must not leave "building" shown forever
                self.history = [BuildRun(reason, now(), now(), "failed", [repr(error)]), *self.history[:9]]
                self.current = None
            with self._lock:
                if not self._pending:
                    self._active = False
                    return
                reason = "; ".join(dict.fromkeys(self._pending))
                self._pending.clear()

    def command(self) -> list[str]:
        return [sys.executable, "-m", "knowledge.index.build", "--knowledge-dir", str(self.settings.knowledge_dir),
                "--index-dir", str(self.settings.index_dir)]  # fmt: skip

    def _run(self, reason: str) -> None:
        run = BuildRun(reason, now())
        self.current = run
        start = time.monotonic()
        env = child_environment(PYTHONPATH=str(ROOT), MOCUA_INDEX_DIR=str(self.settings.index_dir))
        try:
            with subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, encoding="utf-8", errors="replace") as process:  # fmt: skip
                assert process.stdout is not None
                for line in process.stdout:
                    run.lines = [*run.lines[-MAX_LINES + 1 :], line.rstrip()]
                code = process.wait()
            run.status = "ok" if code == 0 else "failed"
        except OSError as error:
            run.lines.append(f"không chạy được lệnh dựng chỉ mục: {error}")
            run.status = "failed"
        run.finished, run.seconds = now(), time.monotonic() - start
        self.history = [run, *self.history[:9]]
        self.current = None

    def wait(self, timeout: float = 600.0) -> None:
        """Until no build runs or is queued (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            time.sleep(0.2)

    @property
    def index_version(self) -> str | None:
        target = Path(self.settings.index_dir) / "current"
        try:
            return Path(os.readlink(target)).name
        except OSError:
            return None
