"""The one decision on which procedure a message is about: answer, ask "which one?", stay on the procedure under
discussion, or say it is not sure.

The search (``engine``) returns candidates with their evidence (calibrated confidence, coverage, whether the
citizen typed a whole name, the family a record is a case of and whether the question says what tells that case
apart). ``decide`` turns that evidence, and the conversation's context when there is one, into a ``Decision``,
using only the thresholds of knowledge/search/calibration.json (``Thresholds``; all fitted by `make kb-calibrate`
on the calibration split). The dialogue (actions/dialogue.py) applies the decision; it decides nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from knowledge.search.reading import procedure_name

if TYPE_CHECKING:
    from knowledge.search.engine import Hit

Kind = Literal["answer", "which_one", "stay", "not_sure"]
MAX_CHOICES = 3  # "which one?" buttons
MAX_CASES = 3  # other cases of the answered procedure's family, offered beside the answer
FULL_COVERAGE = 0.999  # every word of the question is somewhere in the record
CLEAR_CASE = 0.5  # asked which case: at least this share of the message's own words say the case it reads as
# A name of this many words typed whole names its procedure, whatever NLU read ("tạm trú sắp hết hạn, gia hạn thế
# nào" holds «Gia hạn tạm trú»); a two-word one («kết quả», «hộ chiếu») is often everyday speech. Typed without
# diacritics a word says less («con lai» folds like «lại»), so it takes one word more.
NAMING_WORDS = 3


@dataclass(frozen=True)
class Thresholds:
    """Every threshold the decision uses; read from calibration.json, fitted by `make kb-calibrate`."""

    none_below: float  # the best candidate (or its family) less likely than this: not sure
    close_ratio: float  # a rival at least this fraction of the best's confidence: "which one?"
    ask_back_mass: float  # close candidates together at least this likely: "which one?" rather than not sure
    off_topic_answer: float  # NLU took the message for off-topic: answer only from this confidence
    topic_mass: float  # cases of one family together at least this likely: the topic is clear, ask which case


@dataclass(frozen=True)
class Evidence:
    """One shortlisted record and what speaks for it."""

    hit: Hit
    coverage: float = 0.0  # share of the question's words found in the record
    typed_name: frozenset[str] = frozenset()  # the words of the fullest of its names the question holds whole
    head: str | None = None  # the family's head: the shortest name whose words this record's name all contains
    named_case: bool = False  # the question says what tells it from the head ("cấp lại", "bị mất", "xóa")
    separate: bool = False  # a separate procedure on the same thing ("Xóa đăng ký …"), never offered as a case
    # Shortlisted records this one is a case of, nearest first, whose case the question does not name: "Đăng ký lại
    # khai sinh" for "Đăng ký lại khai sinh có yếu tố nước ngoài" when the question says "lại" but nothing foreign.
    parents: tuple[str, ...] = ()
    # +1: one of its names says the operation the question says («cấp lại»); -1: the question says one its names lack
    operation: int = 0

    @property
    def confidence(self) -> float:
        return self.hit.score

    @property
    def whole_name(self) -> bool:
        """The question holds every word of one of its names."""
        return bool(self.typed_name)


@dataclass(frozen=True)
class Context:
    """What the conversation adds; the default is a fresh conversation's typed question."""

    current: str | None = None  # the procedure under discussion
    names_something: bool = True  # the message has words beyond question scaffolding (a button press has none)
    aspect_asked: bool = False  # NLU read an aspect question (fee, documents, …)
    nlu: Literal["question", "not_understood", "off_topic"] = "question"
    # The message tells its story before the question (dates, amounts, what an officer said; set by the search when
    # it finds the clause that asks): NLU, which learnt from short questions, often calls such a message off-topic.
    background: bool = False
    # The message is a story searched whole: no clause asks and names, and none names a procedure the search is sure
    # of. Its words about the office (an officer, the hotline, the queue) are background, so a guide on the office's
    # workings is offered first among the buttons, not answered (tests/benchmarks/bench_long_messages.py: two in
    # three were wrong).
    whole_story: bool = False
    accented: bool = True  # the message was typed with diacritics (set by the search)
    # The bot asked which case of `current` applies and the message reads as one of them: the share of its own words
    # that say that case (actions/cases.py; 1.0 for "trường hợp thứ hai"). None: not asked, or no case read.
    case_answer: float | None = None


