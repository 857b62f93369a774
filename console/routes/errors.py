"""The console's error pages, in Vietnamese: a visitor without a session goes to the sign-in page, everything else
refused or missing gets a page saying why (never FastAPI's JSON)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from console import records
from console.routes.responses import back, page
from console.web import Forbidden, NotSignedIn

BAD_PARAMETER = "Địa chỉ có tham số không hợp lệ (số trang, mã số phải là số nguyên dương). Hãy quay lại trang trước."


async def to_sign_in(request: Request, exc: NotSignedIn) -> Response:
    return back(f"/?next={quote(request.url.path)}")


async def forbidden(request: Request, exc: Forbidden) -> Response:
    return page(request, "error.html", 403, title="Không được phép", message=str(exc))


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404:
        return page(request, "error.html", 404, title="Không tìm thấy", message="Trang hoặc bản ghi này không có.")
    return page(request, "error.html", exc.status_code, title="Có lỗi", message=str(exc.detail))


async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
    return page(request, "error.html", 400, title="Yêu cầu không hợp lệ", message=BAD_PARAMETER)


async def no_record(request: Request, exc: records.RecordNotFound) -> Response:
    return page(request, "error.html", 404, title="Không tìm thấy", message="Không có thủ tục với mã này.")


def add_error_pages(app: FastAPI) -> None:
    app.exception_handler(NotSignedIn)(to_sign_in)
    app.exception_handler(Forbidden)(forbidden)
    app.exception_handler(StarletteHTTPException)(http_error)
    app.exception_handler(RequestValidationError)(bad_parameter)
    app.exception_handler(records.RecordNotFound)(no_record)
