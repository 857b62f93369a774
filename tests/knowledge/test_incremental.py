"""Builds in a long-lived process (the console, an action server: knowledge/index/worker.py) keep the encoder, the
embeddings, the prepared catalogue and the words of every text between builds, and reuse the serving version's
dense and lexical files when only facts changed. Whatever they reuse, the index they publish is the one a cold
`make kb-build` makes of the same knowledge: the same files and the same answers to citizens' questions."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import faiss
import numpy as np
import pytest

from knowledge.index.build import KNOWLEDGE_DIR, build, current_version
from knowledge.index.worker import IndexBuilder
from knowledge.search.engine import KnowledgeBase
from knowledge.search.metrics import load_questions, question_file

ROOT = Path(__file__).resolve().parents[2]
RECORD = "procedures/ho-tich-khai-sinh.yml"
ALIAS = "giấy chào đời cho bé"
SAMPLE = 40  # dev questions asked of both indexes


@pytest.fixture
def knowledge_with_catalogue(tmp_path: Path, built_index: Path) -> tuple[Path, Path]:
    """A copy of the shipped knowledge, official catalogue included (families, linked records), and an index
    directory seeded with the session's embedding cache."""
    knowledge_dir = tmp_path / "knowledge"
    for part in ("procedures", "guides", "official"):
        shutil.copytree(KNOWLEDGE_DIR / part, knowledge_dir / part)
    shutil.copytree(built_index / "cache", tmp_path / "index" / "cache")
    return knowledge_dir, tmp_path / "index"


def cold_build(knowledge_dir: Path, index_dir: Path, cache: Path) -> Path:
    """`make kb-build` in a fresh process on a fresh index directory (same embedding cache: the same vectors)."""
    shutil.copytree(cache, index_dir / "cache")
    done = subprocess.run(
        [sys.executable, "-m", "knowledge.index.build", "--knowledge-dir", str(knowledge_dir),
         "--index-dir", str(index_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    version = current_version(index_dir)
    assert version is not None
    return version


def assert_same_index(built: Path, cold: Path) -> None:
    for name in ("records.json", "views.json", "lexical_vocab.json"):
        assert json.loads((built / name).read_text("utf-8")) == json.loads((cold / name).read_text("utf-8")), name
    ours, theirs = np.load(built / "lexical.npz"), np.load(cold / "lexical.npz")
    for array in ("offsets", "doc_ids", "weights"):
        assert np.array_equal(ours[array], theirs[array]), array
    dense = [faiss.read_index(str(v / "dense.faiss")) for v in (built, cold)]
    assert np.array_equal(*(d.reconstruct_n(0, d.ntotal) for d in dense))


def answers(index_dir: Path, questions: list[str]) -> list[tuple[str | None, list[tuple[str, float]]]]:
    kb = KnowledgeBase(index_dir, watch=False)
    found = []
    for question in questions:
        result = kb.search(question)
        best = result.decision.best if result.decision else None
        found.append((best.doc_id if best else None, [(h.doc_id, round(h.score, 6)) for h in result.hits[:5]]))
    return found


def test_edits_built_in_a_running_process_equal_a_cold_full_build(
    knowledge_with_catalogue: tuple[Path, Path], tmp_path: Path
) -> None:
    knowledge_dir, index_dir = knowledge_with_catalogue
    builder = IndexBuilder(knowledge_dir, index_dir)
    record = knowledge_dir / RECORD
    original = record.read_text(encoding="utf-8")

    def publish(text: str) -> None:
        record.write_text(text, encoding="utf-8")
        run = builder.request("test").wait(600)
        assert run is not None and run.status == "ok", run and run.lines

    publish(original)
    with_alias = original.replace("aliases:\n", f"aliases:\n  - {ALIAS}\n", 1)
    publish(with_alias)  # one new text to embed, lexical statistics refitted
    publish(original)  # a revert: the alias's view goes again
    publish(with_alias)
    deadline = re.sub(r"^deadline: .*$", "deadline: Trong 30 ngày kể từ ngày sinh.", with_alias, count=1, flags=re.M)
    assert deadline != with_alias
    publish(deadline)  # facts only: the views did not change, their files are the serving version's
    assert "view files reused" in builder.history[0].outcome
    built = current_version(index_dir)
    assert built is not None and json.loads((built / "records.json").read_text("utf-8"))

    cold = cold_build(knowledge_dir, tmp_path / "cold", index_dir / "cache")

    assert_same_index(built, cold)
    questions = [row["q"] for row in load_questions(question_file("dev"))][:SAMPLE] + [ALIAS]
    assert answers(index_dir, questions) == answers(tmp_path / "cold", questions)
    assert answers(index_dir, [ALIAS])[0][0] == "ho-tich-khai-sinh"


def test_a_facts_only_edit_reuses_the_view_files_and_a_changed_text_does_not(
    knowledge_and_index: tuple[Path, Path],
) -> None:
    knowledge_dir, index_dir = knowledge_and_index
    assert build(index_dir, knowledge_dir).status == 0
    record = knowledge_dir / RECORD
    text = record.read_text(encoding="utf-8")
    record.write_text(re.sub(r"^deadline: .*$", "deadline: Ngay trong ngày.", text, count=1, flags=re.M), "utf-8")
    facts = build(index_dir, knowledge_dir)
    assert facts.published and facts.reused_views and facts.embedded == 0
    record.write_text(text.replace("aliases:\n", f"aliases:\n  - {ALIAS}\n", 1), encoding="utf-8")
    alias = build(index_dir, knowledge_dir)
    assert alias.published and not alias.reused_views and alias.embedded == 1


def test_a_broken_file_fails_the_build_by_file_line_and_field_and_the_previous_index_keeps_serving(
    knowledge_and_index: tuple[Path, Path],
) -> None:
    knowledge_dir, index_dir = knowledge_and_index
    builder = IndexBuilder(knowledge_dir, index_dir)
    first = builder.request("start").wait(600)
    assert first is not None and first.status == "ok"
    serving = current_version(index_dir)
    good = (knowledge_dir / RECORD).read_text(encoding="utf-8")
    broken = good.replace("id: ho-tich-khai-sinh", "id: ho-tich-hong").replace("domain: hộ tịch", "domain: hộ tịt")
    (knowledge_dir / "procedures/ho-tich-hong.yml").write_text(broken, encoding="utf-8")

    run = builder.request("a broken record").wait(600)

    assert run is not None and run.status == "failed" and not run.published
    assert any(re.search(r"ho-tich-hong\.yml:\d+: domain: ", line) for line in run.lines), run.lines
    assert current_version(index_dir) == serving and run.version == serving.name  # type: ignore[union-attr]
