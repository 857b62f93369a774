"""Staff work in the console in a real browser (headless Chromium), against the real console, Rasa and action servers.

Each change is published by a real index build and checked the way a citizen meets it: a question over the REST
channel. Every test puts the knowledge back as it found it (through the console's own revert where that is the
point, directly otherwise), so the other suites see the shipped knowledge.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
import yaml
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

import journal
from knowledge import clock
from tests.console.support import MARKUP_GROUP, PASSWORDS, UNKNOWN_WORDINGS, Console, screenshot
from tests.helpers import reply_text

pytestmark = pytest.mark.stack

BHYT = "bao-hiem-the-bhyt-ho-gia-dinh"
FEE_QUESTION = "mua BHYT cho cả gia đình hết bao nhiêu tiền"
OLD_FEE_AMOUNT = "113.850 đồng"
NEW_FEE = "Năm 2027: người thứ nhất đóng 121.440 đồng/tháng; người thứ hai, ba, tư lần lượt 70%, 60%, 50% mức đó."
NEW_FEE_AMOUNT = "121.440 đồng"
BIRTH_ANSWER = "📄 Đăng ký khai sinh (mã 1.001193)"


def sign_in(driver: WebDriver, console: Console, username: str) -> None:
    driver.get(console.url + "/")
    driver.delete_all_cookies()
    driver.get(console.url + "/")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[username])
    submit(driver, driver.find_element(By.ID, "sign-in"))
    wait_for(lambda: driver.current_url.endswith("/dashboard"), "the dashboard after signing in")


def wait_for(check: Callable[[], object], what: str, seconds: float = 120.0) -> object:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def text_of(driver: WebDriver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text.strip()


def submit(driver: WebDriver, button: WebElement) -> None:
    """Press a form's button and wait until the page it leads to has loaded (never read the old one by mistake)."""
    before = driver.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(driver, 180).until(lambda _: gone(before))
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")


def gone(element: WebElement) -> bool:
    """The element's page was left. Chromium sometimes says so, while the next page loads, with "Node with given id
    does not belong to the document" instead of a stale element (seen once on CI)."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


def flash(driver: WebDriver) -> str:
    """The messages the page shows after a form was sent."""
    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, "main p.flash, #refused"))


def group_with(driver: WebDriver, wording: str) -> WebElement:
    """The group of unanswered questions holding this wording, on whichever page it is (20 groups a page)."""
    while True:
        for section in driver.find_elements(By.CSS_SELECTOR, "section.gap"):
            if wording in section.find_element(By.CSS_SELECTOR, "ul.members").text:
                return section
        later = driver.find_elements(By.PARTIAL_LINK_TEXT, "Hỏi ít hơn")
        if not later:
            raise AssertionError(f"no group of unanswered questions holds «{wording}»")
        submit(driver, later[0])


def handle(group: WebElement) -> WebElement:
    """Open a group's forms («Xử lý…»: they are shown on demand, not under every group)."""
    assert not group.find_element(By.NAME, "wording").is_displayed()
    group.find_element(By.CSS_SELECTOR, "details.handle summary").click()
    return group


def send_wording(driver: WebDriver, group: WebElement, wording: str, procedure: str, as_dev: bool = False) -> None:
    """Fill an opened group's form (this wording for this procedure: a name for it, or with `as_dev` a dev question)
    and send it."""
    field = group.find_element(By.NAME, "wording")
    field.clear()
    field.send_keys(wording)
    Select(group.find_element(By.NAME, "procedure")).select_by_value(procedure)
    if as_dev:
        group.find_element(By.CSS_SELECTOR, "input[name=as][value=dev]").click()
    submit(driver, group.find_element(By.CSS_SELECTOR, "button.primary"))


def bot_answer(say: Callable[..., list[dict]], question: str, expected: str, seconds: float = 120.0) -> str:
    """What a new citizen gets, asked again until it holds `expected` (the action server reloads the index)."""
    answers: list[str] = []

    def ask() -> bool:
        answers.append(reply_text(say(question, sender=f"console-{uuid.uuid4().hex[:8]}")))
        return expected in answers[-1]

    wait_for(ask, f"the bot to answer «{question}» with «{expected}»; last: {answers[-1:]}", seconds)
    return answers[-1]


def revert_from_audit(console: Console, action: str, target: str) -> None:
    """Cleanup through the console: revert the latest change of this kind, if still in force."""
    client = console.client("lan")
    try:
        page = client.get("/audit").text
        for row in page.split('<tr id="audit-')[1:]:
            entry_id = row.split('"', 1)[0]
            if action in row and target in row and 'class="secondary small revert"' in row:
                token = row.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                client.post(f"/audit/{entry_id}/revert", data={"csrf": token, "confirmed": "yes"})
                break
        console.wait_for_builds(client)
    finally:
        client.close()


# ---------------------------------------------------------------- dashboard


