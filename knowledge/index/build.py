"""Build and publish the search index: `python -m knowledge.index.build [--index-dir DIR] [--force]`.

Layout of the index directory (env MOCUA_INDEX_DIR, default var/index):
    versions/<stamp>-<hash>/   one complete index: dense.faiss, lexical.npz, lexical_vocab.json, views.json,
                               records.json, meta.json
    current -> versions/...    symlink switched with an atomic rename once a version is complete
    cache/embeddings.{npy,json} passage embeddings keyed by sha256(model + text), so unchanged text is not re-embedded

Exit status: 0 published or up to date; 1 when a knowledge file has errors (the previous index keeps serving; with
no previous index, one is published from the valid records so the bot can start).
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import hashlib
import json
import os
import pickle
import shutil
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.index.documents import OfficialDoc, View, documents_and_views, official_documents
from knowledge.index.encoder import model_dir_from_env
from knowledge.index.lexical import BM25
from knowledge.index.published import current_version, index_dir_from_env
from knowledge.language import VocabularyError, vocabulary, vocabulary_fingerprint

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_DIR = ROOT / "knowledge"
DEFAULT_INDEX_DIR = ROOT / "var" / "index"
# Bump when the index layout or the way views are made changes: forces a rebuild of published indexes.
FORMAT_VERSION = 1
KEEP_VERSIONS = 3
# Source files whose change alters the index content even when the knowledge did not change.
_CODE_FILES = (
    "index/build.py", "index/documents.py", "index/lexical.py", "text.py", "language.py", "records/loader.py"
)
OFFICIAL_SNAPSHOT = Path("official/catalog.jsonl.gz")


def model_fingerprint() -> str:
    """Identifies the encoder without loading it: small files (config, conversion stamp) by content, the large
    weight and tokenizer files by size (hashing 470 MB on every `make kb-build` would defeat the fast path)."""
    model_dir = model_dir_from_env()
    digest = hashlib.sha256(b"e5-small")
    for path in sorted(model_dir.rglob("*")) if model_dir.is_dir() else []:
        if path.is_file():
            size = path.stat().st_size
            digest.update(f"{path.relative_to(model_dir)}:{size}".encode())
            if size <= 65536:
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def content_hash(knowledge_dir: Path) -> str:
    """Hash of everything the index is made from; equal hash = nothing to do."""
    from knowledge.records.loader import knowledge_files

    digest = hashlib.sha256(f"format:{FORMAT_VERSION};model:{model_fingerprint()}".encode())
    for name in _CODE_FILES:
        digest.update((KNOWLEDGE_DIR / name).read_bytes())
    # The words the index is made of depend on the vocabulary (abbreviations, spellings, stop phrases).
    digest.update(vocabulary_fingerprint().encode())
    for path in [*knowledge_files(knowledge_dir), official_snapshot(knowledge_dir)]:
        if path.is_file():
            digest.update(str(path.relative_to(knowledge_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------- the official catalogue beside the curated records


def official_snapshot(knowledge_dir: Path) -> Path:
    return knowledge_dir / OFFICIAL_SNAPSHOT


def load_official(knowledge_dir: Path, cache_dir: Path | None = None) -> list[OfficialDoc]:
    """The shipped snapshot of the national catalogue as documents (none when a knowledge copy has no snapshot).

    Reading and preparing 7,500 records takes seconds while a staff edit touches one curated file: the prepared
    documents are cached under the snapshot's and the preparing code's hash, so an edit is live within seconds.
    """
    path = official_snapshot(knowledge_dir)
    if not path.is_file():
        return []
    digest = hashlib.sha256(path.read_bytes())
    for name in ("index/documents.py", "catalog/model.py"):
        digest.update((KNOWLEDGE_DIR / name).read_bytes())
    cached = cache_dir / f"official-{digest.hexdigest()[:16]}.pickle" if cache_dir else None
    if cached and cached.is_file():
        try:
            with cached.open("rb") as f:
                return pickle.load(f)  # noqa: S301 - our own cache file, written below
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            pass  # a damaged cache only costs time
    from knowledge.catalog.snapshot import load_snapshot

    prepared = official_documents(load_snapshot(path))
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        for old in cached.parent.glob("official-*.pickle"):
            old.unlink(missing_ok=True)
        tmp = cached.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(prepared, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cached)
    return prepared


def format_problem(problem: Any) -> str:
    """file:line: field: message (the loader's Problem prints itself that way)."""
    return str(problem)


# ---------------------------------------------------------------- embedding cache


class EmbeddingCache:
    """Passage embeddings keyed by sha256(model fingerprint + text); stored as one .npy plus a key list."""

    def __init__(self, directory: Path, model: str) -> None:
        self.directory = directory
        self.model = model
        self.vectors: dict[str, np.ndarray] = {}
        keys_file, arr_file = directory / "embeddings.json", directory / "embeddings.npy"
        if keys_file.is_file() and arr_file.is_file():
            try:
                keys = json.loads(keys_file.read_text(encoding="utf-8"))
                arr = np.load(arr_file)
                if len(keys) == len(arr):
                    self.vectors = dict(zip(keys, arr, strict=True))
            except (ValueError, OSError):
                self.vectors = {}  # a damaged cache only costs time

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model}\0{text}".encode()).hexdigest()

    def embed(self, texts: list[str], encode: Any) -> tuple[np.ndarray, int, int]:
        """Vectors for texts, embedding only the unknown ones; returns (vectors, embedded, reused)."""
        keys = [self.key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.vectors))
        if missing:
            by_key = {self.key(t): t for t in texts}
            fresh = np.asarray(encode([by_key[k] for k in missing]), dtype=np.float32)
            self.vectors.update(zip(missing, fresh, strict=True))
        out = np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)
        return out.astype(np.float32), len(missing), len(set(keys)) - len(missing)

    def save(self, keep: Iterable[str]) -> None:
        """Write the cache, keeping only the keys still in use so it does not grow without end."""
        keep_keys = [k for k in dict.fromkeys(keep) if k in self.vectors]
        self.directory.mkdir(parents=True, exist_ok=True)
        arr = np.stack([self.vectors[k] for k in keep_keys]) if keep_keys else np.zeros((0, 384), np.float32)
        tmp_arr, tmp_keys = self.directory / "embeddings.tmp.npy", self.directory / "embeddings.tmp.json"
        np.save(tmp_arr, arr.astype(np.float32))
        tmp_keys.write_text(json.dumps(keep_keys), encoding="utf-8")
        os.replace(tmp_arr, self.directory / "embeddings.npy")
        os.replace(tmp_keys, self.directory / "embeddings.json")


