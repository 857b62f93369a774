"""Unanswered questions, grouped: attach a group to a procedure (as an alias, or as a sample question of the dev
set) or mark it out of scope."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from console import audit, gaps, problems, records
from console.routes.deps import Edit, PageNo, app_settings
from console.routes.responses import back, confirm_first, one_change_at_a_time, page
from console.web import flash
from knowledge import clock
from knowledge.text import clean

router = APIRouter()
GROUPS_PER_PAGE = 20  # groups of unanswered questions on a page, most asked first
MAX_WORDING = 200
GONE = "Nhóm câu hỏi này không còn trong danh sách (đã được xử lý?)."
WHY_NOT_DEV = {
    "test": "câu này thuộc bộ câu hỏi kiểm tra, bộ đó được giữ cố định, không ai thêm hay sửa từ đây",
    "calibration": "câu này đã nằm trong bộ câu hỏi dùng để chỉnh ngưỡng trả lời; mỗi câu chỉ ở một bộ",
    "dev": "bộ câu hỏi mẫu đã có câu này",
}


@router.get("/unanswered", response_class=HTMLResponse)
def unanswered_page(request: Request, page_no: PageNo) -> Response:
    settings = app_settings(request)
    groups = gaps.unanswered_groups(request.app.state.db)
    pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
    page_no = min(page_no, pages)
    shown = groups[(page_no - 1) * GROUPS_PER_PAGE : page_no * GROUPS_PER_PAGE]
    procedures = [r for r in records.curated_rows(settings) if r.kind == "procedure"]
    return page(request, "unanswered.html", groups=shown, procedures=procedures, page_no=page_no, pages=pages,
                total=len(groups), asks=sum(g.count for g in groups), active="unanswered")  # fmt: skip


@router.post("/unanswered/attach")
async def attach(request: Request, change: Edit) -> Response:
    return await one_change_at_a_time(request, attach_group, change.username, change.form)


def attach_group(request: Request, username: str, form: FormData) -> Response:
    group = gaps.find_group(request.app.state.db, str(form.get("group") or ""))
    if group is None:
        flash(request, "error", GONE)
        return back("/unanswered")
    wording = clean(str(form.get("wording") or "")) or group.example
    target = clean(str(form.get("code") or "")) or str(form.get("procedure") or "").strip()
    how = str(form.get("as") or "alias")
    problem = attach_problem(wording, target, how)
    if problem:
        flash(request, "error", problem)
        return back("/unanswered")
    if how == "dev":
        return attach_dev(request, username, group, wording, target)
    return attach_alias(request, username, group, wording, target)


def attach_problem(wording: str, target: str, how: str) -> str | None:
    """Why the group cannot be attached as asked, in the order staff would fix it (None: it can)."""
    if not target:
        return "Hãy chọn thủ tục (hoặc ghi mã thủ tục chính thức) trước khi gắn."
    if how == "alias" and records.OFFICIAL_CODE.match(target):
        return ("Tên gọi chỉ thêm được vào thủ tục của Trung tâm. Với một thủ tục chỉ có trong danh mục chính thức, "
                "hãy thêm thành câu hỏi mẫu.")  # fmt: skip
    return wording_problem(wording)


def wording_problem(wording: str) -> str | None:
    if "*" in wording:
        return "Câu chữ còn số điện thoại/giấy tờ đã bị che (***): hãy sửa lại câu chữ trước khi gắn."
    if len(wording) > MAX_WORDING or len(wording) < 3:
        return f"Câu chữ cần từ 3 đến {MAX_WORDING} ký tự."
    return None


def attach_alias(request: Request, username: str, group: gaps.Group, wording: str, target: str) -> Response:
    settings = app_settings(request)
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
    told = f"«{name}»: người dân gọi thủ tục là «{wording}» cũng được trả lời"
    request.app.state.builder.request(f"Thêm tên gọi «{wording}» vào thủ tục «{name}» ({username})", [told])
    flash(request, "ok", f"Đã thêm tên gọi «{wording}» vào «{name}». Đang xuất bản để trợ lý trả lời được câu "
                         "này (xem trang Xuất bản).")  # fmt: skip
    return back("/unanswered")


def attach_dev(request: Request, username: str, group: gaps.Group, wording: str, target: str) -> Response:
    settings = app_settings(request)
    known = {r.id for r in records.curated_rows(settings)}
    if target not in known and not (records.OFFICIAL_CODE.match(target) and target in records.catalog(settings)):
        raise StarletteHTTPException(400, "Mã thủ tục không hợp lệ.")
    split = records.split_holding(settings, wording)
    if split:
        flash(request, "error", f"Chưa thêm «{wording}» vào bộ câu hỏi mẫu: {WHY_NOT_DEV[split]}.")
        return back("/unanswered")
    path = settings.dev_questions
    original = path.read_text(encoding="utf-8") if path.is_file() else ""
    text = records.with_dev_question(original, wording, target, username, clock.today())
    records.write_text(path, text)
    marks = audit.mark_gap(request.app.state.db, username, group.keys, "attached", target)
    summary = f"Thêm câu hỏi mẫu «{wording}», đáp án đúng là thủ tục {target}"
    audit.log_file_change(request.app.state.db, settings, username, "dev_question.add", target, summary, path,
                          original or None, text, marks)  # fmt: skip
    name = records.titles(settings).get(target, target)
    flash(request, "ok", f"Đã thêm «{wording}» vào bộ câu hỏi mẫu, đáp án đúng là «{name}».")
    return back("/unanswered")


@router.post("/unanswered/out-of-scope")
async def out_of_scope(request: Request, change: Edit) -> Response:
    return await one_change_at_a_time(request, mark_out_of_scope, change.username, change.form)


def mark_out_of_scope(request: Request, username: str, form: FormData) -> Response:
    db = request.app.state.db
    group = gaps.find_group(db, str(form.get("group") or ""))
    if group is None:
        flash(request, "error", GONE)
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
