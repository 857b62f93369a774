"""The Vietnamese vocabulary that drives understanding, read from the data files in knowledge/data/vocabulary/.

Staff extend those YAML files (abbreviations and teen code, spelling variants, stop phrases, scaffold words,
feedback words, ordinals; knowledge/data/vocabulary/README.md); no Python changes. This module holds the one
implementation of each rule built on them, shared by the NLU normaliser (nlu_components/vietnamese.py, in the
Rasa environment), the lexical search (knowledge/index/lexical.py) and the actions (actions/dialogue.py).

Standard library and PyYAML only: both environments import this module and both pin PyYAML.
`MOCUA_VOCABULARY_DIR` points at another vocabulary directory (a trial copy, the tests). A running process
re-reads the files when one of them changes (checked at most once a second), like the search index.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import settings
from knowledge.text import clean, fold, has_diacritics, nfc, spoken, words

VOCABULARY_DIR = Path(__file__).resolve().parent / "data" / "vocabulary"
FILES = (
    "abbreviations.yml", "spelling_variants.yml", "stop_phrases.yml", "scaffold.yml", "feedback.yml", "ordinals.yml",
    "questions.yml",
)  # fmt: skip
RELOAD_CHECK_SECONDS = 1.0
# A negator flips the first feedback word at most this many other words after it ("không có gì sai").
NEGATION_REACH = 2

_WORD = re.compile(r"\w+", re.UNICODE)
_ONE_WORD = re.compile(r"^\w+$", re.UNICODE)

Phrase = tuple[str, ...]


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used; the message names the file and what to fix, in Vietnamese."""


def vocabulary_dir() -> Path:
    return settings.current().vocabulary_dir or VOCABULARY_DIR


def vocabulary_files(directory: Path | None = None) -> list[Path]:
    directory = directory or vocabulary_dir()
    return [directory / name for name in FILES]


def vocabulary_fingerprint(directory: Path | None = None) -> str:
    """Hash of the vocabulary files: the index build and the NLU training cache depend on it."""
    digest = hashlib.sha256()
    for path in vocabulary_files(directory):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------- the data, checked


@dataclass(frozen=True)
class Feedback:
    """Feedback words as folded-or-accented phrases, by role."""

    roles: Mapping[Phrase, str]  # lower-case NFC phrase -> positive | negative | negator | intensifier | neutral
    folded: Mapping[Phrase, str]  # the same, compared without diacritics (first role listed wins)
    longest: int


