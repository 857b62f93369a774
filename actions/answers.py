"""What the citizen reads: pure functions from knowledge records to short, phone-sized replies.

No Rasa, no I/O: every function takes records or plain values and returns `Reply` objects, so the wording is
tested on its own (tests/actions/test_answers.py). Plain text only (no Markdown): the Telegram bridge sends it as is.

The answers built from record fields are composed here, their labels and sentences read from wording.yml
(settings/wording.py) when this module is imported. Fixed replies (greeting, help, fallback, handoff, out of scope,
restart, feedback thanks...) are `responses` in domain.yml, with their variations and static buttons: a
`Reply(response="utter_...")` names one, and Rasa renders it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from actions import cases
from actions.choices import BUTTON_CHARS
from knowledge import clock
from knowledge.records.facts import ProcedureFacts, format_date
from knowledge.records.schema import Guide, Reform2025
from knowledge.text import fold
from settings import wording


@dataclass(frozen=True)
class Aspect:
    key: str
    intent: str  # the intent a button sends ("/ask_fee")
    button: str  # short button label
    heading: str  # what the answer's first line says


def _aspect(key: str, intent: str) -> Aspect:
    """An aspect with its button label and heading from wording.yml (answers.aspects)."""
    return Aspect(key, intent, _text(f"aspects.{key}.button"), _text(f"aspects.{key}.heading"))


def _text(key: str) -> str:
    """A text of wording.yml's `answers` section."""
    return wording.text(f"answers.{key}")


ASPECTS: dict[str, Aspect] = {
    a.key: a
    for a in (
        _aspect("documents", "ask_documents"),
        _aspect("fee", "ask_fee"),
        _aspect("time", "ask_time"),
        _aspect("place", "ask_place"),
        _aspect("online", "ask_online"),
        _aspect("steps", "ask_steps"),
        _aspect("eligibility", "ask_eligibility"),
        _aspect("legal_basis", "ask_legal_basis"),
        _aspect("result", "ask_result"),
        _aspect("deadline", "ask_deadline"),
    )
}
INTENT_TO_ASPECT: dict[str, str] = {a.intent: a.key for a in ASPECTS.values()}
# The questions citizens ask next most often: offered as buttons under every answer.
NEXT_ASPECTS: tuple[str, ...] = ("documents", "fee", "time", "place", "online")
MAX_CHOICES = 4

FEEDBACK_QUESTION = _text("feedback_question")
HUMAN_BUTTON = {"title": _text("human_button"), "payload": "/request_human"}
FEE_LOCALITY = _text("fee_locality")
ONLINE_LOCALITY = _text("online_locality")
# The other sentences and labels of an answer, read now so that a missing one stops the action server at its start.
TITLE, TITLE_WITH_CODE = _text("title"), _text("title_with_code")
TITLE_ASPECT, TITLE_ASPECT_PAGE, MORE_BUTTON = _text("title_aspect"), _text("title_aspect_page"), _text("more_button")
POINTER, PORTAL_LINK, SOURCE_FOOTER = _text("pointer"), _text("portal_link"), _text("source_footer")
OTHER_VARIANTS, VARIANT_BUTTON, SHOWN_ONLY = _text("other_variants"), _text("variant_button"), _text("shown_only")
# What a phone shows of a variant's own name on its button, after the button's words ("Trường hợp: ")
VARIANT_ROOM = BUTTON_CHARS - len(VARIANT_BUTTON.format(title=""))
FEE_UNKNOWN, TIME_UNKNOWN = _text("fee_unknown"), _text("time_unknown")
PLACE_WHERE, PLACE_AGENCY, PLACE_AGENCY_LEVEL = _text("place_where"), _text("place_agency"), _text("place_agency_level")
PLACE_METHODS, PLACE_UNKNOWN = _text("place_methods"), _text("place_unknown")
OFFLINE, OFFLINE_WHERE, ONLINE_WHERE = _text("offline"), _text("offline_where"), _text("online_where")
ONLINE_BY_LEVEL = {"toàn trình": _text("online_full"), "một phần": _text("online_partial")}  # the record's values
ONLINE, ONE_STOP_DESK = _text("online"), _text("one_stop_desk")
DOCUMENTS_UNKNOWN, STEPS_UNKNOWN = _text("documents_unknown"), _text("steps_unknown")
LEGAL_BASIS_UNKNOWN, ELIGIBILITY_UNKNOWN = _text("legal_basis_unknown"), _text("eligibility_unknown")
RESULT_UNKNOWN = _text("result_unknown")
OVERVIEW_NAME, OVERVIEW_TIME, OVERVIEW_FEE = _text("overview_name"), _text("overview_time"), _text("overview_fee")
OVERVIEW_DOCUMENTS, OVERVIEW_ONLINE = _text("overview_documents"), _text("overview_online")
OVERVIEW_ONLINE_WHERE, OVERVIEW_ONLINE_PORTAL = _text("overview_online_where"), _text("overview_online_portal")
OVERVIEW_LEGAL_BASIS, OVERVIEW_LEGAL_BASIS_MORE = _text("overview_legal_basis"), _text("overview_legal_basis_more")
GUIDE_TITLE, CLARIFY, CLARIFY_ASPECT = _text("guide_title"), _text("clarify"), _text("clarify_aspect")
WHICH_PROCEDURE, WHICH_INFORMATION = _text("which_procedure"), _text("which_procedure_information")
NOT_SURE, NOT_SURE_WITH_TOPICS = _text("not_sure"), _text("not_sure_with_topics")


