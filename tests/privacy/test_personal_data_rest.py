"""A citizen's callback number and deletion request over the REST channel, on the real Rasa and action servers
(the session `stack`): what the citizen reads, and what the tracker (Rasa's HTTP API and its database), the journal
and the callback table hold afterwards."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from journal import callbacks
from scripts.stack import Stack
from tests.privacy.support import (
    journal_rows,
    numbers_kept,
    raw_anywhere,
    read_stack_journal,
    sender,
    texts,
    tracker_events,
    tracker_rows,
)

pytestmark = pytest.mark.stack


@pytest.fixture
def stack_journal(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    read_stack_journal(stack, monkeypatch)
    return stack


BIRTH_QUESTION = "con mới sinh làm giấy khai sinh ở đâu"


def test_a_number_given_for_a_callback_is_kept_for_the_handoff_encrypted_and_the_citizen_told(
    say, stack_journal: Stack
) -> None:
    stack, citizen = stack_journal, sender("callback")
    asked = say("cho tôi gặp cán bộ, số tôi 0912 345 670", sender=citizen)
    assert any("chuyển câu hỏi của bạn đến cán bộ" in t for t in texts(asked)), asked
    notice = next(t for t in texts(asked) if "số điện thoại" in t)
    assert "gọi lại" in notice and "7 ngày" in notice
    later = say("hoặc gọi số 0987.654.321 giúp tôi", sender=citizen)
    assert any("7 ngày" in t for t in texts(later)), "a number while the request is open is kept too"

    assert numbers_kept(citizen) == ["0912345670", "0987654321"]
    users = [e.get("text") or "" for e in tracker_events(stack, citizen) if e.get("event") == "user"]
    assert users and all("0912" not in t and "0987" not in t for t in users), "Rasa only ever has them masked"

    say("/restart", sender=citizen, payload=True)
    after = say("lệ phí khai sinh bao nhiêu, số tôi 0911 222 333", sender=citizen)
    assert not any("7 ngày" in t for t in texts(after)), "no request open after a restart: nothing kept"
    assert numbers_kept(citizen) == ["0912345670", "0987654321"]
    spellings = ("0912345670", "0912 345 670", "0987654321", "0987.654.321", "0911222333", "0911 222 333")
    assert raw_anywhere(stack.var_dir, *spellings) == [], "no database, log or file holds a raw number"


def test_a_number_without_a_request_for_a_person_is_not_kept(say, stack_journal: Stack) -> None:
    citizen = sender("no-callback")
    replies = say("lệ phí làm căn cước, số tôi 0912 345 671", sender=citizen)
    assert not any("7 ngày" in t for t in texts(replies))
    assert callbacks.open_request(citizen) is None


def test_a_citizen_deletes_their_data_after_confirming_and_others_keep_theirs(say, stack_journal: Stack) -> None:
    stack, leaving, staying = stack_journal, sender("forget"), sender("stay")
    for who in (leaving, staying):
        say(BIRTH_QUESTION, sender=who)
        say("cho tôi gặp cán bộ, số tôi 0912 345 672", sender=who)
    assert journal_rows(leaving) >= 2 and tracker_rows(stack, leaving) > 0

    asked = say("xóa dữ liệu của tôi", sender=leaving)
    buttons = {b["title"]: b["payload"] for r in asked for b in r.get("buttons") or []}
    assert buttons == {"Đồng ý xóa": "/confirm_forget", "Không": "/cancel_forget"}, asked
    assert journal_rows(leaving) >= 2, "nothing is deleted before the citizen confirms"

    done = say(buttons["Đồng ý xóa"], sender=leaving, payload=True)
    assert any("Đã xóa toàn bộ dữ liệu của bạn" in t for t in texts(done)), done

    assert tracker_rows(stack, leaving) == 0, "the tracker database holds nothing of the citizen"
    assert journal_rows(leaving) == 0
    assert callbacks.open_request(leaving) is None
    assert not [e for e in tracker_events(stack, leaving) if e.get("event") in ("user", "bot")]
    assert tracker_rows(stack, staying) > 0 and journal_rows(staying) >= 2
    assert [e for e in tracker_events(stack, staying) if e.get("event") == "user"]
    assert numbers_kept(staying) == ["0912345672"]


def test_saying_no_to_the_deletion_keeps_everything(say, stack_journal: Stack) -> None:
    stack, citizen = stack_journal, sender("keep")
    say(BIRTH_QUESTION, sender=citizen)
    say("xoa du lieu cua toi", sender=citizen)
    kept = say("/cancel_forget", sender=citizen, payload=True)
    assert any("giữ nguyên dữ liệu" in t for t in texts(kept)), kept
    assert journal_rows(citizen) >= 1 and tracker_rows(stack, citizen) > 0


def test_rasas_action_secret_opens_the_two_privacy_paths_of_the_admin_api_and_nothing_else(stack: Stack) -> None:
    """The REST channel keeps numbers and deletes with the secret Rasa holds anyway, never the admin token."""

    def call(path: str, headers: dict[str, str], body: dict | None = None) -> int:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{stack.action_url}{path}", data=data, method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json", **headers})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    rasa = {"X-Action-Secret": stack.secrets["ACTION_SERVER_SECRET"]}
    assert call("/admin/forget", rasa, {"sender": sender("nobody")}) == 200
    assert call("/admin/callback-numbers", rasa, {"sender": sender("nobody"), "text": "0912 345 674"}) == 200
    assert call("/admin/stats", rasa) == 401, "the action secret opens nothing else of the admin API"
    assert call("/admin/forget", {}, {"sender": sender("nobody")}) == 401
    assert call("/admin/forget", {"X-Action-Secret": "wrong"}, {"sender": sender("nobody")}) == 401