@dataclass(frozen=True)
class Decision:
    kind: Kind
    best: Hit | None = None  # answer: the record; stay: None (the current procedure)
    choices: list[Hit] = field(default_factory=list)  # which one: likeliest first; not sure: the nearest
    cases: list[Hit] = field(default_factory=list)  # answer: other cases of its family, offered beside it
    assumed: bool = False  # stay: the message did not clearly ask about it (say so)
    reason: str = ""  # why, in a few words (logs, kb-search)

    @property
    def verdict(self) -> str:
        """The search's vocabulary (kb-search, the retrieval benchmark): sure / ambiguous / none."""
        return {"answer": "sure", "which_one": "ambiguous"}.get(self.kind, "none")


def decide(evidence: list[Evidence], th: Thresholds, ctx: Context | None = None) -> Decision:
    """Which procedure the message is about, from the search's evidence (best first) and the conversation."""
    ctx = ctx or Context()
    found = _from_evidence(evidence, th)
    if ctx.whole_story and found.kind == "answer" and found.best is not None and found.best.kind == "guide":
        found = _offered_beside(found.best, evidence, "a story's words about the office")
    if ctx.case_answer is not None:
        return _case_or_new_question(found, evidence, th, ctx, ctx.case_answer)
    return in_context(found, th, ctx, named=_named_whole(found, evidence, ctx.accented))


def _named_whole(found: Decision, evidence: list[Evidence], accented: bool) -> bool:
    """The answer is a record one of whose names the citizen typed whole, a name long enough to name it."""
    answered = _evidence_of(found.best if found.kind == "answer" else None, evidence)
    return answered is not None and len(answered.typed_name) >= NAMING_WORDS + (0 if accented else 1)


def _evidence_of(hit: Hit | None, evidence: list[Evidence]) -> Evidence | None:
    return next((e for e in evidence if hit is not None and e.hit.doc_id == hit.doc_id), None)


def in_context(found: Decision, th: Thresholds, ctx: Context, named: bool = False) -> Decision:
    """The decision on the evidence alone, with the conversation's context applied. `named`: the answer's whole name
    was typed."""
    if ctx.nlu == "question" and not ctx.names_something and ctx.current:
        return Decision("stay", reason="a follow-up naming no procedure")
    if not ctx.names_something and found.kind != "answer":
        return Decision("not_sure", reason="names no procedure")  # ask for the name, do not guess
    if ctx.nlu == "off_topic" and ctx.background:
        ctx = replace(ctx, nlu="not_understood")  # a question after background: NLU's "off-topic" is weak evidence
    if ctx.nlu == "off_topic":
        # NLU and the search disagree: the search must be more than barely sure ("kể chuyện cười" folds like
        # "cưới", the wedding), or the citizen typed the answer's name.
        sure = found.kind == "answer" and found.best is not None and (named or found.best.score >= th.off_topic_answer)
        return found if sure else Decision("not_sure", reason="off-topic by NLU, the search not sure enough")
    if ctx.nlu == "not_understood":
        return found if found.kind in ("answer", "which_one") else Decision("not_sure", reason=found.reason)
    if found.kind == "which_one" and ctx.current:
        if ctx.current in {h.doc_id for h in found.choices}:
            return Decision("stay", reason="the procedure under discussion is one of the candidates")
        if ctx.aspect_asked and not any(h.kind in ("procedure", "official") for h in found.choices):
            return Decision("stay", assumed=True, reason="only general guides come close")
    if found.kind == "not_sure" and ctx.current and ctx.aspect_asked:
        return Decision("stay", assumed=True, reason="nothing else fits an aspect question")
    return found


