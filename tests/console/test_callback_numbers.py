"""A citizen's callback number, from Telegram to the one officer who takes the handoff, and the staff's deletion of a
citizen's data: Bot API emulator -> bridge -> real Rasa and action servers, then the real console (`python -m
console`) over HTTP, as staff use it."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest
import sqlalchemy as sa

import journal
from journal import callbacks
from scripts.stack import APP_PYTHON, ROOT
from tests.console.support import Console, csrf_of
from tests.privacy.support import journal_rows, raw_anywhere, read_stack_journal, tracker_events, tracker_rows
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import STAFF_CHAT, StartBridge, emulator, start_bridge  # noqa: F401 - fixtures

pytestmark = pytest.mark.stack

CITIZEN = 82001
NUMBER, TYPED = "0912345673", "0912 345 673"
SECOND_EDITOR, SECOND_PASSWORD = "hoa", "mat-khau-bien-tap-hoa-4"


def signed_in(console: Console, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=console.url, follow_redirects=False, timeout=60)
    answer = client.post("/login", data={"csrf": csrf_of(client, "/"), "username": username, "password": password})
    assert answer.status_code == 303, answer.text
    return client


def second_editor(console: Console) -> httpx.Client:
    made = subprocess.run([str(APP_PYTHON), "-m", "console", "staff-add", SECOND_EDITOR, "--role", "editor"], cwd=ROOT,
                          env=console.env | {"STAFF_PASSWORD": SECOND_PASSWORD}, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    return signed_in(console, SECOND_EDITOR, SECOND_PASSWORD)


def handoff_row(client: httpx.Client, entry: int) -> str:
    page = client.get("/handoffs")
    assert page.status_code == 200
    return handoff_row_of(page.text, entry)


def handoff_row_of(page: str, entry: int) -> str:
    found = re.search(rf'<article[^>]*id="handoff-{entry}".*?</article>', page, re.S)
    assert found, f"handoff #{entry} is not on the page"
    return found.group(0)


def post(client: httpx.Client, path: str, **data: str) -> httpx.Response:
    return client.post(path, data={"csrf": csrf_of(client, "/handoffs"), **data})


def audit_rows(console: Console, action: str) -> list[sa.Row]:
    with sa.create_engine(console.env["MOCUA_CONSOLE_DB_URL"]).connect() as con:
        return list(con.execute(sa.text("SELECT * FROM audit WHERE action = :a ORDER BY id"), {"a": action}))


def test_the_callback_number_reaches_only_the_officer_who_took_the_handoff(
    emulator: BotApiEmulator, stack, start_bridge: StartBridge, console: Console,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    read_stack_journal(stack, monkeypatch)
    bridge = start_bridge(stack.rasa_url, ACTION_ADMIN_URL=stack.action_url, MOCUA_BOT_DB=console.env["MOCUA_BOT_DB"],
                          ADMIN_API_TOKEN=stack.secrets["ADMIN_API_TOKEN"])  # fmt: skip
    emulator.send_text(CITIZEN, "tôi muốn gặp cán bộ")
    emulator.wait_for_text(STAFF_CHAT, "Yêu cầu gặp cán bộ", timeout=60)
    emulator.wait_quiet(CITIZEN)
    emulator.send_text(CITIZEN, f"số tôi {TYPED}, cán bộ gọi lại giúp tôi")
    notice = emulator.wait_for_text(CITIZEN, "số điện thoại", timeout=30)
    assert "gọi lại" in notice["text"] and "7 ngày" in notice["text"]
    relayed = emulator.wait_for_text(STAFF_CHAT, "cán bộ gọi lại giúp tôi", timeout=30)
    assert "**********" in relayed["text"]
    hint = emulator.wait_for_text(STAFF_CHAT, "Hiện số gọi lại", timeout=30)
    assert f"chat {CITIZEN}" in hint["text"], "the group learns a number waits in the console, for whoever takes it"
    assert not [m for m in emulator.sent(STAFF_CHAT) if NUMBER in m["text"] or TYPED in m["text"]], \
        "the staff group sees the number masked"  # fmt: skip

    entry = callbacks.open_request(str(CITIZEN))
    assert entry is not None

    lan, other, viewer = console.client("lan"), second_editor(console), console.client("minh")
    row = handoff_row(lan, entry)
    assert "Hiện số gọi lại" not in row and NUMBER not in row, "nobody sees it before taking the request"
    assert post(lan, f"/handoffs/{entry}/callback").status_code == 403
    assert post(lan, f"/handoffs/{entry}/take").status_code == 303
    assert "Hiện số gọi lại" in handoff_row(lan, entry)

    assert "Hiện số gọi lại" not in handoff_row(other, entry), "another editor gets no button"
    assert post(other, f"/handoffs/{entry}/callback").status_code == 403
    assert post(viewer, f"/handoffs/{entry}/callback").status_code == 403
    assert audit_rows(console, "handoff.callback_reveal") == [], "refused looks reveal nothing, record nothing"

    shown = post(lan, f"/handoffs/{entry}/callback")
    assert shown.status_code == 200 and NUMBER in handoff_row_of(shown.text, entry)
    assert NUMBER not in lan.get("/handoffs").text, "shown on request, never on the page itself"
    for client in (other, viewer):
        assert NUMBER not in client.get("/handoffs").text

    (reveal,) = audit_rows(console, "handoff.callback_reveal")
    assert reveal.username == "lan" and reveal.target == f"handoff #{entry}" and reveal.ts
    assert NUMBER not in " ".join(str(value) for value in reveal), "the audit log says who, when, which: no number"
    assert "Xem số gọi lại" in lan.get("/audit").text

    spellings = (NUMBER, TYPED)
    assert raw_anywhere(stack.var_dir, *spellings) == [], "tracker, journal, console: no raw number"
    assert raw_anywhere(bridge.log_path.parent, *spellings) == [], "the bridge's store and log: no raw number"


def test_staff_delete_a_citizens_data_from_the_console_and_it_is_audited(
    console: Console, stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scripts.chat import send

    read_stack_journal(stack, monkeypatch)
    leaving, staying = "console-forget-82301", "console-stay-82302"
    for who in (leaving, staying):
        send(stack.rasa_url, who, "làm giấy khai sinh cho con ở đâu", 60.0)
    lan, viewer = console.client("lan"), console.client("minh")
    form = lan.get("/conversations").text
    assert 'action="/conversations/forget"' in form and 'action="/conversations/forget"' not in viewer.get(
        "/conversations").text  # fmt: skip

    assert post(viewer, "/conversations/forget", chat=leaving, confirm="yes").status_code == 403
    assert post(lan, "/conversations/forget", chat=leaving).status_code == 303, "without the confirmation box"
    assert tracker_rows(stack, leaving) and journal_rows(leaving), "nothing deleted without confirming"

    assert post(lan, "/conversations/forget", chat=leaving, confirm="yes").status_code == 303
    assert tracker_rows(stack, leaving) == 0 and journal_rows(leaving) == 0
    assert not [e for e in tracker_events(stack, leaving) if e.get("event") in ("user", "bot")]
    assert tracker_rows(stack, staying) and journal_rows(staying), "another citizen keeps their data"
    (deletion,) = [r for r in audit_rows(console, "privacy.forget") if journal.hash_sender(leaving) in r.target]
    assert deletion.username == "lan" and leaving not in deletion.summary and "Xóa dữ liệu" in deletion.summary