@dataclass(frozen=True)
class Vocabulary:
    chat: Mapping[str, str]  # folded abbreviation citizens type -> full phrase
    documents: Mapping[str, str]  # folded abbreviation of official texts -> full phrase
    symbols: Mapping[str, str]  # emoji -> words
    spellings: Mapping[str, str]  # folded syllable -> the one spelling used
    stop_phrases: tuple[Phrase, ...]  # canonical syllables, longest first
    scaffold_words: frozenset[str]
    scaffold_phrases: tuple[Phrase, ...]
    name_filler: frozenset[str]
    feedback: Feedback
    ordinals: Mapping[str, int]  # folded word -> position (1-based)
    last_choice: frozenset[str]
    asking: tuple[Phrase, ...]  # phrases that mark the clause that asks, in a message with background
    # everyday phrase (folded) -> (the phrase with its diacritics, the words of a name it stands for, accented)
    case_words: Mapping[Phrase, tuple[Phrase, Phrase]]
    # words a closing says around its asking words ("bây giờ", "đây"): (folded, with diacritics)
    closing: tuple[tuple[Phrase, Phrase], ...] = ()
    # everyday name of a paper (folded) -> (the name with its diacritics, the words official texts use for it)
    everyday_names: Mapping[Phrase, tuple[Phrase, Phrase]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path) -> Vocabulary:
        data = {name: _read(directory / name) for name in FILES}
        spellings = _spellings(data["spelling_variants.yml"])

        def syllables_of(entries: Iterable[str]) -> frozenset[str]:
            return frozenset(w for entry in entries for w in _phrase(entry, spellings))

        def phrases_of(entries: Iterable[str]) -> tuple[Phrase, ...]:
            found = {_phrase(entry, spellings) for entry in entries}
            return tuple(sorted((p for p in found if p), key=lambda p: (-len(p), p)))

        chat, documents, symbols = _abbreviations(data["abbreviations.yml"])
        scaffold = data["scaffold.yml"]
        ordinals, last = _ordinals(data["ordinals.yml"])
        return cls(
            chat=chat,
            documents=documents,
            symbols=symbols,
            spellings=spellings,
            stop_phrases=phrases_of(_strings(data["stop_phrases.yml"], "stop_phrases.yml", "phrases")),
            scaffold_words=syllables_of(_strings(scaffold, "scaffold.yml", "words")),
            scaffold_phrases=phrases_of(_strings(scaffold, "scaffold.yml", "phrases")),
            name_filler=syllables_of(_strings(scaffold, "scaffold.yml", "name_filler")),
            feedback=_feedback(data["feedback.yml"]),
            ordinals=ordinals,
            last_choice=frozenset(fold(w) for w in last),
            asking=phrases_of(_strings(data["questions.yml"], "questions.yml", "asking")),
            case_words=_sayings_of(data["questions.yml"], "case_words", spellings),
            everyday_names=_sayings_of(data["questions.yml"], "everyday_names", spellings),
            closing=_closing(data["questions.yml"], spellings),
        )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise VocabularyError(f"{path}: thiếu file từ vựng") from error
    except yaml.YAMLError as error:
        raise VocabularyError(f"{path}: file YAML sai cú pháp — {error}") from error
    if not isinstance(data, dict):
        raise VocabularyError(f"{path}: file phải gồm các mục dạng «tên_mục:» ở đầu dòng")
    return data


def _strings(data: Mapping[str, Any], file: str, key: str) -> list[str]:
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, (str, int)) and str(i).strip() for i in items):
        raise VocabularyError(f"{file}: {key}: phải là danh sách, mỗi dòng «- từ hoặc cụm từ»")
    return [clean(str(i)).lower() for i in items]


def _pairs(data: Mapping[str, Any], file: str, key: str) -> dict[str, str]:
    items = data.get(key) or {}
    # YAML reads a bare yes/no/on/off as true/false: such a word must be quoted.
    if not isinstance(items, dict) or not all(
        not isinstance(k, bool) and not isinstance(v, bool) and str(v or "").strip() for k, v in items.items()
    ):
        raise VocabularyError(
            f"{file}: {key}: mỗi dòng phải có dạng «từ: cụm từ» (từ như yes, no, on, off phải đặt trong ngoặc kép)"
        )
    return {clean(str(k)).lower(): clean(str(v)).lower() for k, v in items.items()}


