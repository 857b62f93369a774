"""Build and publish the search index: `python -m knowledge.index.build [--index-dir DIR] [--force]`.

Layout of the index directory (env MOCUA_INDEX_DIR, default var/index):
    versions/<stamp>-<hash>/   one complete index: dense.faiss, lexical.npz, lexical_vocab.json, views.json,
                               records.json, meta.json
    current -> versions/...    symlink switched with an atomic rename once a version is complete
    cache/embeddings.{npy,json} passage embeddings keyed by sha256(model + text), so unchanged text is not re-embedded

Exit status: 0 published or up to date; 1 when a knowledge file has errors (the previous index keeps serving; with
no previous index, one is published from the valid records so the bot can start).

A staff edit must be live within seconds, so a process that builds more than once (the console, an action server's
/admin/reload: knowledge/index/worker.py) keeps between builds what does not change: the encoder, the embeddings, the
prepared official catalogue and the words of every text read (knowledge/index/lexical.py). An edit then embeds only
its new texts and refits the lexical statistics from remembered words; when no text the search matches changed (a
fee, a time, a document list), the dense and lexical files of the serving version are reused as they are. Every
build writes the same files a cold `make kb-build` writes (tests/knowledge/test_incremental.py).
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
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import settings
from knowledge.index.documents import OfficialDoc, View, documents_and_views, official_documents
from knowledge.index.encoder import model_dir_from_env
from knowledge.index.lexical import BM25
from knowledge.index.published import DEFAULT_INDEX_DIR as DEFAULT_INDEX_DIR  # the tests import it from here
from knowledge.index.published import current_version, index_dir_from_env
from knowledge.language import VocabularyError, vocabulary, vocabulary_fingerprint
from settings import environment

if TYPE_CHECKING:  # the loader is imported where the records are read, not at import
    from knowledge.records.loader import Problem

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_DIR = ROOT / "knowledge" / "data"
CODE_DIR = ROOT / "knowledge"  # _CODE_FILES and _VIEW_CODE are relative to it
# Bump when the index layout or the way views are made changes: forces a rebuild of published indexes.
FORMAT_VERSION = 1
KEEP_VERSIONS = 3
# Source files whose change alters the index content even when the knowledge did not change.
_CODE_FILES = (
    "index/build.py", "index/documents.py", "index/lexical.py", "text.py", "language.py", "records/loader.py",
    "catalog/model.py",  # the names a record is shown and found by (display_name, unlisted_name)
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
        digest.update((CODE_DIR / name).read_bytes())
    # The words the index is made of depend on the vocabulary (abbreviations, spellings, stop phrases).
    digest.update(vocabulary_fingerprint().encode())
    for path in [*knowledge_files(knowledge_dir), official_snapshot(knowledge_dir)]:
        if path.is_file():
            digest.update(str(path.relative_to(knowledge_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------- the official catalogue beside the curated records


def official_snapshot(knowledge_dir: Path) -> Path:
    return knowledge_dir / OFFICIAL_SNAPSHOT


_OFFICIAL_IN_MEMORY: dict[str, list[OfficialDoc]] = {}  # the last snapshot prepared in this process, by its hash


def load_official(knowledge_dir: Path, cache_dir: Path | None = None) -> list[OfficialDoc]:
    """The shipped snapshot of the national catalogue as documents (none when a knowledge copy has no snapshot).

    Reading and preparing 7,500 records takes seconds while a staff edit touches one curated file: the prepared
    documents are cached under the snapshot's and the preparing code's hash (on disk, and in memory in a process
    that builds again), so an edit is live within seconds.
    """
    path = official_snapshot(knowledge_dir)
    if not path.is_file():
        return []
    digest = hashlib.sha256(path.read_bytes())
    for name in ("index/documents.py", "catalog/model.py"):
        digest.update((CODE_DIR / name).read_bytes())
    key = digest.hexdigest()[:16]
    prepared = _OFFICIAL_IN_MEMORY.get(key)
    if prepared is None:
        prepared = _prepared_official(path, cache_dir, key)
        _OFFICIAL_IN_MEMORY.clear()
        _OFFICIAL_IN_MEMORY[key] = prepared
    # each build gets its own document dicts: documents_and_views writes that build's families into them
    return [replace(o, doc=dict(o.doc)) for o in prepared]


def _prepared_official(path: Path, cache_dir: Path | None, key: str) -> list[OfficialDoc]:
    cached = cache_dir / f"official-{key}.pickle" if cache_dir else None
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


ENCODE_CHUNK = 64  # passages per call of the encoder: a citizen's question in the same process waits one chunk at most


class EmbeddingCache:
    """Passage embeddings keyed by sha256(model fingerprint + text); stored as one .npy plus a key list.

    A process that builds again keeps its cache in memory (`for_directory`) and re-reads the files only when another
    process wrote them."""

    def __init__(self, directory: Path, model: str) -> None:
        self.directory = directory
        self.model = model
        self.vectors: dict[str, np.ndarray] = {}
        self.saved: set[str] = set()  # the keys the files hold
        self.stamp: tuple[int, ...] = ()
        self.refresh()

    def _files_stamp(self) -> tuple[int, ...]:
        try:
            stats = [(self.directory / name).stat() for name in ("embeddings.json", "embeddings.npy")]
        except OSError:
            return ()
        return tuple(v for st in stats for v in (st.st_mtime_ns, st.st_size, st.st_ino))

    def refresh(self) -> None:
        """Add what the files hold, when they changed since this process last read or wrote them."""
        stamp = self._files_stamp()
        if not stamp or stamp == self.stamp:
            return
        try:
            keys = json.loads((self.directory / "embeddings.json").read_text(encoding="utf-8"))
            arr = np.load(self.directory / "embeddings.npy")
        except (ValueError, OSError):
            return  # a damaged cache only costs time
        if len(keys) == len(arr):
            self.vectors.update(zip(keys, arr, strict=True))
            self.saved, self.stamp = set(keys), stamp

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model}\0{text}".encode()).hexdigest()

    def embed(self, texts: list[str], encode: Any) -> tuple[np.ndarray, int, int]:
        """Vectors for texts, embedding only the unknown ones; returns (vectors, embedded, reused)."""
        keys = [self.key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.vectors))
        by_key = dict(zip(keys, texts, strict=True)) if missing else {}
        for start in range(0, len(missing), ENCODE_CHUNK):
            chunk = missing[start : start + ENCODE_CHUNK]
            fresh = np.asarray(encode([by_key[k] for k in chunk]), dtype=np.float32)
            self.vectors.update(zip(chunk, fresh, strict=True))
        out = np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)
        return out.astype(np.float32), len(missing), len(set(keys)) - len(missing)

    def save(self, keep: Iterable[str]) -> None:
        """Write the cache, keeping only the keys still in use so it does not grow without end. Nothing to write when
        the files already hold every key in use (a few unused ones wait for the next write)."""
        keep_keys = [k for k in dict.fromkeys(keep) if k in self.vectors]
        if set(keep_keys) <= self.saved and self._files_stamp() == self.stamp:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        arr = np.stack([self.vectors[k] for k in keep_keys]) if keep_keys else np.zeros((0, 384), np.float32)
        tmp_arr, tmp_keys = self.directory / "embeddings.tmp.npy", self.directory / "embeddings.tmp.json"
        np.save(tmp_arr, arr.astype(np.float32))
        tmp_keys.write_text(json.dumps(keep_keys), encoding="utf-8")
        os.replace(tmp_arr, self.directory / "embeddings.npy")
        os.replace(tmp_keys, self.directory / "embeddings.json")
        self.saved, self.stamp = set(keep_keys), self._files_stamp()

    @classmethod
    def for_directory(cls, directory: Path, model: str) -> EmbeddingCache:
        """This process's cache for the directory and model, read from disk once, then kept up to date."""
        key = (str(directory.resolve()), model)
        found = _CACHES.get(key)
        if found is None:
            found = _CACHES[key] = cls(directory, model)
        else:
            found.refresh()
        return found


