"""The console speaks to staff in plain Vietnamese and asks before a change to what citizens are told: no commands,
file names or codes on the pages; the audit log names each field and says which text was before and which after;
revert, out of scope, rebuild and a catalogue sync each ask for a confirmation first. The app in-process, on a small
copy of the knowledge."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path

import yaml

from console import audit, labels, records, svg
from console.config import ROOT, Settings
from console.db import engine
from tests.console.support import app_client, csrf_of

BHYT = "bao-hiem-the-bhyt-ho-gia-dinh"
NEW_FEE = "Người thứ nhất đóng 121.440 đồng/tháng."


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_every_intent_has_a_plain_vietnamese_label_in_one_place() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    named = labels.intent_labels()
    assert set(domain["intents"]) | {"nlu_fallback"} <= set(named)
    assert labels.intent_label("ask_fee") == "hỏi lệ phí"
    assert labels.intent_label("nlu_fallback") == "bot chưa hiểu"
    assert labels.intent_label("out_of_scope") == "ngoài phạm vi"
    assert all("_" not in label for label in named.values())


def test_no_command_or_file_name_on_the_sign_in_and_sync_pages(settings: Settings) -> None:
    client, _ = app_client(settings)
    assert "make " not in client.get("/catalog").text and "quản trị viên" in client.get("/catalog").text
    client.post("/logout", data={"csrf": csrf_of(client, "/dashboard")})
    sign_in = client.get("/").text
    assert "make staff-add" not in sign_in and "liên hệ quản trị viên" in sign_in
    client.close()


def _save_fee(settings: Settings, fee: str) -> None:
    """A fee edit as the editor's save logs it (console.routes.records, record save)."""
    path = settings.procedures_dir / f"{BHYT}.yml"
    original = path.read_text(encoding="utf-8")
    text = records.apply_form(original, records.form_values(yaml.safe_load(original)) | {"fee": fee})
    records.write_text(path, text)
    audit.log_file_change(engine(settings.db_url), settings, "lan", "record.edit", BHYT,
                          f"Sửa thủ tục {BHYT}: fee: «…» → «{fee}»", path, original, text)  # fmt: skip


def test_the_audit_log_names_fields_and_says_before_and_after_and_a_revert_asks_first(settings: Settings) -> None:
    client, app = app_client(settings)
    path = settings.procedures_dir / f"{BHYT}.yml"
    original = path.read_text(encoding="utf-8")
    old_fee = yaml.safe_load(original)["fee"]
    _save_fee(settings, NEW_FEE)
    page = client.get("/audit").text
    row = text_of(page.split('<tr id="audit-', 1)[1].split("</tr>", 1)[0])
    assert "Phí, lệ phí" in row and "fee:" not in row, "the field by its name in the editor, not its code"
    assert f"trước: «{old_fee[:40]}" in row and f"sau: «{NEW_FEE}»" in row
    assert "Sửa thủ tục «Đăng ký, gia hạn bảo hiểm y tế theo hộ gia đình" in row  # its name, not its file name
    assert "@@" not in page and "+fee" not in page, "no raw file difference"
    entry_id = audit.entries(engine(settings.db_url))[0].id

    asked = client.post(f"/audit/{entry_id}/revert", data={"csrf": csrf_of(client, "/audit")})
    shown = text_of(asked.text)
    assert asked.status_code == 200 and f"Hoàn tác thay đổi #{entry_id}?" in shown
    assert f"đang là: «{NEW_FEE}»" in shown and f"sẽ trở lại: «{old_fee[:40]}" in shown
    assert path.read_text(encoding="utf-8") != original, "nothing reverted before it is confirmed"
    assert 'name="confirmed" value="yes"' in asked.text and 'href="/audit"' in asked.text  # confirm, or go back

    done = client.post(f"/audit/{entry_id}/revert", data={"csrf": csrf_of(client, "/audit"), "confirmed": "yes"})
    assert done.status_code == 303 and path.read_text(encoding="utf-8") == original
    revert_row = text_of(client.get("/audit").text.split('<tr id="audit-', 1)[1].split("</tr>", 1)[0])
    assert f"Hoàn tác thay đổi #{entry_id}: trả lại nội dung như trước thay đổi đó" in revert_row
    assert f"trước: «{NEW_FEE}»" in revert_row and f"sau: «{old_fee[:40]}" in revert_row, "the revert's own direction"
    client.close()


def test_marking_out_of_scope_and_rebuilding_ask_first(settings: Settings, tmp_path: Path, monkeypatch) -> None:
    import journal
    import journal.store

    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    monkeypatch.delenv("MOCUA_JOURNAL_URL", raising=False)
    for _ in range(2):
        journal.record("unanswered", sender="c1", question="giá vàng hôm nay bao nhiêu", intent="out_of_scope")
    client, app = app_client(settings)
    try:
        page = client.get("/unanswered").text
        assert "câu hỏi dev" not in page and "bộ câu hỏi mẫu" in page
        assert re.search(r'<details class="handle">\s*<summary>Xử lý…</summary>\s*<form method="post" '
                         r'action="/unanswered/attach"', page), "the forms open on demand"  # fmt: skip
        group = re.search(r'name="group" value="([0-9a-f]+)"', page)
        assert group
        asked = client.post("/unanswered/out-of-scope", data={"csrf": csrf_of(client, "/unanswered"),
                                                             "group": group.group(1)})  # fmt: skip
        assert asked.status_code == 200 and "Đánh dấu ngoài phạm vi?" in asked.text and "2 lượt hỏi" in asked.text
        assert 'class="card gap"' in client.get("/unanswered").text, "not marked before it is confirmed"
        client.post("/unanswered/out-of-scope", data={"csrf": csrf_of(client, "/unanswered"), "group": group.group(1),
                                                      "confirmed": "yes"})  # fmt: skip
        assert 'class="card gap"' not in client.get("/unanswered").text

        asked = client.post("/publish", data={"csrf": csrf_of(client, "/publish")})
        assert asked.status_code == 200 and "Dựng lại và xuất bản chỉ mục ngay?" in asked.text
        assert app.state.builder.reasons == []
        client.post("/publish", data={"csrf": csrf_of(client, "/publish"), "confirmed": "yes"})
        assert len(app.state.builder.reasons) == 1
    finally:
        client.close()
        journal.store.dispose()


