"""Knowledge search: which procedure or guide a citizen's question is about, with a calibrated confidence.

Method (numbers: tests/benchmarks/bench_retrieval.py, calibration: knowledge/search/calibration.json):
- two channels scored over the "views" of each record (name, aliases, synopsis, guide passages), max per record:
  dense = cosine of multilingual-e5-small embeddings; lexical = BM25 on diacritics-stripped text
  (knowledge.index.lexical);
- fused score = weighted sum of both channels, with one pair of weights for questions typed with diacritics and
  another for questions typed without (e5 collapses on unaccented text, so there the lexical channel leads);
- confidence of each hit = logistic regression on (fused score, lead over the best other record, both channel
  scores, channel agreement), fitted on a calibration split that the dev set does not contain;
- a message with background before its question is searched by the clause that asks (reading.py), not by the
  story around it;
- the decision (answer / which one / not sure, and stay with the conversation's context) is made in ONE place,
  knowledge/search/decision.py, from the thresholds in calibration.json.

CLI: `python -m knowledge.search "câu hỏi"`; `python -m knowledge.search --calibrate` refits the JSON.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

import settings
from knowledge.catalog.model import OfficialRecord
from knowledge.catalog.provinces import match_province
from knowledge.index.lexical import BM25, RecordName, content_words, counted
from knowledge.index.published import current_version, index_dir_from_env
from knowledge.language import Phrase, contains_phrase, expand_abbreviations, vocabulary
from knowledge.records.facts import ProcedureFacts, from_curated, from_official
from knowledge.records.schema import Guide, Procedure
from knowledge.search.decision import Context, Decision, Evidence, Thresholds, decide
from knowledge.search.reading import (
    Case,
    asking_clause,
    case_of,
    naming_clauses,
    operation_phrases,
    said_operations,
    says_case,
    sibling_operations,
    tells_a_story,
    with_folded,
    with_official_names,
)
from knowledge.text import clean, has_diacritics, spoken

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"
RELOAD_CHECK_SECONDS = 1.0
PASSAGE_CHARS = 400
# "combined" is what the bot uses; the others are measured beside it by the benchmark.
METHODS = ("combined", "dense", "lexical", "routed", "rrf")
RRF_K = 60
SHORTLIST = 8  # candidates scored by the confidence model (a family's common case and its variants fit in)
HEAD_REACH = 3  # the common cases of the first few shortlisted cases join the shortlist
# A story's clauses searched one by one for a need told, not asked: each costs an embedding (~15 ms on a free core),
# so a story of many sentences is not read clause by clause past its first few (its whole message still is).
TOLD_CLAUSES = 6
NAME_VIEWS = frozenset({"name", "alias", "official_name", "title"})
SIGNALS = ("curated", "current", "citizen", "local", "details")  # per-document signals written by the index build


@dataclass(frozen=True)
class Hit:
    doc_id: str  # curated procedure id, official procedure code, or guide id
    kind: str  # "procedure" (curated) | "official" (national catalogue only) | "guide"
    title: str  # procedure name or guide title
    score: float  # calibrated confidence 0..1
    passage: str  # matched text (for guides: the passage chunk, short)


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]  # the shortlist by confidence, one per doc_id
    verdict: str  # the decision in the search's words: "sure" (answer) | "ambiguous" (which one?) | "none"
    # Other cases of the answered record's family ("Đăng ký khai sinh" → "… lưu động", "… có yếu tố nước ngoài"),
    # most likely first: offered beside the answer as "which case?" when the question did not say.
    variants: list[Hit] = field(default_factory=list)
    choices: list[Hit] = field(default_factory=list)  # "which one?": likeliest first; not sure: the nearest
    evidence: list[Evidence] = field(default_factory=list)  # what the decision was made on
    decision: Decision | None = None


# ---------------------------------------------------------------- calibration parameters


@dataclass
class Calibration:
    """Everything fitted by `make kb-calibrate`, read from ONE file (calibration.json): fusion weights, the confidence
    model, and every threshold of the decision (knowledge/search/decision.py). A missing or malformed file is an
    error that names it: the bot never runs on silent defaults."""

    # fused = w_dense * dense_z + w_lex * lexical + w_cov * coverage, per query kind (accented / unaccented)
    weights: dict[str, list[float]]
    # logistic regression per method: {feature name: weight}, exactly the names in FEATURES
    coef: dict[str, dict[str, float]]
    none_below: float  # the best candidate (or its family) less likely than this: not sure
    close_ratio: float  # a rival at least this fraction of the best's confidence: "which one?"
    ask_back_mass: float  # close candidates together at least this likely: "which one?", not "not sure"
    off_topic_answer: float  # NLU says off-topic: the search answers only from this confidence
    topic_mass: float  # cases of one family together at least this likely: ask which case rather than decline
    # (none_below, ask_back_mass) fitted for each method the benchmark compares, so each is judged at its best
    method_thresholds: dict[str, list[float]]
    dense_floor: float  # typical cosine of unrelated text; dense_z centres on it (a scale, not a threshold)
    dense_scale: float

    def thresholds(self) -> Thresholds:
        return Thresholds(
            self.none_below, self.close_ratio, self.ask_back_mass, self.off_topic_answer, self.topic_mass
        )

    def for_method(self, method: str) -> Calibration:
        if method == "combined" or method not in self.method_thresholds:
            return self
        none_below, mass = self.method_thresholds[method]
        return replace(self, none_below=none_below, ask_back_mass=mass)

    @classmethod
    def starting_point(cls) -> Calibration:
        """Where `make kb-calibrate` starts when there is no file yet (it refits every value below)."""
        return cls(
            weights={"accented": [0.5, 1.0, 0.5], "unaccented": [0.2, 1.0, 0.5]}, coef={}, none_below=0.35,
            close_ratio=0.5, ask_back_mass=0.5, off_topic_answer=0.5, topic_mass=0.5, method_thresholds={},
            dense_floor=0.78,
            dense_scale=0.06,
        )  # fmt: skip

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE, check: bool = True) -> Calibration:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CalibrationError(f"{path}: cannot read the search's calibration ({exc}). Fit it: make kb-calibrate") \
                from exc
        except ValueError as exc:
            raise CalibrationError(f"{path}: not valid JSON ({exc}). Fit it again: make kb-calibrate") from exc
        cal = cls(**_checked_fields(path, data))
        if check:
            cal.check_features(path)
        else:  # refitting: start from the thresholds, not from weights of another feature set
            cal.coef = {}
        return cal

    def check_features(self, path: Path = CALIBRATION_FILE) -> None:
        """The confidence model must have been fitted on the features the search computes, by name."""
        for method, coef in self.coef.items():
            if not isinstance(coef, dict) or set(coef) != set(FEATURES):
                got = sorted(coef) if isinstance(coef, dict) else f"{len(coef)} unnamed weights"
                raise CalibrationMismatch(
                    f"{path}: the '{method}' confidence model was fitted on features {got}, but the search computes "
                    f"{list(FEATURES)}. Refit it: make kb-calibrate"
                )

    def save(self, path: Path = CALIBRATION_FILE, extra: dict[str, Any] | None = None) -> None:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data.update(extra or {})
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


_FIELD_TYPES = {"weights": dict, "coef": dict, "method_thresholds": dict}


def _checked_fields(path: Path, data: Any) -> dict[str, Any]:
    """The file's values for every field, or an error naming the file and what is wrong."""
    if not isinstance(data, dict):
        raise CalibrationError(f"{path}: expected a JSON object. Fit it again: make kb-calibrate")
    missing = [name for name in Calibration.__dataclass_fields__ if name not in data]
    if missing:
        raise CalibrationError(f"{path}: missing {', '.join(missing)}. Fit it again: make kb-calibrate")
    values = {name: data[name] for name in Calibration.__dataclass_fields__}
    for name, value in values.items():
        want = _FIELD_TYPES.get(name, float)
        ok = isinstance(value, dict) if want is dict else isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            raise CalibrationError(
                f"{path}: '{name}' should be {'an object' if want is dict else 'a number'}, not {value!r}. "
                "Fit it again: make kb-calibrate"
            )
    kinds = values["weights"]
    if set(kinds) != {"accented", "unaccented"} or any(len(w) != 3 for w in kinds.values()):
        raise CalibrationError(f"{path}: 'weights' needs accented and unaccented, three numbers each")
    return values