_CACHES: dict[tuple[str, str], EmbeddingCache] = {}


# ---------------------------------------------------------------- writing and publishing


VIEW_FILES = ("dense.faiss", "lexical.npz", "lexical_vocab.json", "views.json")  # made from the views alone
# Code whose change alters the view files even when the views did not change.
_VIEW_CODE = ("index/build.py", "index/lexical.py", "text.py", "language.py")


def views_digest(views: list[View], model: str) -> str:
    """What VIEW_FILES are made from: the views in order, the encoder, the vocabulary and the code reading them."""
    digest = hashlib.sha256(f"format:{FORMAT_VERSION};model:{model};vocabulary:{vocabulary_fingerprint()}".encode())
    for name in _VIEW_CODE:
        digest.update((CODE_DIR / name).read_bytes())
    digest.update(json.dumps([(v.doc, v.kind, v.text) for v in views], ensure_ascii=False).encode())
    return digest.hexdigest()


def reusable_view_files(current: Path | None, digest: str) -> Path | None:
    """The serving version, when its view files were made from exactly these views (an edit of facts only)."""
    if current is None:
        return None
    try:
        meta = json.loads((current / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    complete = all((current / name).is_file() for name in VIEW_FILES)
    return current if complete and meta.get("views_digest") == digest else None


def _link_or_copy(source: Path, target: Path) -> None:
    """Published files are never changed in place, so a new version may share them with an older one."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def write_version(
    index_dir: Path, docs: list[dict[str, Any]], views: list[View], vectors: np.ndarray | None,
    meta: dict[str, Any], reuse: Path | None = None,
) -> Path:  # fmt: skip
    """Write a complete version into a fresh directory (never touched again after publishing). `reuse`: a version
    whose view files were made from the same views: they are linked instead of made again (vectors unused)."""
    import faiss

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    final = index_dir / "versions" / f"{stamp}-{meta['content_hash'][:12]}"
    work = final.with_name(final.name + ".partial")
    work.mkdir(parents=True)
    if reuse is not None:
        for name in VIEW_FILES:
            _link_or_copy(reuse / name, work / name)
    else:
        assert vectors is not None
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
    problems: tuple[Problem, ...] = ()  # the knowledge errors that stopped or limited the publication
    reused_views: bool = False  # facts only changed: the serving version's dense and lexical files were reused


def _print_line(line: str, error: bool) -> None:
    print(line, file=sys.stderr if error else sys.stdout, flush=True)


@dataclass(frozen=True)
class Reporter:
    """Where a build tells what it does: its log lines (English, for operators; stdout and stderr by default) and
    the step it is at, in Vietnamese, for staff watching the console."""

    line: Callable[[str, bool], None] = _print_line  # (text, is_error)
    step: Callable[[str], None] = lambda text: None


STEPS = {
    "read": "Đọc kho tri thức",
    "embed": "Phân tích {count} câu chữ mới",
    "write": "Ghi chỉ mục tìm kiếm mới",
    "facts": "Chỉ thông tin thủ tục thay đổi: ghi lại thông tin, giữ nguyên chỉ mục tìm kiếm",
    "publish": "Xuất bản cho trợ lý",
}
_IN_PROCESS = threading.Lock()  # the caches above are shared by every build of this process: one at a time


def build(
    index_dir: Path, knowledge_dir: Path = KNOWLEDGE_DIR, force: bool = False, reporter: Reporter | None = None
) -> BuildReport:
    """Build and publish unless nothing changed; one build at a time per index directory."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with _IN_PROCESS, open(index_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second `make kb-build` waits instead of racing
        return _build_locked(index_dir, knowledge_dir, force, reporter or Reporter())


def _build_locked(index_dir: Path, knowledge_dir: Path, force: bool, say: Reporter) -> BuildReport:
    from knowledge.records.loader import load_knowledge

    start = time.perf_counter()
    say.step(STEPS["read"])
    chash = content_hash(knowledge_dir)
    current = current_version(index_dir)
    if current and not force:
        meta = json.loads((current / "meta.json").read_text(encoding="utf-8"))
        if meta.get("content_hash") == chash and not meta.get("problems"):
            say.line(f"index up to date ({meta.get('documents')} documents, {current.name})", False)
            return BuildReport(0, current.name, published=False)

    knowledge = load_knowledge(knowledge_dir)
    problems = tuple(knowledge.errors)
    for line in [format_problem(p) for p in knowledge.problems]:
        say.line(line, True)
    if problems and current is not None:
        say.line(f"{len(problems)} error(s): index NOT replaced; {current.name} keeps serving", True)
        return BuildReport(1, current.name, published=False, problems=problems)

    docs, views = documents_and_views(knowledge, load_official(knowledge_dir, index_dir / "cache"))
    fingerprint = model_fingerprint()
    digest = views_digest(views, fingerprint)
    reuse = None if force else reusable_view_files(current, digest)
    vectors, embedded, reused = None, 0, len(views)
    if reuse is not None:
        say.step(STEPS["facts"])
    else:
        vectors, embedded, reused = embed_views(index_dir, fingerprint, views, say)
        say.step(STEPS["write"])

    meta = {
        "content_hash": chash,
        "format": FORMAT_VERSION,
        "model": fingerprint,
        "documents": len(docs),
        "views": len(views),
        "views_digest": digest,
        "problems": len(problems),
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    version = write_version(index_dir, docs, views, vectors, meta, reuse)
    say.step(STEPS["publish"])
    publish(index_dir, version)
    prune_versions(index_dir)
    kinds = {kind: sum(d["kind"] == kind for d in docs) for kind in ("procedure", "official", "guide")}
    how = "view files reused (facts only)" if reuse is not None else f"embedded {embedded}, reused {reused}"
    say.line(
        f"published {version.name}: {kinds['procedure']} procedures, {kinds['official']} official records, "
        f"{kinds['guide']} guides, {len(views)} views; {how} ({time.perf_counter() - start:.1f} s)", False
    )  # fmt: skip
    if problems:
        say.line(f"{len(problems)} error(s): published from the valid records only", True)
    return BuildReport(1 if problems else 0, version.name, True, embedded, reused, problems, reuse is not None)


def embed_views(index_dir: Path, model: str, views: list[View], say: Reporter) -> tuple[np.ndarray, int, int]:
    """Every view's vector: from the cache, the new texts by the encoder (loaded once per process, and only then)."""
    cache = EmbeddingCache.for_directory(index_dir / "cache", model)
    texts = [v.text for v in views]
    new = len({cache.key(t) for t in texts} - cache.vectors.keys())
    encoder: Any = None
    if new:
        say.step(STEPS["embed"].format(count=new))
        from knowledge.index.encoder import load_encoder  # only now: an up-to-date or cached build needs no model

        encoder = load_encoder()
    vectors, embedded, reused = cache.embed(texts, lambda batch: encoder.encode_passages(batch))
    cache.save(cache.key(t) for t in texts)
    return vectors, embedded, reused


def warm_up(index_dir: Path, knowledge_dir: Path = KNOWLEDGE_DIR) -> None:
    """Read once what every build of this process will need (the encoder, the embeddings, the prepared catalogue,
    the words of every text), so the first staff edit is live as quickly as the next. Never fails: a problem shows
    in the next build instead."""
    from knowledge.index.encoder import load_encoder
    from knowledge.index.lexical import terms
    from knowledge.records.loader import load_knowledge

    try:
        with _IN_PROCESS:
            load_encoder().encode_passages(["khởi động"])  # torch's first inference is slow: not on a staff edit
            EmbeddingCache.for_directory(index_dir / "cache", model_fingerprint())
            knowledge = load_knowledge(knowledge_dir)
            _, views = documents_and_views(knowledge, load_official(knowledge_dir, index_dir / "cache"))
            for view in views:
                terms(view.text)
    except Exception as error:  # noqa: BLE001 - only a head start: the build reports what is wrong
        print(f"index warm-up skipped: {error!r}", file=sys.stderr)


def release_warm_state() -> None:
    """Forget the prepared catalogue and the embeddings kept between builds (about 250 MB): for a process that builds
    rarely (an action server's /admin/reload) and must stay small between builds."""
    with _IN_PROCESS:
        _OFFICIAL_IN_MEMORY.clear()
        _CACHES.clear()


def use_every_core() -> None:
    """A build run on its own embeds with every core: twice as fast on two cores (a full build, 25 → 13 minutes on
    a slow machine). The servers' default of one thread is for two processes sharing the cores while serving."""
    environment.set_default("MOCUA_TORCH_THREADS", str(len(os.sched_getaffinity(0)) or 1))
    settings.refresh()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build and publish the knowledge search index.")
    parser.add_argument("--index-dir", type=Path, default=None, help="default: $MOCUA_INDEX_DIR or var/index")
    parser.add_argument("--knowledge-dir", type=Path, default=KNOWLEDGE_DIR, help="default: knowledge/data/")
    parser.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    args = parser.parse_args(argv)
    use_every_core()
    try:
        vocabulary()  # a mistake in knowledge/data/vocabulary/ is reported before anything is built
    except VocabularyError as error:
        print(f"{error}\nthe index was NOT rebuilt", file=sys.stderr)
        return 1
    return build(index_dir_from_env(args.index_dir), args.knowledge_dir, force=args.force).status


if __name__ == "__main__":
    sys.exit(main())
