"""The record editor on its own (the app in-process, on a small copy of the knowledge): dates as staff write them,
the checker's problems in plain Vietnamese, the review date set on save, the confirmation before a change to what
citizens are told, the official value beside each field it supplies, and the preview as a citizen sees it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from actions.answers import Reply
from console import preview, problems, records
from console.config import Settings
from knowledge.records.loader import KNOWLEDGE_ROOT, Problem
from tests.console.support import app_client, csrf_of

BHYT = "bao-hiem-the-bhyt-ho-gia-dinh"  # no official code: every fact is the record's own
BIRTH = "ho-tich-khai-sinh"  # linked to the official record 1.001193
TODAY = "2026-12-06"


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(("typed", "day"), [
    ("27/11/2026", dt.date(2026, 11, 27)), ("1/7/2025", dt.date(2025, 7, 1)), (" 27-11-2026 ", dt.date(2026, 11, 27)),
    ("27.11.2026", dt.date(2026, 11, 27)), ("2026-11-27", dt.date(2026, 11, 27)),
    ("31/02/2026", None), ("11/27/2026", None), ("27/11/26", None), ("hôm qua", None), ("", None),
])  # fmt: skip
def test_dates_are_read_as_day_month_year_or_iso(typed: str, day: dt.date | None) -> None:
    assert records.parse_day(typed) == day


def test_dates_are_shown_as_day_month_year_and_written_to_the_file_as_iso() -> None:
    text = (KNOWLEDGE_ROOT / "procedures" / f"{BHYT}.yml").read_text(encoding="utf-8")
    values = records.form_values(yaml.safe_load(text))
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", values["last_reviewed"])
    edited = records.apply_form(text, values | {"last_reviewed": "01/12/2026"})
    assert "\nlast_reviewed: 2026-12-01\n" in edited


# ---------------------------------------------------------------- the checker's problems for the form


def _problem(field: str, message: str, severity: str = "error") -> Problem:
    return Problem(Path("x.yml"), 1, field, message, severity)  # type: ignore[arg-type]


def test_a_disagreement_with_the_official_record_is_explained_in_vietnamese() -> None:
    said = problems.explain(_problem("fee", "curated says 50.000 đồng, official 1.014064 says 70.000 đồng"))
    assert said == ("Phí, lệ phí: khác bản ghi chính thức 1.014064: ở đây ghi 50.000 đồng, bản chính thức ghi "
                    "70.000 đồng — sửa cho khớp, hoặc xóa nội dung ô để trợ lý dùng giá trị chính thức")  # fmt: skip
    document = problems.explain(_problem("documents[2].name", "curated says «Hợp đồng thuê nhà», official 1.014064 "
                                         "says no such document (it lists Tờ khai, Giấy chứng sinh)"))  # fmt: skip
    assert document.startswith("Giấy tờ cần chuẩn bị, dòng 2: khác bản ghi chính thức 1.014064")
    assert "không có giấy tờ này (bản đó ghi: Tờ khai, Giấy chứng sinh)" in document


def test_problems_name_the_field_by_its_label_and_never_by_its_code() -> None:
    missing = problems.explain(_problem("fee", "thiếu trường bắt buộc — thêm dòng «fee: ...», hoặc ghi mã thủ tục "
                                        "chính thức vào official_codes để trợ lý dùng số liệu chính thức "
                                        "(xem knowledge/README.md)"))  # fmt: skip
    assert missing == ("Phí, lệ phí: thiếu trường bắt buộc — điền mục này, hoặc ghi mã thủ tục chính thức vào «Mã thủ "
                       "tục chính thức» để trợ lý dùng số liệu chính thức")  # fmt: skip
    code = problems.explain(_problem("official_codes", "mã thủ tục chính thức «1.23» không đúng dạng, ví dụ đúng: "
                                     "1.014064"))  # fmt: skip
    assert code.startswith("Mã thủ tục chính thức: mã thủ tục chính thức «1.23» không đúng dạng")
    unknown = problems.explain(_problem("official_codes[2]", "mã «9.999999» không có trong danh mục thủ tục chính "
                                        "thức (knowledge/data/official/catalog.jsonl.gz) — kiểm tra lại "
                                        "mã"))  # fmt: skip
    assert unknown == "Mã thủ tục chính thức, dòng 2: mã «9.999999» không có trong danh mục thủ tục chính thức — " \
                      "kiểm tra lại mã"
    reform = problems.explain(_problem("reform_2025.status", "«confirmed» cần bản ghi chính thức năm 2026, nhưng mã "
                                       "chính 1.000005 là dữ liệu năm 2024 — đổi status thành unverified"))  # fmt: skip
    assert reform.startswith("Sắp xếp 2025: trạng thái: «đã đối chiếu, khớp bản ghi chính thức 2026» cần")
    assert reform.endswith("chọn «chưa xác minh lại»")
    english = problems.explain(_problem("steps[1]", "Input should be a valid string"))
    assert english == "Các bước thực hiện, dòng 1: nội dung chưa đúng dạng — kiểm tra lại ô này"
    for said in (missing, code, unknown, reform, english):
        assert "official_codes" not in said and "curated" not in said and ".yml" not in said


# ---------------------------------------------------------------- the editor, in-process


def _edit(client: TestClient, record_id: str, **changes: str) -> dict[str, str]:
    """The editor's form as the page holds it, with some fields changed."""
    page = client.get(f"/records/{record_id}").text
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert version
    path_values = records.form_values(yaml.safe_load(_file(client, record_id).read_text(encoding="utf-8")))
    return {**path_values, **changes, "csrf": csrf_of(client, "/dashboard"), "version": version.group(1)}


