"""The record editor in a real browser (headless Chromium), at desktop width and on a 390 px phone screen, against the
real console, Rasa and action servers: for a record linked to the official catalogue, the official value beside each
field it supplies and which value the bot uses; the preview as the citizen reads it on Telegram."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.support import screenshot
from tests.console.test_browser import sign_in, submit, text_of
from tests.console.test_browser_pages import phone, phone_screenshot, sideways_overflow

pytestmark = pytest.mark.stack

BIRTH = "ho-tich-khai-sinh"  # linked to the official record 1.001193
FEE_QUESTION = "làm giấy khai sinh có mất tiền không"


def check_official_values(browser: WebDriver) -> None:
    fee = text_of(browser, "#official-fee")
    assert "Bản ghi chính thức 1.001193, mức áp dụng hôm nay" in fee and "trực tiếp: Không mất phí" in fee
    assert "Trợ lý trả lời theo giá trị chính thức này" in fee
    agency = text_of(browser, "#official-agency")
    assert "Ủy ban nhân dân cấp xã" in agency and "Trợ lý trả lời theo giá trị chính thức này" in agency
    assert "1 ngày làm việc" in text_of(browser, "#official-processing_time")
    legal = browser.find_element(By.CSS_SELECTOR, "#official-legal_basis")
    assert "15 mục — bấm để xem" in legal.text and "03/2023/TT-BTP" not in legal.text  # a long list folds away
    legal.find_element(By.TAG_NAME, "summary").click()
    assert "03/2023/TT-BTP" in text_of(browser, "#official-legal_basis")
    steps = text_of(browser, "#official-steps")
    assert "Trợ lý trả lời theo nội dung trong ô (của Trung tâm), không theo giá trị chính thức" in steps
    where = text_of(browser, "#official-where")
    assert "bản chính thức không ghi mục này" in where and "Trợ lý trả lời theo nội dung trong ô" in where


def preview_fee(browser: WebDriver) -> None:
    browser.find_element(By.ID, "preview-question").send_keys(FEE_QUESTION)
    submit(browser, browser.find_element(By.ID, "preview-button"))
    reading = text_of(browser, "#preview-reading")
    assert "Trợ lý hiểu câu hỏi là: hỏi lệ phí (tự nhận biết)" in reading and "Đăng ký khai sinh" in reading
    chat = text_of(browser, "#preview-telegram")
    assert "Không mất phí" in chat and "ask_fee" not in text_of(browser, "#preview-result")
    buttons = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#preview-telegram .kb-button")]
    assert "Hồ sơ cần gì" in buttons  # the answer's keyboard, as Telegram shows it


def test_the_editor_shows_the_official_values_and_which_one_the_bot_uses(console, browser) -> None:
    sign_in(browser, console, "lan")
    browser.get(f"{console.url}/records/{BIRTH}")
    assert "gắn với bản ghi chính thức 1.001193" in text_of(browser, "#official-note")
    check_official_values(browser)
    preview_fee(browser)
    screenshot(browser, "editor-official")
    with phone(browser):
        browser.get(f"{console.url}/records/{BIRTH}")
        check_official_values(browser)
        assert browser.find_element(By.ID, "official-fee").is_displayed()
        assert sideways_overflow(browser) == 0
        preview_fee(browser)
        assert sideways_overflow(browser) == 0  # the Telegram messages and their keyboards fit too
        phone_screenshot(browser, "editor-phone")
