"""BM25 over diacritics-stripped text (numpy only).

Why folded text: citizens often type without diacritics ("lam can cuoc can gi"); an embedding model collapses
on such input, while word overlap on folded text still finds the record (measured in /work/shared/README.md).
Vietnamese words are mostly two syllables, so adjacent-syllable bigrams are indexed beside the syllables:
"khai sinh" then outweighs two unrelated hits on "khai" and "sinh".
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.language import content_words  # re-exported: the index and the search read words one way
from knowledge.text import fold, spoken


def name_words(title: str) -> Counter[str]:
    """A procedure name's folded words, counted: "Cấp lại … lái xe" holds "lai" twice, "Cấp … lái xe" once."""
    return Counter(content_words(title))


def counted(words: Iterable[str]) -> frozenset[str]:
    """Words counted as name_words counts them, but as a set a decision can compare and keep (typed names): the
    second "lai" is "lai#2". Folded, "lái" and "lại" are one word, so "cap lai giay phep lai xe" holds the whole of
    "Cấp lại giấy phép lái xe" while "cap giay phep lai xe" holds only "Cấp giấy phép lái xe", not the re-issue."""
    seen: dict[str, int] = {}
    out = []
    for word in words:
        seen[word] = seen.get(word, 0) + 1
        out.append(word if seen[word] == 1 else f"{word}#{seen[word]}")
    return frozenset(out)


def holds_name(name: Counter[str], other: Counter[str]) -> bool:
    """`name` holds every word of `other` and more, so names a case of it ("Đăng ký lại khai sinh" of "Đăng ký khai
    sinh"); or the same words, one of them once more ("lại" of "Cấp lại … lái xe" folds like "lái")."""
    if other.keys() < name.keys():
        return True
    return other.keys() == name.keys() and all(name[w] >= n for w, n in other.items()) and name.total() > other.total()


@dataclass(frozen=True, eq=False)
class RecordName:
    """A record's name as families are read (knowledge/index/documents.py, and the search's parents): its folded
    words counted (none for a guide), its words with their diacritics, and the record's fields."""

    words: Counter[str]
    said: frozenset[str]  # with diacritics: "lại" is not "lái", and "Cấp, cấp lại …" says nothing "Cấp lại …" does not
    fields: frozenset[str]

    @classmethod
    def of(cls, doc: dict[str, Any]) -> RecordName:
        words = name_words(doc["title"]) if doc["kind"] != "guide" else Counter()
        return cls(words, frozenset(spoken(doc["title"])), frozenset(doc.get("fields") or ()))

    def is_case_of(self, parent: RecordName) -> bool:
        """This name holds the parent's, of two words or more, and says more, within a field they share (when both
        have one: a generic "Xóa đăng ký" of secured transactions is no parent of a residence procedure)."""
        if len(parent.words) < 2 or not self.said - parent.said or not holds_name(self.words, parent.words):
            return False
        return not (self.fields and parent.fields and not self.fields & parent.fields)


def terms(text: str | list[str]) -> list[str]:
    """Index terms: content syllables plus adjacent-syllable bigrams (of a text, or of its content words)."""
    toks = content_words(text) if isinstance(text, str) else text
    return toks + [f"{a}_{b}" for a, b in itertools.pairwise(toks)]


Query = str | list[str]  # a question, or its content words computed once by the caller


UNKNOWN_PERCENTILE = 75