class CalibrationError(RuntimeError):
    """calibration.json is missing or malformed; the message names the file and what to run."""


class CalibrationMismatch(CalibrationError):
    """calibration.json does not match the features the search computes; the message says what to run."""


# What the confidence model sees of each shortlisted record, by name (calibration.json stores weights by name).
FEATURES = (
    "bias", "score", "lead", "dense", "lexical", "agree", "accented_dense", "coverage", "query_weight",
    # the data's own signals: how much of the record's name the question says (a rare variant adds words the
    # question lacks), curated (the few hundred procedures citizens ask most), for citizens, local level, detailed
    "name_cover", "whole_name", "curated", "current", "citizen", "local", "details",
)  # fmt: skip


# ---------------------------------------------------------------- encoder (process-wide, loaded once)

_ENCODER: Any = None
_ENCODER_LOCK = threading.Lock()


def _encoder() -> Any:
    global _ENCODER
    with _ENCODER_LOCK:
        if _ENCODER is None:
            from knowledge.index.encoder import load_encoder

            _ENCODER = load_encoder()
    return _ENCODER


@functools.lru_cache(maxsize=1024)
def query_vector(text: str) -> np.ndarray:
    """e5 query embedding; cached because citizens repeat the same questions (and calibration re-asks them)."""
    vec = np.asarray(_encoder().encode_queries([text]), dtype=np.float32)[0]
    vec.setflags(write=False)
    return vec


