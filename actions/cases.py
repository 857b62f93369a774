"""The citizen's own case of a procedure whose official page groups its documents by situation ("… do thuê,
mượn, ở nhờ"): read from the question, chosen with a button, kept for the follow-ups. No rasa_sdk import.

Cases come from the record (ProcedureFacts.cases, the page's group headings), never from lists written for one
procedure: a question names a case when it shares the case name's own distinctive words (folded, abbreviations
expanded), the words that tell it from the procedure's name and from the other cases.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

from actions.choices import BUTTON_CHARS, clip
from knowledge import language
from knowledge.language import content_words
from knowledge.records.facts import CaseFacts, DocumentFacts, ProcedureFacts
from knowledge.search.reading import distinctive_words
from knowledge.text import fold, has_diacritics
from settings import wording

OTHER = "Trường hợp khác"  # the button (and slot value) for a citizen in none of the cases, or not saying
CASE_INTENT = "choose_case"  # the case buttons: /choose_case{"case":"2"} (1-based; "0" is OTHER)
MAX_CASE_BUTTONS = 7
# What the citizen reads about cases: wording.yml's `answers.case_*` (OTHER stays here: it is the slot's value too).
QUESTION, QUESTION_OTHER = wording.text("answers.case_question"), wording.text("answers.case_question_other")
PAPERS, PAPERS_ALL = wording.text("answers.case_papers"), wording.text("answers.case_papers_all")
CONDITIONS, CONDITIONS_COMMON = wording.text("answers.case_conditions"), wording.text("answers.case_conditions_common")
CONDITIONS_UNKNOWN = wording.text("answers.case_conditions_unknown")
# Words of a heading that say "a case" rather than which one.
_FRAME = frozenset({"truong", "hop", "doi", "voi", "cac", "ho", "so", "khi", "thuc", "hien", "thu", "tuc"})
_LEAD_FRAME = re.compile(r"^(?:(?:đối với )?(?:các )?trường hợp|đối với|hồ sơ(?: đề nghị)?|khi)\s+", re.IGNORECASE)
_LEAD_LINK = re.compile(r"^(?:(?:của|vào|tại|cho|do|về|là)\s+)+", re.IGNORECASE)


@dataclass(frozen=True)
class CaseView:
    """How to answer for the citizen's case: which case (None: not known), or ask first."""

    case: str | None
    ask: bool
    aspect: str | None

    def slots(self) -> dict[str, Any]:
        return {"case": self.case, "case_question": self.ask}


def needs_case(facts: ProcedureFacts) -> bool:
    """The answer depends on the case: two cases or more, whose documents differ."""
    lists = {tuple(sorted(d.name for d in case.documents)) for case in facts.cases}
    return len(facts.cases) >= 2 and len(lists) >= 2


def find_case(facts: ProcedureFacts, name: str | None) -> CaseFacts | None:
    return next((case for case in facts.cases if case.name == name), None)


# ---------------------------------------------------------------- plain names


def curated_case(facts: ProcedureFacts, words_of_name: str | None) -> CaseFacts | None:
    """The case a curated record's words name: the shortest case name containing them (diacritics ignored)."""
    if not words_of_name:
        return None
    key = " ".join(language.syllables(words_of_name))
    named = [case for case in facts.cases if key in " ".join(language.syllables(case.name))]
    return min(named, key=lambda case: len(case.name), default=None)


def curated_names(facts: ProcedureFacts) -> dict[str, str]:
    """Case name -> the plain name a curated record gives it."""
    found = {}
    for words_of_name, plain in facts.case_names:
        case = curated_case(facts, words_of_name)
        if case is not None:
            found[case.name] = plain
    return found


def button_title(facts: ProcedureFacts, case: CaseFacts) -> str:
    curated = curated_names(facts).get(case.name)
    if curated:
        return curated
    procedure = facts.official_name or facts.name
    others = tuple(c.name for c in facts.cases if c is not case)
    title = plain_name(case.name, procedure, others)
    if any(plain_name(other, procedure, tuple(c.name for c in facts.cases if c.name != other)) == title
           for other in others):  # fmt: skip
        return plain_name(case.name, procedure, others, any_other=True)  # two buttons must not read alike
    return title


