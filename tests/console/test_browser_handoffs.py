"""A handoff answered from the console and received on Telegram, in a real browser (headless Chromium) at desktop width
and on a 390 px phone screen: a citizen on Telegram (the Bot API emulator, the real bridge, the real Rasa and action
servers) asks a question, then for a person; an officer takes the request in the console, replies, and finishes it;
the citizen gets each step on Telegram, and the staff group sees the console's work."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from tests.console.support import Console, screenshot, screenshot_path
from tests.console.test_browser import flash, sign_in, submit, text_of, wait_for
from tests.telegram.bot_api_emulator import BotApiEmulator
from tests.telegram.conftest import STAFF_CHAT, StartBridge, emulator, start_bridge  # noqa: F401 - fixtures

pytestmark = pytest.mark.stack

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
QUESTIONS = {"desktop": "làm giấy khai sinh cho con cần những gì", "phone": "đăng ký khai sinh cho con cần giấy tờ gì"}
REPLY = "Chào anh, anh mang giấy chứng sinh và CCCD của bố mẹ đến bộ phận Một cửa, sáng thứ Bảy vẫn nhận hồ sơ."


@contextlib.contextmanager
def screen(driver: WebDriver, width: str) -> Iterator[None]:
    """The browser at desktop width, or as a 390 px wide phone, until the block ends."""
    if width == "desktop":
        yield
        return
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def card_with(driver: WebDriver, words: str) -> WebElement | None:
    return next((c for c in driver.find_elements(By.CSS_SELECTOR, "#handoffs article.handoff") if words in c.text),
                None)  # fmt: skip


def fits(driver: WebDriver, element: WebElement) -> bool:
    """On screen without scrolling sideways: the page is no wider than the window, nor is the element."""
    width = int(driver.execute_script("return document.scrollingElement.clientWidth"))
    wider = int(driver.execute_script("const s = document.scrollingElement; return s.scrollWidth - s.clientWidth"))
    box = element.rect
    return wider == 0 and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.mark.parametrize(("width", "citizen"), [("desktop", 82101), ("phone", 82102)])
def test_a_handoff_answered_from_the_console_and_received_on_telegram(
    width: str, citizen: int, console: Console, stack, browser: WebDriver, emulator: BotApiEmulator,  # noqa: F811
    start_bridge: StartBridge,  # noqa: F811
) -> None:  # fmt: skip
    question = QUESTIONS[width]  # each its own: the card is found by it
    start_bridge(stack.rasa_url, ACTION_ADMIN_URL=stack.action_url, MOCUA_BOT_DB=console.env["MOCUA_BOT_DB"],
                 ADMIN_API_TOKEN=stack.secrets["ADMIN_API_TOKEN"])  # fmt: skip
    emulator.send_text(citizen, question)
    emulator.wait_quiet(citizen)
    emulator.send_text(citizen, "tôi muốn gặp cán bộ")
    request = emulator.wait_for_text(STAFF_CHAT, f"chat {citizen}", timeout=60)
    assert question in request["text"], "the group sees the question asked before asking for a person"
    emulator.wait_quiet(citizen)

    sign_in(browser, console, "lan")
    with screen(browser, width):
        browser.get(console.url + "/handoffs")
        card = card_with(browser, question)
        assert card, "the citizen's question is on the queue"
        assert "tôi muốn gặp cán bộ" in card.text and "Người dân:" in card.text and "Trợ lý:" in card.text
        assert "đang chờ cán bộ" in card.text
        take = card.find_element(By.CSS_SELECTOR, "button.take")
        assert fits(browser, take), "«Nhận» on screen, no sideways scrolling"
        submit(browser, take)
        assert "Bạn đã nhận yêu cầu" in flash(browser)
        emulator.wait_for_text(citizen, "Cán bộ Lan của Bộ phận Một cửa đã nhận yêu cầu của bạn", timeout=30)
        emulator.wait_for_text(STAFF_CHAT, "Lan đã nhận yêu cầu trên bảng điều khiển", timeout=30)

        card = card_with(browser, question)
        assert card and "lan đang phụ trách" in card.text
        box = card.find_element(By.CSS_SELECTOR, "textarea[name=text]")
        box.send_keys(REPLY)
        send = card.find_element(By.CSS_SELECTOR, "button.send")
        assert fits(browser, send) and fits(browser, card.find_element(By.CSS_SELECTOR, "button.done"))
        submit(browser, send)
        assert "Đã gửi câu trả lời" in flash(browser)
        answer = emulator.wait_for_text(citizen, "sáng thứ Bảy vẫn nhận hồ sơ", timeout=30)
        assert answer["text"] == "👩‍💼 Cán bộ Một cửa: " + REPLY, "the citizen receives the officer's words on Telegram"
        emulator.wait_for_text(STAFF_CHAT, "Lan trả lời từ bảng điều khiển", timeout=30)
        card = card_with(browser, question)
        assert card and "Cán bộ:" in card.text and "sáng thứ Bảy" in card.text, "the reply among the recent turns"
        if width == "desktop":
            screenshot(browser, "handoffs")
        else:  # the whole page, as tall as it is
            height = int(browser.execute_script("return document.documentElement.scrollHeight"))
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE | {"height": min(height, 4000)})
            browser.save_screenshot(str(screenshot_path("phone-handoffs")))
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)

        submit(browser, card.find_element(By.CSS_SELECTOR, "button.done"))
        assert "Cuộc trò chuyện với cán bộ đã kết thúc" in text_of(browser, "#confirm"), "what the citizen will read"
        assert not [m for m in emulator.sent(citizen) if "đã kết thúc" in m["text"]], "nothing before confirming"
        confirm = browser.find_element(By.ID, "confirm-button")
        assert fits(browser, confirm)
        submit(browser, confirm)
        assert "Đã kết thúc yêu cầu" in flash(browser)
        emulator.wait_for_text(citizen, "Cuộc trò chuyện với cán bộ đã kết thúc", timeout=30)
        emulator.wait_for_text(STAFF_CHAT, "Lan đã kết thúc hỗ trợ trên bảng điều khiển", timeout=30)
        card = card_with(browser, question)
        assert card and "đã xong (lan)" in card.text and not card.find_elements(By.CSS_SELECTOR, "textarea")

    relayed, told = len(emulator.sent(STAFF_CHAT)), len(emulator.sent(citizen))
    emulator.send_text(citizen, "lệ phí đăng ký khai sinh bao nhiêu")
    wait_for(lambda: len(emulator.sent(citizen)) > told, "the bot answering the citizen again", 60)
    emulator.wait_quiet(citizen)
    assert not [m for m in emulator.sent(STAFF_CHAT)[relayed:] if f"chat {citizen}" in m["text"]], \
        "after «Xong» the citizen talks to the bot, not to the staff group"  # fmt: skip

    if width == "desktop":  # the whole conversation, masked, from the handoff's card
        browser.get(console.url + "/handoffs")
        card = card_with(browser, question)
        assert card
        submit(browser, card.find_element(By.LINK_TEXT, "Xem toàn bộ hội thoại"))
        transcript = text_of(browser, "#transcript")
        assert question in transcript and "Người dân" in transcript and "Trợ lý" in transcript

    browser.get(console.url + "/audit")
    log = text_of(browser, "main")
    assert "Trả lời người dân" in log and "Kết thúc yêu cầu gặp cán bộ" in log and "Nhận yêu cầu gặp cán bộ" in log