def test_a_long_chart_label_stays_inside_the_chart() -> None:
    name = "Đăng ký, gia hạn bảo hiểm y tế theo hộ gia đình cho người tham gia lần đầu"
    chart = ET.fromstring(str(svg.horizontal_bars("Nhiều nhất", [(name, 5), ("khai sinh", 2)])))
    ns = "{http://www.w3.org/2000/svg}"
    label = chart.find(f"{ns}text")
    assert label is not None and label.find(f"{ns}title").text == name  # type: ignore[union-attr]
    lines = [span.text or "" for span in label.findall(f"{ns}tspan")]
    assert lines[0].startswith("Đăng ký, gia hạn") and len(lines) == 2
    right_edge = float(label.findall(f"{ns}tspan")[0].get("x", 0))
    assert all(len(line) * svg.CHAR_WIDTH <= right_edge - 4 for line in lines), "every line fits left of the bars"


def test_the_unanswered_groups_come_a_page_at_a_time_most_asked_first(settings: Settings, tmp_path: Path,
                                                                       monkeypatch) -> None:  # fmt: skip
    import journal
    import journal.store

    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    monkeypatch.delenv("MOCUA_JOURNAL_URL", raising=False)
    monkeypatch.setattr("console.routes.unanswered.GROUPS_PER_PAGE", 1)
    for question, times in (("giá vàng hôm nay bao nhiêu", 3), ("thời tiết ngày mai thế nào", 1)):
        for _ in range(times):
            journal.record("unanswered", sender="c1", question=question)
    client, _ = app_client(settings)
    try:
        first, second = (text_of(client.get("/unanswered", params={"page_no": n}).text) for n in (1, 2))
        assert "2 nhóm câu hỏi, 4 lượt hỏi · trang 1/2" in first and "Hỏi ít hơn →" in first
        assert "giá vàng hôm nay" in first and "thời tiết ngày mai" not in first
        assert "thời tiết ngày mai" in second and "giá vàng hôm nay" not in second and "← Hỏi nhiều hơn" in second
        assert "thời tiết ngày mai" in text_of(client.get("/unanswered", params={"page_no": 9}).text), "the last page"
    finally:
        client.close()
        journal.store.dispose()


def test_an_alias_added_is_reported_with_the_procedures_name(settings: Settings, tmp_path: Path, monkeypatch) -> None:
    import journal
    import journal.store

    monkeypatch.setenv("MOCUA_JOURNAL_DB", str(tmp_path / "journal.db"))
    monkeypatch.delenv("MOCUA_JOURNAL_URL", raising=False)
    journal.record("unanswered", sender="c1", question="xin giấy chào đời cho con")
    client, _ = app_client(settings)
    try:
        group = re.search(r'name="group" value="([0-9a-f]+)"', client.get("/unanswered").text)
        assert group
        form = {"csrf": csrf_of(client, "/unanswered"), "group": group.group(1), "wording": "xin giấy chào đời cho con",
                "procedure": "ho-tich-khai-sinh", "as": "alias"}  # fmt: skip
        assert client.post("/unanswered/attach", data=form).status_code == 303
        shown = text_of(client.get("/unanswered").text)
        assert "Đã thêm tên gọi «xin giấy chào đời cho con» vào «Đăng ký khai sinh»" in shown, shown[:600]
    finally:
        client.close()
        journal.store.dispose()


def test_a_list_change_shows_the_items_added_and_a_date_is_written_dd_mm_yyyy(settings: Settings) -> None:
    path = settings.procedures_dir / "ho-tich-khai-sinh.yml"
    original = path.read_text(encoding="utf-8")
    text = records.with_alias(original, "xin giấy chào đời cho con")
    text = re.sub(r"(?m)^last_reviewed: .*$", "last_reviewed: 2026-12-01", text)
    records.write_text(path, text)
    audit.log_file_change(engine(settings.db_url), settings, "lan", "alias.add", "ho-tich-khai-sinh",
                          "Thêm tên gọi «xin giấy chào đời cho con» vào thủ tục ho-tich-khai-sinh", path, original,
                          text)  # fmt: skip
    client, _ = app_client(settings)
    row = text_of(client.get("/audit").text.split('<tr id="audit-', 1)[1].split("</tr>", 1)[0])
    assert "Tên gọi người dân hay dùng thêm: «xin giấy chào đời cho con»" in row, row
    assert "Ngày rà soát" in row and "sau: «01/12/2026»" in row and "2026-12-01" not in row
    entry_id = audit.entries(engine(settings.db_url))[0].id
    asked = text_of(client.post(f"/audit/{entry_id}/revert", data={"csrf": csrf_of(client, "/audit")}).text)
    assert "sẽ bỏ: «xin giấy chào đời cho con»" in asked and "đang là: «01/12/2026»" in asked
    client.close()
