"""wording.yml (settings/wording.py): the fixed texts the bridge, the REST channel and the answers read from it.

A text the code asks for and the file lacks stops the process at its start, naming the text and the file; never a
silent English, empty or stale text. That the texts are the ones sent is shown by the tests asserting exact
Vietnamese (tests/telegram, tests/actions/test_answers.py, tests/test_channel_guard.py), and that an edited file
changes what the bridge sends by tests/telegram/test_wording_file.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml

import settings
from settings import wording

ROOT = Path(__file__).resolve().parents[1]


def renamed_copy(tmp_path: Path, key: str) -> Path:
    """wording.yml with the text at `key` ("bridge.not_text") renamed, as a person editing it might."""
    data = yaml.safe_load((ROOT / "wording.yml").read_text(encoding="utf-8"))
    *sections, name = key.split(".")
    table = data
    for section in sections:
        table = table[section]
    table[f"{name}_old"] = table.pop(name)
    copy = tmp_path / "wording.yml"
    copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return copy


def python(code: list[str], wording_file: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MOCUA_WORDING_FILE": str(wording_file), **extra}
    return subprocess.run([sys.executable, *code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip


@pytest.mark.parametrize(
    ("module", "key"),
    [
        ("bot.handlers", "bridge.not_text"),  # the bridge
        ("bot.handoff_state", "handoff.citizen_claimed"),  # the bridge and the staff console
        ("channels.guard", "channel.too_long"),  # the Rasa server's REST channel
        ("actions.answers", "answers.fee_unknown"),  # the action server
        ("actions.answers", "answers.aspects.fee.heading"),
        ("actions.answers", "answers.case_question"),  # through actions/cases.py
        ("knowledge.records.facts", "answers.province_fee"),  # the action server, the console, the index build
        ("journal.callbacks", "journal.callback_kept"),
    ],
)
def test_a_renamed_text_stops_the_process_that_needs_it_at_its_start(tmp_path: Path, module: str, key: str) -> None:
    result = python(["-c", f"import {module}"], renamed_copy(tmp_path, key))
    assert result.returncode != 0, f"{module} started without «{key}»"
    assert "WordingError" in result.stderr
    assert f"«{key}» is missing" in result.stderr and str(tmp_path / "wording.yml") in result.stderr


def test_the_bridge_refuses_to_start_without_a_text_and_says_which(tmp_path: Path) -> None:
    nowhere = "http://127.0.0.1:9/bot"  # it must stop before asking any Bot API
    result = python(["-m", "bot"], renamed_copy(tmp_path, "bridge.too_long"), TELEGRAM_BOT_TOKEN="123:abc",
                    TELEGRAM_BASE_URL=nowhere, MOCUA_BOT_DB=str(tmp_path / "bot.db"))  # fmt: skip
    assert result.returncode == 2
    assert "Cannot start the Telegram bridge:" in result.stderr and "«bridge.too_long» is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_shipped_file_has_every_text_the_code_asks_for() -> None:
    result = python(["-c", "import bot.app, bot.handoff, channels.guard, actions.answers"], ROOT / "wording.yml")
    assert result.returncode == 0, result.stderr


def test_a_missing_text_raises_naming_the_key_and_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wording.yml"
    path.write_text('bridge:\n  flood: "Bạn gửi tin nhắn hơi nhanh."\n', encoding="utf-8")
    monkeypatch.setenv("MOCUA_WORDING_FILE", str(path))
    assert wording.text("bridge.flood") == "Bạn gửi tin nhắn hơi nhanh."
    with pytest.raises(wording.WordingError, match=f"{path}: the text «bridge.not_text» is missing"):
        wording.text("bridge.not_text")


@pytest.mark.parametrize("body", ['bridge:\n  flood: ""\n', "bridge:\n  flood:\n", "bridge:\n  flood: [a, b]\n",
                                  "- a list\n", "bridge: {flood: 'unclosed\n"])  # fmt: skip
def test_an_empty_or_malformed_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    path = tmp_path / "wording.yml"
    path.write_text(body, encoding="utf-8")
    monkeypatch.setenv("MOCUA_WORDING_FILE", str(path))
    with pytest.raises(wording.WordingError, match=str(path)):
        wording.text("bridge.flood")


def test_texts_are_read_in_nfc_whatever_the_editor_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wording.yml"
    decomposed = unicodedata.normalize("NFD", "Bạn gửi tin nhắn hơi nhanh.")
    path.write_text(f'bridge:\n  flood: "{decomposed}"\n', encoding="utf-8")
    monkeypatch.setenv("MOCUA_WORDING_FILE", str(path))
    assert wording.text("bridge.flood") == unicodedata.normalize("NFC", decomposed) != decomposed


def test_the_shipped_file_is_the_default_and_every_text_is_nfc() -> None:
    assert settings.current().wording_file == ROOT / "wording.yml"
    raw = (ROOT / "wording.yml").read_text(encoding="utf-8")
    assert raw == unicodedata.normalize("NFC", raw)
