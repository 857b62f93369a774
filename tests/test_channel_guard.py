"""channels.guard, the checks of our REST channel, as pure functions (the channel itself runs inside Rasa and is
exercised over HTTP in tests/e2e/test_rest_guard.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from actions import answers, cases
from channels.guard import MAX_MESSAGE_CHARS, Rejected, checked_payload, read_request

ROOT = Path(__file__).resolve().parent.parent
_PAYLOAD_LITERAL = re.compile(r"""["']payload["']\s*:\s*(?P<quote>["'])(?P<payload>/.*?)(?P=quote)""")


def request(body: object) -> bytes:
    return json.dumps(body).encode()


def bot_button_payloads() -> set[str]:
    """Every payload a button of ours can carry: the literal ones written in the actions and in domain.yml's
    responses, every aspect, and the choice of every record."""
    payloads = {m.group("payload") for path in ROOT.glob("actions/*.py") for m in _PAYLOAD_LITERAL.finditer(
        path.read_text(encoding="utf-8"))}  # fmt: skip
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for variations in domain.get("responses", {}).values():
        payloads |= {button["payload"] for variation in variations for button in variation.get("buttons", [])}
    payloads |= {f"/{aspect.intent}" for aspect in answers.ASPECTS.values()}
    payloads |= {answers.more_button(key, page)["payload"] for key in answers.ASPECTS for page in (1, 9)}
    payloads.add(answers.choose_payload("1.014064"))  # an official record, named by its code
    payloads |= {cases.case_payload(number) for number in (0, 1, 12)}  # a case, by its number ("0": another)
    records = [*ROOT.glob("knowledge/data/procedures/*.yml"), *ROOT.glob("knowledge/data/guides/*.md")]
    assert records and "/request_human" in payloads and '/feedback{"feedback":"down"}' in payloads
    return payloads | {answers.choose_payload(path.stem) for path in records}


def test_every_button_of_the_bot_is_accepted_as_a_payload() -> None:
    for payload in sorted(bot_button_payloads()) + ["/restart"]:
        assert checked_payload(payload) == payload


@pytest.mark.parametrize(
    "payload",
    [
        "/greet",  # an intent, but no button of ours sends it
        '/request_human{"x":1}',  # entities its button never carries
        '/choose_procedure{"procedure_id":"khai-sinh","aspect":"fee"}',
        '/feedback{"feedback":"very bad"}',
        "/ask_fee@0.99",  # Rasa's confidence syntax
        "/choose_procedure{not json}",
        "ask_fee",
        42,
    ],
)
def test_payloads_no_button_sends_are_refused(payload: object) -> None:
    with pytest.raises(Rejected) as refused:
        checked_payload(payload)
    assert refused.value.status == 400


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"", b"null", b"42", b"{not json"])
def test_a_body_that_is_not_a_json_object_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(Rejected) as refused:
        read_request(body, "application/json")
    assert refused.value.status == 400


@pytest.mark.parametrize("sender", [None, "", "   ", 5, "x" * 129])
def test_a_missing_or_empty_sender_is_a_bad_request(sender: object) -> None:
    body = {"message": "xin chào"} | ({} if sender is None else {"sender": sender})
    with pytest.raises(Rejected) as refused:
        read_request(request(body), "application/json")
    assert refused.value.status == 400


def test_plain_text_and_form_posts_are_refused() -> None:
    body = request({"sender": "u1", "message": "xin chào"})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        with pytest.raises(Rejected) as refused:
            read_request(body, content_type)
        assert refused.value.status == 415
    assert read_request(body, "application/json; charset=utf-8").text == "xin chào"


def test_typed_text_is_masked_and_never_an_intent() -> None:
    incoming = read_request(request({"sender": "u1", "message": ' /request_human{"x":1} gọi 0912 345 222'}),
                            "application/json")  # fmt: skip
    assert incoming.text == 'request_human{"x":1} gọi **********'


def test_an_over_long_message_is_measured_not_read() -> None:
    incoming = read_request(request({"sender": "u1", "message": "a" * (MAX_MESSAGE_CHARS + 1)}), "application/json")
    assert incoming.too_long == MAX_MESSAGE_CHARS + 1 and incoming.text == ""
    assert read_request(request({"sender": "u1", "message": "a" * MAX_MESSAGE_CHARS}), "application/json").too_long == 0


@pytest.mark.parametrize("body", [{"sender": "u1"}, {"sender": "u1", "message": "a", "payload": "/ask_fee"},
                                  {"sender": "u1", "message": "  "}, {"sender": "u1", "message": 5}])  # fmt: skip
def test_exactly_one_non_empty_message_or_payload(body: dict) -> None:
    with pytest.raises(Rejected):
        read_request(request(body), "application/json")