def test_signing_in_shows_the_dashboard_with_the_journal_numbers(console, citizens, journal_env, browser) -> None:
    sign_in(browser, console, "lan")
    stats = journal.stats()
    assert text_of(browser, "#total-questions") == str(stats["answered"] + stats["unanswered"])
    assert text_of(browser, "#answered-share") == f"{stats['answered_share'] * 100:.0f} %"
    votes = stats["feedback_up"] + stats["feedback_down"]
    assert stats["feedback_down"] >= 1 and stats["feedback_up"] >= 2
    assert text_of(browser, "#up-share") == f"{stats['feedback_up'] / votes * 100:.0f} %"
    waiting, handled = int(text_of(browser, "#handoffs-waiting")), int(text_of(browser, "#handoffs-handled"))
    assert waiting + handled == stats["handoffs"] >= 1
    # the charts are drawn on the server as SVG, and their numbers are in tables too
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 4
    assert "Đăng ký khai sinh" in text_of(browser, "#top-procedures")
    assert UNKNOWN_WORDINGS[0] in text_of(browser, "#top-gaps")
    browser.find_element(By.CSS_SELECTOR, "details summary").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#per-day tbody tr")
    assert len(rows) == 14
    today = [cell.text for cell in rows[-1].find_elements(By.TAG_NAME, "td")]
    assert int(today[1]) + int(today[2]) >= len(UNKNOWN_WORDINGS) + 3
    screenshot(browser, "dashboard")


# ---------------------------------------------------------------- unanswered questions


def test_an_unanswered_question_attached_to_a_procedure_is_answered_by_the_bot(console, citizens, browser,
                                                                               say) -> None:  # fmt: skip
    record = console.record_file("ho-tich-khai-sinh")
    original = record.read_text(encoding="utf-8")
    sign_in(browser, console, "lan")
    browser.get(console.url + "/unanswered")
    group = group_with(browser, UNKNOWN_WORDINGS[0])
    assert UNKNOWN_WORDINGS[1] in group.text  # two wordings of one need, one group
    assert group.find_element(By.CSS_SELECTOR, ".count").text == "3"
    screenshot(browser, "unanswered")
    assert BIRTH_ANSWER not in reply_text(say(UNKNOWN_WORDINGS[0]))
    try:
        send_wording(browser, handle(group), UNKNOWN_WORDINGS[0], "ho-tich-khai-sinh")
        assert "Đã thêm tên gọi" in flash(browser)
        assert UNKNOWN_WORDINGS[0] in yaml.safe_load(record.read_text(encoding="utf-8"))["aliases"]
        # dealt with: the group leaves the list (asks after this moment would bring it back)
        assert UNKNOWN_WORDINGS[1] not in browser.find_element(By.TAG_NAME, "main").text
        assert bot_answer(say, UNKNOWN_WORDINGS[0], BIRTH_ANSWER).startswith(BIRTH_ANSWER)
    finally:
        revert_from_audit(console, "Thêm tên gọi", "ho-tich-khai-sinh")
    assert record.read_text(encoding="utf-8") == original


def test_an_alias_copying_a_frozen_test_question_is_refused_with_the_linter_message(console, citizens,
                                                                                   browser) -> None:  # fmt: skip
    from knowledge.tools.records.lint import load_test_questions

    frozen = next(q for q in load_test_questions() if "*" not in q and 3 <= len(q) <= 200)
    record = console.record_file("ho-tich-khai-sinh")
    original = record.read_text(encoding="utf-8")
    sign_in(browser, console, "lan")
    browser.get(console.url + "/unanswered")
    send_wording(browser, handle(group_with(browser, MARKUP_GROUP)), frozen, "ho-tich-khai-sinh")
    message = flash(browser)
    assert "Chưa thêm tên gọi" in message and "gần như chép lại câu hỏi kiểm tra" in message
    assert record.read_text(encoding="utf-8") == original


def test_an_unanswered_question_becomes_a_dev_question_and_never_a_test_one(console, citizens, browser) -> None:
    from knowledge.search.metrics import load_questions
    from knowledge.tools.records.lint import load_test_questions

    before = console.dev_questions.read_text(encoding="utf-8")
    sign_in(browser, console, "lan")
    for wording, expected in ((next(iter(load_test_questions())), "bộ câu hỏi kiểm tra, bộ đó được giữ cố định"),
                              ("xin giấy chào đời cho bé gái", "Đã thêm")):  # fmt: skip
        browser.get(console.url + "/unanswered")
        send_wording(browser, handle(group_with(browser, MARKUP_GROUP)), wording, "ho-tich-khai-sinh", as_dev=True)
        assert expected in flash(browser)
    try:
        rows = load_questions(console.dev_questions)
        added = [r for r in rows if r["q"] == "xin giấy chào đời cho bé gái"]
        assert added and added[0]["expect"] == "ho-tich-khai-sinh" and added[0]["by"].startswith("lan ")
    finally:
        revert_from_audit(console, "Thêm câu hỏi mẫu", "ho-tich-khai-sinh")
    assert console.dev_questions.read_text(encoding="utf-8") == before


