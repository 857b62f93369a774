"""The handoff page's steps over HTTP (the console app, a SQLite journal and the bridge's SQLite store, as a bridge
leaves them): the queue shows the question and the recent turns masked, and «Nhận», a reply, «Trả lại» and «Xong»
change the one state the bridge reads, each asking first when the citizen would be told something, each audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import journal
from bot import handoff_state
from bot.store import Store
from console import audit
from console.accounts import add_staff
from console.config import Settings
from console.db import engine
from tests.console.support import app_client, csrf_of

CITIZEN = 84001


@pytest.fixture
def bridge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A citizen who asked for a person on Telegram: the journal's request, the bridge's handoff and turns."""
    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    monkeypatch.setenv("MOCUA_JOURNAL_URL", "")
    monkeypatch.setenv("MOCUA_BOT_DB", str(tmp_path / "bot.db"))
    monkeypatch.setenv("MOCUA_BOT_DB_URL", "")
    journal.record("handoff", sender=str(CITIZEN), question="cho tôi gặp cán bộ")
    store = Store(tmp_path / "bot.db")
    store.add_turn(CITIZEN, "citizen", "con tôi sinh ở bệnh viện, sđt 0912 345 678, làm khai sinh thế nào")
    store.add_turn(CITIZEN, "bot", "📄 Đăng ký khai sinh (mã 1.001193)…")
    store.add_turn(CITIZEN, "citizen", "cho tôi gặp cán bộ")
    store.start_handoff(CITIZEN, "con tôi sinh ở bệnh viện, sđt 0912 345 678, làm khai sinh thế nào")
    yield store
    store.close()


def entry_id() -> int:
    e = journal.entries
    with journal.engine().connect() as con:
        return int(con.execute(sa.select(e.c.id).where(e.c.kind == "handoff")).scalar_one())


def card(client: TestClient | httpx.Client, entry: int) -> str:
    found = re.search(rf'<article[^>]*id="handoff-{entry}".*?</article>', client.get("/handoffs").text, re.S)
    assert found, f"handoff #{entry} is not on the page"
    return found.group(0)


def post(client: TestClient, path: str, **data: str) -> httpx.Response:
    return client.post(path, data={"csrf": csrf_of(client, "/handoffs"), **data})


def outbox(store: Store) -> list[str | None]:
    found = [o for chat in handoff_state.chats_with_outgoing(store) for o in handoff_state.take_outgoing(store, chat)]
    for item in found:
        handoff_state.delivered(store, item.id)
    return [item.to_citizen for item in found]


