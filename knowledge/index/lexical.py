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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.text import TEEN_CODE, fold, words

# Question scaffolding that says nothing about WHICH procedure is meant. Written with diacritics for readability;
# matched after folding, as whole phrases, so "cần" in "cần giấy tờ gì" goes while "căn cước" stays.
STOP_PHRASES: tuple[str, ...] = (
    "cần giấy tờ gì", "cần những giấy tờ gì", "cần chuẩn bị gì", "cần chuẩn bị những gì", "hồ sơ gồm những gì",
    "hồ sơ gồm gì", "giấy tờ gì", "những giấy tờ gì", "cần những gì", "cần gì", "gồm những gì",
    "ở đâu", "chỗ nào", "nơi nào", "bao nhiêu tiền", "bao nhiêu", "mất bao lâu", "bao lâu", "bao giờ",
    "thủ tục", "thủ tục hành chính", "như thế nào", "thế nào", "làm sao", "ra sao", "thì sao", "phải làm gì",
    "cho tôi hỏi", "cho em hỏi", "cho mình hỏi", "cho hỏi", "xin hỏi", "tôi muốn", "em muốn", "mình muốn",
    "tôi cần", "em cần", "mình cần", "muốn hỏi", "được không", "có được không", "có phải", "hay không",
    "có không", "không ạ", "vậy ạ", "ạ", "ơi", "nhé", "gì", "à", "là", "của", "và",
    "các", "những", "này", "nào", "ở", "tôi", "em", "bạn ơi", "anh chị",
    "hướng dẫn", "quy trình", "cách nào", "phải", "muốn", "giúp", "với", "cho", "không", "được",
)
_STOP_SEQS: tuple[tuple[str, ...], ...] = tuple(
    sorted({tuple(words(p)) for p in STOP_PHRASES}, key=len, reverse=True)
)
_MAX_STOP = max(len(s) for s in _STOP_SEQS)
_STOP_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _seq in _STOP_SEQS:
    _STOP_BY_FIRST.setdefault(_seq[0], []).append(_seq)


# Administrative abbreviations seen in records and questions, expanded on both sides so "CCHC" meets
# "cải cách hành chính". Chat abbreviations (knowledge.text.TEEN_CODE) are expanded the same way.
ABBREVIATIONS: dict[str, str] = {
    "cchc": "cải cách hành chính",
    "cds": "chuyển đổi số",
    "tthc": "thủ tục hành chính",
    "hdnd": "hội đồng nhân dân",
    "qd": "quyết định",
    "gcn": "giấy chứng nhận",
    "qsdd": "quyền sử dụng đất",
    "tnhh": "trách nhiệm hữu hạn",
    "atvstp": "an toàn vệ sinh thực phẩm",
    "vssc": "vệ sinh",
}
_EXPAND: dict[str, list[str]] = {
    key: words(value) for key, value in {**TEEN_CODE, **ABBREVIATIONS}.items() if len(key) > 1
}


# Both spellings are in use after these consonants ("kí"/"ký", "lí lịch"/"lý lịch", "công ti"/"công ty").
_I_TO_Y = {"ki": "ky", "li": "ly", "mi": "my", "ti": "ty", "hi": "hy", "si": "sy"}


def content_words(text: str) -> list[str]:
    """Folded syllables, abbreviations expanded, question scaffolding removed (longest stop phrase first)."""
    toks = [_I_TO_Y.get(w, w) for tok in words(text) for w in _EXPAND.get(tok, (tok,))]
    out: list[str] = []
    i = 0
    while i < len(toks):
        for seq in _STOP_BY_FIRST.get(toks[i], ()):
            if tuple(toks[i : i + len(seq)]) == seq:
                i += len(seq)
                break
        else:
            out.append(toks[i])
            i += 1
    return out


def terms(text: str) -> list[str]:
    """Index terms: content syllables plus adjacent-syllable bigrams."""
    toks = content_words(text)
    return toks + [f"{a}_{b}" for a, b in itertools.pairwise(toks)]


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
        docs = [Counter(terms(t)) for t in texts]
        n = len(docs)
        lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
        avgdl = float(lengths.mean()) if n and lengths.sum() else 1.0
        postings: dict[str, list[tuple[int, int]]] = {}
        for i, d in enumerate(docs):
            for term, tf in d.items():
                postings.setdefault(term, []).append((i, tf))
        vocab: dict[str, int] = {}
        offsets = [0]
        ids: list[int] = []
        wts: list[float] = []
        for t_index, (term, plist) in enumerate(sorted(postings.items())):
            vocab[term] = t_index
            idf = math.log(1.0 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
            for i, tf in plist:
                norm = k1 * (1.0 - b + b * lengths[i] / avgdl)
                ids.append(i)
                wts.append(idf * tf * (k1 + 1.0) / (tf + norm))
            offsets.append(len(ids))
        return cls(vocab, np.array(offsets, np.int64), np.array(ids, np.int32), np.array(wts, np.float32), n)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed text for the query (zeros when no term matches)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term in set(terms(query)):
            t = self.vocab.get(term)
            if t is not None:
                lo, hi = self.offsets[t], self.offsets[t + 1]
                np.add.at(out, self.doc_ids[lo:hi], self.weights[lo:hi])
        return out

    def coverage(self, query: str, groups: np.ndarray, n_groups: int) -> np.ndarray:
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

    def query_weight(self, query: str) -> float:
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


__all__ = ["BM25", "STOP_PHRASES", "content_words", "fold", "terms"]
