"""`python -m knowledge.index.build`: atomic publishing, embedding reuse, broken records, hot reload in a running
process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.catalog.model import display_name
from knowledge.catalog.snapshot import load_snapshot
from knowledge.index.build import KNOWLEDGE_DIR, build, current_version
from knowledge.records.loader import load_knowledge
from knowledge.search import engine as search

ROOT = Path(__file__).resolve().parents[2]
PROCEDURE = "ho-tich-khai-sinh"  # the skeleton's record, always shipped


def run_build(knowledge_dir: Path, index_dir: Path) -> subprocess.CompletedProcess[str]:
    """The command staff run (`make kb-build`), on private directories."""
    return subprocess.run(
        [sys.executable, "-m", "knowledge.index.build",
         "--knowledge-dir", str(knowledge_dir), "--index-dir", str(index_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=os.environ.copy(),
    )  # fmt: skip


def break_record(knowledge_dir: Path) -> Path:
    """A new procedure file with an unknown domain: the loader must reject it."""
    good = (knowledge_dir / "procedures" / f"{PROCEDURE}.yml").read_text(encoding="utf-8")
    broken = good.replace(f"id: {PROCEDURE}", "id: ho-tich-hong").replace("domain: hộ tịch", "domain: hộ tịt")
    path = knowledge_dir / "procedures" / "ho-tich-hong.yml"
    path.write_text(broken, encoding="utf-8")
    return path


def test_published_index_holds_every_shipped_record(built_index: Path) -> None:
    version = current_version(built_index)
    assert version is not None and (built_index / "current").is_symlink()
    for name in ("dense.faiss", "lexical.npz", "lexical_vocab.json", "views.json", "records.json", "meta.json"):
        assert (version / name).is_file(), name
    docs = json.loads((version / "records.json").read_text(encoding="utf-8"))
    ids = {d["id"] for d in docs}
    shipped = load_knowledge()
    curated = {p.id for p in shipped.procedures} | {g.id for g in shipped.guides}
    assert curated <= ids
    # Every official code is a document of its own, or inside the curated record that explains it, or a 2024
    # record whose procedure the 2026 catalogue re-issued under the same name (the 2024 copy is left out).
    linked = {code for p in shipped.procedures for code in p.official_codes}
    records = load_snapshot(KNOWLEDGE_DIR / "official/catalog.jsonl.gz")
    current_names = {display_name(r.name).casefold() for r in records if not r.predates_2025_reform}
    for record in records:
        if record.code not in ids and record.code not in linked:
            assert record.predates_2025_reform and display_name(record.name).casefold() in current_names, record.code
    assert not linked & ids, "a linked official record must not also answer on its own"
    assert not list((built_index / "versions").glob("*.partial")), "a half-written version was left behind"


def test_unchanged_knowledge_is_up_to_date_and_an_edit_embeds_only_the_new_text(
    knowledge_and_index: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    knowledge_dir, index_dir = knowledge_and_index
    first = build(index_dir, knowledge_dir)
    assert first.published and first.embedded == 0 and first.reused > 0  # every text was in the cache

    again = build(index_dir, knowledge_dir)
    assert not again.published and again.version == first.version
    assert "index up to date" in capsys.readouterr().out

    path = knowledge_dir / "procedures" / f"{PROCEDURE}.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("aliases:\n", "aliases:\n  - xin giấy khai sinh cho bé vừa chào đời\n", 1), "utf-8")
    edited = build(index_dir, knowledge_dir)
    assert edited.published and edited.version != first.version
    assert edited.embedded == 1  # the new alias; everything else comes from the cache
    assert edited.reused == first.reused


def test_broken_record_keeps_the_previous_index_and_fails(knowledge_and_index: tuple[Path, Path]) -> None:
    knowledge_dir, index_dir = knowledge_and_index
    assert build(index_dir, knowledge_dir).status == 0
    before = os.readlink(index_dir / "current")
    break_record(knowledge_dir)

    result = run_build(knowledge_dir, index_dir)

    assert result.returncode == 1
    assert re.search(r"ho-tich-hong\.yml:\d+: domain: ", result.stderr), result.stderr
    assert os.readlink(index_dir / "current") == before  # the previous index keeps serving


def test_without_an_index_the_valid_records_are_published_anyway(knowledge_and_index: tuple[Path, Path]) -> None:
    knowledge_dir, index_dir = knowledge_and_index
    break_record(knowledge_dir)

    result = run_build(knowledge_dir, index_dir)

    assert result.returncode == 1
    version = current_version(index_dir)
    assert version is not None, "the bot could not start without an index"
    ids = {d["id"] for d in json.loads((version / "records.json").read_text(encoding="utf-8"))}
    assert PROCEDURE in ids and "ho-tich-hong" not in ids


def test_running_knowledge_base_picks_up_a_rebuild_without_restart(
    knowledge_and_index: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    knowledge_dir, index_dir = knowledge_and_index
    assert build(index_dir, knowledge_dir).status == 0
    monkeypatch.setenv("MOCUA_INDEX_DIR", str(index_dir))
    search.forget_knowledge_base()  # a fresh process-wide instance for this index…
    request.addfinalizer(search.forget_knowledge_base)  # …and none left serving it once the test's folder is gone
    kb = search.get_knowledge_base()
    # The record is linked to an official code, so its fee comes from there; its own result wording is edited.
    old_result = kb.procedure(PROCEDURE).result
    new_result = "Giấy khai sinh thử nghiệm, bản chính."

    path = knowledge_dir / "procedures" / f"{PROCEDURE}.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^result: .*$", f"result: {new_result}", text, count=1, flags=re.M), encoding="utf-8")
    assert run_build(knowledge_dir, index_dir).returncode == 0

    deadline = time.monotonic() + 3.0
    while kb.procedure(PROCEDURE).result == old_result and time.monotonic() < deadline:
        time.sleep(0.1)
    assert search.get_knowledge_base() is kb
    assert kb.procedure(PROCEDURE).result == new_result
    birth = {PROCEDURE, "ho-tich-lien-thong-khai-sinh-thuong-tru-bhyt"}
    assert kb.search("đăng ký khai sinh cho con").hits[0].doc_id in birth
