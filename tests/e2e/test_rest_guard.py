"""What the REST channel (channels/rest.py) refuses or neutralises, over real HTTP against the real Rasa and action
servers: over-long messages, malformed bodies, senderless requests, cross-site plain-text posts, typed intents,
personal numbers — and numbers in a question no longer change the answer."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

from channels.guard import MAX_MESSAGE_CHARS
from scripts.stack import ROOT, Stack
from tests.helpers import reply_text

pytestmark = pytest.mark.stack


def post(stack: Stack, body: bytes, content_type: str = "application/json") -> tuple[int, object]:
    request = urllib.request.Request(f"{stack.rasa_url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": content_type})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def user_events(stack: Stack, sender: str) -> list[dict]:
    with urllib.request.urlopen(stack.api(f"/conversations/{sender}/tracker"), timeout=30) as response:
        return [e for e in json.load(response)["events"] if e["event"] == "user"]


def new_sender() -> str:
    return f"guard-{uuid.uuid4().hex[:10]}"


def test_a_huge_message_gets_a_polite_refusal_and_others_are_still_answered(stack: Stack, say) -> None:
    # 100,000 characters used to grow Rasa by gigabytes until the kernel killed it, with everyone's conversations.
    sender = new_sender()
    status, replies = post(stack, json.dumps({"sender": sender, "message": "làm giấy khai sinh " * 5_300}).encode())
    assert status == 200
    assert "dài quá" in reply_text(replies) and "2.000" in reply_text(replies)  # type: ignore[arg-type]
    assert user_events(stack, sender) == [], "refused without reading it: nothing reached NLU or the tracker"
    assert "khai sinh" in reply_text(say("con mới sinh làm giấy khai sinh ở đâu")).lower()


def test_a_message_at_the_limit_is_answered(say) -> None:
    question = "làm giấy khai sinh cho con ở đâu. "
    text = (question * (MAX_MESSAGE_CHARS // len(question) + 1))[:MAX_MESSAGE_CHARS]
    assert "dài quá" not in reply_text(say(text))


def test_the_nlu_api_cuts_a_huge_text_instead_of_blowing_up(stack: Stack) -> None:
    body = json.dumps({"text": "khai sinh " * 10_000}).encode()
    request = urllib.request.Request(stack.api("/model/parse"), data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        parsed = json.load(response)
    assert len(parsed["text"]) <= MAX_MESSAGE_CHARS


@pytest.mark.parametrize("body", [b"[]", b'"xin chao"', b"", b"null", b"{not json"])
def test_a_body_that_is_not_a_json_object_is_a_400_not_a_500(stack: Stack, body: bytes) -> None:
    assert post(stack, body)[0] == 400


@pytest.mark.parametrize("body", [{"message": "xin chào"}, {"sender": "", "message": "xin chào"},
                                  {"sender": "   ", "message": "xin chào"}])  # fmt: skip
def test_a_request_without_a_sender_is_refused_not_put_in_a_shared_conversation(stack: Stack, body: dict) -> None:
    assert post(stack, json.dumps(body).encode())[0] == 400
    assert user_events(stack, "default") == []


def test_a_plain_text_post_from_a_foreign_page_is_refused(stack: Stack) -> None:
    # A web page can make a visitor's browser POST text/plain anywhere without asking; JSON needs a CORS preflight.
    sender = new_sender()
    body = json.dumps({"sender": sender, "message": "tôi muốn gặp cán bộ"}).encode()
    assert post(stack, body, "text/plain")[0] == 415
    assert user_events(stack, sender) == []


def test_a_typed_intent_is_text_and_only_button_payloads_are_intents(stack: Stack, say) -> None:
    sender = new_sender()
    replies = say(' /request_human{"x":1}', sender=sender)
    assert not any(reply.get("custom", {}).get("handoff") for reply in replies), "typed text opened a handoff"
    (typed,) = user_events(stack, sender)
    assert typed["parse_data"]["intent"]["name"] != "request_human"
    assert not typed["text"].startswith("/")

    pressed = say("/request_human", sender=sender, payload=True)
    assert any(reply.get("custom", {}).get("handoff") for reply in pressed), "the button still works"
    status, _ = post(stack, json.dumps({"sender": sender, "payload": "/greet"}).encode())
    assert status == 400, "a payload no button of ours sends"


def test_personal_numbers_never_reach_the_stored_conversation(stack: Stack, say) -> None:
    sender = new_sender()
    numbers = ("001203004567", "0912345678", "000.00.26.H34-250101-0001")
    say(f"tôi cccd {numbers[0]}, sđt {numbers[1]}, hồ sơ {numbers[2]} muốn làm hộ chiếu", sender=sender)
    stored = json.dumps(user_events(stack, sender), ensure_ascii=False)
    assert "hộ chiếu" in stored
    assert not [n for n in numbers if n in stored]
    database = stack.environment()["TRACKER_DB_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        rows = " ".join(str(row) for row in db.execute("SELECT data FROM events WHERE sender_id = ?", (sender,)))
    assert rows and not [n for n in numbers if n in rows]


@pytest.mark.parametrize(
    ("question", "with_number"),
    [
        ("lệ phí khai sinh", "lệ phí khai sinh, gọi tôi 0912 345 222"),
        ("đăng ký tạm trú", "đăng ký tạm trú, sđt 0912-345-999"),
        ("làm hộ chiếu cần gì", "làm hộ chiếu cần gì, cccd 001203004567"),
        ("đăng ký kết hôn ở đâu", "đăng ký kết hôn ở đâu? liên hệ +84 987 654 321"),
        ("lam can cuoc can gi", "lam can cuoc can gi sdt 0987.654.321"),
        ("tra cứu hồ sơ", "tra cứu hồ sơ mã 000.00.26.H34-250101-0001"),
    ],
)
def test_a_number_in_the_message_does_not_change_the_answer(say, question: str, with_number: str) -> None:
    assert same_reply(say(with_number)) == same_reply(say(question))


def same_reply(replies: list[dict]) -> list[str]:
    """Each message's text, or the name of the domain response it is one wording of (Rasa picks a wording at
    random among a response's variations: two wordings of one response are the same reply)."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    wording = {v["text"]: name for name, variants in domain["responses"].items() for v in variants if "text" in v}
    return [wording.get(r.get("text", ""), r.get("text", "")) for r in replies]