# ---------------------------------------------------------------- one loaded index version


@dataclass
class Candidate:
    doc: int
    score: float  # fused (or single-channel) score used for ranking
    dense: float  # best view cosine
    lexical: float  # best view BM25, as a fraction of what the query's terms can reach
    view: int  # best matching view
    coverage: float = 0.0  # share of the query's words found anywhere in the record
    passage_view: int = -1  # best matching body passage (guides): what the citizen is shown
    features: np.ndarray | None = None
    confidence: float = 0.0


class _Snapshot:
    """Everything one published version holds, read-only once loaded."""

    def __init__(self, version_dir: Path) -> None:
        import faiss

        self.version_dir = version_dir
        self.docs: list[dict[str, Any]] = json.loads((version_dir / "records.json").read_text(encoding="utf-8"))
        views = json.loads((version_dir / "views.json").read_text(encoding="utf-8"))
        self.view_doc = np.array([v["doc"] for v in views], dtype=np.int64)
        self.view_text = [v["text"] for v in views]
        self.is_passage = np.array([v["kind"] == "passage" for v in views], dtype=bool)
        self.index = faiss.read_index(str(version_dir / "dense.faiss"))
        # Every view is scored for every question (the fusion needs all of them), so read the flat index's vectors
        # once and score with one matrix product: faiss's search would also sort all views (30 ms at 13k views).
        n = self.index.ntotal
        self.vectors = self.index.reconstruct_n(0, n) if n else np.zeros((0, self.index.d), dtype=np.float32)
        # views are written document by document: each document's views form one run
        self.doc_start = np.searchsorted(self.view_doc, np.arange(len(self.docs)))
        self.bm25 = BM25.load(version_dir)
        self.by_id = {d["id"]: i for i, d in enumerate(self.docs)}
        self.signals = np.array(
            [[float(d.get("signals", {}).get(name, True)) for name in SIGNALS] for d in self.docs], dtype=np.float64
        ).reshape(len(self.docs), len(SIGNALS))
        # the words of every name a document goes by (its name, official names, aliases, a guide's title)
        # ("Đăng ký …", "Thủ tục …" say nothing about which: knowledge/vocabulary/scaffold.yml name_filler)
        filler = vocabulary().name_filler
        self.names: list[list[frozenset[str]]] = [[] for _ in self.docs]
        self.name_texts: list[list[list[str]]] = [[] for _ in self.docs]  # each name's words with their diacritics
        for v in views:
            if v["kind"] in NAME_VIEWS:
                self.names[v["doc"]].append(counted(w for w in content_words(v["text"]) if w not in filler))
                self.name_texts[v["doc"]].append(spoken(v["text"]))
        self.case_head, self.cases = family_cases(self.docs)
        # «cấp lại», «gia hạn», «điều chỉnh»…: what names another operation on the same paper, read from the families
        # and from names that vary over one paper (reading.operation_phrases, reading.sibling_operations)
        titles = [d["title"] for d in self.docs]
        self.operations = with_folded(
            operation_phrases((titles[case], titles[head]) for case, head in self.case_head.items())
            | sibling_operations(d["title"] for d in self.docs if d["kind"] != "guide")
        )
        # a province's own procedures: offered only when the citizen names that province (or it is deployed there)
        self.province = np.array([d.get("province") or "" for d in self.docs], dtype=object)
        self.national = self.province == ""  # computed once: the mask below runs on every question
        self._records: dict[str, Any] = {}

    def record(self, doc_id: str) -> Procedure | Guide | OfficialRecord | None:
        if doc_id not in self._records:
            i = self.by_id.get(doc_id)
            if i is None:
                return None
            self._records[doc_id] = _parse_record(self.docs[i])
        return self._records[doc_id]

    def facts(self, doc_id: str) -> ProcedureFacts | None:
        """What the citizen may act on for a procedure document (None for guides and unknown ids)."""
        i = self.by_id.get(doc_id)
        if i is None or self.docs[i]["kind"] == "guide":
            return None
        key = f"facts:{doc_id}"
        if key not in self._records:
            doc, record = self.docs[i], self.record(doc_id)
            if isinstance(record, OfficialRecord):
                self._records[key] = from_official(record)
            elif isinstance(record, Procedure):
                linked = [OfficialRecord.model_validate(r) for r in doc["data"].get("official", [])]
                self._records[key] = from_curated(record, linked)
        return self._records[key]

    def allowed(self, provinces: set[str]) -> np.ndarray:
        """Which documents may be offered to a citizen of these provinces."""
        mask = self.national.copy()
        for province in provinces:
            mask |= self.province == province
        return mask

    # -- channel scores per view, then max per document

    def dense_views(self, query_vec: np.ndarray) -> np.ndarray:
        if not len(self.vectors):
            return np.zeros(0, dtype=np.float32)
        return self.vectors @ query_vec.astype(np.float32)

    def per_doc_max(self, view_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Max over each document's views, and which view gave it (the first such view)."""
        best = np.maximum.reduceat(view_scores, self.doc_start).astype(np.float32)
        hits = np.flatnonzero(view_scores >= best[self.view_doc])[::-1]  # reversed: the first view is written last
        best_view = np.zeros(len(self.docs), dtype=np.int64)
        best_view[self.view_doc[hits]] = hits
        return best, best_view


def family_cases(docs: list[dict[str, Any]]) -> tuple[dict[int, int], dict[int, Case]]:
    """Each record's family head (the shortest name whose words its name all contains, as the index groups them in
    knowledge/index/documents.py) and what tells it apart from the head, learned from the two names
    (knowledge.search.reading.case_of). A curated record (one of the procedures citizens ask most) heads no
    official-only family of its own and is never put under one."""
    by_id = {d["id"]: i for i, d in enumerate(docs)}
    heads: dict[int, int] = {}
    cases: dict[int, Case] = {}
    for i, doc in enumerate(docs):
        head = by_id.get(doc.get("family") or "")
        if head is None or _curated_under_official(doc, docs[head]):
            continue
        heads[i] = head
        cases[i] = case_of(doc["title"], docs[head]["title"])
    return heads, cases


def _parse_record(doc: dict[str, Any]) -> Procedure | Guide | OfficialRecord:
    if doc["kind"] == "official":
        return OfficialRecord.model_validate(doc["data"])
    if doc["kind"] == "guide":
        return Guide.model_validate(doc["data"])
    return Procedure.model_validate({k: v for k, v in doc["data"].items() if k != "official"})


def query_provinces(query: str) -> set[str]:
    """Provinces the question names, plus the deployment's own (MOCUA_PROVINCE)."""
    found = {match_province(query), match_province(settings.current().province)}
    return {p for p in found if p}


def name_cover(names: list[frozenset[str]], query_words: frozenset[str]) -> float:
    """How much of a record's best-fitting name the question says: 1.0 for "đăng ký khai sinh" on "Đăng ký khai
    sinh", 0.5 on "Đăng ký khai sinh có yếu tố nước ngoài" (the variant adds words the question does not have).
    Typing a record's whole name or alias is strong evidence; a fragment shared by many names is weak."""
    return max((len(n & query_words) / len(n) for n in names if n), default=0.0)


def whole_name_typed(names: list[frozenset[str]], query_words: frozenset[str]) -> bool:
    """The question holds every word of one of the record's names, a name of two words or more ("cưới" alone, a
    one-word alias, is no evidence when "cười" folds to the same letters)."""
    return bool(typed_name(names, query_words))


def typed_name(names: list[frozenset[str]], query_words: frozenset[str]) -> frozenset[str]:
    """The words of the fullest of the record's names the question holds whole (two words or more), else none."""
    return max((n for n in names if len(n) >= 2 and n <= query_words), key=len, default=frozenset())


def prepare_query(query: str) -> str:
    """NFC, collapsed spaces, symbols and abbreviations expanded (knowledge/vocabulary/abbreviations.yml), and the
    official words for papers called by their everyday names (questions.yml everyday_names)."""
    return with_official_names(clean(expand_abbreviations(query)))


class KnowledgeBase:
    """Search over the published index; reloads itself when `make kb-build` publishes a new version."""

    def __init__(self, index_dir: Path, calibration: Calibration | None = None, watch: bool = True) -> None:
        self.index_dir = index_dir
        self.calibration = calibration or Calibration.load()
        self.watch = watch
        self._lock = threading.Lock()
        self._checked = 0.0
        version = current_version(index_dir)
        if version is None:
            raise FileNotFoundError(f"no published index in {index_dir}: run `make kb-build`")
        self._snapshot = _Snapshot(version)

    @classmethod
    def load(cls, index_dir: Path | None = None) -> KnowledgeBase:
        return cls(index_dir_from_env(index_dir))

    # -- hot reload

    @property
    def version(self) -> str:
        return self._snapshot.version_dir.name

    def refresh(self, wait: bool = False) -> str:
        """Swap in a newly published index now if there is one, and return the loaded version. The action server
        calls it every second, so an idle replica is up to date before its next question instead of at it.
        `wait`: look now even if a look was just made, and wait for a load another thread has begun (after a build,
        to report the version really served)."""
        return self._fresh(wait).version_dir.name

    def _fresh(self, wait: bool = False) -> _Snapshot:
        """The current snapshot, swapped for a newly published one if the pointer moved (checked ≤ once a second)."""
        now = time.monotonic()
        if not self.watch or (not wait and now - self._checked < RELOAD_CHECK_SECONDS):
            return self._snapshot
        if not self._lock.acquire(blocking=wait):
            return self._snapshot  # another thread is loading; keep serving the old one meanwhile
        try:
            self._checked = now
            version = current_version(self.index_dir)
            if version is not None and version != self._snapshot.version_dir:
                try:
                    self._snapshot = _Snapshot(version)
                except (OSError, ValueError, RuntimeError) as exc:  # a damaged version must not stop the bot
                    print(f"knowledge: cannot load {version}: {exc}", file=sys.stderr)
        finally:
            self._lock.release()
        return self._snapshot

    # -- records

    def procedure(self, doc_id: str) -> Procedure | None:
        """The curated record (None for official-only procedures: use facts())."""
        record = self._fresh().record(doc_id)
        return record if isinstance(record, Procedure) else None

    def facts(self, doc_id: str) -> ProcedureFacts | None:
        """Official facts with curated wording, for a curated or official-only procedure."""
        return self._fresh().facts(doc_id)

    def kind(self, doc_id: str) -> str | None:
        snap = self._fresh()
        i = snap.by_id.get(doc_id)
        return None if i is None else snap.docs[i]["kind"]

    def title(self, doc_id: str) -> str | None:
        snap = self._fresh()
        i = snap.by_id.get(doc_id)
        return None if i is None else snap.docs[i]["title"]

    def guide(self, doc_id: str) -> Guide | None:
        record = self._fresh().record(doc_id)
        return record if isinstance(record, Guide) else None

    def doc_id_at(self, doc: int) -> str:
        return self._fresh().docs[doc]["id"]

    def doc_ids(self) -> list[str]:
        return [d["id"] for d in self._fresh().docs]

    # -- search

    def candidates(self, query: str, method: str = "combined", k: int = 5, rerank: bool = True) -> list[Candidate]:
        """Ranked candidates with features and confidence, for one method (the benchmark compares them)."""
        return self._candidates(self._fresh(), query, method, k, rerank)

    def _candidates(self, snap: _Snapshot, query: str, method: str, k: int, rerank: bool) -> list[Candidate]:
        if not snap.docs:
            return []
        text = prepare_query(query)
        cal = self.calibration
        accented = has_diacritics(clean(query))  # as typed: expanding "ko" to "không" must not count
        n_docs = len(snap.docs)
        reach = 0.0  # how much the question's own words can say (low for "ko", "thủ tục", "cho em hỏi")
        query_words = content_words(text)
        if query_words:
            lex_views = snap.bm25.scores(query_words)
            reach = snap.bm25.query_weight(query_words)
            lex_views = lex_views / reach if reach > 0 else lex_views
            cover = snap.bm25.coverage(query_words, snap.view_doc, n_docs)
        else:
            lex_views = np.zeros(len(snap.view_text), dtype=np.float32)
            cover = np.zeros(n_docs, dtype=np.float32)
        if method == "lexical":
            dense_views = np.zeros(len(snap.view_text), dtype=np.float32)
        else:
            dense_views = snap.dense_views(query_vector(text))
        dense_z = (dense_views - cal.dense_floor) / cal.dense_scale
        w_dense, w_lex, w_cov = cal.weights["accented" if accented else "unaccented"]
        if method == "routed":  # the shared README's rule: e5 for accented questions, BM25 for the rest
            method_weights = (1.0, 0.0, 0.0) if accented else (0.0, 1.0, 0.0)
            w_dense, w_lex, w_cov = method_weights
        if method == "dense":
            w_dense, w_lex, w_cov = 1.0, 0.0, 0.0
        elif method in ("lexical", "rrf"):
            w_dense, w_lex, w_cov = 0.0, 1.0, 0.0
        fused_views = w_dense * dense_z + w_lex * lex_views
        fused, best_view = snap.per_doc_max(fused_views)
        # A guide may match on its title or an alias; the answer should still quote its best body passage.
        _, best_passage = snap.per_doc_max(np.where(snap.is_passage, fused_views, -np.inf))
        fused = fused + w_cov * cover
        fused[~snap.allowed(query_provinces(query))] = -np.inf
        dense_doc, _ = snap.per_doc_max(dense_views)
        lex_doc, _ = snap.per_doc_max(lex_views)
        if method == "rrf":  # reciprocal-rank fusion of the two channels' document rankings
            fused = (1.0 / (RRF_K + _ranks(dense_doc)) + 1.0 / (RRF_K + _ranks(lex_doc))) * RRF_K
        order = np.argsort(-fused, kind="stable")[: max(k, SHORTLIST)]
        # the common case of a shortlisted case competes beside it, so a question that names no case can get it
        heads = [snap.case_head[int(d)] for d in order[:HEAD_REACH] if int(d) in snap.case_head]
        order = np.concatenate([order, np.array([h for h in dict.fromkeys(heads) if h not in order], dtype=np.int64)])
        order = order[np.isfinite(fused[order])]
        top_dense, top_lex = int(np.argmax(dense_doc)), int(np.argmax(lex_doc))
        query_set = counted(query_words)
        coef = coef_vector(cal.coef.get(method))
        out: list[Candidate] = []
        for rank, d in enumerate(order):
            other = fused[order[1]] if rank == 0 and len(order) > 1 else fused[order[0]]
            named = name_cover(snap.names[d], query_set)  # typing a whole name is strong evidence: a step too
            cand = Candidate(
                int(d), float(fused[d]), float(dense_doc[d]), float(lex_doc[d]), int(best_view[d]), float(cover[d]),
                passage_view=int(best_passage[d]) if snap.is_passage[best_passage[d]] else -1,
            )
            agree = float(d == top_dense) + float(d == top_lex)
            dense_feat = cand.dense if method not in ("lexical", "routed") or accented else 0.0
            cand.features = np.array(
                [1.0, cand.score, cand.score - float(other), dense_feat, cand.lexical, agree,
                 float(accented) * dense_feat, cand.coverage, float(np.log1p(reach)),
                 named, float(whole_name_typed(snap.names[d], query_set)), *snap.signals[d]],
                dtype=np.float64,
            )
            cand.confidence = _logistic(coef, cand.features)
            out.append(cand)
        # The fused score picks the shortlist; the calibrated confidence orders it, so hits read best first and
        # their scores decrease (measured: same top-1 within one question, and it lifts the single-channel methods).
        if rerank:
            out.sort(key=lambda c: -c.confidence)
        return out

    def search(
        self, query: str, k: int = 5, method: str = "combined", context: Context | None = None
    ) -> SearchResult:
        """Candidates with their evidence, and the one decision on them (knowledge/search/decision.py), made with the
        conversation's context when the dialogue gives it."""
        snap = self._fresh()  # one snapshot for the whole search, even if a new index is swapped in meanwhile
        th = self.calibration.for_method(method).thresholds()
        # A message that tells its background first is searched by the clause that asks (reading.py): searched
        # whole, the story's own words ("cán bộ bảo…", "gọi tổng đài", "lên ủy ban") bring the guides about them
        # in as rivals (tests/benchmarks/bench_long_messages.py). A case is named there too, not in the story.
        focus = asking_clause(query)
        told = None if focus else self._clause_told(snap, query, method, k, th)
        if told is not None:
            focus, evidence = told
        else:
            evidence = self._evidence_for(snap, focus or query, method, k)
        story = tells_a_story(query)
        whole_story = focus is None and story
        context = replace(
            context or Context(),
            background=focus is not None or story,
            whole_story=whole_story,
            accented=has_diacritics(clean(query)),
        )
        decision = decide(evidence, th, context)
        hits = [e.hit for e in evidence[:k]]
        return SearchResult(clean(query), hits, decision.verdict, decision.cases, decision.choices, evidence, decision)

    def _evidence_for(self, snap: _Snapshot, asked: str, method: str, k: int) -> list[Evidence]:
        cands = self._candidates(snap, asked, method, k, rerank=True)
        prepared = prepare_query(asked)
        words = counted(content_words(prepared))
        operations = said_operations(asked, snap.operations)
        evidence = [self._evidence(snap, c, prepared, words, operations) for c in cands]
        return with_parents(evidence, [snap.docs[c.doc] for c in cands], prepared)

    def _clause_told(
        self, snap: _Snapshot, query: str, method: str, k: int, th: Thresholds
    ) -> tuple[str, list[Evidence]] | None:
        """A story whose need is told, not asked ("Chuyện là tôi đang cần đổi sổ đỏ sang số căn cước."): the clause
        that names a procedure the search is as sure of as it must be to overrule NLU's "off-topic" (NLU calls most
        stories that), the surest if several; None when no clause does (then the whole message is searched). Guides
        on the office's workings are the story's background, not its need."""
        told: tuple[float, str, list[Evidence]] | None = None
        for clause in naming_clauses(query)[:TOLD_CLAUSES]:
            evidence = self._evidence_for(snap, clause, method, k)
            found = decide(evidence, th)
            best = found.best
            if found.kind != "answer" or best is None or best.kind == "guide" or best.score < th.off_topic_answer:
                continue
            if told is None or best.score > told[0]:
                told = (best.score, clause, evidence)
        return None if told is None else (told[1], told[2])

    def _evidence(
        self, snap: _Snapshot, cand: Candidate, asked: str, words: frozenset[str], operations: list[Phrase]
    ) -> Evidence:
        head = snap.case_head.get(cand.doc)
        return Evidence(
            self._hit(snap, cand), cand.coverage, typed_name(snap.names[cand.doc], words),
            head=None if head is None else snap.docs[head]["id"],
            named_case=head is not None and says_case(asked, snap.cases[cand.doc]),
            separate=head is not None and snap.cases[cand.doc].separate,
            operation=operation_said(snap.name_texts[cand.doc], operations, snap.operations),
        )  # fmt: skip

    def _hit(self, snap: _Snapshot, cand: Candidate) -> Hit:
        doc = snap.docs[cand.doc]
        passage = snap.view_text[cand.passage_view if cand.passage_view >= 0 else cand.view]
        if len(passage) > PASSAGE_CHARS:
            passage = passage[: PASSAGE_CHARS].rsplit(" ", 1)[0] + " …"
        return Hit(doc["id"], doc["kind"], doc["title"], round(cand.confidence, 4), passage)


def operation_said(names: list[list[str]], operations: list[Phrase], known: Iterable[Phrase]) -> int:
    """+1: one of the record's names says an operation the question says («cấp lại»); -1: the question says one and
    its names say no operation with the same telling word («đăng ký lại» tells «lại» too), so the record is about
    another operation on the paper; 0: the question says none."""
    if not operations:
        return 0
    its = {op for op in known for name in names if contains_phrase(name, op)}
    if its & set(operations):
        return 1
    return -1 if not {op[-1] for op in its} & {op[-1] for op in operations} else 0


def with_parents(evidence: list[Evidence], docs: list[dict[str, Any]], asked: str) -> list[Evidence]:
    """Each shortlisted record's parents in the shortlist, nearest first, whose case the question does not name.

    The index gives each record one family head: the shortest name its own holds. A record may also be a case of a
    nearer one ("Đăng ký lại khai sinh có yếu tố nước ngoài" of "Đăng ký lại khai sinh" and of "Đăng ký khai sinh
    có yếu tố nước ngoài"): a question that names what tells it from the head ("lại") may name nothing that tells it
    from such a parent, which then goes ahead of it (decision.common_case_first). Parents are read as the index
    reads heads (RecordName.is_case_of); a curated record is never a case of an official one (family_cases)."""
    names = [RecordName.of(doc) for doc in docs]
    out = []
    for e, doc, name in zip(evidence, docs, names, strict=True):
        parents = sorted(
            (j for j, other in enumerate(names) if other is not name and _is_parent(doc, name, docs[j], other)),
            key=lambda j: -len(names[j].words),  # the longest name first: the nearest parent
        )
        unnamed = tuple(
            docs[j]["id"] for j in parents if docs[j]["id"] != e.head and not _names_case(asked, doc, docs[j])
        )
        out.append(replace(e, parents=unnamed) if unnamed else e)
    return out


def _is_parent(doc: dict[str, Any], name: RecordName, parent: dict[str, Any], parent_name: RecordName) -> bool:
    return name.is_case_of(parent_name) and not _curated_under_official(doc, parent)


def _curated_under_official(doc: dict[str, Any], head: dict[str, Any]) -> bool:
    """A curated record (one of the procedures citizens ask most) is never a case of an official-only one."""
    return doc["kind"] == "procedure" and head["kind"] != "procedure"


def _names_case(asked: str, doc: dict[str, Any], parent: dict[str, Any]) -> bool:
    """The question names what tells `doc` from `parent`, or `doc` is a separate procedure on the same thing."""
    case = case_of(doc["title"], parent["title"])
    return case.separate or says_case(asked, case)


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each entry, best (highest) first."""
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return ranks


def coef_vector(coef: dict[str, float] | None) -> np.ndarray | None:
    return None if not coef else np.array([coef[name] for name in FEATURES], dtype=np.float64)


def _logistic(coef: np.ndarray | None, features: np.ndarray) -> float:
    if coef is None:  # not fitted yet (only while `make kb-calibrate` fits the first model): squash the score
        return float(1.0 / (1.0 + np.exp(-(features[1] - 2.0))))
    z = float(np.dot(coef, features))
    return float(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))))


# ---------------------------------------------------------------- process-wide instance

_KB: KnowledgeBase | None = None
_KB_LOCK = threading.Lock()


def get_knowledge_base() -> KnowledgeBase:
    """The process-wide knowledge base (index dir from MOCUA_INDEX_DIR); it swaps in newly published indexes."""
    global _KB
    with _KB_LOCK:
        if _KB is None:
            _KB = KnowledgeBase.load()
    return _KB


def forget_knowledge_base(unless_serving: Path | None = None) -> None:
    """Drop the process-wide knowledge base, so the next get_knowledge_base() loads MOCUA_INDEX_DIR again: for tests
    that point it at another index. `unless_serving`: keep it when it already serves that index directory."""
    global _KB
    with _KB_LOCK:
        if _KB is None or _KB.index_dir != unless_serving:
            _KB = None
