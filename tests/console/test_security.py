"""The console refuses what it must, checked with a plain HTTP client against the real console process: anonymous
visitors, viewers trying to change something, forms without their CSRF token, too many wrong passwords, paths
smuggled in as record ids; and citizens' text is shown escaped and masked."""

from __future__ import annotations

import re

import httpx
import pytest

import journal
from tests.console.support import MARKUP_GROUP, PASSWORDS, Console, csrf_of

pytestmark = pytest.mark.stack

PAGES = ("/dashboard", "/unanswered", "/records", "/records?q=khai+sinh", "/records/ho-tich-khai-sinh",
         "/records/1.001193", "/catalog", "/publish", "/conversations", "/conversations/0123456789abcdef",
         "/handoffs", "/audit", "/publish/status")  # fmt: skip
RECORD = "ho-tich-khai-sinh"


def changes(console: Console) -> list[tuple[str, dict[str, str]]]:
    """Every form that changes something, with fields a change would need."""
    return [
        ("/unanswered/attach", {"group": "x", "procedure": RECORD, "as": "alias", "wording": "làm giấy khai sinh"}),
        ("/unanswered/out-of-scope", {"group": "x"}),
        (f"/records/{RECORD}", {"action": "save", "name": "Đăng ký khai sinh (sửa)", "domain": "hộ tịch"}),
        ("/catalog/apply", {}),
        ("/publish", {}),
        ("/handoffs/1/take", {}),
        ("/audit/1/revert", {}),
    ]


def test_every_page_refuses_an_anonymous_visitor(console) -> None:
    client = console.client()
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/?next="), path
        assert "Đăng ký khai sinh" not in response.text
    token = csrf_of(client, "/")  # an anonymous visitor's own valid token does not open any form
    for path, fields in changes(console):
        assert client.post(path, data={"csrf": token, **fields}).status_code == 403, path
    client.close()


def test_a_viewer_reads_but_cannot_change_anything(console) -> None:
    record = console.record_file(RECORD)
    before = record.read_text(encoding="utf-8")
    client = console.client("minh")
    for path in PAGES:
        assert client.get(path).status_code == (404 if path.startswith("/conversations/") else 200), path
    page = client.get(f"/records/{RECORD}").text
    assert "<fieldset disabled>" in page and 'id="save-button"' not in page
    token = csrf_of(client, "/dashboard")
    for path, fields in changes(console):
        response = client.post(path, data={"csrf": token, **fields})
        assert response.status_code == 403, path
        assert "chỉ có quyền xem" in response.text
    assert record.read_text(encoding="utf-8") == before
    client.close()


def test_a_form_without_its_csrf_token_is_refused(console) -> None:
    client = console.client("lan")
    for path, fields in changes(console):
        assert client.post(path, data=fields).status_code == 403, path
        assert client.post(path, data={"csrf": "not-the-token", **fields}).status_code == 403, path
    anonymous = console.client()
    login = anonymous.post("/login", data={"username": "lan", "password": PASSWORDS["lan"]})
    assert login.status_code == 403
    assert anonymous.get("/dashboard").status_code == 303  # not signed in
    client.close()
    anonymous.close()


def test_the_session_cookie_is_http_only_and_same_site_lax(console) -> None:
    client = console.client()
    token = csrf_of(client, "/")
    response = client.post("/login", data={"csrf": token, "username": "lan", "password": PASSWORDS["lan"]})
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain http here
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert client.post("/logout", data={"csrf": token}).status_code == 403  # the sign-in gave a new token
    client.post("/logout", data={"csrf": csrf_of(client, "/dashboard")})
    assert client.get("/dashboard").status_code == 303
    client.close()


def test_too_many_wrong_passwords_lock_the_account_for_that_address(console) -> None:
    client = console.client()
    for _ in range(5):
        wrong = client.post("/login", data={"csrf": csrf_of(client, "/"), "username": "khach", "password": "sai"})
        assert wrong.status_code == 401 and "không đúng" in wrong.text
    refused = client.post("/login", data={"csrf": csrf_of(client, "/"), "username": "khach",
                                          "password": PASSWORDS["khach"]})  # fmt: skip
    assert refused.status_code == 429 and "thử lại sau 15 phút" in refused.text
    assert client.get("/dashboard").status_code == 303
    client.close()


def test_citizen_text_is_shown_escaped_and_masked(console, citizens) -> None:
    client = console.client("minh")
    unanswered = client.get("/unanswered").text
    assert MARKUP_GROUP in unanswered
    key = journal.hash_sender(citizens["markup"])  # conversations are named as the journal names senders
    transcript = client.get(f"/conversations/{key}").text
    assert MARKUP_GROUP in transcript
    for page in (unanswered, transcript, client.get("/dashboard").text):
        assert "<script>alert" not in page and "<b>giấy phép</b>" not in page
        assert "0912 345 222" not in page and "0912345222" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in transcript and "&lt;b&gt;giấy phép&lt;/b&gt;" in unanswered
    client.close()


SMUGGLED = ("/records/..%2F..%2Fetc%2Fpasswd", "/records/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/records/.%2E",
            "/records/....%2F%2F....%2F%2Fetc%2Fpasswd", "/records/%2E%2E", "/records/ho-tich-khai-sinh.yml",
            "/conversations/..%2F..%2Fetc%2Fpasswd")  # fmt: skip


@pytest.mark.parametrize("path", SMUGGLED)
def test_a_path_given_as_a_record_id_is_refused(console, path: str) -> None:
    client = console.client("lan")
    response = client.get(httpx.URL(console.url + path))
    assert response.status_code == 404, path
    assert "root:" not in response.text
    client.close()


def test_a_path_given_as_the_procedure_of_an_attachment_is_refused(console, citizens) -> None:
    client = console.client("lan")
    page = client.get("/unanswered").text
    group = re.search(r'name="group" value="([0-9a-f]+)"', page)
    assert group
    for target in ("../../etc/passwd", "../guides/mot-cua-gio-lam-viec", "/etc/passwd"):
        response = client.post("/unanswered/attach", data={"csrf": csrf_of(client, "/unanswered"),
                                                           "group": group.group(1), "procedure": target,
                                                           "as": "alias", "wording": "làm giấy chào đời"})  # fmt: skip
        assert response.status_code == 404, target
        dev = client.post("/unanswered/attach", data={"csrf": csrf_of(client, "/unanswered"), "group": group.group(1),
                                                      "procedure": target, "as": "dev", "wording": "làm giấy chào đời"})
        assert dev.status_code == 400, target
    client.close()