def test_an_officer_works_a_handoff_from_the_queue_to_done(settings: Settings, bridge: Store) -> None:
    client, app = app_client(settings)
    entry = entry_id()
    waiting = card(client, entry)
    assert "con tôi sinh ở bệnh viện" in waiting and "0912 345 678" not in waiting, "the real question, masked"
    assert "Người dân:" in waiting and "Trợ lý:" in waiting and "cho tôi gặp cán bộ" in waiting, "the recent turns"
    assert "đang chờ cán bộ" in waiting and "Cán bộ Lan của Bộ phận Một cửa đã nhận yêu cầu" in waiting

    assert post(client, f"/handoffs/{entry}/take").status_code == 303
    assert handoff_state.state(bridge, CITIZEN).claimed_by == "lan"  # type: ignore[union-attr]
    assert outbox(bridge) == ["Cán bộ Lan của Bộ phận Một cửa đã nhận yêu cầu của bạn và sẽ trả lời bạn ngay tại đây."]
    mine = card(client, entry)
    assert "lan đang phụ trách" in mine and f'action="/handoffs/{entry}/reply"' in mine

    assert post(client, f"/handoffs/{entry}/reply", text="  ").status_code == 303 and outbox(bridge) == []
    sent = post(client, f"/handoffs/{entry}/reply", text="Chị mang giấy chứng sinh\nvà CCCD 079203098765 của chị.")
    assert sent.status_code == 303
    assert outbox(bridge) == ["👩‍💼 Cán bộ Một cửa: Chị mang giấy chứng sinh\nvà CCCD 079203098765 của chị."]
    assert "Cán bộ:" in card(client, entry) and "079203098765" not in card(client, entry)

    asked = post(client, f"/handoffs/{entry}/done")
    assert asked.status_code == 200 and "Kết thúc hỗ trợ yêu cầu" in asked.text
    assert "Cuộc trò chuyện với cán bộ đã kết thúc" in asked.text, "the officer sees what the citizen will be told"
    assert bridge.in_handoff(CITIZEN) and outbox(bridge) == [], "nothing changes before it is confirmed"
    assert post(client, f"/handoffs/{entry}/done", confirmed="yes").status_code == 303
    assert not bridge.in_handoff(CITIZEN)
    (told,) = outbox(bridge)
    assert told and told.startswith("Cuộc trò chuyện với cán bộ đã kết thúc")
    closed = card(client, entry)
    assert "đã xong (lan)" in closed and "/reply" not in closed and "/take" not in closed

    rows = {e.action: e for e in audit.entries(engine(settings.db_url))}
    assert {"handoff.take", "handoff.reply", "handoff.done"} <= set(rows)
    assert "giấy chứng sinh" in rows["handoff.reply"].summary and "079203098765" not in rows["handoff.reply"].summary
    assert not any(rows[a].revertible for a in ("handoff.take", "handoff.reply", "handoff.done"))
    assert "Trả lời người dân" in client.get("/audit").text
    assert post(client, f"/handoffs/{entry}/reply", text="còn gì không?").status_code == 303
    assert outbox(bridge) == [], "a closed handoff takes no reply"
    app.state.db.dispose()


def test_only_the_officer_in_charge_replies_and_a_release_tells_the_citizen(settings: Settings, bridge: Store) -> None:
    client, _ = app_client(settings)
    add_staff(engine(settings.db_url), "hoa", "mat-khau-bien-tap-hoa", "editor")
    other = TestClient(client.app, base_url="http://testserver", follow_redirects=False)
    other.post("/login", data={"csrf": csrf_of(other, "/"), "username": "hoa", "password": "mat-khau-bien-tap-hoa"})
    entry = entry_id()
    post(client, f"/handoffs/{entry}/take")
    outbox(bridge)
    assert "lan đang phụ trách" in card(other, entry) and "/reply" not in card(other, entry)
    refused = post(other, f"/handoffs/{entry}/reply", text="để tôi trả lời")
    assert refused.status_code == 303 and outbox(bridge) == []
    assert "đang do lan phụ trách" in other.get("/handoffs").text
    assert post(other, f"/handoffs/{entry}/take").status_code == 303 and outbox(bridge) == []

    asked = post(client, f"/handoffs/{entry}/release")
    assert asked.status_code == 200 and "sẽ có cán bộ khác trả lời" in asked.text and outbox(bridge) == []
    assert post(client, f"/handoffs/{entry}/release", confirmed="yes").status_code == 303
    (told,) = outbox(bridge)
    assert told and told.startswith("Cán bộ Lan tạm thời chưa tiếp tục hỗ trợ bạn được")
    assert "đang chờ cán bộ" in card(other, entry)
    assert post(other, f"/handoffs/{entry}/take").status_code == 303
    assert handoff_state.state(bridge, CITIZEN).claimed_by == "hoa"  # type: ignore[union-attr]


def test_a_handoff_answered_in_the_group_shows_so_in_the_console(settings: Settings, bridge: Store) -> None:
    client, _ = app_client(settings)
    handoff_state.claim_for_group_reply(bridge, CITIZEN, "Nguyễn Văn Hùng (nhóm Telegram)")
    bridge.add_turn(CITIZEN, "staff", "Chào chị, em nghe ạ.")
    shown = card(client, entry_id())
    assert "Nguyễn Văn Hùng (nhóm Telegram) đang phụ trách" in shown and "Cán bộ:" in shown
    assert "Đang được trả lời trong nhóm cán bộ trên Telegram" in shown and "/take" not in shown