# ---------------------------------------------------------------- the knowledge editor


def test_a_fee_edited_is_previewed_then_published_answered_and_reverted(console, browser, say) -> None:
    record = console.record_file(BHYT)
    original = record.read_text(encoding="utf-8")
    assert OLD_FEE_AMOUNT in reply_text(say(FEE_QUESTION))
    sign_in(browser, console, "lan")
    browser.get(f"{console.url}/records/{BHYT}")
    fee = browser.find_element(By.ID, "in-fee")
    fee.clear()
    fee.send_keys(NEW_FEE)
    browser.find_element(By.ID, "preview-question").send_keys(FEE_QUESTION)
    submit(browser, browser.find_element(By.ID, "preview-button"))
    preview = text_of(browser, "#preview-result")
    assert NEW_FEE_AMOUNT in preview and "Đăng ký, gia hạn bảo hiểm y tế theo hộ gia đình" in preview
    assert "lệ phí" in text_of(browser, "#preview-reading") and "ask_fee" not in preview  # what Rasa read, in words
    assert browser.find_elements(By.CSS_SELECTOR, "#preview-telegram .kb-button")  # as on Telegram, with its buttons
    assert record.read_text(encoding="utf-8") == original  # a preview writes nothing
    screenshot(browser, "editor")
    try:
        submit(browser, browser.find_element(By.ID, "save-button"))
        confirm = text_of(browser, "#confirm")  # asked first: what citizens are told, before and after
        assert "Phí, lệ phí" in confirm and "Trước: «Mức đóng theo tháng" in confirm and f"Sau: «{NEW_FEE}»" in confirm
        assert record.read_text(encoding="utf-8") == original
        submit(browser, browser.find_element(By.ID, "confirm-button"))
        assert "Đã lưu" in flash(browser)
        assert NEW_FEE in record.read_text(encoding="utf-8")
        assert yaml.safe_load(record.read_text(encoding="utf-8"))["last_reviewed"] == clock.today()  # reviewed today
        assert NEW_FEE_AMOUNT in bot_answer(say, FEE_QUESTION, NEW_FEE_AMOUNT)
        browser.get(console.url + "/audit")
        rows = browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")
        assert rows, f"no change on the audit page: {browser.current_url} {text_of(browser, 'body')[:500]}"
        row = rows[0]
        assert "Sửa thủ tục «Đăng ký, gia hạn bảo hiểm y tế theo hộ gia đình»" in row.text and "lan" in row.text
        assert "Phí, lệ phí" in row.text and "fee:" not in row.text  # the field as the editor names it
        assert "trước: «Mức đóng theo tháng" in row.text and "sau: «Năm 2027" in row.text
        screenshot(browser, "audit")
        submit(browser, row.find_element(By.CSS_SELECTOR, "button.revert"))
        assert "sẽ trở lại: «Mức đóng theo tháng" in text_of(browser, "#confirm")  # asked first, the way back shown
        assert record.read_text(encoding="utf-8") != original
        submit(browser, browser.find_element(By.ID, "confirm-button"))
        assert "Đã hoàn tác" in flash(browser)
        assert record.read_text(encoding="utf-8") == original
        assert "Hoàn tác" in browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")[0].text
        assert OLD_FEE_AMOUNT in bot_answer(say, FEE_QUESTION, OLD_FEE_AMOUNT)
    finally:
        if record.read_text(encoding="utf-8") != original:
            record.write_text(original, encoding="utf-8")
            console.knowledge.rebuild()


def test_an_invalid_edit_is_refused_with_the_error_beside_its_field(console, browser) -> None:
    record = console.record_file(BHYT)
    original = record.read_text(encoding="utf-8")
    sign_in(browser, console, "lan")
    browser.get(f"{console.url}/records/{BHYT}")
    browser.find_element(By.ID, "in-fee").clear()  # a record with no official code must state its fee
    submit(browser, browser.find_element(By.ID, "save-button"))
    assert "Chưa lưu" in text_of(browser, "#refused")
    issue = text_of(browser, "#field-fee .issue.error")
    assert "thiếu trường bắt buộc" in issue
    assert record.read_text(encoding="utf-8") == original


# ---------------------------------------------------------------- conversations and handoffs


# A handoff taken, answered and finished in the console, received on Telegram: tests/console/test_browser_handoffs.py
# (requests for a person made on Telegram are the queue; the bridge's store holds their state).


def test_the_conversations_are_listed(console, citizens, browser) -> None:
    sign_in(browser, console, "lan")
    browser.get(console.url + "/conversations")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#conversations tbody tr")) >= len(citizens)