def _case_or_new_question(
    found: Decision, evidence: list[Evidence], th: Thresholds, ctx: Context, clearness: float
) -> Decision:
    """Asked which case of the procedure under discussion applies, a message that reads as one of its cases answers
    it ("stay") unless it asks something new: the search answers another procedure whose whole name the citizen
    typed ("nhà thuê thì đăng ký tạm trú thế nào"), or is more than barely sure of it and the message says more than
    the case ("được chăm sóc, nuôi dưỡng", all the case's words, also reads as an allowance for the elderly). A case
    read from a word or two among the message's own words does not answer it: it is read as the question it is."""
    best = found.best
    other = found.kind == "answer" and best is not None and best.doc_id != ctx.current
    answered = _evidence_of(best, evidence)
    named = answered is not None and answered.whole_name
    sure = best is not None and best.score >= th.off_topic_answer and clearness < 1.0
    if other and (named or sure):
        return found
    if clearness >= CLEAR_CASE:
        return Decision("stay", reason="answers which case")
    return found  # a word or two of a case among others ("nộp ở nơi khác được không"): not an answer


def for_button(ctx: Context) -> Decision:
    """A button press (an aspect, "Xem tiếp") names no procedure and is not searched."""
    if ctx.current:
        return Decision("stay", reason="a button about the procedure under discussion")
    return Decision("not_sure", reason="names no procedure")


def _from_evidence(evidence: list[Evidence], th: Thresholds) -> Decision:
    """answer / which one / not sure from the evidence alone (a fresh conversation)."""
    if not evidence:
        return Decision("not_sure", reason="no candidate")
    ranked = common_case_first(evidence, th)
    best = ranked[0]
    family = _family(best, ranked)
    # The common case carries its family's evidence: the question fits the family, and said no case of it.
    likely = max(e.confidence for e in family)
    rivals = [e for e in ranked if e not in family]
    # A close call is settled when the citizen typed the best record's whole name and not the rival's, or typed
    # more of it ("gia hạn tạm trú" holds all of "Gia hạn tạm trú" and of "Đăng ký tạm trú", "đăng ký" naming nothing).
    if best.whole_name:
        rivals = [e for e in rivals if e.whole_name and not e.typed_name < best.typed_name]
    close = [e for e in _one_per_family(rivals)[:2] if e.confidence >= th.close_ratio * likely]
    cases = _one_per_name([e for e in family if e is not best and not e.separate and not best.separate])[:MAX_CASES]
    if likely >= th.none_below:
        if close:
            return Decision("which_one", choices=[best.hit, *(e.hit for e in close)][:MAX_CHOICES],
                            reason="close rivals")  # fmt: skip
        return Decision("answer", best=best.hit, cases=cases, reason="likely, no close rival")
    together = likely + sum(e.confidence for e in close)
    if close and together >= th.ask_back_mass:
        return Decision("which_one", choices=[best.hit, *(e.hit for e in close)], reason="likely together")
    if len(family) >= 2 and sum(e.confidence for e in family) >= th.topic_mass:
        # the topic is clear, the procedure is not (a long message about work permits: first issue, extension…)
        return Decision("which_one", choices=[e.hit for e in family][:MAX_CHOICES], reason="one family, no case")
    covering = [e for e in [best, *rivals][:3] if e.coverage >= FULL_COVERAGE]
    if len(covering) >= 2:  # every word of the question in two records or more ("bảo hiểm", "giấy phép")
        return Decision("which_one", choices=[e.hit for e in covering], reason="the question fits several")
    nearest = [best.hit, *(e.hit for e in rivals[:2])]
    return Decision("not_sure", choices=nearest, reason="nothing likely enough")


