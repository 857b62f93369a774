"""nlu_components.vietnamese runs inside the Rasa env (Python 3.10): exercised there through a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv/rasa/bin/python"

SCRIPT = """
import json, sys
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu_components.vietnamese import VietnameseNormalizer
texts = json.loads(sys.stdin.read())
component = VietnameseNormalizer()
live = component.process([Message(data={"text": t}) for t in texts])
train = component.process_training_data(TrainingData([Message(data={"text": t, "intent": "x"}) for t in texts]))
print(json.dumps({
    "fingerprint": VietnameseNormalizer.fingerprint_addon({}),
    "live": [[m.get("text"), m.get("text_original"), m.as_dict(only_output_properties=True).get("text_original")]
             for m in live],
    "train": [m.get("text") for m in train.training_examples],
}))
"""


def run_component(texts: list[str], vocabulary: Path | None = None) -> dict:
    if not RASA_PYTHON.exists():
        pytest.fail("the Rasa environment is missing: run `make setup`")
    env = {**os.environ, **({"MOCUA_VOCABULARY_DIR": str(vocabulary)} if vocabulary else {})}
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", SCRIPT], input=json.dumps(texts), cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_accented_unaccented_nfd_and_teen_code_featurise_identically() -> None:
    nfd = unicodedata.normalize("NFD", "Tôi bị mất căn cước, làm lại có mất phí không")
    out = run_component([
        "Tôi bị mất căn cước, làm lại có mất phí không",
        "toi bi mat can cuoc, lam lai co mat phi khong",
        nfd,
        "toi bi mat cccd, lam lai co mat phi ko",
    ])
    normalised = [row[0] for row in out["live"]]
    assert normalised[:3] == ["toi bi mat can cuoc, lam lai co mat phi khong"] * 3
    assert normalised[3] == "toi bi mat can cuoc cong dan, lam lai co mat phi khong"
    assert out["train"] == normalised  # training and inference see the same text


def test_i_and_y_spellings_are_one() -> None:
    rows = run_component(["đăng kí lí lịch tư pháp", "đăng ký lý lịch tư pháp", "tay quay"])["live"]
    assert rows[0][0] == rows[1][0] == "dang ki li lich tu phap"
    assert rows[2][0] == "tay quay"  # y after a vowel stays


def test_original_text_is_kept_in_nfc_for_the_actions() -> None:
    nfd = unicodedata.normalize("NFD", "Lệ phí  làm hộ chiếu")
    (row,) = run_component([nfd])["live"]
    assert row[0] == "le phi lam ho chieu"
    assert row[1] == row[2] == "Lệ phí làm hộ chiếu"
    assert row[1] == unicodedata.normalize("NFC", row[1])


def test_typed_thumbs_become_words() -> None:
    rows = run_component(["👍", "👎"])["live"]
    assert [r[0] for r in rows] == ["huu ich", "khong huu ich"]
    assert [r[1] for r in rows] == ["👍", "👎"]


def test_button_payloads_pass_untouched() -> None:
    payload = '/choose_procedure{"procedure_id":"ho-tich-khai-sinh"}'
    (row,) = run_component([payload])["live"]
    assert row == [payload, None, None]


def test_a_new_abbreviation_in_the_vocabulary_is_read_and_retrains_the_model(tmp_path: Path) -> None:
    """Staff add a line to abbreviations.yml; no Python changes. The normaliser spells it out, and its training
    fingerprint changes, so Rasa does not reuse text featurised with the old vocabulary (and `make train`, which
    hashes the same files, retrains)."""
    vocabulary = tmp_path / "vocabulary"
    shutil.copytree(ROOT / "knowledge/data/vocabulary", vocabulary)
    shipped = run_component(["lam gks cho con"])
    abbreviations = vocabulary / "abbreviations.yml"
    abbreviations.write_text(
        abbreviations.read_text(encoding="utf-8").replace("chat:\n", "chat:\n  gks: giấy khai sinh\n", 1),
        encoding="utf-8",
    )
    extended = run_component(["lam gks cho con"], vocabulary)
    assert shipped["live"][0][0] == "lam gks cho con"
    assert extended["live"][0][0] == extended["train"][0] == "lam giay khai sinh cho con"
    assert extended["fingerprint"] != shipped["fingerprint"]