def _abbreviations(data: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    file = "abbreviations.yml"
    unknown = set(data) - {"chat", "documents", "symbols"}
    if unknown:
        listed = ", ".join(sorted(unknown))
        raise VocabularyError(f"{file}: mục {listed} không dùng được: chỉ có chat, documents, symbols")
    seen: set[str] = set()
    sections: list[dict[str, str]] = []
    for section in ("chat", "documents"):
        table: dict[str, str] = {}
        for key, full in _pairs(data, file, section).items():
            folded = fold(key)
            if not _ONE_WORD.match(folded):
                raise VocabularyError(f"{file}: {section}: «{key}»: chữ viết tắt phải là một từ, không có dấu cách")
            if folded in seen:
                raise VocabularyError(f"{file}: {section}: «{key}» đã có ở trên (so sánh không dấu): chỉ ghi một lần")
            seen.add(folded)
            table[folded] = full
        sections.append(table)
    return sections[0], sections[1], _pairs(data, file, "symbols")


def _spellings(data: Mapping[str, Any]) -> dict[str, str]:
    file = "spelling_variants.yml"
    pairs = {fold(k): fold(v) for k, v in _pairs(data, file, "syllables").items()}
    for key, value in pairs.items():
        if not (_ONE_WORD.match(key) and _ONE_WORD.match(value)):
            raise VocabularyError(f"{file}: syllables: «{key}: {value}»: mỗi bên phải là một âm tiết")
        if value in pairs:
            raise VocabularyError(f"{file}: syllables: «{value}» vừa là cách viết chung vừa được đổi sang cách khác")
    return pairs


def _ordinals(data: Mapping[str, Any]) -> tuple[dict[str, int], list[str]]:
    file = "ordinals.yml"
    positions = data.get("positions") or {}
    if not isinstance(positions, dict) or not all(isinstance(k, int) and k >= 1 for k in positions):
        raise VocabularyError(f"{file}: positions: mỗi mục phải có dạng «số_thứ_tự: [từ, từ]», số từ 1 trở lên")
    ordinals: dict[str, int] = {}
    for position, entries in sorted(positions.items()):
        label = f"positions.{position}"
        for word in _strings({label: entries}, file, label):
            ordinals.setdefault(fold(word), position)
    return ordinals, _strings(data, file, "last")


def _sayings_of(
    data: Mapping[str, Any], key: str, spellings: Mapping[str, str]
) -> dict[Phrase, tuple[Phrase, Phrase]]:
    """A table «words of official texts: [how citizens say them]», by saying: (folded) -> (accented, the words)."""
    file = "questions.yml"
    table = data.get(key) or {}
    if not isinstance(table, dict):
        raise VocabularyError(f"{file}: {key}: mỗi dòng phải có dạng «từ_trong_tên: [cách nói, cách nói]»")

    found: dict[Phrase, tuple[Phrase, Phrase]] = {}
    for name_word, sayings in table.items():
        label = f"{key}.{name_word}"
        for saying in _strings({label: sayings}, file, label):
            found[_phrase(saying, spellings)] = (_accented(saying), _accented(str(name_word)))
    return found


def _closing(data: Mapping[str, Any], spellings: Mapping[str, str]) -> tuple[tuple[Phrase, Phrase], ...]:
    entries = _strings(data, "questions.yml", "closing")
    return tuple((_phrase(entry, spellings), _accented(entry)) for entry in entries)


def _phrase(text: str, spellings: Mapping[str, str]) -> Phrase:
    """A vocabulary entry's folded syllables, each in its one spelling."""
    return tuple(spellings.get(w, w) for w in words(text))


def _accented(text: str) -> Phrase:
    """A vocabulary entry's words with their diacritics ("đây" is not "dạy")."""
    return tuple(spoken(clean(text)))


FEEDBACK_ROLES = ("neutral", "positive", "negative", "negators", "intensifiers")


def _feedback(data: Mapping[str, Any]) -> Feedback:
    roles: dict[Phrase, str] = {}
    folded: dict[Phrase, str] = {}
    for role in FEEDBACK_ROLES:
        for entry in _strings(data, "feedback.yml", role):
            phrase = tuple(_WORD.findall(entry))
            roles.setdefault(phrase, role)
            folded.setdefault(tuple(fold(w) for w in phrase), role)
    return Feedback(roles, folded, max((len(p) for p in roles), default=1))


# ---------------------------------------------------------------- the current vocabulary (re-read on change)


class _Current:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._value: Vocabulary | None = None
        self._checked = 0.0

    def get(self) -> Vocabulary:
        now = time.monotonic()
        directory = vocabulary_dir()
        fresh = self._key is not None and self._key[0] == str(directory) and now - self._checked < RELOAD_CHECK_SECONDS
        if fresh and self._value is not None:
            return self._value
        with self._lock:
            self._checked = now
            key = (str(directory), *(_stamp(p) for p in vocabulary_files(directory)))
            if key != self._key or self._value is None:
                self._value, self._key = Vocabulary.load(directory), key
            return self._value


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


_CURRENT = _Current()


def vocabulary() -> Vocabulary:
    """The vocabulary in MOCUA_VOCABULARY_DIR (default knowledge/data/vocabulary), re-read when a file changed."""
    return _CURRENT.get()


# ---------------------------------------------------------------- the rules


def expand_abbreviations(text: str, *, documents: bool = False) -> str:
    """Symbols and chat abbreviations replaced by their words ("dk tam tru ko" -> "đăng ký tam tru không"), other
    words kept as typed: how every message is read.

    `documents=True` is for comparing words with official texts (the lexical index, on records and questions
    alike): the abbreviations of official texts ("cchc") are expanded too, and one-letter ones are not, since in
    official texts "điểm a", "khoản e" are list items.
    """
    vocab = vocabulary()
    text = nfc(text)  # \w+ would cut a decomposed (NFD) word at its accents
    for symbol, spelled in vocab.symbols.items():
        text = text.replace(symbol, f" {spelled} ")

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        key = fold(word)
        if not documents:
            return vocab.chat.get(key, word)
        if len(key) < 2:
            return word
        return vocab.chat.get(key) or vocab.documents.get(key, word)

    return _WORD.sub(replace, text)


def canonical(syllable: str) -> str:
    """One spelling of a folded syllable ("ky" -> "ki")."""
    return vocabulary().spellings.get(syllable, syllable)


def syllables(text: str) -> list[str]:
    """Folded words in their one spelling: the form every comparison of words uses."""
    spellings = vocabulary().spellings
    return [spellings.get(w, w) for w in words(text)]


def folded_message(text: str) -> str:
    """A message as the NLU model reads it: symbols and abbreviations expanded, cleaned, lower case without
    diacritics, one spelling per syllable, punctuation kept."""
    spellings = vocabulary().spellings
    folded = fold(clean(expand_abbreviations(text)))
    return _WORD.sub(lambda m: spellings.get(m.group(0), m.group(0)), folded)


def drop_phrases(tokens: Sequence[str], phrases: tuple[Phrase, ...]) -> list[str]:
    """Tokens with every occurrence of the phrases removed, the longest phrase first at each position."""
    by_first = _by_first_word(phrases)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for phrase in by_first.get(tokens[i], ()):
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


@functools.lru_cache(maxsize=16)
def _by_first_word(phrases: tuple[Phrase, ...]) -> dict[str, list[Phrase]]:
    by_first: dict[str, list[Phrase]] = {}
    for phrase in sorted(phrases, key=len, reverse=True):
        by_first.setdefault(phrase[0], []).append(phrase)
    return by_first


def content_words(text: str) -> list[str]:
    """Folded syllables in their one spelling, abbreviations expanded, question scaffolding removed.

    The stop phrases (knowledge/data/vocabulary/stop_phrases.yml) say nothing about WHICH procedure is meant; they are
    removed as whole phrases, longest first, so "cần" in "cần giấy tờ gì" goes while "căn cước" stays.
    Abbreviations are expanded as for official texts; a question arrives with its chat abbreviations expanded.
    """
    return list(_WORDS.of(text))


class _WordsMemo:
    """content_words of texts already read, for the vocabulary they were read with.

    An index build and every replica's load of a new index read the words of ~20,000 texts (2 s each time); after
    a staff edit only a handful are new, so a long-lived process (the console's build, an action server) reads only
    those. Cleared whenever the vocabulary changes, and when it grows past LIMIT texts."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self.vocab: object = None
        self.words: dict[str, tuple[str, ...]] = {}

    def of(self, text: str) -> tuple[str, ...]:
        vocab = vocabulary()
        if vocab is not self.vocab or len(self.words) >= self.LIMIT:
            self.words, self.vocab = {}, vocab
        found = self.words.get(text)
        if found is None:
            found = tuple(drop_phrases(syllables(expand_abbreviations(text, documents=True)), vocab.stop_phrases))
            self.words[text] = found
        return found


_WORDS = _WordsMemo()


def ordinal(token: str) -> int | None:
    """The position a folded word names ("hai" -> 2), or -1 for "the last one", else None."""
    vocab = vocabulary()
    return -1 if token in vocab.last_choice else vocab.ordinals.get(token)


def feedback_score(text: str) -> int:
    """Praise minus complaints in a typed rating: "rất rõ" +1, "không rõ" -1, "trả lời sai, khó hiểu" -2.

    A message typed with diacritics is compared with them ("tế" in "y tế" is not "tệ"); one typed without is
    compared folded. A negator flips the next feedback word within NEGATION_REACH words; a negator with nothing
    to flip is a complaint on its own ("không", "chưa").
    """
    lexicon = vocabulary().feedback
    accented = has_diacritics(text)
    tokens = _WORD.findall(expand_abbreviations(text).lower())
    if not accented:
        tokens = [fold(t) for t in tokens]
    table = lexicon.roles if accented else lexicon.folded
    score, negated, since = 0, False, 0
    i = 0
    while i < len(tokens):
        role, size = _longest_match(tokens, i, table, lexicon.longest)
        i += size
        if role in ("positive", "negative"):
            polarity = 1 if role == "positive" else -1
            score += -polarity if negated else polarity
            negated = False
        elif role == "negators":
            if negated:
                score -= 1
            negated, since = True, 0
        elif role is None and negated:
            since += 1
            if since > NEGATION_REACH:
                score, negated = score - 1, False
        # intensifiers and neutral phrases keep the polarity and any pending negation
    return score - 1 if negated else score


def _longest_match(tokens: Sequence[str], i: int, table: Mapping[Phrase, str], longest: int) -> tuple[str | None, int]:
    for size in range(min(longest, len(tokens) - i), 0, -1):
        role = table.get(tuple(tokens[i : i + size]))
        if role is not None:
            return role, size
    return None, 1


# ---------------------------------------------------------------- the aspect a message asks (aspects.yml)

# Read by the actions only (NLU and the index do not use it), so it is not among FILES: editing it needs no
# retraining and no index build. Re-read when it changes, like the other files.
ASPECTS_FILE = "aspects.yml"


def cued_aspect(text: str) -> str | None:
    """The one aspect whose cue phrase (aspects.yml) the message contains, compared without diacritics ("làm giấy
    khai sinh cho con có mất tiền không" -> "fee"); None when no aspect or several are cued."""
    tokens = syllables(expand_abbreviations(text))
    cued = {aspect for aspect, phrases in _aspect_cues().items() if any(contains_phrase(tokens, p) for p in phrases)}
    return cued.pop() if len(cued) == 1 else None


def contains_phrase(tokens: Sequence[str], phrase: Phrase) -> bool:
    """Whether the phrase's syllables stand together, in order, among the tokens."""
    size = len(phrase)
    return any(tuple(tokens[i : i + size]) == phrase for i in range(len(tokens) - size + 1))


def _aspect_cues() -> dict[str, set[Phrase]]:
    path = vocabulary_dir() / ASPECTS_FILE
    spellings = vocabulary().spellings
    return {
        aspect: {tuple(spellings.get(w, w) for w in phrase) for phrase in phrases}
        for aspect, phrases in _read_aspect_cues(path, _stamp(path)).items()
    }


@functools.lru_cache(maxsize=4)
def _read_aspect_cues(path: Path, stamp: tuple[int, int]) -> dict[str, tuple[Phrase, ...]]:
    """Each aspect's cue phrases as folded syllables; none when the directory has no aspects.yml (a trial copy)."""
    if stamp == (0, 0):
        return {}
    data = _read(path)
    return {
        str(aspect): tuple(p for p in (tuple(words(entry)) for entry in _strings(data, path.name, aspect)) if p)
        for aspect in data
    }