@dataclass
class BM25:
    """Okapi BM25 with precomputed per-posting weights; scoring is a few numpy adds per query term."""

    vocab: dict[str, int]
    offsets: np.ndarray  # int64 [V+1]: postings of term t are [offsets[t], offsets[t+1])
    doc_ids: np.ndarray  # int32 postings
    weights: np.ndarray  # float32 postings: idf * tf-saturation
    n_docs: int

    @classmethod
    def fit(cls, texts: list[str], k1: float = 1.2, b: float = 0.5) -> BM25:
        """Whole-array arithmetic in the same order as the per-posting formula idf * tf * (k1 + 1) / (tf + norm),
        in float64 and then float32, so a fit is the same to the bit however often it runs (an edit's rebuild
        equals a full build); with the words of known texts remembered it takes a fraction of a second."""
        docs = [Counter(terms(t)) for t in texts]
        n = len(docs)
        lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
        avgdl = float(lengths.mean()) if n and lengths.sum() else 1.0
        vocab = {term: t for t, term in enumerate(sorted({term for d in docs for term in d}))}
        post_term = np.fromiter((vocab[term] for d in docs for term in d), np.int64)
        post_tf = np.fromiter((tf for d in docs for tf in d.values()), np.float64, len(post_term))
        post_doc = np.repeat(np.arange(n, dtype=np.int64), [len(d) for d in docs])
        order = np.argsort(post_term, kind="stable")  # by term, each term's documents in order
        post_term, post_tf, post_doc = post_term[order], post_tf[order], post_doc[order]
        df = np.bincount(post_term, minlength=len(vocab))
        idf = np.array([math.log(1.0 + (n - int(f) + 0.5) / (int(f) + 0.5)) for f in df], dtype=np.float64)
        norm = k1 * (1.0 - b + b * lengths[post_doc] / avgdl)
        weights = idf[post_term] * post_tf * (k1 + 1.0) / (post_tf + norm)
        offsets = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return cls(vocab, offsets, post_doc.astype(np.int32), weights.astype(np.float32), n)

    def scores(self, query: Query) -> np.ndarray:
        """BM25 score of every indexed text for the query (zeros when no term matches)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term in set(terms(query)):
            t = self.vocab.get(term)
            if t is not None:
                lo, hi = self.offsets[t], self.offsets[t + 1]
                np.add.at(out, self.doc_ids[lo:hi], self.weights[lo:hi])
        return out

    def coverage(self, query: Query, groups: np.ndarray, n_groups: int) -> np.ndarray:
        """Per group of texts (a document's views): share of the query's weight found anywhere in the group.

        Rewards a document that holds every word of the question across its views, e.g. "Quảng Nam" in one
        passage and "trưởng ban" in another, where the best single view holds only part.
        """
        out = np.zeros(n_groups, dtype=np.float32)
        for term in set(terms(query)):
            t = self.vocab.get(term)
            if t is not None:
                lo, hi = self.offsets[t], self.offsets[t + 1]
                out[np.unique(groups[self.doc_ids[lo:hi]])] += float(self.weights[lo:hi].max())
        reach = self.query_weight(query)
        return out / reach if reach > 0 else out

    def query_weight(self, query: Query) -> float:
        """What a text matching every query term would score: the per-query scale for normalising to 0..1.

        A query syllable the index has never seen counts as a rare matched term would ("nghĩa vụ quân sự"), so
        a question about something we do not cover reaches only a small fraction. Unseen bigrams do not count:
        most word pairs of a question are new.
        """
        total = 0.0
        for term in set(terms(query)):
            t = self.vocab.get(term)
            if t is not None:
                total += float(self.weights[self.offsets[t] : self.offsets[t + 1]].max())
            elif "_" not in term:
                total += self.unknown_weight
        return total

    @property
    def unknown_weight(self) -> float:
        if not hasattr(self, "_unknown"):
            lo, hi = self.offsets[:-1], self.offsets[1:]
            per_term = np.maximum.reduceat(self.weights, lo[hi > lo]) if len(self.weights) else np.zeros(1)
            unigram = [not k.count("_") for k in sorted(self.vocab, key=self.vocab.__getitem__)]
            values = per_term[np.array(unigram, dtype=bool)] if len(per_term) == len(unigram) else per_term
            self._unknown = float(np.percentile(values, UNKNOWN_PERCENTILE)) if len(values) else 1.0
        return self._unknown

    def save(self, directory: Path) -> None:
        np.savez(directory / "lexical.npz", offsets=self.offsets, doc_ids=self.doc_ids, weights=self.weights)
        (directory / "lexical_vocab.json").write_text(
            json.dumps({"n_docs": self.n_docs, "vocab": self.vocab}, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> BM25:
        arrays = np.load(directory / "lexical.npz")
        meta = json.loads((directory / "lexical_vocab.json").read_text(encoding="utf-8"))
        return cls(meta["vocab"], arrays["offsets"], arrays["doc_ids"], arrays["weights"], int(meta["n_docs"]))


__all__ = ["BM25", "content_words", "fold", "terms"]
