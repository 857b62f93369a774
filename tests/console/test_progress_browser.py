"""While a change is being published, every page of the console says so and follows it to the end, in Vietnamese
(static/build_status.js polling GET /publish/status), at desktop and phone width."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.console.edits import csrf, form_fields, save_record, wait_published, wait_served
from tests.console.support import Console
from tests.console.test_browser import sign_in

RECORD = "ho-tich-khai-sinh"
# Enough new names that their embedding takes a few seconds: the page is shown while the build runs.
NAMES = ("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nam", "Oanh", "Phúc", "Quang",
         "Sơn", "Tâm", "Uyên", "Vinh", "Xuân", "Yến", "Đạt", "Hưng", "Linh", "Mai", "Ngọc", "Phương")  # fmt: skip


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_follows_a_change_being_published_to_its_end(console: Console, browser, stack,
                                                                width: int) -> None:  # fmt: skip
    record = console.record_file(RECORD)
    original = record.read_text(encoding="utf-8")
    client = console.client("lan")
    browser.set_window_size(width, 900)
    sign_in(browser, console, "lan")
    aliases = [f"làm giấy khai sinh cho bé {name} {width}" for name in NAMES]
    try:
        kept = dict(form_fields(client.get(f"/records/{RECORD}").text, "record-form"))["aliases"]
        save_record(client, RECORD, {"aliases": "\n".join([kept, *aliases])})
        browser.get(console.url + "/records")
        line = browser.find_element(By.ID, "build-status")
        assert line.text.startswith("Đang xuất bản thay đổi"), line.text
        WebDriverWait(browser, 300, 0.2).until(lambda d: d.find_element(By.ID, "build-status").text.startswith("Xong"))
        done = browser.find_element(By.ID, "build-status").text
        assert "đã xuất bản sau" in done and "giây" in done, done
    finally:
        record.write_text(original, encoding="utf-8")
        client.post("/publish", data={"csrf": csrf(client, "/publish"), "confirmed": "yes"})
        wait_published(client)
        wait_served(stack, console.knowledge.index_dir)
        browser.set_window_size(1280, 900)
        client.close()
