"""Fixtures of the official-catalogue tests: the replay portal, a fast polite client, and the real import."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.catalog.model import OfficialRecord
from knowledge.tools.catalog.importer import DEFAULT_SHARED, SourcesMissing, build, catalogs_dir
from knowledge.tools.catalog.report import ImportReport
from knowledge.tools.catalog.sync import Client
from tests.catalog.replay_portal import FakeTime, ReplayPortal


@pytest.fixture(autouse=True)
def _never_the_real_portal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Anything that forgets to pass the replay server's address talks to a closed local port instead.
    monkeypatch.setenv("MOCUA_PORTAL_URL", "http://127.0.0.1:9")


@pytest.fixture
def portal() -> Iterator[ReplayPortal]:
    server = ReplayPortal().start()
    yield server
    server.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(portal: ReplayPortal, fake_time: FakeTime) -> Client:
    return Client(base_url=portal.url, interval=1.0, retries=3, backoff=2.0, timeout=5.0,
                  sleep=fake_time.sleep, clock=fake_time.clock)  # fmt: skip


@pytest.fixture(scope="session")
def shared_catalogs() -> Path:
    try:
        return catalogs_dir(DEFAULT_SHARED)
    except SourcesMissing:
        pytest.skip(f"the official sources are not beside the clone ({DEFAULT_SHARED}/catalogs)")


@pytest.fixture(scope="session")
def real_import(shared_catalogs: Path) -> tuple[list[OfficialRecord], ImportReport]:
    """The whole import, run once per session on ../shared (about 10 s)."""
    return build(shared_catalogs)
