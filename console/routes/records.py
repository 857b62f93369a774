"""The knowledge: the list of records, an official record as the catalogue has it, and the editor of a curated
record (checked by the linter, previewed as the bot would answer, saved with a confirmation when what citizens are
told changes)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from console import audit, preview, problems, records
from console.config import Settings
from console.labels import field_label
from console.routes.deps import SIGNED_IN, AppSettings, Edit, app_settings
from console.routes.responses import back, one_change_at_a_time, page
from console.web import flash
from knowledge import clock
from knowledge.catalog.model import display_name
from knowledge.records.facts import from_official
from knowledge.text import clean

router = APIRouter()


@router.get("/records", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def records_page(request: Request, settings: AppSettings, q: str = "") -> Response:
    query = clean(q)[:100]
    curated, official = records.search(settings, query) if query else (records.curated_rows(settings), [])
    return page(request, "records.html", q=query, curated=curated, official=official, active="records")


@router.get("/records/{record_id}", response_class=HTMLResponse, dependencies=[SIGNED_IN])
def record_page(request: Request, settings: AppSettings, record_id: str) -> Response:
    if records.OFFICIAL_CODE.match(record_id):
        return official_page(request, settings, record_id)
    text = records.record_path(settings, record_id).read_text(encoding="utf-8")
    found = records.lint_candidate(settings, record_id, text)
    return editor(request, record_id, text, records.form_values(yaml.safe_load(text)), found)


def official_page(request: Request, settings: Settings, code: str) -> Response:
    """A record of the official catalogue, read-only, with the curated records that link it."""
    record = records.catalog(settings).get(code)
    if record is None:
        raise records.RecordNotFound(code)
    linked = [r.id for r in records.curated_rows(settings) if code in r.codes]
    return page(request, "official.html", record=record, facts=from_official(record), linked=linked,
                name=display_name(record.name), active="records")  # fmt: skip


def editor(request: Request, record_id: str, original: str, values: dict[str, Any], found: list,
           status: int = 200, edited: str | None = None, **extra: Any) -> HTMLResponse:  # fmt: skip
    """The editor with `values` in the form (`edited`: the record's text with them) and the checker's problems."""
    settings = app_settings(request)
    today = clock.today()
    beside = records.official_beside(settings, yaml.safe_load(edited or original), today,
                                     yaml.safe_load(original))  # fmt: skip
    return page(request, "record_edit.html", status, record_id=record_id, values=values, form=records.FORM,
                problems=problems.by_field(found), errors=len(records.errors(found)), version=version(original),
                aspects=preview.aspect_choices(), beside=beside, today=records.show_day(today), active="records",
                **extra)  # fmt: skip


@router.post("/records/{record_id}", response_class=HTMLResponse)
async def record_save(request: Request, record_id: str, change: Edit) -> Response:
    return await one_change_at_a_time(request, save_record, change.username, change.form, record_id)


def save_record(request: Request, username: str, form: FormData, record_id: str) -> Response:
    """Preview, refuse (the linter's errors), ask to confirm what citizens are told, or save and publish."""
    settings = app_settings(request)
    path = records.record_path(settings, record_id)
    original = path.read_text(encoding="utf-8")
    values = form_values(form)
    text = records.apply_form(original, values)
    action = form.get("action")
    if action in ("save", "confirm") and text != original:  # a change saved is a review made today
        values = records.review_today(original, values, clock.today())
        text = records.apply_form(original, values)
    found = records.lint_candidate(settings, record_id, text)
    if action == "preview":
        return previewed(request, record_id, original, values, found, text, form)
    if form.get("version") != version(original):
        flash(request, "error", "Thủ tục vừa được sửa ở nơi khác; trang đã tải lại bản mới nhất, hãy sửa lại.")
        return back(f"/records/{record_id}")
    if records.errors(found):
        return editor(request, record_id, original, values, found, 422, edited=text, refused=True)
    if text == original:
        flash(request, "info", "Không có thay đổi nào để lưu.")
        return back(f"/records/{record_id}")
    told = records.told_changes(original, text)
    if told and (action != "confirm" or form.get("confirmed") != version(text)):
        # what citizens are told changes: old -> new first; confirmed is exactly the text that was shown
        return editor(request, record_id, original, values, found, edited=text, confirm=told,
                      confirmed=version(text))  # fmt: skip
    return saved(request, username, record_id, path, original, text)


def previewed(request: Request, record_id: str, original: str, values: dict[str, Any], found: list, text: str,
              form: FormData) -> Response:  # fmt: skip
    """The editor again, with the answer the bot would give to the question typed, from the record as edited."""
    question, aspect = str(form.get("question") or ""), str(form.get("aspect") or "")
    result = preview.preview(app_settings(request), yaml.safe_load(text), question, aspect,
                             request.app.state.rasa_token)  # fmt: skip
    return editor(request, record_id, original, values, found, edited=text, preview=result, question=question,
                  aspect=aspect)  # fmt: skip


def saved(request: Request, username: str, record_id: str, path: Path, original: str, text: str) -> Response:
    records.write_text(path, text)
    changed = records.changed_fields(original, text)
    summary = f"Sửa thủ tục {record_id}: " + "; ".join(f"{k}: «{a}» → «{b}»" for k, a, b in changed)
    audit.log_file_change(request.app.state.db, app_settings(request), username, "record.edit", record_id, summary,
                          path, original, text)  # fmt: skip
    name = records.titles(app_settings(request)).get(record_id, record_id)
    labels = [field_label(key) for key, _, _ in changed]
    edited = ", ".join(label[:1].lower() + label[1:] for label in labels)  # «Sửa phí, lệ phí, ngày rà soát của …»
    request.app.state.builder.request(f"Sửa {edited} của thủ tục «{name}» ({username})",
                                      [f"«{name}»: {', '.join(labels)}"])  # fmt: skip
    flash(request, "ok", "Đã lưu. Đang dựng lại và xuất bản chỉ mục; trợ lý trả lời theo nội dung mới sau vài "
                         "giây.")  # fmt: skip
    return back(f"/records/{record_id}")


def version(text: str) -> str:
    """What a form was shown (a short hash of the record's text): a save from an older page is refused."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {f.name: str(form.get(f.name) or "") for f in records.FORM}
    values["channels"] = [str(v) for v in form.getlist("channels")]
    return values
