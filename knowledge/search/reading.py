"""Reading a citizen's message for the search: the clause that asks, the words that may name a procedure, and the
words that tell a family's cases apart. The Vietnamese words are data (knowledge/vocabulary/*.yml)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from knowledge import language
from knowledge.catalog.model import unlisted_name
from knowledge.language import content_words
from knowledge.text import fold, has_diacritics, spoken

Phrase = tuple[str, ...]
# Where one clause of a message ends: sentence marks and line breaks (commas join a clause to its question).
_CLAUSE_END = re.compile(r"(?<=[.!?;…\n])\s*")
# A message shorter than this many words is read whole: it has no background to set apart.
_ONE_CLAUSE_WORDS = 12
_NAMING_WORDS = 2  # an asking clause with fewer words beyond scaffolding names no procedure
_STORY_CLAUSES = 3  # this many sentences or more: a story told around the question
OPERATION_FAMILIES = 5  # an operation phrase names a case in this many families or more
SIBLING_OBJECTS = 10  # an operation's first words vary over this many objects or more
SIBLING_SHARE = 0.05  # … and in this share of the names they start, at least


def distinctive_words(text: str) -> list[str]:
    """Folded words left after question and aspect scaffolding: the words that may name a procedure.

    Scaffolding is knowledge/vocabulary/stop_phrases.yml and scaffold.yml. Its phrases go whole: "kết quả" (result)
    is scaffolding but "kết hôn" names a procedure.
    """
    vocab = language.vocabulary()
    toks = language.drop_phrases(content_words(language.expand_abbreviations(text)), vocab.scaffold_phrases)
    return [tok for tok in toks if tok not in vocab.scaffold_words]


def asking_clause(text: str) -> str | None:
    """In a message with background before its question ("Con tôi sinh ngày 3/5 … Cán bộ nói … Vậy cho tôi hỏi làm
    lại giấy khai sinh thế nào?"), the last clause that asks and names something. A closing that names nothing
    ("Vậy tôi phải làm sao ạ?", "Tôi nên làm thế nào đây?") leaves the question before it ("Thẻ làm năm 2021 có phải
    đổi không.", the procedure named in the middle). None for a short message, one with a single clause, or when
    no asking clause names anything: then the whole message is the question."""
    if len(language.syllables(text)) < _ONE_CLAUSE_WORDS:
        return None
    parts = clauses(text)
    if len(parts) < 2:
        return None
    naming = [c for c in parts if _asks(c) and _names_something(c)]
    return naming[-1] if naming else None


def naming_clauses(text: str) -> list[str]:
    """The clauses of a story that name something (two words beyond scaffolding): where its need may be told as a
    statement ("Chuyện là tôi đang cần đổi sổ đỏ sang số căn cước.") rather than asked."""
    return [c for c in clauses(text) if _names_something(c)] if tells_a_story(text) else []


def clauses(text: str) -> list[str]:
    """The message's sentences and clauses, in order."""
    return [c.strip() for c in _CLAUSE_END.split(text) if c.strip()]


def tells_a_story(text: str) -> bool:
    """A message of several sentences, background around its question (which clause asks may not show: "Mất giấy
    đăng ký xe. … Vậy tôi phải làm sao?"). NLU, which learnt from short questions, calls most of them off-topic."""
    return len(language.syllables(text)) >= _ONE_CLAUSE_WORDS and len(clauses(text)) >= _STORY_CLAUSES


def _names_something(clause: str) -> bool:
    """Two words beyond scaffolding and a closing's own words at least: a procedure's name has two syllables or more
    ("khai tử", "sổ đỏ"), while a closing keeps a word that names nothing ("mong" of "mong được giúp", "giờ" of "giờ
    tôi phải làm sao đây")."""
    named = distinctive_words(clause)
    for word in _closing_words(clause):
        if word in named:
            named.remove(word)
    return len(named) >= _NAMING_WORDS


def _closing_words(clause: str) -> list[str]:
    """The folded words of the closing phrases the clause says (knowledge/vocabulary/questions.yml closing: "bây
    giờ", "đây"), read with their diacritics when typed with them ("đây" is not "dạy"); typed without, only phrases
    of two words or more count ("day" may be "dạy")."""
    accented = has_diacritics(clause)
    typed, folded = spoken(clause), language.syllables(clause)
    said: list[str] = []
    for plain, with_marks in language.vocabulary().closing:
        if (accented or len(plain) > 1) and _says_phrase(typed, folded, accented, plain, with_marks):
            said += plain
    return said


def with_official_names(text: str) -> str:
    """The message with the words official texts use for the papers it calls by their everyday names ("mất cà vẹt xe"
    -> "mất cà vẹt xe (chứng nhận đăng ký xe)"; knowledge/vocabulary/questions.yml everyday_names). The everyday name
    stays: a curated record's aliases may use it. Read with diacritics when the message has them."""
    accented = has_diacritics(text)
    typed, folded = spoken(text), language.syllables(text)
    names = [
        " ".join(name)
        for saying, (saying_accented, name) in language.vocabulary().everyday_names.items()
        if _says_phrase(typed, folded, accented, saying, saying_accented)
    ]
    return f"{text} ({', '.join(dict.fromkeys(names))})" if names else text


def _says_phrase(typed: list[str], folded: list[str], accented: bool, plain: Phrase, with_marks: Phrase) -> bool:
    """A vocabulary phrase is said, read with its diacritics when the message has them: "nga" (Russia) is not "ngã"
    (a fall). `typed`: the message's words with diacritics; `folded`: its syllables folded."""
    return language.contains_phrase(typed, with_marks) if accented else language.contains_phrase(folded, plain)


def _asks(clause: str) -> bool:
    if "?" in clause:
        return True
    tokens = language.syllables(clause)
    return any(language.contains_phrase(tokens, phrase) for phrase in language.vocabulary().asking)


def procedure_name(title: str) -> str:
    """A record's name read as the procedure it is: folded, without the tail that says at which level, by which agency
    or through which channel it is done (unlisted_name: "… (thực hiện tại cấp tỉnh)", "… thực hiện bằng dịch vụ
    công trực tuyến toàn trình"). The national catalogue lists one procedure once per level, agency or channel ("Nộp
    dần tiền thuế nợ" at the tax office and at customs): such records are one procedure to a citizen, not
    alternatives to choose between."""
    return " ".join(fold(unlisted_name(title)).split())


@dataclass(frozen=True)
class Case:
    """What tells one case of a family from the family's common case, learned from the two names."""

    runs: tuple[Phrase, ...]  # with diacritics: "lại" is not "lái"
    head_folded: tuple[str, ...]  # the common case's name, folded: an unaccented "lai" must be said once more
    # The name starts with another word: it does something else to the same thing ("Xóa đăng ký thường trú" under
    # "Đăng ký thường trú", "Liên thông … khai sinh …" under "Đăng ký khai sinh"), a separate procedure, not a case.
    separate: bool = False


_CASES: tuple[object, dict[tuple[str, str], Case]] = (None, {})  # (vocabulary, case_of's answers with it)


def case_of(name: str, head: str) -> Case:
    """The runs of the case's name that the common case's name lacks ("Cấp lại giấy phép lái xe" vs "Cấp giấy phép
    lái xe": ("lại",); "… có yếu tố nước ngoài": ("yếu", "tố", "nước", "ngoài")). Words that name nothing
    (scaffold.yml name_filler) and words every question uses ("hồ sơ", "giấy tờ", "người": scaffold.yml words)
    break the runs: a question saying them has not named the case.

    Remembered per vocabulary: every replica reads the cases of ~2,000 families again on each new index version,
    and after a staff edit almost all of them are the same (a second of the edit's way to being live)."""
    global _CASES
    vocab = language.vocabulary()
    if _CASES[0] is not vocab:
        _CASES = (vocab, {})
    known = _CASES[1]
    found = known.get((name, head))
    if found is None:
        found = known[(name, head)] = _case_of(name, head, vocab)
    return found


def _case_of(name: str, head: str, vocab: language.Vocabulary) -> Case:
    ignored = vocab.name_filler | vocab.scaffold_words
    head_words = set(spoken(head))
    runs: list[Phrase] = []
    run: list[str] = []
    for word in [*spoken(name), ""]:
        if word and word not in head_words and fold(word) not in ignored:
            run.append(word)
            continue
        if run:
            runs.append(tuple(run))
        run = []
    first, head_first = language.syllables(name)[:1], language.syllables(head)[:1]
    return Case(tuple(runs), tuple(fold(w) for w in spoken(head)), separate=first != head_first)


def says_case(question: str, case: Case) -> bool:
    """The question says a run that tells this case apart: a one-word run ("lại") whole, a longer one by two words in
    a row ("nước ngoài" of "yếu tố nước ngoài"; "tờ" of "giấy tờ" alone is not "yếu tố"). Typed without diacritics,
    a word the common case's name also folds to must be said once more than there ("cap lai giay phep lai xe").
    Everyday sayings count as the word they stand for ("bị mất" for "lại"; knowledge/vocabulary/questions.yml), read
    with their diacritics when the question has them."""
    if not case.runs:
        return False
    accented = has_diacritics(question)
    typed = spoken(question)
    said = list(typed) if accented else [fold(w) for w in typed]
    folded = language.syllables(question)
    for saying, (saying_accented, name_words) in language.vocabulary().case_words.items():
        if _says_phrase(typed, folded, accented, saying, saying_accented):
            said += ["", *(name_words if accented else (fold(w) for w in name_words))]
    for run in case.runs:
        words_ = run if accented else tuple(fold(w) for w in run)
        if len(words_) == 1:
            word = words_[0]
            extra = 0 if accented else case.head_folded.count(word)
            if said.count(word) > extra or (not accented and word in _sayings(said)):
                return True
        elif any(language.contains_phrase(said, words_[i : i + 2]) for i in range(len(words_) - 1)):
            return True
    return False


def _sayings(said: list[str]) -> set[str]:
    """Words added for everyday sayings (after the first blank)."""
    return set(said[said.index("") :]) if "" in said else set()


def operation_phrases(pairs: Iterable[tuple[str, str]], min_families: int = OPERATION_FAMILIES) -> frozenset[Phrase]:
    """The phrases that name another operation on the same paper, learned from the catalogue's families: a case's
    name that is its head's with one or two words put right after the head's operation ("Cấp lại Giấy phép X" under
    "Cấp Giấy phép X": «cấp lại»; «cấp đổi», «đăng ký lại» …), in `min_families` families or more. `pairs`: (case's
    name, head's name)."""
    counts: Counter[Phrase] = Counter()
    for name, head in pairs:
        found = _operation(spoken(name), spoken(head))
        if found:
            counts[found] += 1
    return frozenset(p for p, n in counts.items() if n >= min_families)


def _operation(name: list[str], head: list[str]) -> Phrase | None:
    """«cấp lại» for ("cấp lại giấy phép x", "cấp giấy phép x"): the head's first one or two words, then one or two
    inserted words, then the head's next two words."""
    for verb in (1, 2):
        opening = name[:verb]
        if opening != head[:verb] or any(word in opening for word in name[verb : verb + 1]):
            continue  # another operation; or "Cấp, cấp lại …", which lists two operations and names none
        for inserted in (1, 2):
            rest = name[verb + inserted : verb + inserted + 2]
            if len(rest) == 2 and rest == head[verb : verb + 2]:
                return tuple(name[: verb + inserted])
    return None


def sibling_operations(
    titles: Iterable[str], min_objects: int = SIBLING_OBJECTS, min_share: float = SIBLING_SHARE
) -> frozenset[Phrase]:
    """The two-word phrases that name an operation on a paper, learned from the catalogue: a name's first two words
    that vary over one object («Cấp lại / Gia hạn / Thu hồi giấy phép X»), over `min_objects` objects or more and in
    at least `min_share` of the names they start. «Đăng ký» varies over a dozen objects but starts 750 names: it
    names a kind of procedure, not an operation that tells siblings apart."""
    leads_of: dict[Phrase, set[Phrase]] = {}
    starts: Counter[Phrase] = Counter()
    for title in titles:
        words = spoken(unlisted_name(title))
        if len(words) >= 4:
            starts[tuple(words[:2])] += 1
        for size in (1, 2):  # a one-word lead («Cấp») is what «cấp lại», «cấp đổi» share, so it only counts objects
            if len(words) >= size + 2 and words[size - 1] not in words[: size - 1]:
                leads_of.setdefault(tuple(words[size:]), set()).add(tuple(words[:size]))
    varying: Counter[Phrase] = Counter(lead for leads in leads_of.values() if len(leads) >= 2 for lead in leads)
    return frozenset(
        lead
        for lead, objects in varying.items()
        if len(lead) == 2 and objects >= min_objects and objects >= min_share * starts[lead]
    )


def with_folded(phrases: Iterable[Phrase]) -> dict[Phrase, Phrase]:
    """Each operation phrase with its folded syllables, folded once when the index loads, not for every question."""
    return {phrase: tuple(language.syllables(" ".join(phrase))) for phrase in phrases}


def said_operations(question: str, operations: Mapping[Phrase, Phrase]) -> list[Phrase]:
    """The operation phrases the question says («xin cấp lại sổ đỏ»: «cấp lại»), read with diacritics when it has
    them. `operations`: each phrase with its folded syllables (with_folded)."""
    accented = has_diacritics(question)
    typed, folded = spoken(question), language.syllables(question)
    return [p for p, plain in operations.items() if _says_phrase(typed, folded, accented, plain, p)]