def plain_name(case: str, procedure: str, others: tuple[str, ...] = (), any_other: bool = False) -> str:
    """A case as a button says it: no "Trường hợp"/"Đối với", no repeat of the procedure's name nor of the words
    every other case starts with too ("Công trình tôn giáo" beside "Công trình theo tuyến": "Tôn giáo"; with
    `any_other`, the words it shares with any other case), short."""
    text = _without_lead(case, procedure)
    own = [fold(w) for w in re.findall(r"\w+", text)]
    prefixes = []
    for other in others:
        theirs = [fold(w) for w in re.findall(r"\w+", _without_lead(other, procedure))]
        prefixes.append(next((i for i, (a, b) in enumerate(zip(own, theirs, strict=False)) if a != b),
                             min(len(own), len(theirs))))  # fmt: skip
    shared = (max if any_other else min)(prefixes, default=0)
    if shared and len(own) - shared >= 2:
        text = _tidy(_drop_words(text, shared))
    return clip(text or case, BUTTON_CHARS)


def _without_lead(case: str, procedure: str) -> str:
    text = _LEAD_FRAME.sub("", case.strip())
    procedure_words = [w for w in language.syllables(procedure) if w not in ("thu", "tuc")]
    case_words = language.syllables(text)
    shared = 0
    while shared < min(len(case_words), len(procedure_words)) and case_words[shared] == procedure_words[shared]:
        shared += 1
    if shared >= 2:  # "Đăng ký thường trú vào chỗ ở …" under "Đăng ký thường trú": "Chỗ ở …"
        text = _drop_words(text, shared)
    return _tidy(text)


def _tidy(text: str) -> str:
    text = _LEAD_LINK.sub("", _LEAD_FRAME.sub("", text.strip(" ,:;."))).strip(" ,:;.")
    return text[:1].upper() + text[1:]


def _drop_words(text: str, count: int) -> str:
    found = list(re.finditer(r"\w+", text))
    return text[found[count - 1].end():] if len(found) >= count else text


# ---------------------------------------------------------------- a case named in the question


# Everyday function words: they join a case's name but say little about which case (a weight of a quarter).
_WEAK = frozenset({"nguoi", "nha", "o", "co", "cua", "minh", "duoc", "cho", "tai", "vao", "do", "la", "va", "khong",
                   "mot", "cac", "nhung", "theo", "tren", "ve", "hoac", "thi", "toi", "em", "con"})  # fmt: skip


def _terms(text: str, exact: bool = False) -> set[str]:
    """Folded syllables and their pairs; with `exact`, as written (diacritics kept: "trọ" is not "trợ")."""
    if exact:  # every word: a question word folding like one of the case's ("muốn" / "mượn") is told apart
        toks = [w.lower() for w in re.findall(r"\w+", language.expand_abbreviations(text, documents=True))]
    else:
        toks = content_words(text)
    return set(toks) | {f"{a}_{b}" for a, b in pairwise(toks)}


def _is_weak(term: str) -> bool:
    return language.canonical(fold(term)) in _WEAK


def _weight(term: str) -> float:
    return 0.25 if _is_weak(term) else 1.0


def _distinctive(facts: ProcedureFacts, exact: bool = False) -> list[dict[str, float]]:
    """Each case's own terms, weighted by how few cases share them (words of the procedure's name left out)."""
    named = _terms(facts.name, exact) | _terms(facts.official_name or "", exact)
    plain = curated_names(facts)  # a curated plain name ("Nhà của mình") is read like the case's own words
    own = [
        {t for t in _terms(f"{case.name} {plain.get(case.name, '')}", exact)
         if not set(t.split("_")) & named and not _is_frame(t)}
        for case in facts.cases
    ]  # fmt: skip
    count = len(own)
    return [{t: _weight(t) * math.log((count + 1) / sum(t in o for o in own)) for t in terms} for terms in own]


def _is_frame(term: str) -> bool:
    return all(language.canonical(fold(part)) in _FRAME for part in term.split("_"))


def match_case(text: str, facts: ProcedureFacts) -> str | None:
    """The case the question names ("tôi thuê nhà" → "… do thuê, mượn, ở nhờ"), when one case clearly wins.

    A question typed with diacritics is compared as written, one typed without them folded."""
    if not facts.cases or not text.strip():
        return None
    exact = has_diacritics(text)
    asked = _terms(text, exact)
    # Only a case sharing a word that is not an everyday function word ("thuê", "nhờ", "tôn giáo") is named.
    scores = [
        sum(w for t, w in weights.items() if t in asked) if any(t in asked and not _is_weak(t) for t in weights) else 0
        for weights in _distinctive(facts, exact)
    ]
    best = max(scores)
    if best <= 0 or scores.count(best) > 1:
        return None
    return facts.cases[scores.index(best)].name