@dataclass
class Reply:
    """One bot message: text or a domain response (`utter_*`, filled with `variables`), optional buttons (after the
    response's own), optional custom JSON for the Telegram bridge."""

    text: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    custom: dict[str, Any] | None = None
    response: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    def as_kwargs(self) -> dict[str, Any]:
        """Arguments for rasa_sdk's `dispatcher.utter_message`."""
        kwargs: dict[str, Any] = dict(self.variables)
        if self.response is not None:
            kwargs["response"] = self.response
        if self.text is not None:
            kwargs["text"] = self.text
        if self.buttons:
            kwargs["buttons"] = self.buttons
        if self.custom is not None:
            kwargs["json_message"] = self.custom
        return kwargs


def utter(response: str, **variables: Any) -> Reply:
    """A fixed reply written in domain.yml `responses`."""
    return Reply(response=response, variables=variables)


# ---------------------------------------------------------------- small pieces


def footer(source: str, last_reviewed: dt.date) -> str:
    return SOURCE_FOOTER.format(source=source, date=format_date(last_reviewed))


REFORM_CAUTION = _text("reform_caution")


def reform_caution(reform: Reform2025 | None) -> str | None:
    """A visible warning when staff have not yet confirmed the record after the 1/7/2025 reorganisation.

    The record's own note is written for staff (what to check), so the citizen gets a fixed short caution.
    """
    if reform is None or reform.status != "unverified":
        return None
    return REFORM_CAUTION


def choose_payload(doc_id: str) -> str:
    return "/choose_procedure" + json.dumps({"procedure_id": doc_id}, separators=(",", ":"))


def aspect_buttons(skip: str | None) -> list[dict[str, str]]:
    return [{"title": ASPECTS[k].button, "payload": f"/{ASPECTS[k].intent}"} for k in NEXT_ASPECTS if k != skip]


def feedback_prompt() -> Reply:
    return Reply(
        FEEDBACK_QUESTION,
        [
            {"title": "👍", "payload": '/feedback{"feedback":"up"}'},
            {"title": "👎", "payload": '/feedback{"feedback":"down"}'},
        ],
    )


def _pointer(skip: str | None) -> str:
    rest = [ASPECTS[k].heading for k in NEXT_ASPECTS if k != skip]
    return POINTER.format(aspects=", ".join(rest))


# ---------------------------------------------------------------- procedure aspects

ASSUMED_NOTE = _text("assumed_note")
PAGE_SIZE = 6  # list items (documents, steps, legal texts) per message: a phone screen, not a wall of text
NO_DETAILS = _text("no_details")


def _page(items: list[str], page: int) -> tuple[list[str], bool]:
    """Items of one page, numbered across pages, and whether more follow."""
    start = (page - 1) * PAGE_SIZE
    shown = [f"{start + i}. {item}" for i, item in enumerate(items[start : start + PAGE_SIZE], 1)]
    return shown, start + PAGE_SIZE < len(items)


DOCUMENT_CHARS = 200  # one paper's line; the official wording runs to 400 characters, the portal link has it all
SCREEN_CHARS = 900  # a documents page: about one phone screen


