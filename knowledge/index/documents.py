"""What the index holds: one document per procedure, official record or guide, its "views" (texts matched
against questions) and the data's own signals the search weighs (who the procedure is for, its level, curated or
not, families of names sharing a stem).

Curated records linked to official codes absorb those official records: one document, official facts inside,
the official name as one more view. Official records nobody linked are documents of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from knowledge.catalog.model import display_name, unlisted_name
from knowledge.index.lexical import RecordName

# Who a citizen's everyday question is about; an enterprise- or organisation-only procedure is rarely meant.
CITIZEN_AUDIENCES = frozenset({"citizen", "foreigner"})
LOCAL_LEVELS = frozenset({"xã", "tỉnh", "huyện"})


@dataclass(frozen=True)
class View:
    doc: int  # index into the document list
    kind: str  # name | alias | synopsis | detail | title | passage | official_name
    text: str


def _values(items: Any) -> list[Any]:
    return list(items.values()) if isinstance(items, dict) else list(items)


def procedure_views(doc: int, proc: Any, official_names: Iterable[str] = ()) -> list[View]:
    fields = f"Lĩnh vực {proc.domain}" + (f". Cơ quan giải quyết: {proc.agency}" if proc.agency else "")
    views = [View(doc, "name", proc.name), *(View(doc, "alias", a) for a in proc.aliases)]
    names = dict.fromkeys(n for official in official_names for n in (official, unlisted_name(official)))
    views += [View(doc, "official_name", n) for n in names if n != proc.name]
    extra = [f"{proc.name}: {text}" for text in (proc.eligibility, proc.result) if text]
    return [*views, View(doc, "synopsis", f"{proc.name}. {fields}"), *(View(doc, "detail", t) for t in extra)]


def official_views(doc: int, record: Any) -> list[View]:
    name = display_name(record.name)
    views = [View(doc, "name", name)]
    typed = unlisted_name(name)  # "… (thực hiện tại cấp tỉnh)": typed without that tail, the name is whole
    if typed != name:
        views.append(View(doc, "official_name", typed))
    if record.has_details:
        about = "; ".join(record.fields)
        agency = record.agency or record.competent_authority or ""
        views.append(View(doc, "synopsis", f"{name}. Lĩnh vực {about}. {agency}".strip()))
    return views


def guide_views(doc: int, guide: Any, passages: Iterable[str]) -> list[View]:
    views = [View(doc, "title", guide.title), *(View(doc, "alias", a) for a in guide.aliases)]
    return [*views, *(View(doc, "passage", p) for p in passages if p.strip())]


def _signals(
    *, curated: bool, audiences: Iterable[str], levels: Iterable[str], details: bool, current: bool = True
) -> dict[str, Any]:
    audiences = set(audiences)
    return {
        "curated": curated,
        "current": current,  # not from the 2024 data that predates the two-level reorganisation
        # no audience listed: assume anyone may apply (curated records are written for citizens)
        "citizen": curated or not audiences or bool(audiences & CITIZEN_AUDIENCES),
        "local": curated or bool(set(levels) & LOCAL_LEVELS),
        "details": details,
    }


@dataclass(frozen=True)
class OfficialDoc:
    """One official record, ready to index: its document dict and its views' (kind, text)."""

    code: str
    doc: dict[str, Any]
    views: tuple[tuple[str, str], ...]
    predates_2025_reform: bool


def official_documents(official: Iterable[Any]) -> list[OfficialDoc]:
    """Every record of the national catalogue as a document (the slow part of a build: cached by the builder)."""
    out = []
    for record in sorted(official, key=lambda r: r.code):
        doc = {
            "id": record.code, "kind": "official", "title": display_name(record.name),
            "data": record.model_dump(mode="json", exclude_defaults=True), "fields": list(record.fields),
            "province": record.province if record.type == "SPECIFIC" else None,
            "signals": _signals(curated=False, audiences=record.audiences, levels=record.levels,
                                details=record.has_details, current=not record.predates_2025_reform),
        }  # fmt: skip
        views = tuple((v.kind, v.text) for v in official_views(0, record))
        out.append(OfficialDoc(record.code, doc, views, record.predates_2025_reform))
    return out


