"""The console's parts on their own, without servers: charts, grouping, record editing, dev questions, the audit log's
reverts, the catalogue sync review and the session cookie (the app in-process, on a small copy of the knowledge)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from console import audit, records, svg
from console.config import Settings
from console.db import engine
from console.gaps import Member, group_members
from knowledge.catalog.model import Fee
from knowledge.catalog.snapshot import load_snapshot, write_snapshot
from knowledge.index.lexical import content_words
from knowledge.records.loader import KNOWLEDGE_ROOT, knowledge_files
from knowledge.search.metrics import load_questions
from knowledge.tools.catalog.sync import State
from tests.console.support import app_client, check_first_release_accounts_upgrade, csrf_of

SVG = "{http://www.w3.org/2000/svg}"


# ---------------------------------------------------------------- charts


def test_charts_are_well_formed_svg_with_every_text_escaped() -> None:
    charts = [
        svg.stacked_bars("Số câu hỏi", ["01/11", "02/11"], [svg.Series("Trả lời được", [3, 0], "s1"),
                                                            svg.Series("<b>chưa</b> & khác", [1, 7], "s2")]),
        svg.horizontal_bars("Nhiều nhất", [("<script>alert(1)</script>", 4), ("Đăng ký khai sinh " * 5, 2)]),
        svg.share_line("Hài lòng", ["01/11", "02/11", "03/11"], [0.95, None, 0.5], 0.9, "mục tiêu 90 %"),
    ]  # fmt: skip
    for chart in charts:
        root = ET.fromstring(str(chart))  # parses: nothing unescaped broke the markup
        assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.find(f"{SVG}title") is not None
        assert "<script>" not in str(chart) and "style=" not in str(chart)  # the CSP forbids inline styles
    bars = ET.fromstring(str(charts[0])).findall(f"{SVG}rect")
    heights = [float(b.get("height", 0)) for b in bars if b.get("class") == "s2" and b.find(f"{SVG}title") is not None]
    assert heights[1] == pytest.approx(7 * heights[0])  # drawn to scale
    line = ET.fromstring(str(charts[2]))
    assert [c.get("class") for c in line.findall(f"{SVG}circle")] == ["good", "bad"]  # a day without votes: no dot


def test_the_axis_is_split_in_round_steps() -> None:
    assert [svg._nice_max(v) for v in (0, 3, 4, 5, 14, 95, 1234)] == [4, 4, 4, 8, 20, 100, 2000]


# ---------------------------------------------------------------- unanswered questions


def _member(text: str, count: int, last: str = "2026-11-27T10:00:00+00:00") -> Member:
    import journal

    key = journal.question_key(text) or ""
    return Member(key, count, text, last, frozenset(content_words(key)))


def test_wordings_of_one_need_are_grouped_most_asked_first() -> None:
    groups = group_members([
        _member("giá vàng hôm nay", 1),
        _member("giấy chào đời cho con gái", 1),
        _member("xin giấy chào đời cho con", 3),
        _member("làm thẻ xanh cho xe máy", 2),
        _member("thẻ xanh xe máy làm ở đâu", 2, "2026-11-27T11:00:00+00:00"),
    ])  # fmt: skip
    assert [[m.example for m in g.members] for g in groups] == [
        ["thẻ xanh xe máy làm ở đâu", "làm thẻ xanh cho xe máy"],
        ["xin giấy chào đời cho con", "giấy chào đời cho con gái"],
        ["giá vàng hôm nay"],
    ]
    assert [g.count for g in groups] == [4, 4, 1]
    assert len({g.id for g in groups}) == 3


# ---------------------------------------------------------------- record files


def test_every_shipped_record_round_trips_through_the_form_byte_for_byte() -> None:
    for path in knowledge_files(KNOWLEDGE_ROOT):
        if path.suffix == ".yml":
            text = path.read_text(encoding="utf-8")
            assert records.apply_form(text, records.form_values(yaml.safe_load(text))) == text, path.name


def test_a_form_edit_changes_only_what_was_edited() -> None:
    text = (KNOWLEDGE_ROOT / "procedures/bao-hiem-the-bhyt-ho-gia-dinh.yml").read_text(encoding="utf-8")
    values = records.form_values(yaml.safe_load(text))
    values.update(fee="Người thứ nhất đóng 121.440 đồng/tháng.", channels=["trực tiếp"], official_codes="1.001193",
                  level="", notes="")  # fmt: skip
    edited = records.apply_form(text, values)
    changed = {(k, b) for k, _, b in records.changed_fields(text, edited)}
    assert {k for k, _ in changed} == {"official_codes", "level", "submission", "fee", "notes"}
    assert '\nofficial_codes: ["1.001193"]\n' in edited  # the template's style, quoted: never read as a number
    assert "\n  channels: [trực tiếp]\n" in edited  # a flow list stays a flow list
    assert yaml.safe_load(edited)["fee"] == "Người thứ nhất đóng 121.440 đồng/tháng."
    assert edited.count("\n") == text.count("\n") - 1  # a line for the codes, none for level and notes
    assert "\nlevel:" not in edited and "\nnotes:" not in edited


def test_linter_problems_map_to_their_form_fields() -> None:
    assert [records.form_field(f) for f in ("fee", "aliases[3]", "documents[2].name", "submission",
                                            "submission.online.level", "submission.channels[1]", "reform_2025.note",
                                            "reform_2025.status", "YAML", "id")] == [  # fmt: skip
        "fee", "aliases", "documents", "where", "online_level", "channels", "reform_note", "reform_status",
        "_general", "_general",
    ]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "..", "ho-tich-khai-sinh.yml", "Ho-Tich", "", "a/b", "x" * 130])
def test_record_ids_that_are_not_plain_ids_are_refused(settings: Settings, bad: str) -> None:
    with pytest.raises(records.RecordNotFound):
        records.record_path(settings, bad)


def test_a_dev_question_is_added_with_provenance_and_the_splits_are_checked(settings: Settings) -> None:
    day = dt.date(2026, 11, 28)
    original = settings.dev_questions.read_text(encoding="utf-8")
    once = records.with_dev_question(original, "xin giấy chào đời cho bé", "ho-tich-khai-sinh", "lan", day)
    twice = records.with_dev_question(once, 'hỏi "thủ tục" nào: 2.001263', "2.001263", "lan", day)
    settings.dev_questions.write_text(twice, encoding="utf-8")
    rows = load_questions(settings.dev_questions)
    assert rows[-2:] == [
        {**rows[-2], "q": "xin giấy chào đời cho bé", "expect": "ho-tich-khai-sinh",
         "by": "lan (bảng điều khiển cán bộ)"},
        {**rows[-1], "q": 'hỏi "thủ tục" nào: 2.001263', "expect": "2.001263"},
    ]
    assert twice.count("- by: lan (bảng điều khiển cán bộ)") == 1  # one block per person and day
    assert records.split_holding(settings, "XIN GIAY CHAO DOI CHO BE") == "dev"
    from knowledge.tools.records.lint import load_test_questions

    assert records.split_holding(settings, load_test_questions()[0]) == "test"
    assert records.split_holding(settings, "một câu chưa ai viết") is None


# ---------------------------------------------------------------- the app in-process, on a small knowledge copy


def test_the_cookie_is_secure_over_https_and_when_asked(settings: Settings) -> None:
    from console.app import create_app

    for secure, base in ((False, "https://console.example"), (True, "http://testserver")):
        app = create_app(replace(settings, secure_cookies=secure), "k" * 40)
        cookie = TestClient(app, base_url=base).get("/").headers["set-cookie"]
        assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_catalogue_sync_is_reviewed_applied_and_reverted(settings: Settings) -> None:
    snapshot = settings.snapshot
    before = snapshot.read_bytes()
    old = load_snapshot(snapshot)
    changed = old[0].model_copy(update={"channels": [old[0].channels[0].model_copy(update={
        "fees": [Fee(kind="amount", amount=30000, currency="VND", amount_vnd=30000, text="30.000 đồng")]})]})
    state = State(settings.sync_state)
    write_snapshot([changed, *old[1:3]], state.candidate)  # a fee changed, 1.001193 withdrawn
    client, app = app_client(settings)
    page = client.get("/catalog").text
    assert "20.000 đ" in page and "30.000 đ" in page and "không còn niêm yết" in page
    assert 'href="/records/ho-tich-khai-sinh"' in page  # the curated record linking a withdrawn code
    assert "Đăng ký khai sinh</a>" in page.split('id="affected"', 1)[1], "an affected record is named, not coded"
    asked = client.post("/catalog/apply", data={"csrf": csrf_of(client, "/catalog")})
    assert asked.status_code == 200 and "Áp dụng bản đồng bộ danh mục?" in asked.text and "1 thay đổi" in asked.text
    assert snapshot.read_bytes() == before and state.candidate.exists(), "nothing applied before it is confirmed"
    applied = client.post("/catalog/apply", data={"csrf": csrf_of(client, "/catalog"), "confirmed": "yes"})
    assert applied.status_code == 303
    assert snapshot.read_bytes() != before and not state.candidate.exists()
    assert app.state.builder.reasons and "Áp dụng đồng bộ" in app.state.builder.reasons[0]
    told = app.state.builder.changes[0]  # what the publish page lists as changed for citizens: by name, in words
    assert any(line.startswith("Không còn niêm yết: «") for line in told) and any(": phí" in line for line in told)
    entry = audit.entries(engine(settings.db_url))[0]
    assert entry.action == "catalog.apply" and entry.username == "lan" and "1 bãi bỏ, 1 thay đổi" in entry.summary
    revert = {"csrf": csrf_of(client, "/audit"), "confirmed": "yes"}
    assert client.post(f"/audit/{entry.id}/revert", data=revert).status_code == 303
    assert snapshot.read_bytes() == before
    undone = app.state.builder.reasons[-1]  # the publish page says which change was undone, and by whom
    assert undone.startswith(f"Hoàn tác thay đổi #{entry.id}: Áp dụng đồng bộ") and undone.endswith("(lan)")
    assert audit.entries(engine(settings.db_url))[0].action == "revert"


def save_confirmed(client: TestClient, path: str, fields: dict) -> Any:
    """Save an edit as staff do: «Lưu», then «Xác nhận lưu» on the old → new the editor shows."""
    asked = client.post(path, data=fields)
    confirmed = re.search(r'name="confirmed" value="([^"]+)"', asked.text)
    assert asked.status_code == 200 and confirmed, asked.text
    return client.post(path, data={**fields, "action": "confirm", "confirmed": confirmed.group(1)})


def test_a_revert_waits_for_later_changes_to_be_reverted_first(settings: Settings) -> None:
    client, app = app_client(settings)
    path = settings.procedures_dir / "bao-hiem-the-bhyt-ho-gia-dinh.yml"
    original = path.read_text(encoding="utf-8")
    for fee in ("Người thứ nhất đóng 121.440 đồng/tháng.", "Người thứ nhất đóng 130.000 đồng/tháng."):
        form = records.form_values(yaml.safe_load(path.read_text(encoding="utf-8"))) | {"fee": fee}
        page = client.get("/records/bao-hiem-the-bhyt-ho-gia-dinh").text
        version = re.search(r'name="version" value="([^"]+)"', page)
        assert version
        fields = {**form, "csrf": csrf_of(client, "/dashboard"), "version": version.group(1), "action": "save"}
        saved = save_confirmed(client, "/records/bao-hiem-the-bhyt-ho-gia-dinh", fields)
        assert saved.status_code == 303, saved.text
    first, second = sorted(e.id for e in audit.entries(engine(settings.db_url)) if e.action == "record.edit")
    db = engine(settings.db_url)
    with pytest.raises(audit.RevertRefused, match="đã được sửa sau"):
        audit.revert(db, settings, first, "lan")
    assert audit.revert(db, settings, second, "lan").rebuild
    assert audit.revert(db, settings, first, "lan").rebuild
    assert path.read_text(encoding="utf-8") == original
    with pytest.raises(audit.RevertRefused):
        audit.revert(db, settings, first, "lan")  # once only


# ---------------------------------------------------------------- accounts of an earlier release


def test_an_earlier_release_console_database_gets_the_disabled_column(tmp_path) -> None:
    check_first_release_accounts_upgrade(f"sqlite:///{tmp_path / 'console.db'}")
