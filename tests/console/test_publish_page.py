"""The publish page as an officer reads it: each publication with when, who asked for what, how long it took in words,
its result in words and what citizens are told anew; a build the knowledge linter stopped names the file and line
and says the bot keeps answering from the previous version. The version code and the build's log are only in
«Chi tiết kỹ thuật» (collapsed). Real index builds in this process (console.builds.Builder) on a small knowledge
copy; the app in-process (TestClient)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from console import records
from console.builds import Builder
from console.config import Settings
from console.labels import field_label, intent_labels
from console.publications import publication
from knowledge.index.worker import BuildRun
from knowledge.records.loader import KNOWLEDGE_ROOT, Problem
from tests.console.support import app_client, csrf_of
from tests.console.test_console_units import save_confirmed

RECORD = "bao-hiem-the-bhyt-ho-gia-dinh"
NEW_FEE = "Người thứ nhất đóng 126.360 đồng/tháng."


class _Visible(HTMLParser):
    """The text a reader sees: a collapsed <details> shows its <summary> only; no head, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0  # inside something not shown
        self.summary = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("head", "script", "style") or (tag == "details" and "open" not in dict(attrs)):
            self.hidden += 1
        elif tag == "summary":
            self.summary = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "script", "style", "details") and self.hidden:
            self.hidden -= 1
        elif tag == "summary":
            self.summary = False

    def handle_data(self, data: str) -> None:
        if not self.hidden or (self.summary and self.hidden == 1):
            self.parts.append(data)


def visible_text(page: str) -> str:
    reader = _Visible()
    reader.feed(page)
    return re.sub(r"\s+", " ", " ".join(reader.parts))


def building_client(settings: Settings) -> tuple[TestClient, Builder]:
    """The console in-process, publishing with real index builds."""
    client, app = app_client(settings)
    app.state.builder = Builder(settings)
    return client, app.state.builder


def edit_fee(client: TestClient, settings: Settings, fee: str) -> None:
    path = settings.procedures_dir / f"{RECORD}.yml"
    form = records.form_values(yaml.safe_load(path.read_text(encoding="utf-8"))) | {"fee": fee}
    version = re.search(r'name="version" value="([^"]+)"', client.get(f"/records/{RECORD}").text)
    assert version
    fields = {**form, "csrf": csrf_of(client, "/dashboard"), "version": version.group(1), "action": "save"}
    assert save_confirmed(client, f"/records/{RECORD}", fields).status_code == 303


def latest_publication(page: str) -> str:
    """The newest entry of «Các lần xuất bản gần đây», as seen."""
    entries = page.split('<li class="publication', 2)
    assert len(entries) > 1, "no publication listed"
    return visible_text('<li class="publication' + entries[1])


def test_an_edit_is_listed_in_words_and_a_broken_record_names_its_line_and_keeps_the_previous_version(
    settings: Settings,
) -> None:
    client, builder = building_client(settings)
    name = records.titles(settings)[RECORD]
    edit_fee(client, settings, NEW_FEE)
    builder.wait()
    page = client.get("/publish").text
    seen, serving = visible_text(page), builder.index_version
    assert serving and serving not in seen, "the version code is not in the main view"
    assert serving in page.split("Chi tiết kỹ thuật", 1)[1], "but the technician finds it under «Chi tiết kỹ thuật»"
    newest = latest_publication(page)
    fee = field_label("fee")
    assert f"Sửa {fee[0].lower()}{fee[1:]}" in newest and f"của thủ tục «{name}» (lan)" in newest, newest
    assert re.search(r"mất \d+,\d giây", newest), f"the duration in words, with a decimal comma: {newest}"
    assert "Đã xuất bản" in newest and f"«{name}»: {fee}" in newest, "what citizens are told anew"
    assert "published " not in seen and "embedded" not in seen, "the build's log stays for the technician"

    # A technician's hand edit breaks the record; a rebuild on demand is refused by the linter
    path = settings.procedures_dir / f"{RECORD}.yml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line_no = next(n for n, text in enumerate(lines, 1) if text.startswith("last_reviewed:"))
    lines[line_no - 1] = "last_reviewed: hôm qua\n"
    path.write_text("".join(lines), encoding="utf-8")
    asked = client.post("/publish", data={"csrf": csrf_of(client, "/publish"), "confirmed": "yes"})
    assert asked.status_code == 303
    builder.wait()
    failed = latest_publication(client.get("/publish").text)
    where = f"Lỗi: thủ tục «{name}», tệp procedures/{RECORD}.yml, dòng {line_no} — Ngày rà soát:"
    assert where in failed, failed
    assert "vẫn dùng bản trước" in failed and builder.index_version == serving
    assert "Xuất bản theo yêu cầu của lan" in failed