def documents_and_views(
    knowledge: Any, official: Iterable[OfficialDoc] = ()
) -> tuple[list[dict[str, Any]], list[View]]:
    """Records as JSON-ready dicts plus every text the search matches against.

    ``official``: the national catalogue's records as prepared by ``official_documents``.
    """
    from knowledge.records.loader import guide_passages

    by_code = {o.code: o for o in official}
    linked_codes: set[str] = set()
    docs: list[dict[str, Any]] = []
    views: list[View] = []
    for proc in sorted(_values(knowledge.procedures), key=lambda p: p.id):
        linked = [by_code[c].doc for c in getattr(proc, "official_codes", []) if c in by_code]
        linked_codes.update(d["id"] for d in linked)
        views += procedure_views(len(docs), proc, (d["title"] for d in linked))
        data = proc.model_dump(mode="json")
        data["official"] = [d["data"] for d in linked]
        levels = [lv for d in linked for lv in d["data"].get("levels", [])] or [proc.level]
        docs.append(
            {"id": proc.id, "kind": "procedure", "title": proc.name, "data": data,
             "fields": sorted({f for d in linked for f in d["fields"]}),
             "signals": _signals(curated=True, audiences=(), levels=levels, details=True)}
        )  # fmt: skip
    for item in _offered(by_code, linked_codes):
        views += [View(len(docs), kind, text) for kind, text in item.views]
        docs.append(item.doc)
    for guide in sorted(_values(knowledge.guides), key=lambda g: g.id):
        views += guide_views(len(docs), guide, guide_passages(guide))
        data = guide.model_dump(mode="json")
        data["body"] = guide.body  # excluded from dumps by the schema; the bot needs it
        docs.append(
            {"id": guide.id, "kind": "guide", "title": guide.title, "data": data,
             "signals": _signals(curated=True, audiences=(), levels=(), details=True)}
        )  # fmt: skip
    assign_families(docs)
    return docs, views


def _offered(by_code: dict[str, OfficialDoc], linked_codes: set[str]) -> list[OfficialDoc]:
    """Official records to index on their own: not linked by a curated record, and no 2024 record whose name a
    2026 record now carries (after the reorganisation the same procedure was re-issued under a new code)."""
    current_names = {o.doc["title"].casefold() for o in by_code.values() if not o.predates_2025_reform}
    return [
        o for o in by_code.values()
        if o.code not in linked_codes and not (o.predates_2025_reform and o.doc["title"].casefold() in current_names)
    ]  # fmt: skip


def assign_families(docs: list[dict[str, Any]]) -> None:
    """Group names sharing a stem: "Đăng ký khai sinh" heads "Đăng ký khai sinh lưu động", "… có yếu tố nước
    ngoài". A document's head is the shortest name (two words or more) whose words its name all contains, within
    the same field, so a generic "Xóa đăng ký" of secured transactions heads no residence procedure. Heads get
    their variants listed: the search offers them as "which case?".
    """
    names = [RecordName.of(d) for d in docs]
    by_word: dict[str, set[int]] = {}
    for i, name in enumerate(names):
        for w in name.words:
            by_word.setdefault(w, set()).add(i)
    head_of: dict[int, int] = {}
    for i, name in enumerate(names):
        if len(name.words) < 2:
            continue
        rarest = min(name.words, key=lambda w: len(by_word[w]))
        for j in by_word[rarest]:
            if j == i or not names[j].is_case_of(name):
                continue
            if j not in head_of or len(name.words) < len(names[head_of[j]].words):
                head_of[j] = i
    variants: dict[int, list[str]] = {}
    for j, i in head_of.items():
        docs[j]["family"] = docs[i]["id"]
        variants.setdefault(i, []).append(docs[j]["id"])
    for i, ids in variants.items():
        docs[i]["variants"] = sorted(ids)