def common_case_first(evidence: list[Evidence], th: Thresholds) -> list[Evidence]:
    """The order a citizen should meet the candidates in: a case the question does not name ("… có yếu tố nước
    ngoài" for "khai sinh có mất phí không") gives way to its family's common case however it scored (it is offered
    beside the answer), a separate procedure on the same thing in a close call ("Xóa đăng ký tạm trú" for "dk tạm
    trú"), and a case the question names ("cấp lại", "bị mất", "Hàn Quốc" for "nước ngoài")
    goes ahead of its common case when it is a close call. A case whose head the question names it apart from gives
    way to a nearer parent it does not ("đăng ký lại khai sinh có mất phí không": «Đăng ký lại khai sinh», not its
    case «… có yếu tố nước ngoài»). A question that asks an operation («cấp lại») meets first the record whose name
    does it, before a top none of whose names does."""
    by_id = {e.hit.doc_id: e for e in evidence}
    ordered: list[Evidence] = []
    for e in evidence:
        head = by_id.get(e.head or "")
        before: Evidence | None = None
        if head is not None and _yields(e, head, th):
            before = head
        else:  # it names what tells it from its family's head, but maybe not from a nearer parent
            before = next((by_id[p] for p in e.parents if p in by_id and not e.whole_name), None)
        if before is not None and before not in ordered:
            ordered.append(before)
        if e not in ordered:
            ordered.append(e)
    top = ordered[0]
    named = [e for e in ordered if e.head == top.hit.doc_id and e.named_case]
    # or one whose name the citizen typed more fully ("gia hạn tạm trú": "Gia hạn tạm trú" over "Đăng ký tạm trú"),
    # or typed whole where the top is a guide none of whose names was typed ("đăng ký khai tử làm online được không"
    # asks the procedure's own facts, not the guide on online services)
    fuller = [
        e for e in ordered
        if e.typed_name > top.typed_name and (top.typed_name or (top.hit.kind == "guide" and e.hit.kind != "guide"))
    ]  # fmt: skip
    for ahead in (named, fuller):
        if ahead and ahead[0].confidence >= th.close_ratio * ordered[0].confidence:
            ordered.remove(ahead[0])
            ordered.insert(0, ahead[0])
            break
    # «xin cấp lại sổ đỏ» holds the whole alias «xin cấp sổ đỏ» of the first issue: the record whose name says the
    # operation asked goes ahead of a top none of whose names does, however it scored
    doing = [e for e in ordered if e.operation > 0]
    if ordered[0].operation < 0 and doing:
        ordered.remove(doing[0])
        ordered.insert(0, doing[0])
    return ordered


def _yields(e: Evidence, head: Evidence, th: Thresholds) -> bool:
    """A record the question does not name gives way to its family's head: a case always (the issue's rule: an
    everyday question is never answered with a rare case), a separate procedure only in a close call (its own
    aliases may carry the meaning: "nhập khẩu cho em bé" is the joint birth-residence-insurance procedure)."""
    if e.named_case or e.whole_name:
        return False
    return not e.separate or head.confidence >= th.close_ratio * e.confidence


def _one_per_family(ranked: list[Evidence]) -> list[Evidence]:
    """The likeliest record of each family: "which one?" offers real alternatives, not two cases of one rival."""
    seen: set[str] = set()
    out = []
    for e in ranked:
        family, name = e.head or e.hit.doc_id, procedure_name(e.hit.title)
        if family not in seen and name not in seen:
            out.append(e)
        seen |= {family, name}
    return out


def _offered_beside(best: Hit, evidence: list[Evidence], reason: str) -> Decision:
    """A "which one?" offering `best` first and the likeliest other families after it."""
    others = _one_per_family([e for e in evidence if e.hit.doc_id != best.doc_id])
    return Decision("which_one", choices=[best, *(e.hit for e in others)][:MAX_CHOICES], reason=reason)


def _one_per_name(cases: list[Evidence]) -> list[Hit]:
    """One button per case: a case listed once per level or agency ("Đăng ký lại kết hôn" at two levels) is offered
    once, its likeliest listing, and leaves room for another case."""
    seen: set[str] = set()
    out = []
    for e in cases:
        name = procedure_name(e.hit.title)
        if name not in seen:
            out.append(e.hit)
            seen.add(name)
    return out


def _family(best: Evidence, ranked: list[Evidence]) -> list[Evidence]:
    """The best record and the rest of its family in the shortlist: what the question fits without naming any of them
    apart (separate procedures included: "dk tạm trú" said nothing of "Xóa đăng ký tạm trú"), and the same procedure
    listed for another level or agency (reading.procedure_name): offered beside the answer, not asked about."""
    head, name = best.head or best.hit.doc_id, procedure_name(best.hit.title)
    return [
        e for e in ranked
        if e is best or e.hit.doc_id == head or e.head == head or procedure_name(e.hit.title) == name
    ]  # fmt: skip
