"""Staff find their way in the console in a real browser (headless Chromium), at desktop width and on a phone
(390 × 844, emulated as a mobile screen): a conversation found by its words, day and marker; every main page fits the
phone's width, with a header that leaves the screen to the work and a menu that opens on demand; chart labels are
drawn whole. Against the real console, Rasa and action servers (the conversations are the `citizens` fixture's)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

import journal
from console.dashboard import VIETNAM
from console.labels import intent_labels
from knowledge.index.published import current_version
from tests.console.support import UNKNOWN_WORDINGS, Console, csrf_of, screenshot, screenshot_path
from tests.console.test_browser import BHYT, sign_in, submit, text_of

pytestmark = pytest.mark.stack

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
MAIN_PAGES = ("/dashboard", "/unanswered", "/records", f"/records/{BHYT}", "/records/1.001193", "/catalog",
              "/conversations", "/handoffs", "/audit", "/publish", "/password")  # fmt: skip


@contextlib.contextmanager
def phone(driver: WebDriver) -> Iterator[None]:
    """The browser as a 390 px wide phone screen, until the block ends."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def phone_screenshot(driver: WebDriver, name: str) -> None:
    """The whole page on the phone as <name>.png in SCREENSHOTS."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    whole = PHONE | {"height": min(max(height, PHONE["height"]), 4000)}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", whole)
    try:
        driver.save_screenshot(str(screenshot_path(name)))
    finally:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)


def sideways_overflow(driver: WebDriver) -> int:
    """How many pixels the page would scroll sideways (0: it fits the screen's width)."""
    return int(driver.execute_script(
        "const s = document.scrollingElement; return s.scrollWidth - s.clientWidth;"))  # fmt: skip


def too_wide(driver: WebDriver) -> list[str]:
    """The innermost elements reaching past the screen's right edge: what to fix when a page scrolls sideways."""
    return list(driver.execute_script(
        "const w = document.scrollingElement.clientWidth;"
        "return [...document.querySelectorAll('main *, header *, nav *')]"
        ".filter(e => e.getBoundingClientRect().right > w + 1)"
        ".filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > w + 1))"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + (e.id || '') + ' ' + "
        "Math.round(e.getBoundingClientRect().right) + ' ' + (e.textContent || '').trim().slice(0, 60));"))  # fmt: skip


def header_height(driver: WebDriver) -> float:
    """Where the page's own content may start: below the header and the menu, when the menu is shown."""
    return float(driver.execute_script(
        "return Math.max(...[...document.querySelectorAll('header.top, nav.nav')]"
        ".map(e => e.getClientRects().length ? e.getBoundingClientRect().bottom : 0));"))  # fmt: skip


def today() -> dt.date:
    return dt.datetime.now(VIETNAM).date()


def search(driver: WebDriver, console: Console, words: str = "", day: str = "", marker: str = "") -> None:
    driver.get(console.url + "/conversations")
    driver.find_element(By.ID, "search-words").send_keys(words)
    driver.find_element(By.ID, "search-day").send_keys(day)
    if marker:
        Select(driver.find_element(By.ID, "search-marker")).select_by_value(marker)
    submit(driver, driver.find_element(By.ID, "search-button"))


def row_of(driver: WebDriver, key: str) -> str | None:
    for row in driver.find_elements(By.CSS_SELECTOR, "#conversations tbody tr"):
        if row.find_elements(By.CSS_SELECTOR, f'a[href="/conversations/{key}"]'):
            return str(row.text)
    return None


def test_a_conversation_is_found_by_search_at_desktop_and_phone_width(console, citizens, browser) -> None:
    lost, happy = journal.hash_sender(citizens["lost"]) or "", journal.hash_sender(citizens["happy"]) or ""
    sign_in(browser, console, "lan")
    for width in ("desktop", "phone"):
        with phone(browser) if width == "phone" else contextlib.nullcontext():
            # the words typed without diacritics, as staff often do; only conversations handed to a person
            search(browser, console, "chao doi", today().strftime("%d/%m/%Y"), "handoff")
            found = row_of(browser, lost)
            assert found, f"{width}: the conversation is not in {text_of(browser, 'main')[:800]}"
            assert found.startswith(UNKNOWN_WORDINGS[0]), "its first question"
            assert "Nhờ gặp cán bộ" in found and "Chưa trả lời được" in found
            assert row_of(browser, happy) is None, "a conversation without those words or a handoff is left out"
            assert sideways_overflow(browser) == 0, width
            if width == "desktop":
                screenshot(browser, "conversations")
            search(browser, console, "chao doi", (today() - dt.timedelta(days=1)).strftime("%d/%m/%Y"))
            assert row_of(browser, lost) is None, "another day: not found"
            search(browser, console, "chao doi", today().strftime("%d/%m/%Y"))
            browser.find_element(By.CSS_SELECTOR, f'a[href="/conversations/{lost}"]').click()
            transcript = text_of(browser, "#transcript")
            assert UNKNOWN_WORDINGS[1] in transcript
            assert any(f"· {label}" in transcript for label in intent_labels().values()), "what NLU read, in words"
            assert "nlu_fallback" not in transcript and "ý định" not in transcript, "no intent codes"


def test_every_main_page_fits_a_phone_screen_with_a_small_header(console, citizens, browser) -> None:
    lost = journal.hash_sender(citizens["lost"]) or ""
    with phone(browser):
        browser.delete_all_cookies()
        browser.get(console.url + "/")
        assert sideways_overflow(browser) == 0, "the sign-in page"
        sign_in(browser, console, "lan")
        for path in (*MAIN_PAGES, f"/conversations/{lost}"):
            browser.get(console.url + path)
            assert sideways_overflow(browser) == 0, f"{path} scrolls sideways: {too_wide(browser)}"
            assert header_height(browser) <= 0.1 * PHONE["height"], f"{path}: the header takes too much of the screen"
            if path == "/unanswered":
                phone_screenshot(browser, "phone-unanswered")
        assert not browser.find_element(By.CSS_SELECTOR, "nav.nav").is_displayed(), "the menu waits to be opened"
        browser.find_element(By.ID, "menu-button").click()
        menu = browser.find_element(By.CSS_SELECTOR, "nav.nav")
        assert menu.is_displayed() and sideways_overflow(browser) == 0
        assert browser.find_element(By.CSS_SELECTOR, "header .who").is_displayed(), "sign-out is in the menu too"
        submit(browser, menu.find_element(By.LINK_TEXT, "Hội thoại"))
        assert browser.current_url.endswith("/conversations")


def test_chart_labels_are_drawn_whole_inside_their_charts(console, citizens, browser) -> None:
    sign_in(browser, console, "lan")
    for width in ("desktop", "phone"):
        with phone(browser) if width == "phone" else contextlib.nullcontext():
            browser.get(console.url + "/dashboard")
            # each row label's left edge, relative to its chart (negative: cut by the chart's left edge)
            lefts = browser.execute_script(
                "return [...document.querySelectorAll('svg.chart text.rowlabel')].map(t => t.getBBox().x);")
            assert lefts and min(lefts) >= 0, f"{width}: {lefts}"


def test_the_publish_page_reads_in_words_on_a_phone_with_the_technical_details_folded(console, browser) -> None:
    """A publication asked for by «lan», seen at 390 px: who asked, how long, the result in words; the version code
    only once «Chi tiết kỹ thuật» is opened, and the page never scrolls sideways, open or not."""
    client = console.client("lan")
    try:
        client.post("/publish", data={"csrf": csrf_of(client, "/publish"), "confirmed": "yes"})
        console.wait_for_builds(client)
    finally:
        client.close()
    serving = current_version(console.knowledge.index_dir)
    assert serving is not None
    sign_in(browser, console, "lan")
    with phone(browser):
        browser.get(console.url + "/publish")
        newest = browser.find_element(By.CSS_SELECTOR, "#builds .publication")
        seen = str(newest.text)
        assert "Xuất bản theo yêu cầu của lan" in seen and re.search(r"mất \d+,\d giây", seen), seen
        assert serving.name not in text_of(browser, "main"), "no version code in the main view"
        assert sideways_overflow(browser) == 0, too_wide(browser)
        newest.find_element(By.CSS_SELECTOR, "details.technical summary").click()
        assert serving.name in newest.text, "the technician finds it under «Chi tiết kỹ thuật»"
        assert sideways_overflow(browser) == 0, f"the build's log wraps: {too_wide(browser)}"