def _document_items(facts: ProcedureFacts, case: str | None = None) -> tuple[str | None, list[str]]:
    """(the line naming the citizen's case, the papers in the order they need them: actions/cases.py)."""
    label, documents = cases.case_documents(facts, case)
    items = []
    for doc in documents:
        item = doc.name.lstrip("-–• ").strip()  # the portal's cells often start with a dash of their own
        if len(item) > DOCUMENT_CHARS:
            item = item[:DOCUMENT_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " …"
        if doc.copies:
            item += f" ({doc.copies})"
        if doc.handling == "xuất trình":
            item = SHOWN_ONLY.format(paper=item)
        if doc.note:
            item += f" — {doc.note}"
        items.append(item)
    return label, items


def _screen_pages(items: list[str]) -> list[list[str]]:
    """Items split into pages of at most PAGE_SIZE items and about SCREEN_CHARS characters (at least one each)."""
    pages: list[list[str]] = [[]]
    for item in items:
        used = sum(len(line) + 4 for line in pages[-1])  # "12. " and the line break
        if pages[-1] and (len(pages[-1]) >= PAGE_SIZE or used + len(item) + 4 > SCREEN_CHARS):
            pages.append([])
        pages[-1].append(item)
    return pages


def _document_page(facts: ProcedureFacts, case: str | None, page: int) -> tuple[list[str], bool]:
    label, items = _document_items(facts, case)
    pages = _screen_pages(items)
    page = min(page, len(pages))
    start = sum(len(p) for p in pages[: page - 1])
    lines = [f"{start + i}. {item}" for i, item in enumerate(pages[page - 1], 1)]
    return ([label] if label and page == 1 else []) + lines, page < len(pages)


def _by_channel(facts: ProcedureFacts, value: str, day: dt.date | None = None) -> list[str]:
    """One line per way of submitting, or a single line when every way says the same (fees: on `day`)."""
    values = [(c.method, c.fee_on(day) if value == "fee" and day else getattr(c, value)) for c in facts.channels]
    pairs = [(method, v) for method, v in values if v]
    if not pairs:
        return []
    if len({v for _, v in pairs}) == 1:
        return [pairs[0][1]]
    return [f"• {method.capitalize()}: {v}" for method, v in pairs]


def fee_varies_by_locality(fee: str) -> bool:
    """Fees set by each province's People's Council vary; national fees (căn cước, hộ chiếu) do not."""
    return any(marker in fold(fee) for marker in ("hdnd", "tinh quy dinh", "dia phuong", "dia ban", "moi tinh"))


def _fee(facts: ProcedureFacts, day: dt.date | None = None) -> list[str]:
    """What to pay on the day asked: reductions in force applied, ended ones dropped (knowledge/records/facts.py)."""
    lines = _by_channel(facts, "fee", day or clock.today()) or [FEE_UNKNOWN]
    if facts.fee_by_province or any(fee_varies_by_locality(c.fee or "") for c in facts.channels):
        lines.append(FEE_LOCALITY)
    return lines


def _time(facts: ProcedureFacts) -> list[str]:
    return _by_channel(facts, "time") or [TIME_UNKNOWN]


def _place(facts: ProcedureFacts) -> list[str]:
    lines = [PLACE_WHERE.format(where=facts.where)] if facts.where else []
    if facts.agency:
        # the level only when the agency's name does not already say it ("Ủy ban nhân dân cấp xã")
        if facts.level_text and "cấp" not in facts.agency.lower():
            lines.append(PLACE_AGENCY_LEVEL.format(agency=facts.agency, level=facts.level_text))
        else:
            lines.append(PLACE_AGENCY.format(agency=facts.agency))
    if facts.channels:
        lines.append(PLACE_METHODS.format(methods=", ".join(c.method for c in facts.channels)))
    if facts.level_note and lines:
        lines.append(facts.level_note)
    return lines or [PLACE_UNKNOWN]


def _online(facts: ProcedureFacts) -> list[str]:
    if not facts.online:
        return [OFFLINE_WHERE.format(where=facts.where) if facts.where else OFFLINE]
    lines = [ONLINE_BY_LEVEL.get(facts.online_note or "", ONLINE)]
    if facts.online_where:
        lines.append(ONLINE_WHERE.format(where=facts.online_where))
    return [*lines, ONLINE_LOCALITY]


DEADLINE_UNKNOWN = _text("deadline_unknown")
DEADLINE_APART = _text("deadline_time_label") + ": "


def _deadline(facts: ProcedureFacts) -> list[str]:
    """By when the citizen must apply: from the record, never its processing time, which comes apart and labelled."""
    lines = [facts.deadline] if facts.deadline else [DEADLINE_UNKNOWN]
    time = "; ".join(t.lstrip("• ") for t in _by_channel(facts, "time"))
    if time:
        lines.append(DEADLINE_APART + time + ".")
    return lines


def _overview(facts: ProcedureFacts, day: dt.date | None = None) -> list[str]:
    lines = [OVERVIEW_NAME.format(name=_cut(facts.official_name))] if facts.official_name else []
    lines += [line for line in _place(facts) if line != facts.level_note][:2]  # the note once, below
    if facts.level_note and lines:
        lines.append(facts.level_note)
    time, fee = _time(facts), _fee(facts, day)
    lines.append(OVERVIEW_TIME.format(time="; ".join(t.lstrip("• ") for t in time)))
    lines.append(OVERVIEW_FEE.format(fee="; ".join(f.lstrip("• ") for f in fee if f != FEE_LOCALITY)))
    if facts.documents:
        lines.append(OVERVIEW_DOCUMENTS.format(count=len(facts.documents), button=ASPECTS["documents"].button))
    online = OVERVIEW_ONLINE
    if facts.online:
        online = OVERVIEW_ONLINE_WHERE.format(where=facts.online_where)
        if facts.portal_url:  # the link closes the answer; not twice
            online = OVERVIEW_ONLINE_PORTAL
    lines.append(online)
    if facts.legal_basis:
        legal = OVERVIEW_LEGAL_BASIS_MORE if len(facts.legal_basis) > 1 else OVERVIEW_LEGAL_BASIS
        lines.append(legal.format(law=facts.legal_basis[0]))
    return lines


def aspect_lines(
    facts: ProcedureFacts, aspect: str | None, page: int = 1, day: dt.date | None = None, case: str | None = None
) -> tuple[list[str], bool]:
    """The body of an answer about one aspect (or an overview), and whether a list goes on to another page.

    `case`: the citizen's case (actions/cases.py): its papers first, then those every case needs.
    `day`: the date of the question (default: knowledge.clock.today()), for fees that depend on it."""
    day = day or clock.today()
    if aspect == "documents" and facts.documents:
        return _document_page(facts, case, page)
    if aspect == "eligibility" and cases.find_case(facts, case):
        return cases.case_eligibility(facts, case), False
    lists = {"steps": list(facts.steps), "legal_basis": list(facts.legal_basis)}
    if aspect in lists and lists[aspect]:
        return _page(lists[aspect], page)
    simple = {
        "fee": lambda f: _fee(f, day), "time": _time, "place": _place, "online": _online, "deadline": _deadline,
        "documents": lambda f: [DOCUMENTS_UNKNOWN],
        "steps": lambda f: [STEPS_UNKNOWN.format(where=f.where or ONE_STOP_DESK)],
        "legal_basis": lambda f: [LEGAL_BASIS_UNKNOWN],
        "eligibility": lambda f: [f.eligibility or ELIGIBILITY_UNKNOWN],
        "result": lambda f: [f.result or RESULT_UNKNOWN],
    }  # fmt: skip
    return (simple[aspect](facts) if aspect in simple else _overview(facts, day)), False


TITLE_CHARS = 160  # some official names run to several hundred characters: a phone shows the start


def procedure_title(facts: ProcedureFacts) -> str:
    if facts.code:
        return TITLE_WITH_CODE.format(name=_cut(facts.name), code=facts.code)
    return TITLE.format(name=_cut(facts.name))


def _cut(name: str) -> str:
    return name if len(name) <= TITLE_CHARS else name[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def more_button(aspect: str, page: int) -> dict[str, str]:
    payload = f"/{ASPECTS[aspect].intent}" + json.dumps({"page": str(page + 1)}, separators=(",", ":"))
    return {"title": MORE_BUTTON.format(aspect=ASPECTS[aspect].heading), "payload": payload}


def variant_buttons(variants: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"title": VARIANT_BUTTON.format(title=t), "payload": choose_payload(doc_id)} for doc_id, t in variants]


def procedure_answer(
    facts: ProcedureFacts,
    aspect: str | None,
    assumed: bool = False,
    page: int = 1,
    variants: list[tuple[str, str]] | None = None,
    day: dt.date | None = None,
    case: str | None = None,
) -> list[Reply]:
    """Name and code, the asked aspect, a pointer to the rest, caution, source and portal link; then feedback.

    `assumed`: the message named nothing the search recognised and was read as a follow-up; say so.
    `variants`: other cases of the same procedure (doc_id, title), offered as buttons ("which case?").
    `day`: the date of the question (default: today by knowledge.clock), for fees reduced for a period.
    `case`: the citizen's case of a procedure whose papers depend on it (actions/cases.py).
    """
    title = procedure_title(facts)
    if not facts.has_details:
        lines = [title, NO_DETAILS]
        if facts.portal_url:
            lines.append(PORTAL_LINK.format(url=facts.portal_url))
        lines.append(facts.source_line)
        return [Reply("\n".join(lines), [HUMAN_BUTTON]), feedback_prompt()]
    if aspect in ASPECTS:
        template = TITLE_ASPECT_PAGE if page > 1 else TITLE_ASPECT
        title = template.format(title=title, aspect=ASPECTS[aspect].heading, page=page)
    body, more = aspect_lines(facts, aspect, page, day, case)
    lines = [title, *body]
    if assumed:
        lines.append(ASSUMED_NOTE)
    if variants:
        lines.append(OTHER_VARIANTS)
    lines.append(_pointer(aspect))
    lines += [line for line in (facts.caution,) if line]
    if facts.portal_url:
        lines.append(PORTAL_LINK.format(url=facts.portal_url))
    lines.append(facts.source_line)
    buttons = [more_button(aspect, page)] if more and aspect else []
    if aspect == "documents" and cases.find_case(facts, case):  # the whole list, for another case
        buttons.append(cases.other_case_button())
    buttons += variant_buttons((variants or [])[:MAX_CHOICES - 1]) + aspect_buttons(aspect)
    return [Reply("\n".join(lines), buttons), feedback_prompt()]


# ---------------------------------------------------------------- guides, choices, not sure


def guide_answer(guide: Guide, passage: str) -> list[Reply]:
    """A guide (one-stop shop, online services, reform facts): title and the short matching passage."""
    passage = passage.strip()
    if passage.startswith(guide.title):  # index views repeat the title before the section text
        passage = passage[len(guide.title):].lstrip(" —-:").strip() or passage
    lines = [GUIDE_TITLE.format(title=guide.title), passage]
    caution = reform_caution(guide.reform_2025)
    if caution:
        lines.append(caution)
    lines.append(footer(guide.source, guide.last_reviewed))
    return [Reply("\n".join(lines), [HUMAN_BUTTON]), feedback_prompt()]


def clarify(choices: list[tuple[str, str]], aspect: str | None) -> Reply:
    """Several procedures fit: ask which one, one button per candidate (doc_id, title)."""
    question = CLARIFY_ASPECT.format(aspect=ASPECTS[aspect].heading) if aspect in ASPECTS else CLARIFY
    buttons = [{"title": title, "payload": choose_payload(doc_id)} for doc_id, title in choices[:MAX_CHOICES]]
    return Reply(question, [*buttons, HUMAN_BUTTON])


def which_procedure(aspect: str | None) -> Reply:
    """A follow-up ("mất phí không?") arrived before any procedure was discussed."""
    about = ASPECTS[aspect].heading if aspect in ASPECTS else WHICH_INFORMATION
    return Reply(WHICH_PROCEDURE.format(aspect=about))


def not_sure(nearest: list[tuple[str, str]]) -> Reply:
    """No confident match: say so, show the nearest topics and offer a person."""
    text = NOT_SURE_WITH_TOPICS if nearest else NOT_SURE
    buttons = [{"title": title, "payload": choose_payload(doc_id)} for doc_id, title in nearest[:3]]
    return Reply(text, [*buttons, HUMAN_BUTTON])


# ---------------------------------------------------------------- handoff and help (their text is in domain.yml)


def handoff(question: str | None) -> Reply:
    """Tell the citizen a person will answer (utter_handoff); the custom JSON makes the bridge relay to staff."""
    return Reply(response="utter_handoff", custom={"handoff": True, "question": question or ""})


def forget_done() -> Reply:
    """Deletion confirmed (utter_forget_done); the custom JSON tells the channel to delete once Rasa answered."""
    return Reply(response="utter_forget_done", custom={"forget": True})


def help_reply(procedure_count: int, domains: list[str], examples: list[tuple[str, str]]) -> Reply:
    """What the bot can do, drawn from the knowledge base itself (grows as staff add procedures)."""
    buttons = [{"title": title, "payload": choose_payload(doc_id)} for doc_id, title in examples[:MAX_CHOICES]]
    if not procedure_count:  # no index yet: still explain what to ask
        return Reply(response="utter_help_no_index", buttons=[HUMAN_BUTTON])
    variables = {"procedure_count": procedure_count, "fields": ", ".join(domains)}
    return Reply(response="utter_help", buttons=[*buttons, HUMAN_BUTTON], variables=variables)