def test_the_preview_names_the_question_as_the_labels_file_does(settings: Settings) -> None:
    """The editor's kinds of question and what the preview read come from console/intent_labels.yml."""
    client, builder = building_client(settings)
    builder.request("chuẩn bị chỉ mục cho bản xem trước")
    builder.wait()
    labels = intent_labels()
    page = client.get(f"/records/{RECORD}").text
    options = re.findall(r'<option value="(\w+)"[^>]*>Loại câu hỏi: ([^<]+)</option>', page)
    assert ("fee", labels["ask_fee"]) in options and ("documents", labels["ask_documents"]) in options, options
    path = settings.procedures_dir / f"{RECORD}.yml"
    form = records.form_values(yaml.safe_load(path.read_text(encoding="utf-8")))
    fields = {**form, "csrf": csrf_of(client, "/dashboard"), "action": "preview", "question": "đóng bao nhiêu tiền",
              "aspect": "fee"}  # fmt: skip
    shown = client.post(f"/records/{RECORD}", data=fields).text
    reading = re.search(r'id="preview-reading">(.*?)</p>', shown, re.S)
    assert reading, shown
    assert f"Trợ lý hiểu câu hỏi là: {labels['ask_fee']} (bạn chọn)" in visible_text(reading.group(1))


def test_a_build_stopped_by_the_system_or_still_running_is_told_in_words() -> None:
    broken = BuildRun("Áp dụng đồng bộ danh mục ngày 27/11/2026 (lan)", "2026-11-27T03:05:00+00:00",
                      finished="2026-11-27T03:05:02+00:00", status="failed", seconds=1.25,
                      lines=["RuntimeError('disk full')"], version="20261126T010203000001-abcdef012345")  # fmt: skip
    told = publication(broken, {}, KNOWLEDGE_ROOT)
    assert told.when == "27/11/2026 10:05" and told.took == "1,2 giây"
    assert told.result.startswith("Lỗi: ") and "kỹ thuật viên" in told.result and "disk full" not in told.result
    assert "vẫn dùng bản trước (xuất bản lúc 26/11/2026 08:02)" in told.kept
    two = BuildRun("Sửa (lan)", "2026-11-27T03:05:00+00:00", finished="2026-11-27T03:05:01+00:00", status="failed",
                   problems=(Problem(Path("knowledge/data/procedures/a.yml"), 3, "fee", "«x» sai"),
                             Problem(Path("knowledge/data/guides/b.yml"), 9, "title", "thiếu tiêu đề")))  # fmt: skip
    listed = publication(two, {"a": "Thủ tục A"}, KNOWLEDGE_ROOT)
    assert listed.result == "Lỗi: 2 lỗi trong nội dung"
    assert [p.split(" — ")[0] for p in listed.problems] == ["thủ tục «Thủ tục A», tệp procedures/a.yml, dòng 3",
                                                            "tệp guides/b.yml, dòng 9"]  # fmt: skip
    running = publication(BuildRun("Sửa (lan)", "2026-11-27T03:05:00+00:00", step="Đọc kho tri thức"), {},
                          KNOWLEDGE_ROOT)  # fmt: skip
    assert (running.state, running.result, running.step, running.took) == ("running", "Đang xuất bản…",
                                                                           "Đọc kho tri thức", "")  # fmt: skip
