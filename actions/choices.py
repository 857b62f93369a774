"""Button labels a citizen can choose between when the bot asks "which one?" or offers the nearest topics.

The national catalogue holds many procedures whose names differ only at the end ("Cấp thẻ thường trú cho người
nước ngoài tại Việt Nam (thực hiện tại cấp tỉnh)" / "… (thực hiện tại cấp Trung ương)") or not at all ("Nộp dần
tiền thuế nợ" at the tax office and at customs). A phone shows about BUTTON_CHARS characters of a button, so such
choices looked the same. Each label keeps the start of the name and the words that tell it from the other
choices; when the names say nothing apart, the agency that handles it, then the official code. No rasa_sdk import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.text import fold

BUTTON_CHARS = 40  # a Telegram button shows about this much on a phone
HEAD_WORDS = 2  # at least this many of the name's first words stay, so the label still says what it is about
_OPEN_BACK = 4  # the difference sits inside a bracket opened this few words before: the label starts there
_TITLE_CHARS = 16  # the name's start kept beside an agency or a code
_ELLIPSIS = "…"
_AGENCY_END = re.compile(r"\s*[,;]\s*|\s+-\s+")  # "Cục Thuế - Bộ Tài chính, Thuế tỉnh": the first agency named


@dataclass(frozen=True)
class Choice:
    title: str
    agency: str | None = None  # who handles it (the catalogue's agency field)
    code: str | None = None  # the official code, the last resort


def clip(text: str, limit: int = BUTTON_CHARS) -> str:
    """The text cut at a word to at most `limit` characters, an ellipsis saying something was cut."""
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:–-") + _ELLIPSIS


def labels(choices: list[Choice], room: int = BUTTON_CHARS) -> list[str]:
    """One label per choice, in order: the name itself when what a phone shows of it (`room` characters: less when
    the button adds words of its own) differs from the others', else the start of the name with what tells it
    apart."""
    shown = [_key(clip(c.title, room)) for c in choices]
    out = []
    for i, choice in enumerate(choices):
        rivals = [c for j, c in enumerate(choices) if j != i and shown[j] == shown[i]]
        out.append(_apart(choice, rivals, room) if rivals else choice.title)
    return _settled(choices, out, room)


def _settled(choices: list[Choice], out: list[str], room: int) -> list[str]:
    """Labels that still read alike (three names parting at different words) get the agency, or the code."""
    shown = [_key(clip(label, room)) for label in out]
    for i, choice in enumerate(choices):
        rivals = [c for j, c in enumerate(choices) if j != i and shown[j] == shown[i]]
        detail = _detail(choice, rivals, room) if rivals else None
        if detail:
            out[i] = _with_detail(choice.title, detail, room)
    return out


def _apart(choice: Choice, rivals: list[Choice], room: int) -> str:
    words = choice.title.split()
    # from where it parts from the rival it is closest to: the others part earlier, so differ there too
    start = _tail_start(words, max(_shared_words(words, rival.title.split()) for rival in rivals))
    tail = " ".join(words[start:])
    if tail and all(_key(tail) != _key(_tail_of(choice, rival)) for rival in rivals):
        return _head_and_tail(words[:start], tail, room)
    detail = _detail(choice, rivals, room)  # the names say nothing apart
    return _with_detail(choice.title, detail, room) if detail else clip(choice.title, room)


def _tail_of(choice: Choice, rival: Choice) -> str:
    """What the rival's name says beyond what it shares with the choice's (to see two tails that read alike)."""
    words = rival.title.split()
    return " ".join(words[_tail_start(words, _shared_words(words, choice.title.split())) :])


def _detail(choice: Choice, rivals: list[Choice], room: int) -> str | None:
    """The agency when what shows of it differs from every rival's, else the official code."""
    agency = _first_agency(choice.agency)
    shown = _key(clip(agency or "", _detail_room(room)))
    if agency and all(shown != _key(clip(_first_agency(r.agency) or "", _detail_room(room))) for r in rivals):
        return agency
    return f"mã {choice.code}" if choice.code else None


def _first_agency(agency: str | None) -> str | None:
    first = _AGENCY_END.split(agency.strip(), maxsplit=1)[0] if agency else ""
    return first or None


def _shared_words(a: list[str], b: list[str]) -> int:
    n = 0
    while n < min(len(a), len(b)) and _key(a[n]) == _key(b[n]):
        n += 1
    return n


def _tail_start(words: list[str], shared: int) -> int:
    """Where the part that differs starts: at the first different word, or at the bracket it sits in."""
    for back in range(1, _OPEN_BACK + 1):
        i = shared - back
        if i < HEAD_WORDS:
            break
        if words[i].startswith("("):
            return i
    return max(shared, HEAD_WORDS)


def _head_and_tail(head_words: list[str], tail: str, room: int) -> str:
    """As much of the name's start as fits beside the part that differs (cut at its end when long)."""
    tail = clip(tail, room - len(" ".join(head_words[:HEAD_WORDS])) - 3)
    left = room - len(tail) - 1
    if len(" ".join(head_words)) <= left:
        return f"{' '.join(head_words)} {tail}"
    kept = head_words[:HEAD_WORDS]
    for word in head_words[HEAD_WORDS:]:
        if len(" ".join([*kept, word])) + 2 > left:
            break
        kept.append(word)
    return f"{' '.join(kept)} {_ELLIPSIS} {tail}"


def _detail_room(room: int) -> int:
    return room - _TITLE_CHARS - 3


def _with_detail(title: str, detail: str, room: int) -> str:
    detail = f"({clip(detail, _detail_room(room))})"
    return f"{clip(title, room - len(detail) - 1)} {detail}"


def _key(text: str) -> str:
    return fold(text)
