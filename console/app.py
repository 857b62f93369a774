"""The console's pages and forms (FastAPI + Jinja2, server-rendered HTML).

Reading pages need a signed-in account; every form posts a CSRF token and every change needs the editor role.
Changes are logged in the audit log (console.audit) and, when they touch the knowledge, published by a background
index build (console.builds).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import yaml
from fastapi import FastAPI, Request
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

import journal
from bot import handoff_state
from console import (
    audit,
    catalog_review,
    conversation_search,
    conversations,
    dashboard,
    gaps,
    preview,
    problems,
    records,
    svg,
)
from console.accounts import AccountError, authenticate, locked_out, set_password
from console.builds import Builder
from console.builds import status as build_status
from console.config import Settings
from console.db import engine
from console.svg import Series
from console.web import (
    Forbidden,
    NotSignedIn,
    SecurityHeadersMiddleware,
    SessionMiddleware,
    checked_form,
    current_user,
    editor_form,
    flash,
    session,
    sign_in,
    sign_out,
    signed_in,
    take_flashes,
)
from journal import callbacks, erasure
from knowledge import clock
from knowledge.catalog.model import display_name
from knowledge.records.facts import from_official
from knowledge.text import clean, mask_personal_numbers

HERE = Path(__file__).resolve().parent
CONVERSATION_KEY = re.compile(r"^[0-9a-f]{16}$")
MAX_WORDING = 200
CONVERSATIONS_PER_PAGE = 50
GROUPS_PER_PAGE = 20  # groups of unanswered questions on a page, most asked first
MAX_PAGE = 100_000  # a larger page number shows the (empty) last page rather than overflowing the database
RowId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]  # a row id in a path: beyond an INTEGER column is a 400
TOO_MANY_FAILURES = "Bạn đã nhập sai mật khẩu quá nhiều lần. Vui lòng thử lại sau 15 phút."
MAX_REPLY = 3000  # characters of an officer's reply (Telegram splits anything over 4096 anyway)
# A handoff's steps in the console: what the citizen is told, the confirmation asked first, the audit line, the notice.
HANDOFF_STEPS = ("take", "reply", "release", "done")
HANDOFF_TOLD = {"take": handoff_state.CITIZEN_CLAIMED, "release": handoff_state.CITIZEN_RELEASED,
                "done": handoff_state.CITIZEN_BACK_TO_BOT}  # fmt: skip
HANDOFF_CONFIRM = {"release": "Trả lại yêu cầu #{entry_id} cho cán bộ khác?",
                   "done": "Kết thúc hỗ trợ yêu cầu #{entry_id}?"}  # fmt: skip
HANDOFF_BUTTON = {"release": "Trả lại yêu cầu", "done": "Kết thúc, trả người dân về trợ lý"}
HANDOFF_AUDIT = {
    "take": "{username} nhận yêu cầu gặp cán bộ #{entry_id}",
    "reply": "{username} trả lời người dân (yêu cầu #{entry_id}): «{text}»",
    "release": "{username} trả lại yêu cầu gặp cán bộ #{entry_id} cho cán bộ khác",
    "done": "{username} kết thúc hỗ trợ yêu cầu #{entry_id}; người dân được trả về trợ lý tự động",
}
HANDOFF_DONE = {
    "take": "Bạn đã nhận yêu cầu #{entry_id}. Người dân được báo trên Telegram.",
    "reply": "Đã gửi câu trả lời cho người dân (yêu cầu #{entry_id}).",
    "release": "Đã trả lại yêu cầu #{entry_id}; yêu cầu đang chờ cán bộ khác nhận.",
    "done": "Đã kết thúc yêu cầu #{entry_id}; người dân được trả về trợ lý tự động.",
}

NAV = (
    ("dashboard", "/dashboard", "Tổng quan"),
    ("unanswered", "/unanswered", "Câu hỏi chưa trả lời"),
    ("records", "/records", "Kho tri thức"),
    ("catalog", "/catalog", "Đồng bộ danh mục"),
    ("conversations", "/conversations", "Hội thoại"),
    ("handoffs", "/handoffs", "Gặp cán bộ"),
    ("audit", "/audit", "Nhật ký thay đổi"),
    ("publish", "/publish", "Xuất bản"),
)


def create_app(settings: Settings, secret: str) -> FastAPI:
    app = FastAPI(title="Bảng điều khiển cán bộ", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.db = engine(settings.db_url)
    app.state.builder = Builder(settings)
    app.state.rasa_token = ""

    def warm_up_index_builds() -> None:
        """The encoder and the knowledge read before the first edit, not during it (edits live within seconds)."""
        warm_up = getattr(app.state.builder, "warm_up_in_background", None)
        if warm_up is not None:
            warm_up()

    app.router.on_startup.append(warm_up_index_builds)

    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(show_time=dashboard.show_time, NAV=NAV, percent=_percent)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(SessionMiddleware, secret=secret, secure=settings.secure_cookies)
    app.add_middleware(SecurityHeadersMiddleware)

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        builder: Builder = request.app.state.builder
        context.update(
            request=request, user=current_user(request), csrf=session(request).get("csrf", ""),
            flashes=take_flashes(request), building=builder.running,
            last_build=builder.history[0] if builder.history else None,
        )  # fmt: skip
        return templates.TemplateResponse(request, template, context, status_code=status)

    def back(path: str) -> RedirectResponse:
        return RedirectResponse(path, status_code=303)

    def confirm_first(request: Request, form: FormData, heading: str, lines: list[str], button: str,
                      cancel: str, **extra: Any) -> Response | None:  # fmt: skip
        """A plain confirmation page before a change to what citizens are told (None once the person confirmed)."""
        if form.get("confirmed") == "yes":
            return None
        fields = {k: str(v) for k, v in form.items() if k not in ("csrf", "confirmed")}
        return page(request, "confirm.html", heading=heading, lines=lines, button=button, cancel=cancel,
                    action=request.url.path, fields=fields, **extra)  # fmt: skip

    changing = threading.Lock()  # one change at a time: each reads a file, checks it and writes it back

    async def one_change_at_a_time(work: Callable[..., Response], *args: Any) -> Response:
        def run() -> Response:
            with changing:
                return work(*args)

        return await run_in_threadpool(run)

    # ------------------------------------------------------------ errors

    @app.exception_handler(NotSignedIn)
    async def to_sign_in(request: Request, exc: NotSignedIn) -> Response:
        return back(f"/?next={quote(request.url.path)}")

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return page(request, "error.html", 403, title="Không được phép", message=str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return page(request, "error.html", 404, title="Không tìm thấy", message="Trang hoặc bản ghi này không có.")
        return page(request, "error.html", exc.status_code, title="Có lỗi", message=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        message = "Địa chỉ có tham số không hợp lệ (số trang, mã số phải là số nguyên dương). Hãy quay lại trang trước."
        return page(request, "error.html", 400, title="Yêu cầu không hợp lệ", message=message)

    @app.exception_handler(records.RecordNotFound)
    async def no_record(request: Request, exc: records.RecordNotFound) -> Response:
        return page(request, "error.html", 404, title="Không tìm thấy", message="Không có thủ tục với mã này.")

    # ------------------------------------------------------------ sign-in

    @app.get("/health", include_in_schema=False)
    async def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/", response_class=HTMLResponse)
    async def sign_in_page(request: Request, next: str = "") -> Response:
        if current_user(request):
            return back("/dashboard")
        return page(request, "login.html", next=_safe_next(next))

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await checked_form(request)
        username = clean(str(form.get("username") or "")).lower()[:64]
        password = str(form.get("password") or "")
        ip = _client_ip(request)
        db = request.app.state.db
        target = _safe_next(str(form.get("next") or ""))
        if await run_in_threadpool(locked_out, db, username, ip):
            return page(request, "login.html", 429, error=TOO_MANY_FAILURES, username=username, next=target)
        user = await run_in_threadpool(authenticate, db, username, password, ip)
        if user is None:
            return page(request, "login.html", 401, error="Tên đăng nhập hoặc mật khẩu không đúng.",
                        username=username, next=target)  # fmt: skip
        sign_in(request, user)
        return back(target or "/dashboard")

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await checked_form(request)
        sign_out(request)
        return back("/")

    @app.get("/password", response_class=HTMLResponse)
    def password_page(request: Request) -> Response:
        signed_in(request)
        return page(request, "password.html")

    @app.post("/password", response_class=HTMLResponse)
    async def change_password(request: Request) -> Response:
        form = await checked_form(request)
        user = current_user(request)
        if user is None:
            raise Forbidden("Bạn cần đăng nhập để thực hiện thao tác này.")
        current, new = str(form.get("current") or ""), str(form.get("new") or "")
        db, ip = request.app.state.db, _client_ip(request)
        if new != str(form.get("again") or ""):
            return page(request, "password.html", 400, error="Hai lần nhập mật khẩu mới không khớp.")
        if await run_in_threadpool(locked_out, db, user.username, ip):
            return page(request, "password.html", 429, error=TOO_MANY_FAILURES)
        if await run_in_threadpool(authenticate, db, user.username, current, ip) is None:
            return page(request, "password.html", 400, error="Mật khẩu hiện tại không đúng.")
        try:
            await run_in_threadpool(set_password, db, user.id, new)  # every session of the account ends…
        except AccountError as error:
            return page(request, "password.html", 400, error=str(error))
        audit.log(db, user.username, "staff.password", user.username,
                  f"{user.username} đổi mật khẩu; mọi phiên đăng nhập của tài khoản đã kết thúc")  # fmt: skip
        sign_in(request, user)  # …but this one, which gets a fresh session
        flash(request, "ok", "Đã đổi mật khẩu. Mọi phiên đăng nhập khác của tài khoản này đã kết thúc.")
        return back("/dashboard")

    # ------------------------------------------------------------ dashboard

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard_page(request: Request) -> Response:
        signed_in(request)
        board = dashboard.build(settings, request.app.state.db)
        labels = [d.label for d in board.days]
        charts = {
            "per_day": svg.stacked_bars("Số câu hỏi mỗi ngày", labels, [
                Series("Trả lời được", [d.answered for d in board.days], "s1"),
                Series("Chưa trả lời được", [d.unanswered for d in board.days], "s2"),
            ]),
            "satisfaction": svg.share_line("Tỉ lệ đánh giá hữu ích mỗi ngày", labels, [d.up_share for d in board.days],
                                           board.target, "mục tiêu 90 %"),
            "procedures": svg.horizontal_bars("Thủ tục được hỏi nhiều nhất",
                                              [(title, n) for _, title, n in board.top_procedures]),
            "gaps": svg.horizontal_bars("Câu hỏi chưa trả lời được nhiều nhất",
                                        [(g.example, g.count) for g in board.top_gaps], css="s2"),
        }  # fmt: skip
        return page(request, "dashboard.html", board=board, charts=charts, active="dashboard")

    # ------------------------------------------------------------ unanswered questions

    @app.get("/unanswered", response_class=HTMLResponse)
    def unanswered_page(request: Request, page_no: int = 1) -> Response:
        signed_in(request)
        groups = gaps.unanswered_groups(request.app.state.db)
        pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
        page_no = min(_page_number(page_no), pages)
        shown = groups[(page_no - 1) * GROUPS_PER_PAGE : page_no * GROUPS_PER_PAGE]
        procedures = [r for r in records.curated_rows(settings) if r.kind == "procedure"]
        return page(request, "unanswered.html", groups=shown, procedures=procedures, page_no=page_no, pages=pages,
                    total=len(groups), asks=sum(g.count for g in groups), active="unanswered")  # fmt: skip

    @app.post("/unanswered/attach")
    async def attach(request: Request) -> Response:
        user, form = await editor_form(request)
        return await one_change_at_a_time(_attach, request, user.username, form)

    def _attach(request: Request, username: str, form: FormData) -> Response:
        group = gaps.find_group(request.app.state.db, str(form.get("group") or ""))
        if group is None:
            flash(request, "error", "Nhóm câu hỏi này không còn trong danh sách (đã được xử lý?).")
            return back("/unanswered")
        wording = clean(str(form.get("wording") or "")) or group.example
        target = clean(str(form.get("code") or "")) or str(form.get("procedure") or "").strip()
        how = str(form.get("as") or "alias")
        if not target:
            flash(request, "error", "Hãy chọn thủ tục (hoặc ghi mã thủ tục chính thức) trước khi gắn.")
            return back("/unanswered")
        if how == "alias" and records.OFFICIAL_CODE.match(target):
            flash(request, "error", "Tên gọi chỉ thêm được vào thủ tục của Trung tâm. Với một thủ tục chỉ có trong "
                                    "danh mục chính thức, hãy thêm thành câu hỏi mẫu.")  # fmt: skip
            return back("/unanswered")
        problem = _wording_problem(wording)
        if problem:
            flash(request, "error", problem)
            return back("/unanswered")
        if how == "dev":
            return _attach_dev(request, username, group, wording, target)
        return _attach_alias(request, username, group, wording, target)

    def _attach_alias(request: Request, username: str, group: gaps.Group, wording: str, target: str) -> Response:
        path = records.record_path(settings, target)  # anything else: 404, never another file
        original = path.read_text(encoding="utf-8")
        name = records.titles(settings).get(target, target)
        if records.has_alias(original, wording):
            flash(request, "error", f"Thủ tục «{name}» đã có tên gọi «{wording}».")
            return back("/unanswered")
        text = records.with_alias(original, wording)
        refused = records.errors(records.lint_candidate(settings, target, text))
        if refused:
            lines = "; ".join(problems.explain(p) for p in refused)
            flash(request, "error", f"Chưa thêm tên gọi «{wording}» vào «{name}». Bộ kiểm tra báo lỗi: {lines}")
            return back("/unanswered")
        records.write_text(path, text)
        marks = audit.mark_gap(request.app.state.db, username, group.keys, "attached", target)
        summary = f"Thêm tên gọi «{wording}» vào thủ tục {target} (từ câu hỏi chưa trả lời được)"
        audit.log_file_change(request.app.state.db, settings, username, "alias.add", target, summary, path,
                              original, text, marks)  # fmt: skip
        request.app.state.builder.request(summary)
        flash(request, "ok", f"Đã thêm tên gọi «{wording}» vào «{name}». Đang xuất bản để trợ lý trả lời được câu "
                             "này (xem trang Xuất bản).")  # fmt: skip
        return back("/unanswered")

    def _attach_dev(request: Request, username: str, group: gaps.Group, wording: str, target: str) -> Response:
        known = {r.id for r in records.curated_rows(settings)}
        if target not in known and not (records.OFFICIAL_CODE.match(target) and target in records.catalog(settings)):
            raise StarletteHTTPException(400, "Mã thủ tục không hợp lệ.")
        split = records.split_holding(settings, wording)
        if split:
            why = {
                "test": "câu này thuộc bộ câu hỏi kiểm tra, bộ đó được giữ cố định, không ai thêm hay sửa từ đây",
                "calibration": "câu này đã nằm trong bộ câu hỏi dùng để chỉnh ngưỡng trả lời; mỗi câu chỉ ở một bộ",
                "dev": "bộ câu hỏi mẫu đã có câu này",
            }[split]
            flash(request, "error", f"Chưa thêm «{wording}» vào bộ câu hỏi mẫu: {why}.")
            return back("/unanswered")
        path = settings.dev_questions
        original = path.read_text(encoding="utf-8") if path.is_file() else ""
        today = clock.today()
        text = records.with_dev_question(original, wording, target, username, today)
        records.write_text(path, text)
        marks = audit.mark_gap(request.app.state.db, username, group.keys, "attached", target)
        summary = f"Thêm câu hỏi mẫu «{wording}», đáp án đúng là thủ tục {target}"
        audit.log_file_change(request.app.state.db, settings, username, "dev_question.add", target, summary, path,
                              original or None, text, marks)  # fmt: skip
        name = records.titles(settings).get(target, target)
        flash(request, "ok", f"Đã thêm «{wording}» vào bộ câu hỏi mẫu, đáp án đúng là «{name}».")
        return back("/unanswered")

    @app.post("/unanswered/out-of-scope")
    async def out_of_scope(request: Request) -> Response:
        user, form = await editor_form(request)
        return await one_change_at_a_time(_out_of_scope, request, user.username, form)

    def _out_of_scope(request: Request, username: str, form: FormData) -> Response:
        db = request.app.state.db
        group = gaps.find_group(db, str(form.get("group") or ""))
        if group is None:
            flash(request, "error", "Nhóm câu hỏi này không còn trong danh sách (đã được xử lý?).")
            return back("/unanswered")
        asking = confirm_first(request, form, "Đánh dấu ngoài phạm vi?", [
            f"Nhóm câu hỏi «{group.example}» ({group.count} lượt hỏi) sẽ rời danh sách câu hỏi chưa trả lời được. "
            "Trợ lý vẫn trả lời những câu này như hiện nay; nếu sau này có người hỏi lại, câu hỏi mới sẽ hiện lại.",
            "Có thể hoàn tác ở trang Nhật ký thay đổi."], "Đánh dấu ngoài phạm vi", "/unanswered")  # fmt: skip
        if asking:
            return asking
        keys, previous = audit.mark_gap(db, username, group.keys, "out_of_scope", None)
        summary = f"Đánh dấu ngoài phạm vi: «{group.example}» ({group.count} lượt hỏi)"
        audit.log(db, username, "gap.out_of_scope", group.example, summary, {"marks": previous},
                  {"mark_keys": keys})  # fmt: skip
        flash(request, "ok", f"Đã đánh dấu «{group.example}» là ngoài phạm vi.")
        return back("/unanswered")

    # ------------------------------------------------------------ knowledge editor

    @app.get("/records", response_class=HTMLResponse)
    def records_page(request: Request, q: str = "") -> Response:
        signed_in(request)
        query = clean(q)[:100]
        curated, official = records.search(settings, query) if query else (records.curated_rows(settings), [])
        return page(request, "records.html", q=query, curated=curated, official=official, active="records")

    @app.get("/records/{record_id}", response_class=HTMLResponse)
    def record_page(request: Request, record_id: str) -> Response:
        signed_in(request)
        if records.OFFICIAL_CODE.match(record_id):
            record = records.catalog(settings).get(record_id)
            if record is None:
                raise records.RecordNotFound(record_id)
            linked = [r.id for r in records.curated_rows(settings) if record_id in r.codes]
            return page(request, "official.html", record=record, facts=from_official(record), linked=linked,
                        name=display_name(record.name), active="records")  # fmt: skip
        text = records.record_path(settings, record_id).read_text(encoding="utf-8")
        found = records.lint_candidate(settings, record_id, text)
        return _editor(request, record_id, text, records.form_values(yaml.safe_load(text)), found)

    def _editor(request: Request, record_id: str, original: str, values: dict[str, Any], found: list,
                status: int = 200, edited: str | None = None, **extra: Any) -> HTMLResponse:  # fmt: skip
        """The editor with `values` in the form (`edited`: the record's text with them) and the checker's problems."""
        today = clock.today()
        beside = records.official_beside(settings, yaml.safe_load(edited or original), today,
                                         yaml.safe_load(original))  # fmt: skip
        return page(request, "record_edit.html", status, record_id=record_id, values=values, form=records.FORM,
                    problems=problems.by_field(found), errors=len(records.errors(found)), version=_version(original),
                    aspects=preview.ASPECTS, beside=beside, today=records.show_day(today), active="records",
                    **extra)  # fmt: skip

    @app.post("/records/{record_id}", response_class=HTMLResponse)
    async def record_save(request: Request, record_id: str) -> Response:
        user, form = await editor_form(request)
        return await one_change_at_a_time(_record_save, request, user.username, form, record_id)

    def _record_save(request: Request, username: str, form: FormData, record_id: str) -> Response:
        path = records.record_path(settings, record_id)
        original = path.read_text(encoding="utf-8")
        values = _form_values(form)
        text = records.apply_form(original, values)
        action = form.get("action")
        if action in ("save", "confirm") and text != original:  # a change saved is a review made today
            values = records.review_today(original, values, clock.today())
            text = records.apply_form(original, values)
        found = records.lint_candidate(settings, record_id, text)
        if action == "preview":
            result = preview.preview(settings, yaml.safe_load(text), str(form.get("question") or ""),
                                     str(form.get("aspect") or ""), request.app.state.rasa_token)  # fmt: skip
            return _editor(request, record_id, original, values, found, edited=text, preview=result,
                           question=str(form.get("question") or ""), aspect=str(form.get("aspect") or ""))
        if form.get("version") != _version(original):
            flash(request, "error", "Thủ tục vừa được sửa ở nơi khác; trang đã tải lại bản mới nhất, hãy sửa lại.")
            return back(f"/records/{record_id}")
        if records.errors(found):
            return _editor(request, record_id, original, values, found, 422, edited=text, refused=True)
        if text == original:
            flash(request, "info", "Không có thay đổi nào để lưu.")
            return back(f"/records/{record_id}")
        told = records.told_changes(original, text)
        if told and (action != "confirm" or form.get("confirmed") != _version(text)):
            # what citizens are told changes: old -> new first; confirmed is exactly the text that was shown
            return _editor(request, record_id, original, values, found, edited=text, confirm=told,
                           confirmed=_version(text))  # fmt: skip
        records.write_text(path, text)
        changed = records.changed_fields(original, text)
        summary = f"Sửa thủ tục {record_id}: " + "; ".join(f"{k}: «{a}» → «{b}»" for k, a, b in changed)
        audit.log_file_change(request.app.state.db, settings, username, "record.edit", record_id, summary, path,
                              original, text)  # fmt: skip
        request.app.state.builder.request(f"Sửa thủ tục {record_id}")
        flash(request, "ok", "Đã lưu. Đang dựng lại và xuất bản chỉ mục; trợ lý trả lời theo nội dung mới sau vài "
                             "giây.")  # fmt: skip
        return back(f"/records/{record_id}")

    # ------------------------------------------------------------ catalogue sync review

    def linked_codes() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for row in records.curated_rows(settings):
            for code in row.codes:
                found.setdefault(code, []).append(row.id)
        return found

    @app.get("/catalog", response_class=HTMLResponse)
    def catalog_page(request: Request) -> Response:
        signed_in(request)
        found = catalog_review.review(settings, linked_codes())
        return page(request, "catalog.html", review=found, names=records.titles(settings), active="catalog")

    @app.post("/catalog/apply")
    async def catalog_apply(request: Request) -> Response:
        user, form = await editor_form(request)
        return await one_change_at_a_time(_catalog_apply, request, user.username, form)

    def _catalog_apply(request: Request, username: str, form: FormData) -> Response:
        found = catalog_review.review(settings, linked_codes())
        if found is None:
            flash(request, "error", "Không có bản đồng bộ nào đang chờ duyệt.")
            return back("/catalog")
        r = found.report
        asking = confirm_first(request, form, "Áp dụng bản đồng bộ danh mục?", [
            f"Danh mục chính thức ngày {r.day}: {len(r.new)} thủ tục mới, {len(r.withdrawn)} thủ tục không còn niêm "
            f"yết, {len(r.changes)} thay đổi (phí, thời hạn, cơ quan, tên).",
            "Sau khi áp dụng, trợ lý trả lời người dân theo danh mục mới"
            + (f"; {len(found.linked)} thủ tục của Trung tâm bị ảnh hưởng cần đọc lại." if found.linked else "."),
            "Bản danh mục cũ được giữ lại: có thể hoàn tác ở trang Nhật ký thay đổi."],
            "Áp dụng bản đồng bộ", "/catalog")  # fmt: skip
        if asking:
            return asking
        old_digest = catalog_review.file_digest(settings.snapshot)
        try:
            backup, digest, _output = catalog_review.apply_candidate(settings)
        except RuntimeError as error:
            flash(request, "error", f"Chưa áp dụng được: {error}")
            return back("/catalog")
        summary = (f"Áp dụng đồng bộ danh mục ngày {r.day}: {len(r.new)} thủ tục mới, {len(r.withdrawn)} bãi bỏ, "
                   f"{len(r.changes)} thay đổi")  # fmt: skip
        audit.log(request.app.state.db, username, "catalog.apply", "knowledge/official/catalog.jsonl.gz",
                  summary, {"backup": backup, "sha256": old_digest}, {"sha256": digest})  # fmt: skip
        request.app.state.builder.request(summary)
        flash(request, "ok", "Đã áp dụng bản đồng bộ. Đang dựng lại chỉ mục với danh mục mới.")
        return back("/publish")

    # ------------------------------------------------------------ publishing

    @app.get("/publish", response_class=HTMLResponse)
    def publish_page(request: Request) -> Response:
        signed_in(request)
        builder: Builder = request.app.state.builder
        return page(request, "publish.html", current=builder.current, history=builder.history,
                    queued=builder.queued, version=builder.index_version, active="publish")  # fmt: skip

    @app.get("/publish/status")
    def publish_status(request: Request) -> JSONResponse:
        """The progress line every page shows while a change is being published (static/build_status.js)."""
        signed_in(request)
        return JSONResponse(build_status(request.app.state.builder))

    @app.post("/publish")
    async def publish(request: Request) -> Response:
        user, form = await editor_form(request)
        asking = confirm_first(request, form, "Dựng lại và xuất bản chỉ mục ngay?", [
            "Chỉ mục tìm kiếm được dựng lại từ kho tri thức hiện tại, rồi trợ lý trả lời người dân theo chỉ mục mới. "
            "Trong lúc dựng, trợ lý vẫn trả lời theo chỉ mục cũ.",
            "Thường không cần làm việc này: mỗi thay đổi lưu từ bảng điều khiển đã tự được xuất bản."],
            "Dựng lại và xuất bản", "/publish")  # fmt: skip
        if asking:
            return asking
        request.app.state.builder.request(f"Xuất bản theo yêu cầu của {user.username}")
        flash(request, "info", "Đã bắt đầu dựng lại chỉ mục.")
        return back("/publish")

    # ------------------------------------------------------------ conversations and handoffs

    @app.get("/conversations", response_class=HTMLResponse)
    def conversations_page(request: Request, page_no: int = 1, q: str = "", day: str = "",
                           marker: str = "") -> Response:  # fmt: skip
        signed_in(request)
        page_no = _page_number(page_no)
        words, problem = clean(q)[: conversation_search.MAX_WORDS], ""
        try:
            on_day = conversation_search.parse_day(day[:20])
        except conversation_search.BadDay as bad:
            on_day, problem = None, str(bad)
        filters = conversation_search.Filters(words, on_day, marker if marker in conversation_search.MARKERS else "")
        per_page = CONVERSATIONS_PER_PAGE
        found = conversation_search.listing(settings.tracker_url, filters, per_page, (page_no - 1) * per_page)
        query = {"q": words, "day": day.strip()[:20], "marker": filters.marker}
        return page(request, "conversations.html", conversations=found, page_no=page_no, filters=filters,
                    query=query, markers=conversation_search.MARKERS, day_problem=problem, per_page=per_page,
                    active="conversations")  # fmt: skip

    @app.get("/conversations/{key}", response_class=HTMLResponse)
    def conversation_page(request: Request, key: str) -> Response:
        signed_in(request)
        turns = conversations.transcript(settings.tracker_url, key) if CONVERSATION_KEY.match(key) else None
        if turns is None:
            raise StarletteHTTPException(404)
        return page(request, "conversation.html", key=key, turns=turns, active="conversations")

    @app.get("/handoffs", response_class=HTMLResponse)
    def handoffs_page(request: Request) -> Response:
        signed_in(request)
        return _handoffs(request, {})

    def _handoffs(request: Request, revealed: dict[int, list[str]]) -> Response:
        queue = conversations.handoffs()
        names = records.titles(settings) if any(h.procedure_id for h in queue) else {}
        # Only ids here: whether a callback number exists, never the number (see /handoffs/{id}/callback).
        with_numbers = callbacks.entries_with_numbers([h.id for h in queue])
        response = page(request, "handoffs.html", queue=queue, names=names, with_numbers=with_numbers,
                        revealed=revealed, bridge=conversations.bridge_store() is not None,
                        told=HANDOFF_TOLD, officer_name=handoff_state.officer_name, active="handoffs")  # fmt: skip
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.post("/handoffs/{entry_id}/callback", response_class=HTMLResponse)
    async def reveal_callback(request: Request, entry_id: RowId) -> Response:
        user, _ = await editor_form(request)
        return await run_in_threadpool(_reveal_callback, request, user.username, entry_id)

    def _reveal_callback(request: Request, username: str, entry_id: int) -> Response:
        """The citizen's callback number, to the staff member who took the request only; each look is audited."""
        db = request.app.state.db
        if conversations.claimed_by(entry_id) != username:
            raise Forbidden("Chỉ cán bộ đã nhận yêu cầu này mới xem được số gọi lại của người dân.")
        numbers = callbacks.numbers_for(entry_id)
        if not numbers:
            flash(request, "info", f"Yêu cầu #{entry_id} không còn số gọi lại (đã quá hạn lưu hoặc đã bị xóa).")
            return back("/handoffs")
        audit.log(db, username, "handoff.callback_reveal", f"handoff #{entry_id}",
                  f"{username} xem số gọi lại của yêu cầu gặp cán bộ #{entry_id}", None, {"entry_id": entry_id})
        return _handoffs(request, {entry_id: numbers})

    @app.post("/handoffs/{entry_id}/{action}")
    async def handoff_step(request: Request, entry_id: RowId, action: str) -> Response:
        if action not in HANDOFF_STEPS:
            raise StarletteHTTPException(404)
        user, form = await editor_form(request)
        return await one_change_at_a_time(_handoff_step, request, user.username, entry_id, action, form)

    def _handoff_step(request: Request, username: str, entry_id: int, action: str, form: FormData) -> Response:
        """Claim, reply, give back or finish a handoff (bot.handoff_state): the citizen is told on Telegram, the
        staff group sees it, the audit log keeps it (masked)."""
        text = _reply_text(str(form.get("text") or "")) if action == "reply" else ""
        if action == "reply" and not text:
            flash(request, "error", "Hãy viết câu trả lời trước khi gửi.")
            return back(f"/handoffs#handoff-{entry_id}")
        if action in ("release", "done"):
            asking = confirm_first(request, form, HANDOFF_CONFIRM[action].format(entry_id=entry_id), [
                "Người dân sẽ nhận trên Telegram: «"
                + HANDOFF_TOLD[action].format(officer=handoff_state.officer_name(username)) + "»"],
                HANDOFF_BUTTON[action], f"/handoffs#handoff-{entry_id}")  # fmt: skip
            if asking:
                return asking
        try:
            conversations.step(entry_id, username, action, text)
        except conversations.NoBridge:
            flash(request, "error", "Bảng điều khiển chưa kết nối được với cầu nối Telegram: hãy xử lý yêu cầu trong "
                                    "nhóm cán bộ trên Telegram.")  # fmt: skip
            return back("/handoffs")
        except (LookupError, handoff_state.NotOpen):
            flash(request, "error", f"Yêu cầu #{entry_id} đã kết thúc: người dân đang được trợ lý tự động trả lời.")
            return back("/handoffs")
        except handoff_state.TakenByAnother as taken:
            who = taken.officer or "không ai"
            flash(request, "error", f"Yêu cầu #{entry_id} đang do {who} phụ trách; bạn chưa thao tác được.")
            return back(f"/handoffs#handoff-{entry_id}")
        summary = HANDOFF_AUDIT[action].format(username=username, entry_id=entry_id, text=mask_personal_numbers(text))
        audit.log(request.app.state.db, username, f"handoff.{action}", f"handoff #{entry_id}", summary, None,
                  {"entry_id": entry_id})  # fmt: skip
        flash(request, "ok", HANDOFF_DONE[action].format(entry_id=entry_id))
        return back(f"/handoffs#handoff-{entry_id}")

    @app.post("/conversations/forget")
    async def forget_citizen(request: Request) -> Response:
        user, form = await editor_form(request)
        return await run_in_threadpool(_forget_citizen, request, user.username, form)

    def _forget_citizen(request: Request, username: str, form: FormData) -> Response:
        """A citizen's deletion request made to staff: the same deletion as the bot's (journal/erasure.py)."""
        chat = clean(str(form.get("chat") or ""))
        if not chat or len(chat) > 128:
            flash(request, "error", "Hãy nhập mã cuộc trò chuyện (số chat Telegram, hoặc mã người gửi) cần xóa.")
            return back("/conversations")
        if form.get("confirm") != "yes":
            flash(request, "error", "Hãy đánh dấu ô xác nhận trước khi xóa: dữ liệu đã xóa không khôi phục được.")
            return back("/conversations")
        deleted = erasure.forget(chat, tracker=settings.tracker_url)
        key = journal.hash_sender(chat)
        summary = (f"Xóa dữ liệu của người dân (mã hội thoại {key}) theo yêu cầu: {deleted['tracker_events']} sự "
                   f"kiện hội thoại, {deleted['journal_entries']} dòng nhật ký, {deleted['callback_numbers']} số gọi "
                   f"lại, {deleted['bridge_rows']} dòng của cầu nối Telegram")  # fmt: skip
        audit.log(request.app.state.db, username, "privacy.forget", f"hội thoại {key}", summary, None, deleted)
        flash(request, "ok", f"Đã xóa dữ liệu của cuộc trò chuyện {key}.")
        return back("/conversations")

    # ------------------------------------------------------------ audit log

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, page_no: int = 1) -> Response:
        signed_in(request)
        page_no = _page_number(page_no)
        found = audit.entries(request.app.state.db, 50, (page_no - 1) * 50)
        return page(request, "audit.html", entries=found, page_no=page_no, names=records.titles(settings),
                    active="audit")  # fmt: skip

    @app.post("/audit/{entry_id}/revert")
    async def revert(request: Request, entry_id: RowId) -> Response:
        user, form = await editor_form(request)
        return await one_change_at_a_time(_revert, request, user.username, entry_id, form)

    def _revert(request: Request, username: str, entry_id: int, form: FormData) -> Response:
        found = audit.entry(request.app.state.db, entry_id)
        if found is not None and found.revertible:
            changes = [change.reversed() for change in found.field_changes()]
            asking = confirm_first(request, form, f"Hoàn tác thay đổi #{entry_id}?", [
                f"{found.action_name} lúc {dashboard.show_time(found.ts)}, do {found.username}: "
                f"{found.headline(records.titles(settings))}.",
                "Hoàn tác là trả lại nội dung như trước thay đổi này"
                + (" (bên dưới: nội dung đang dùng và nội dung sẽ trở lại)." if changes else ".")
                + " Việc hoàn tác cũng được ghi vào nhật ký."],
                "Hoàn tác thay đổi này", "/audit", changes=changes)  # fmt: skip
            if asking:
                return asking
        try:
            done = audit.revert(request.app.state.db, settings, entry_id, username)
        except audit.RevertRefused as refused:
            flash(request, "error", f"Không hoàn tác được #{entry_id}: {refused}")
            return back("/audit")
        if done.rebuild:
            request.app.state.builder.request(f"Hoàn tác thay đổi #{entry_id}")
        flash(request, "ok", f"Đã hoàn tác thay đổi #{entry_id}" + (" và đang xuất bản lại." if done.rebuild else "."))
        return back("/audit")

    return app


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %".replace(".", ",")


def _page_number(page_no: int) -> int:
    return min(max(1, page_no), MAX_PAGE)


def _client_ip(request: Request) -> str:
    """The peer's address; a proxy's X-Forwarded-For only when it is in CONSOLE_TRUSTED_PROXIES (console.__main__)."""
    return request.client.host if request.client else "?"


def _safe_next(target: str) -> str:
    """Only a path of this site (never //evil.example or https://…) after signing in."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else ""


def _version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {f.name: str(form.get(f.name) or "") for f in records.FORM}
    values["channels"] = [str(v) for v in form.getlist("channels")]
    return values


def _reply_text(typed: str) -> str:
    """An officer's reply, cleaned line by line (its paragraphs kept), at most MAX_REPLY characters."""
    return "\n".join(clean(line) for line in typed.splitlines()).strip()[:MAX_REPLY]


def _wording_problem(wording: str) -> str | None:
    if "*" in wording:
        return "Câu chữ còn số điện thoại/giấy tờ đã bị che (***): hãy sửa lại câu chữ trước khi gắn."
    if len(wording) > MAX_WORDING or len(wording) < 3:
        return f"Câu chữ cần từ 3 đến {MAX_WORDING} ký tự."
    return None