def chosen_case(facts: ProcedureFacts, value: str | None) -> str | None:
    """A case button's value ("2", 1-based; "0": another case) as the case's name, or OTHER."""
    if value is None or not value.isdigit():
        return None
    index = int(value)
    return facts.cases[index - 1].name if 0 < index <= len(facts.cases) else OTHER


@dataclass(frozen=True)
class TypedCase:
    """A typed answer to "which case?": the case it reads as (None: none) and how clearly, the share of the message's
    own words that say it (1.0 for a pick: "trường hợp thứ hai", "khác"). Whether it answers the question or asks
    something new is the search's decision (knowledge/search/decision.py, Context.case_answer)."""

    case: str | None
    clearness: float = 0.0


# Words around a pick that say "that one" rather than which ("chọn trường hợp thứ hai", "cái đầu tiên", "số 3 nhé").
_PICK_FRAME = _FRAME | frozenset({"cai", "chon", "muc", "la", "toi", "em", "minh", "tien", "ban", "nhe", "nha", "a",
                                  "do", "day", "ay", "vay", "cung", "lay", "y"})  # fmt: skip


def typed_position(text: str) -> int | None:
    """The position a typed pick names ("cái thứ hai": 2, "số 1", "cái cuối": -1): an ordinal said with nothing but
    pick words around it (knowledge/data/vocabulary/ordinals.yml). In a question it picks nothing: "ở đâu" folds like
    "đầu" (the first), "một" in "một tuần" is not the first."""
    rest = [w for w in language.syllables(text) if language.canonical(w) not in _PICK_FRAME]
    return language.ordinal(rest[0]) if len(rest) == 1 else None


def typed_answer(text: str, facts: ProcedureFacts) -> TypedCase:
    """A typed answer to "which case?": a pick ("trường hợp thứ hai", "khác"), else a case's words."""
    picked = _picked(text, facts)
    if picked:
        return TypedCase(picked, 1.0)
    named = match_case(text, facts)
    return TypedCase(named, _clearness(text, facts, named)) if named else TypedCase(None)


def _picked(text: str, facts: ProcedureFacts) -> str | None:
    """An ordinal or "khác" said with nothing but pick words around it: in a question, "ở đâu" is not "cái đầu"."""
    rest = [w for w in language.syllables(text) if language.canonical(w) not in _PICK_FRAME]
    if rest == ["khac"]:
        return OTHER
    index = typed_position(text)
    return facts.cases[index - 1].name if index and 0 < index <= len(facts.cases) else None


def _clearness(text: str, facts: ProcedureFacts, case: str) -> float:
    """The share of the message's own words (not everyday words, not the procedure's name) that the case says:
    "tôi ở nhà thuê" says only the tenant's case (1.0); "thuê nhà, còn khai tử thì sao" a third of it."""
    index = [c.name for c in facts.cases].index(case)
    said = {t for t in _distinctive(facts)[index] if "_" not in t}
    named = set(language.syllables(f"{facts.name} {facts.official_name or ''}"))
    own = [w for w in distinctive_words(text) if not _is_weak(w) and not _is_frame(w) and w not in named]
    return sum(w in said for w in own) / len(own) if own else 1.0


# ---------------------------------------------------------------- the dialogue's view of the case


def view(facts: ProcedureFacts, turn: Any, aspect: str | None) -> CaseView:
    """The case to answer for: a button, the question's words, else the one kept for this procedure; ask when the
    documents depend on it and nothing says which (not for the next page of a list already shown)."""
    kept = turn.case if facts.doc_id == turn.procedure_id else None
    pressed = chosen_case(facts, turn.entities.get("case")) if turn.intent == CASE_INTENT else None
    named = None if turn.is_payload else match_case(turn.text, facts)
    case = pressed or named or kept
    if turn.intent == CASE_INTENT:
        aspect = aspect or turn.aspect or "documents"
    asking = aspect == "documents" and case is None and needs_case(facts) and "page" not in turn.entities
    return CaseView(case, asking, aspect)


# ---------------------------------------------------------------- what the citizen reads


def question_text(facts: ProcedureFacts, title: str) -> str:
    lines = [QUESTION.format(title=title)]
    lines += [f"{i}. {clip(case.name, 160)}" for i, case in enumerate(facts.cases[: MAX_CASE_BUTTONS - 1], 1)]
    lines.append(QUESTION_OTHER.format(other=OTHER))
    return "\n".join(lines)


