"""The conversations page as staff use it to find one conversation: each row shows the citizen's first question
(masked) and what went wrong in it (unanswered, 👎, handoff); words, a day written dd/mm/yyyy and a marker narrow
the list; pages keep the search. The app in-process, on a tracker and a journal seeded as Rasa and the action server
write them."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import journal
import journal.store
from console.config import Settings
from console.dashboard import VIETNAM
from journal.tracker import events
from tests.console.support import app_client

DAY_ONE = dt.datetime(2026, 11, 27, 9, 30, tzinfo=VIETNAM)
DAY_TWO = dt.datetime(2026, 11, 28, 23, 30, tzinfo=VIETNAM)  # 16:30 UTC: still the 28th in Vietnam

# sender, when, what the citizen typed (first message first), journal rows (kind, question, value)
CONVERSATIONS = (
    ("birth", DAY_ONE, ["/start", "làm giấy khai sinh cho con ở đâu"],
     [("answered", "làm giấy khai sinh cho con ở đâu", None), ("feedback", None, "up")]),
    ("fee", DAY_ONE, ["mua BHYT hộ gia đình hết bao nhiêu tiền, sđt 0912 345 678"],
     [("answered", "mua BHYT hộ gia đình hết bao nhiêu tiền, sđt 0912 345 678", None), ("feedback", None, "down")]),
    ("lost", DAY_TWO, ["xin giấy chào đời cho con", "/request_human"],
     [("unanswered", "xin giấy chào đời cho con", None), ("handoff", "xin giấy chào đời cho con", None)]),
    ("hello", DAY_TWO, ["xin chào"], []),
)


def _seed(tracker_url: str) -> None:
    tracker = sa.create_engine(tracker_url)
    events.metadata.create_all(tracker)
    with tracker.begin() as con:
        for sender, when, texts, rows in CONVERSATIONS:
            for n, text in enumerate(texts):
                stamp = when.timestamp() + 2 * n
                con.execute(events.insert().values(sender_id=sender, type_name="user", timestamp=stamp,
                                                   data=json.dumps({"event": "user", "text": text})))  # fmt: skip
                con.execute(events.insert().values(sender_id=sender, type_name="bot", timestamp=stamp + 1,
                                                   data=json.dumps({"event": "bot", "text": "Dạ."})))  # fmt: skip
            for kind, question, value in rows:
                journal.record(kind, sender=sender, question=question, value=value)
    tracker.dispose()


@pytest.fixture
def listed(settings: Settings, tmp_path: Path, monkeypatch) -> Iterator:
    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    monkeypatch.delenv("MOCUA_JOURNAL_URL", raising=False)
    _seed(settings.tracker_url)
    client, _ = app_client(settings)

    def rows(**query: str) -> list[str]:
        page = client.get("/conversations", params=query)
        assert page.status_code == 200
        body = page.text.split('<tbody>', 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page.text else ""
        return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("<tr>")[1:]]

    yield rows, client
    client.close()
    journal.store.dispose()


def keys(rows: list[str]) -> set[str]:
    return {row.split(" mã ", 1)[1].split(" ", 1)[0] for row in rows}


def key_of(sender: str) -> str:
    return journal.hash_sender(sender) or ""


def test_each_conversation_shows_its_first_question_masked_and_its_markers(listed) -> None:
    rows, _ = listed
    found = {row.split(" mã ", 1)[1].split(" ", 1)[0]: row for row in rows()}
    assert found[key_of("birth")].startswith("làm giấy khai sinh cho con ở đâu")  # not «/start»
    fee = found[key_of("fee")]
    assert fee.startswith("mua BHYT hộ gia đình hết bao nhiêu tiền") and "0912" not in fee and "345 678" not in fee
    assert "Bị đánh giá 👎" in fee and "Chưa trả lời được" not in fee
    lost = found[key_of("lost")]
    assert "Chưa trả lời được" in lost and "Nhờ gặp cán bộ" in lost and "👎" not in lost
    assert found[key_of("hello")].startswith("xin chào")  # nothing in the journal: the first message typed
    assert "Bị đánh giá" not in found[key_of("birth")] and "Nhờ gặp" not in found[key_of("birth")]
    assert list(found)[:2] in ([key_of("lost"), key_of("hello")], [key_of("hello"), key_of("lost")])  # latest first


def test_words_find_a_conversation_however_the_citizen_spelled_them(listed) -> None:
    rows, _ = listed
    assert keys(rows(q="khai sinh")) == {key_of("birth")}
    assert keys(rows(q="KHAI SINH")) == {key_of("birth")}
    assert keys(rows(q="bảo hiểm y tế")) == {key_of("fee")}, "BHYT as the citizen wrote it"
    assert keys(rows(q="chào đời")) == {key_of("lost")}
    assert keys(rows(q="cho con")) == {key_of("birth"), key_of("lost")}
    assert keys(rows(q="khai")) == {key_of("birth")} and rows(q="kha") == [], "whole words, not parts of them"
    assert rows(q="hộ chiếu") == []


def test_a_day_written_dd_mm_yyyy_finds_that_days_conversations_in_vietnam_time(listed) -> None:
    rows, client = listed
    assert keys(rows(day="27/11/2026")) == {key_of("birth"), key_of("fee")}
    assert keys(rows(day="28/11/2026")) == {key_of("lost"), key_of("hello")}
    assert rows(day="29/11/2026") == []
    assert keys(rows(day="27/11/2026", q="khai sinh")) == {key_of("birth")}
    wrong = client.get("/conversations", params={"day": "2026-11-27"}).text
    assert "Ngày cần viết dạng ngày/tháng/năm, ví dụ 27/11/2026." in wrong
    assert "Không có ngày 31/11/2026" in client.get("/conversations", params={"day": "31/11/2026"}).text


def test_a_marker_filters_the_list(listed) -> None:
    rows, _ = listed
    assert keys(rows(marker="down")) == {key_of("fee")}
    assert keys(rows(marker="handoff")) == {key_of("lost")}
    assert keys(rows(marker="unanswered")) == {key_of("lost")}
    assert keys(rows(marker="unanswered", q="khai sinh")) == set()
    assert len(rows(marker="nonsense")) == 4  # an unknown marker is no filter


def test_pages_keep_the_search(listed, monkeypatch) -> None:
    rows, client = listed
    monkeypatch.setattr("console.routes.conversations.CONVERSATIONS_PER_PAGE", 1)
    first = client.get("/conversations", params={"day": "27/11/2026"}).text
    assert 'href="/conversations?q=&amp;day=27%2F11%2F2026&amp;marker=&amp;page_no=2"' in first
    second = rows(day="27/11/2026", page_no="2")
    assert len(second) == 1 and keys(second) | keys(rows(day="27/11/2026", page_no="1")) == {
        key_of("birth"), key_of("fee")}  # fmt: skip


def test_a_transcript_shows_a_button_pressed_in_words_not_its_command(listed) -> None:
    _, client = listed
    transcript = client.get(f"/conversations/{key_of('lost')}").text
    assert "(bấm một nút)" in transcript and "/request_human" not in transcript
    assert "xin giấy chào đời cho con" in transcript
    assert "/start" not in client.get(f"/conversations/{key_of('birth')}").text