def _file(client: TestClient, record_id: str) -> Path:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return settings.procedures_dir / f"{record_id}.yml"


def test_a_date_typed_day_month_year_is_saved_and_a_wrong_one_explained(settings: Settings) -> None:
    client, _ = app_client(settings)
    refused = client.post(f"/records/{BHYT}", data=_edit(client, BHYT, last_reviewed="31/11/2026", action="save"))
    assert refused.status_code == 422
    shown = refused.text.split('id="field-last_reviewed"', 1)[1].split('class="field', 1)[0]
    assert "Ngày rà soát: không đọc được ngày — ghi theo dạng ngày/tháng/năm, ví dụ 27/11/2026" in shown
    asked = client.post(f"/records/{BHYT}", data=_edit(client, BHYT, last_reviewed="01/12/2026", action="save"))
    assert asked.status_code == 303  # only the date changed: nothing citizens are told, no confirmation
    assert yaml.safe_load(_file(client, BHYT).read_text(encoding="utf-8"))["last_reviewed"] == dt.date(2026, 12, 1)
    assert 'value="01/12/2026"' in client.get(f"/records/{BHYT}").text


@pytest.fixture
def frozen_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Today is TODAY for the answers and the editor (knowledge.clock)."""
    monkeypatch.setenv("MOCUA_TODAY", TODAY)


@pytest.mark.usefixtures("frozen_day")
def test_a_save_sets_the_review_date_to_today_after_showing_old_and_new(settings: Settings) -> None:
    client, _ = app_client(settings)
    path = _file(client, BHYT)
    original = path.read_text(encoding="utf-8")
    assert yaml.safe_load(original)["last_reviewed"] != dt.date.fromisoformat(TODAY)
    form = _edit(client, BHYT, fee="Người thứ nhất đóng 121.440 đồng/tháng.", action="save")
    asked = client.post(f"/records/{BHYT}", data=form)
    assert asked.status_code == 200 and path.read_text(encoding="utf-8") == original  # nothing written yet
    confirm = asked.text.split('id="confirm"', 1)[1]
    assert "<dt>Phí, lệ phí</dt>" in confirm and "Trước: «Mức đóng theo tháng" in confirm
    assert "Sau: «Người thứ nhất đóng 121.440 đồng/tháng.»" in confirm and "06/12/2026" in confirm
    token = re.search(r'name="confirmed" value="([^"]+)"', asked.text)
    assert token
    # a confirmation of other text than the one shown is asked again
    other = client.post(f"/records/{BHYT}", data=form | {"fee": "Người thứ nhất đóng 130.000 đồng/tháng.",
                                                         "action": "confirm", "confirmed": token.group(1)})  # fmt: skip
    assert other.status_code == 200 and 'id="confirm"' in other.text and path.read_text(encoding="utf-8") == original
    saved = client.post(f"/records/{BHYT}", data=form | {"action": "confirm", "confirmed": token.group(1)})
    assert saved.status_code == 303, saved.text
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["fee"] == "Người thứ nhất đóng 121.440 đồng/tháng."
    assert written["last_reviewed"] == dt.date(2026, 12, 6)


@pytest.mark.usefixtures("frozen_day")
def test_the_editor_shows_the_official_value_beside_each_field_and_which_one_the_bot_uses(settings: Settings) -> None:
    client, _ = app_client(settings)
    page = client.get(f"/records/{BIRTH}").text

    def box(field: str) -> str:
        found = re.search(rf'<div class="official" id="official-{field}">(.*?)</div>', page, re.S)
        assert found, f"no official value beside {field}"
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))

    assert "Bản ghi chính thức 1.001193, mức áp dụng hôm nay (06/12/2026)" in box("fee")
    assert "trực tiếp: Không mất phí" in box("fee")
    assert "Trợ lý trả lời theo giá trị chính thức này" in box("fee")
    assert "Ủy ban nhân dân cấp xã" in box("agency") and "theo giá trị chính thức" in box("agency")
    assert "1 ngày làm việc" in box("processing_time")
    assert "03/2023/TT-BTP" in box("legal_basis")
    assert "8 mục" in box("documents") and "Giấy chứng sinh" in box("documents")
    assert "Có, tại" in box("online_available")
    # our own wording wins where the record has one, and fills in where the official record is silent
    assert "Trợ lý trả lời theo nội dung trong ô (của Trung tâm), không theo giá trị chính thức" in box("steps")
    assert "bản chính thức không ghi mục này" in box("where") and "theo nội dung trong ô" in box("where")
    # a record of our own has nothing beside its fields
    assert 'class="official"' not in client.get(f"/records/{BHYT}").text


# ---------------------------------------------------------------- the preview, as on Telegram


def test_the_preview_is_cut_into_telegram_messages_with_their_keyboards() -> None:
    replies = [Reply(text="Lệ phí: 8.000 đồng", buttons=[{"title": "Hồ sơ cần gì", "payload": "/ask_documents"},
                                                           {"title": "Thời gian", "payload": "/ask_time"},
                                                           {"title": "Nộp trực tuyến được không ạ?",
                                                            "payload": "/ask_online"}]),
               Reply(response="utter_feedback_sorry")]  # fmt: skip
    messages = preview.on_telegram(replies)
    assert messages[0].text == "Lệ phí: 8.000 đồng"
    assert [[b.title for b in row] for row in messages[0].keyboard] == [["Hồ sơ cần gì", "Thời gian"],
                                                                         ["Nộp trực tuyến được không ạ?"]]
    assert messages[1].keyboard, "a domain response's own buttons are sent too"


def test_which_value_the_bot_uses_is_read_off_the_answers_own_choice(settings: Settings) -> None:
    from knowledge.records.facts import fact_sources
    from knowledge.records.schema import Procedure

    data = yaml.safe_load((settings.procedures_dir / f"{BIRTH}.yml").read_text(encoding="utf-8"))
    linked = records.linked_records(settings, data)
    assert [r.code for r in linked] == ["1.001193"]
    day = dt.date.fromisoformat(TODAY)
    sources = fact_sources(Procedure.model_validate(data), linked, day)
    assert sources["fee"] == sources["agency"] == sources["documents"] == "official"
    assert sources["steps"] == "curated"  # our plain steps are preferred to the page's
    assert sources["where"] == "curated"  # the official record names no place: ours fills in
    without_steps = Procedure.model_validate({**data, "steps": []})
    assert fact_sources(without_steps, linked, day)["steps"] == "official"
    own = fact_sources(Procedure.model_validate({**data, "official_codes": [], "agency": "UBND xã", "level": "xã",
                                                 "fee": "Miễn phí", "processing_time": "Ngay trong ngày",
                                                 "documents": [{"name": "Giấy chứng sinh"}],
                                                 "legal_basis": ["Luật Hộ tịch 60/2014/QH13"]}), [], day)  # fmt: skip
    assert set(own.values()) <= {"curated", ""} and own["fee"] == "curated"
