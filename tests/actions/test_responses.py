"""Fixed replies live in domain.yml `responses`; the actions name them. Both sides must agree."""

from __future__ import annotations

import re
import string
import unicodedata
from pathlib import Path

import yaml

from actions import answers

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RESPONSES: dict[str, list[dict]] = DOMAIN["responses"]
ACTION_SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
DIALOGUE_DATA = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "data").rglob("*.yml"))


def names_in_actions() -> set[str]:
    return set(re.findall(r'"(utter_[a-z_]+)"', ACTION_SOURCES))


def test_every_response_an_action_sends_is_in_the_domain() -> None:
    assert names_in_actions() - set(RESPONSES) == set()
    assert {"utter_ask_rephrase", "utter_offer_human", "utter_handoff", "utter_out_of_scope", "utter_restart",
            "utter_feedback_thanks", "utter_feedback_sorry", "utter_help"} <= names_in_actions()


def test_every_response_is_used_by_a_rule_a_story_or_an_action() -> None:
    unused = {name for name in RESPONSES if name not in names_in_actions() and name not in DIALOGUE_DATA}
    assert unused == set()


def test_responses_are_vietnamese_in_nfc_without_markdown() -> None:
    for name, variations in RESPONSES.items():
        for variation in variations:
            text = variation["text"]
            assert unicodedata.normalize("NFC", text) == text, name
            plain = re.sub(r"\{\w+\}", "", text)  # variables are filled in
            assert not re.search(r"[*_`]", plain), f"{name}: the bridge sends plain text"
            assert any(unicodedata.decomposition(ch) for ch in text), f"{name}: Vietnamese with diacritics"


def test_variables_of_a_response_are_the_ones_its_action_fills() -> None:
    reply = answers.help_reply(3, ["hộ tịch"], [("ho-tich-khai-sinh", "Đăng ký khai sinh")])
    for variation in RESPONSES["utter_help"]:
        used = {field for _, field, _, _ in string.Formatter().parse(variation["text"]) if field}
        assert used == set(reply.variables)
    for name in set(RESPONSES) - {"utter_help"}:
        assert all("{" not in v["text"] for v in RESPONSES[name]), f"{name} has a variable no action fills"


def test_offers_of_a_person_carry_yes_and_no_buttons() -> None:
    for name in ("utter_offer_human", "utter_feedback_sorry"):
        payloads = [b["payload"] for v in RESPONSES[name] for b in v["buttons"]]
        assert payloads == [answers.HUMAN_BUTTON["payload"], "/deny"]