# ---------------------------------------------------------------- writing and publishing


def write_version(
    index_dir: Path, docs: list[dict[str, Any]], views: list[View], vectors: np.ndarray, meta: dict[str, Any]
) -> Path:
    """Write a complete version into a fresh directory (never touched again after publishing)."""
    import faiss

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    final = index_dir / "versions" / f"{stamp}-{meta['content_hash'][:12]}"
    work = final.with_name(final.name + ".partial")
    work.mkdir(parents=True)
    index = faiss.IndexFlatIP(vectors.shape[1] if len(vectors) else 384)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(work / "dense.faiss"))
    BM25.fit([v.text for v in views]).save(work)
    view_rows = [{"doc": v.doc, "kind": v.kind, "text": v.text} for v in views]
    (work / "views.json").write_text(json.dumps(view_rows, ensure_ascii=False), encoding="utf-8")
    (work / "records.json").write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    (work / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    os.rename(work, final)
    return final


def publish(index_dir: Path, version: Path) -> None:
    """Point `current` at the version with one atomic rename; readers see the old or the new index, never half."""
    tmp = index_dir / f"current.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(version, index_dir), tmp)
    os.replace(tmp, index_dir / "current")


def prune_versions(index_dir: Path, keep: int = KEEP_VERSIONS) -> None:
    """Drop old versions; a few are kept so a reader still loading the previous one is not pulled from under."""
    current = current_version(index_dir)
    versions = sorted(p for p in (index_dir / "versions").iterdir() if p.is_dir())
    for path in versions[:-keep]:
        if path != current:
            shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class BuildReport:
    status: int  # process exit status: 0 ok, 1 knowledge errors
    version: str | None  # published version directory name (None: nothing published yet)
    published: bool  # a new version was published by this run
    embedded: int = 0  # passages sent to the encoder
    reused: int = 0  # passages whose embedding came from the cache
    problems: tuple[str, ...] = ()


def build(index_dir: Path, knowledge_dir: Path = KNOWLEDGE_DIR, force: bool = False) -> BuildReport:
    """Build and publish unless nothing changed; one build at a time per index directory."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second `make kb-build` waits instead of racing
        return _build_locked(index_dir, knowledge_dir, force)


def _build_locked(index_dir: Path, knowledge_dir: Path, force: bool) -> BuildReport:
    from knowledge.records.loader import load_knowledge

    start = time.perf_counter()
    chash = content_hash(knowledge_dir)
    current = current_version(index_dir)
    if current and not force:
        meta = json.loads((current / "meta.json").read_text(encoding="utf-8"))
        if meta.get("content_hash") == chash and not meta.get("problems"):
            print(f"index up to date ({meta.get('documents')} documents, {current.name})")
            return BuildReport(0, current.name, published=False)

    knowledge = load_knowledge(knowledge_dir)
    problems = tuple(format_problem(p) for p in knowledge.errors)
    for line in [format_problem(p) for p in knowledge.problems]:
        print(line, file=sys.stderr)
    if problems and current is not None:
        print(f"{len(problems)} error(s): index NOT replaced; {current.name} keeps serving", file=sys.stderr)
        return BuildReport(1, current.name, published=False, problems=problems)

    docs, views = documents_and_views(knowledge, load_official(knowledge_dir, index_dir / "cache"))
    fingerprint = model_fingerprint()
    cache = EmbeddingCache(index_dir / "cache", fingerprint)
    texts = [v.text for v in views]
    encoder: Any = None
    if any(cache.key(t) not in cache.vectors for t in texts):
        from knowledge.index.encoder import load_encoder  # only now: an up-to-date or cached build needs no model

        encoder = load_encoder()
    vectors, embedded, reused = cache.embed(texts, lambda batch: encoder.encode_passages(batch))
    cache.save(cache.key(t) for t in texts)

    meta = {
        "content_hash": chash,
        "format": FORMAT_VERSION,
        "model": fingerprint,
        "documents": len(docs),
        "views": len(views),
        "problems": len(problems),
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    version = write_version(index_dir, docs, views, vectors, meta)
    publish(index_dir, version)
    prune_versions(index_dir)
    kinds = {kind: sum(d["kind"] == kind for d in docs) for kind in ("procedure", "official", "guide")}
    print(
        f"published {version.name}: {kinds['procedure']} procedures, {kinds['official']} official records, "
        f"{kinds['guide']} guides, {len(views)} views; "
        f"embedded {embedded}, reused {reused} ({time.perf_counter() - start:.1f} s)"
    )
    if problems:
        print(f"{len(problems)} error(s): published from the valid records only", file=sys.stderr)
    return BuildReport(1 if problems else 0, version.name, True, embedded, reused, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build and publish the knowledge search index.")
    parser.add_argument("--index-dir", type=Path, default=None, help="default: $MOCUA_INDEX_DIR or var/index")
    parser.add_argument("--knowledge-dir", type=Path, default=KNOWLEDGE_DIR, help="default: knowledge/")
    parser.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    args = parser.parse_args(argv)
    try:
        vocabulary()  # a mistake in knowledge/vocabulary/ is reported before anything is built
    except VocabularyError as error:
        print(f"{error}\nthe index was NOT rebuilt", file=sys.stderr)
        return 1
    return build(index_dir_from_env(args.index_dir), args.knowledge_dir, force=args.force).status


if __name__ == "__main__":
    sys.exit(main())
