"""The action server's admin API (actions/admin.py) on real action-server processes started by scripts.stack.Stack.

Two action servers share one index directory, as replicas do: a rebuild asked of one is served by both within
seconds, the second without a single question reaching it. A third runs without ADMIN_API_TOKEN.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from knowledge.index.build import current_version
from scripts.stack import Stack, free_port

pytestmark = pytest.mark.stack

TOKEN = "admin-token-for-tests-0123456789"
RECORD = "procedures/ho-tich-khai-sinh.yml"


@dataclass
class Admin:
    servers: list[Stack]
    index_dir: Path
    knowledge_dir: Path


def call(stack: Stack, path: str, method: str = "GET", headers: dict[str, str] | None = None,
         timeout: float = 600) -> tuple[int, dict]:  # fmt: skip
    request = urllib.request.Request(f"{stack.action_url}{path}", method=method, headers=headers or {},
                                     data=b"{}" if method == "POST" else None)  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def private_index(source: Path, target: Path) -> None:
    """The published version and the embedding cache of `source`, without its older versions."""
    version = current_version(source)
    assert version is not None
    shutil.copytree(source / "cache", target / "cache")
    shutil.copytree(version, target / "versions" / version.name)
    (target / "current").symlink_to(Path("versions") / version.name)


def action_server(var_dir: Path, **env: str) -> Stack:
    return Stack(rasa_port=free_port(), action_port=free_port(), var_dir=var_dir, extra_env=env)


@pytest.fixture(scope="module")
def admin(knowledge_copy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Admin]:
    base = tmp_path_factory.mktemp("admin")
    knowledge_dir, index_dir = base / "knowledge", base / "index"
    shutil.copytree(knowledge_copy.knowledge_dir, knowledge_dir)
    private_index(knowledge_copy.index_dir, index_dir)
    env = {"ADMIN_API_TOKEN": TOKEN, "MOCUA_INDEX_DIR": str(index_dir), "MOCUA_KNOWLEDGE_DIR": str(knowledge_dir),
           "MOCUA_JOURNAL_DB": str(base / "journal.db"), "MOCUA_JOURNAL_URL": ""}  # fmt: skip
    servers = [action_server(base / f"replica-{n}", **env) for n in range(2)]
    try:
        for server in servers:
            server.start(with_rasa=False)
        yield Admin(servers, index_dir, knowledge_dir)
    finally:
        for server in servers:
            server.stop()


def test_admin_paths_refuse_a_missing_or_wrong_token_and_the_action_secret(admin: Admin) -> None:
    server = admin.servers[0]
    action_secret = {"X-Action-Secret": server.secrets["ACTION_SERVER_SECRET"]}
    for headers in ({}, bearer("wrong"), {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"},
                    action_secret):  # fmt: skip
        assert call(server, "/admin/stats", headers=headers)[0] == 401, headers
        assert call(server, "/admin/reload", "POST", headers=headers)[0] == 401, headers
    assert call(server, "/webhook", "POST", headers=bearer())[0] == 401, "the admin token never runs actions"
    assert call(server, "/health")[0] == 200


def test_stats_with_the_token(admin: Admin) -> None:
    server = admin.servers[0]
    status, stats = call(server, "/admin/stats", headers=bearer())
    assert status == 200
    assert stats["journal"]["answered"] == 0 and "Câu hỏi đã trả lời: 0" in stats["journal_report"]
    published = current_version(admin.index_dir)
    assert published is not None and stats["index_version"] == stats["published_version"] == published.name
    assert stats["pid"] == server.processes["actions"].pid
    assert 0 < stats["uptime_seconds"] < 3600
    cache = stats["query_embeddings"]  # the load benchmark's share of first-time questions
    assert cache["hits"] >= 0 and cache["misses"] >= 0 and 0 <= cache["size"] <= cache["misses"]


def test_reload_one_at_a_time_and_every_replica_serves_the_new_index(admin: Admin) -> None:
    first, second = admin.servers
    before = call(second, "/admin/stats", headers=bearer())[1]["index_version"]
    record = admin.knowledge_dir / RECORD
    record.write_text(record.read_text(encoding="utf-8").replace("aliases:\n", "aliases:\n  - giấy chào đời\n", 1),
                      encoding="utf-8")  # fmt: skip
    answers: list[tuple[int, dict]] = []
    build = threading.Thread(target=lambda: answers.append(call(first, "/admin/reload", "POST", headers=bearer())))
    build.start()
    time.sleep(1.0)
    assert call(first, "/admin/reload", "POST", headers=bearer()) == (409, {
        "ok": False, "error": "busy", "detail": "an index build is already running"})  # fmt: skip
    build.join(900)
    status, result = answers[0]
    assert status == 200 and result["ok"] is True, result
    assert result["version"] != before and result["loaded_version"] == result["version"]
    assert "published" in result["output"]

    deadline = time.monotonic() + 15
    while call(second, "/admin/stats", headers=bearer())[1]["index_version"] != result["version"]:
        assert time.monotonic() < deadline, "the other replica did not load the new index within 15 s"
        time.sleep(0.5)


def test_no_admin_api_without_its_token(tmp_path: Path) -> None:
    server = action_server(tmp_path, ADMIN_API_TOKEN="", MOCUA_INDEX_DIR=str(tmp_path / "no-index"),
                           MOCUA_JOURNAL_DB=str(tmp_path / "journal.db"))  # fmt: skip
    server.start(with_rasa=False)
    try:
        for token in ("", TOKEN):
            assert call(server, "/admin/stats", headers=bearer(token))[0] == 404
            assert call(server, "/admin/reload", "POST", headers=bearer(token))[0] == 404
    finally:
        server.stop()
    assert "admin API off" in (server.log_dir / "actions.log").read_text(encoding="utf-8")