def case_buttons(facts: ProcedureFacts) -> list[dict[str, str]]:
    """One button per case in plain words, then OTHER; payloads carry the case's number (≤ 64 bytes)."""
    buttons = [
        {"title": button_title(facts, case), "payload": case_payload(i)}
        for i, case in enumerate(facts.cases[: MAX_CASE_BUTTONS - 1], 1)
    ]
    common = curated_case(facts, facts.common_case)
    if common is not None and common in facts.cases[: MAX_CASE_BUTTONS - 1]:  # the usual case first
        buttons.insert(0, buttons.pop(facts.cases.index(common)))
    return [*buttons, other_case_button()]


def other_case_button() -> dict[str, str]:
    return {"title": OTHER, "payload": case_payload(0)}


def case_payload(index: int) -> str:
    return f'/{CASE_INTENT}{{"case":"{index}"}}'


_SITUATION = re.compile(r"\btrong (?:các )?trường hợp\b", re.IGNORECASE)
_FORM = re.compile(r"^[-–•\s]*(?:tờ khai|đơn|phiếu|mẫu)\b", re.IGNORECASE)


def everyday_first(documents: tuple[DocumentFacts, ...]) -> list[DocumentFacts]:
    """The form to fill in first, then the papers every applicant needs, then those asked only in some situation
    (a condition of their own, "Trường hợp …", or one their wording names: "… trong trường hợp ủy quyền")."""
    return sorted(documents, key=lambda d: (
        d.condition is not None, bool(_SITUATION.search(d.name)), not _FORM.match(d.name)
    ))  # fmt: skip


def case_documents(facts: ProcedureFacts, case: str | None) -> tuple[str | None, list[DocumentFacts]]:
    """(the line naming the case, the documents in the order a citizen in it needs them)."""
    chosen = find_case(facts, case)
    if chosen is not None:
        label = button_title(facts, chosen)
        own = everyday_first(chosen.documents) + _shared_forms(facts, chosen)
        return PAPERS.format(case=label), own + everyday_first(facts.common_documents)
    if facts.cases:  # «Trường hợp khác», or a case the question did not say (papers every case needs first)
        rest = [
            replace(d, name=f"({button_title(facts, c)}) {d.name.lstrip('-–• ')}")
            for c in facts.cases for d in everyday_first(c.documents)
        ]  # fmt: skip
        return PAPERS_ALL, everyday_first(facts.common_documents) + rest
    return None, everyday_first(facts.documents)


def _shared_forms(facts: ProcedureFacts, chosen: CaseFacts) -> list[DocumentFacts]:
    """The forms to fill in (by code) that two other cases or more list and this one does not: the page put the
    declaration every applicant fills in (Mẫu CT01) under some of its cases only."""
    own = {d.form_code for d in chosen.documents if d.form_code}
    found: dict[str, list[DocumentFacts]] = {}
    for case in facts.cases:
        if case is not chosen:
            for code, doc in {d.form_code: d for d in case.documents if d.form_code}.items():
                found.setdefault(code, []).append(doc)
    return [docs[0] for code, docs in found.items() if len(docs) >= 2 and code not in own]


def case_eligibility(facts: ProcedureFacts, case: str | None) -> list[str]:
    """For a case: the sentences of the conditions that speak of it (words no other case has), then the others;
    when none speaks of it, what the record asks of that case."""
    chosen = find_case(facts, case)
    if chosen is None:
        return []
    label = button_title(facts, chosen)
    weights = _distinctive(facts)
    own = {t for t in weights[facts.cases.index(chosen)] if not _is_weak(t) and sum(t in w for w in weights) == 1}
    sentences = [s.strip() for s in re.split(r"(?<=[.;])\s+|\n+", facts.eligibility or "") if s.strip()]
    about = [s for s in sentences if own & _terms(s)]
    general = [s for s in sentences if s not in about]
    lines = [CONDITIONS.format(case=label)]
    if about:
        lines += about
    else:
        papers = "; ".join(d.name.lstrip("-–• ").rstrip(" .;") for d in chosen.documents[:3])
        lines.append(CONDITIONS_UNKNOWN.format(papers=papers))
    return lines + ([CONDITIONS_COMMON.format(conditions=" ".join(general))] if general else [])
