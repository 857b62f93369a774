"""Values read from the portal's wording at import (knowledge/catalog/values.py) and applied for the day asked
(knowledge/records/facts.py): fee rates for a period, fees set by each province or not charged, bare times."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.catalog.common import fee_from_value
from knowledge.catalog.model import Channel, Fee, OfficialRecord, ProcessingTime
from knowledge.catalog.values import (
    citizen_deadline,
    complete_times,
    fee_periods,
    names_abolished_level,
    with_fee_periods,
)
from knowledge.records.facts import fee_text, time_text
from knowledge.tools.catalog.report import ImportReport

LAST_DAY = dt.date(2026, 12, 31)
FIRST_DAY_AFTER = dt.date(2027, 1, 1)

# The wording of the portal's page for re-issuing a lost ID card (1.014064), as crawled.
ID_CARD_FEE = (
    "- Cấp lại thẻ căn cước đối với các trường hợp quy định tại khoản 2 Điều 24 Luật Căn cước: 70.000 đồng/thẻ căn "
    "cước. Kể từ ngày 01/01/2025 đến hết ngày 31/12/2025, mức thu lệ phí khi công dân nộp hồ sơ cấp đổi, cấp lại thẻ "
    "căn cước theo hình thức trực tuyển bằng 50% mức thu lệ phí quy định. - Kể từ ngày 01/7/2025 đến hết ngày "
    "31/12/2026 mức thu lệ phí cấp đổi, cấp lại thẻ căn cước bằng 50% mức thu nêu trên theo quy định tại Thông tư số "
    "64/2025/TT-BTC ngày 30/6/2025 của Bộ Tài chính."
)
DRIVING_LICENCE_FEE = (
    "- Lệ phí cấp giấy phép lái xe: 135.000 đồng/lần. - Trường hợp tổ chức, cá nhân nộp hồ sơ theo hình thức trực "
    "tuyến: Kể từ ngày 01/12/2023 đến hết ngày 31/12/2025, áp dụng mức thu lệ phí là 115.000 đồng/lần cấp."
)


def _channel(method: str, fee: Fee, note: str = "") -> Channel:
    return with_fee_periods(Channel(method=method, fees=[fee], note=note))  # type: ignore[arg-type]


def test_a_percentage_for_dates_is_read_with_its_act_and_channel() -> None:
    periods = fee_periods(ID_CARD_FEE)
    assert [(p.percent, p.start, p.end, p.channel, p.legal) for p in periods] == [
        (50.0, "2025-01-01", "2025-12-31", "trực tuyến", None),
        (50.0, "2025-07-01", "2026-12-31", None, "64/2025/TT-BTC"),
    ]


def test_other_wordings_of_a_dated_rate() -> None:
    amount = fee_periods("Phí: 800.000 đồng/hồ sơ (áp dụng mức phí 400.000 đồng/hồ sơ kể từ ngày 01/7/2025 đến hết "
                         "ngày 31/12/2026 theo Thông tư số 64/2025/TT-BTC).")  # fmt: skip
    assert [(p.amount_vnd, p.start, p.end) for p in amount] == [(400000, "2025-07-01", "2026-12-31")]
    spelled = fee_periods("25.000 đồng/lần (áp dụng từ kể từ ngày 01 tháng 7 năm 2025 đến hết ngày 31 tháng 12 năm "
                          "2026 theo quy định tại Thông tư 64/2025/TT-BTC)")  # fmt: skip
    assert [(p.amount_vnd, p.start, p.end) for p in spelled] == [(25000, "2025-07-01", "2026-12-31")]
    waived = fee_periods("Miễn phí từ ngày 07/4/2026 đến 30/6/2026 theo quy định tại Thông tư 40/2026/TT-BTC")
    assert [(p.percent, p.end, p.legal) for p in waived] == [(0.0, "2026-06-30", "40/2026/TT-BTC")]
    # the act's own period when the page cites it without dates
    undated = fee_periods("Lệ phí đăng ký doanh nghiệp: Bằng 50% mức thu lệ phí quy định tại điểm 1 Biểu phí "
                          "kèm theo Thông tư số 47/2019/TT-BTC (Thông tư số 64/2025/TT-BTC ngày 30/6/2025)")
    assert [(p.percent, p.start, p.end) for p in undated] == [(50.0, "2025-07-01", "2026-12-31")]
    # dates of acts and percentages of something else are not rates for a period
    assert fee_periods("0,05% giá gói thầu, Nghị định 63/2014/NĐ-CP ngày 26/6/2014") == []


def test_a_reduction_applies_until_its_last_day_and_not_after() -> None:
    fee = fee_from_value(70000, "VND", ID_CARD_FEE)
    direct = _channel("trực tiếp", fee)
    assert fee_text(direct.fees, LAST_DAY, "trực tiếp")[0] == (
        "35.000 đồng, giảm 50 % đến hết 31/12/2026 (Thông tư 64/2025/TT-BTC); mức thường 70.000 đồng"
    )
    assert fee_text(direct.fees, FIRST_DAY_AFTER, "trực tiếp")[0] == "70.000 đồng"


def test_a_rate_that_has_not_started_is_announced_as_coming() -> None:
    fee = fee_from_value(70000, "VND", ID_CARD_FEE)
    text = fee_text(_channel("trực tiếp", fee).fees, dt.date(2025, 6, 30), "trực tiếp")[0]
    assert text == "70.000 đồng; từ 01/07/2025: 35.000 đồng (Thông tư 64/2025/TT-BTC)"


def test_an_online_reduction_that_ended_is_dropped_and_applies_to_online_only() -> None:
    fee = fee_from_value(0, None, DRIVING_LICENCE_FEE)  # the page lists "Miễn phí" and states the sum in words
    online = _channel("trực tuyến", fee)
    during = fee_text(online.fees, dt.date(2025, 12, 31), "trực tuyến")[0] or ""
    assert "115.000" in during and "đến hết 31/12/2025" in during
    after = fee_text(online.fees, dt.date(2026, 1, 1), "trực tuyến")[0] or ""
    assert "135.000 đồng" in after and "115.000" not in after
    in_person = fee_text(online.fees, dt.date(2025, 12, 31), "trực tiếp")[0] or ""
    assert "115.000" not in in_person


def test_a_second_fee_listed_only_for_the_period_becomes_the_reduced_rate() -> None:
    standard = fee_from_value(50000, "VND", "50.000 đồng/lần (theo quy định tại Thông tư số 101/2020/TT-BTC)")
    temporary = fee_from_value(25000, "VND", "25.000 đồng/lần (áp dụng từ kể từ ngày 01 tháng 7 năm 2025 đến "
                                             "hết ngày 31 tháng 12 năm 2026 theo Thông tư 64/2025/TT-BTC)")
    channel = with_fee_periods(Channel(method="trực tiếp", fees=[standard, temporary]))
    assert fee_text(channel.fees, LAST_DAY)[0] == (
        "25.000 đồng, giảm 50 % đến hết 31/12/2026 (Thông tư 64/2025/TT-BTC); mức thường 50.000 đồng"
    )
    after = fee_text(channel.fees, FIRST_DAY_AFTER)[0] or ""
    assert after.startswith("50.000 đồng") and "25.000" not in after


def test_a_fee_each_province_sets_says_so_beside_the_example_amount() -> None:
    fee = fee_from_value(50000, "VND", "- Mức lệ phí cụ thể do Hội đồng nhân dân tỉnh quyết định (căn cứ quy định "
                                       "tại Thông tư số 85/2019/TT-BTC).")  # fmt: skip
    text, by_province = fee_text([fee], LAST_DAY)
    assert by_province and text is not None
    assert text.startswith("theo mức thu do Hội đồng nhân dân tỉnh quy định") and "ví dụ 50.000 đồng" in text
    # one province's own resolution is that province's real amount
    assert fee_from_value(50000, "VND", "Theo Nghị quyết số 28/2024/NQ-HĐND của HĐND tỉnh Thanh Hóa").kind == "amount"


@pytest.mark.parametrize("written", ["Không có", "Không quy định", "Không quy định.", "Chưa quy định.", "không có",
                                     "Miễn", "0 đồng", "- Không có", "-Không được quy định tại Biểu phí"])  # fmt: skip
def test_a_fee_written_as_none_is_no_fee(written: str) -> None:
    assert fee_text([fee_from_value(0, None, written)], LAST_DAY)[0] == "Không mất phí"


def test_a_bare_time_takes_its_unit_from_the_structured_answer_or_the_records_words() -> None:
    bare = ProcessingTime(value=5, unit=None, text="5")
    page = OfficialRecord(code="9.000001", name="Thủ tục thử", source="national-portal-2026", crawled="2026-07",
                          detail="full", channels=[Channel(method="trực tiếp", time=bare)])  # fmt: skip
    api = page.model_copy(update={"source": "opengov-api-2026", "channels": [
        Channel(method="trực tiếp", time=ProcessingTime(value=5, unit="ngày làm việc"))]})  # fmt: skip
    [from_api], _ = complete_times([page], {}, {"9.000001": api})
    assert from_api.channels[0].time == bare.model_copy(update={"unit": "ngày làm việc"})
    worded = page.model_copy(update={"steps": ["Trong thời hạn 05 ngày làm việc, cơ quan cấp giấy chứng nhận."]})
    [from_words], _ = complete_times([worded], {}, {})
    assert from_words.channels[0].time is not None and from_words.channels[0].time.unit == "ngày làm việc"
    placeholder = page.model_copy(update={"steps": ["Trong thời hạn 01 ngày làm việc, bộ phận một cửa chuyển hồ sơ."],
                                          "channels": [Channel(method="trực tiếp", time=bare.model_copy(
                                              update={"value": 1, "text": "1"}))]})  # fmt: skip
    [one], _ = complete_times([placeholder], {}, {})  # "1" is also the portal's "see the description"
    assert one.channels[0].time is not None and one.channels[0].time.unit is None
    [left], _ = complete_times([page], {}, {})
    shown = time_text(left.channels[0].time) or ""
    assert shown.startswith("5 (") and "không ghi đơn vị" in shown  # never a bare "5"


def test_abolished_levels_are_recognised() -> None:
    for named in ("Bảo hiểm xã hội cấp huyện", "UBND huyện", "Phòng Tư pháp huyện", "Công an quận"):
        assert names_abolished_level(named), named
    for current in ("Ủy ban nhân dân cấp xã", "Bảo hiểm xã hội cơ sở", "Công an xã, phường, đặc khu"):
        assert not names_abolished_level(current), current


def test_a_citizens_deadline_is_not_an_agencys_time_limit() -> None:
    assert citizen_deadline("Trong thời hạn 60 ngày kể từ ngày sinh con, cha hoặc mẹ có trách nhiệm đăng ký khai "
                            "sinh cho con; trường hợp cha, mẹ không thể đăng ký khai sinh…") == (  # fmt: skip
        "Trong thời hạn 60 ngày kể từ ngày sinh con, cha hoặc mẹ có trách nhiệm đăng ký khai sinh cho con"
    )
    processing = "Trong thời hạn 05 ngày làm việc kể từ ngày nhận đủ hồ sơ, cơ quan có trách nhiệm cấp."
    assert citizen_deadline(processing) is None
    assert citizen_deadline("Trong thời hạn 05 ngày làm việc kể từ ngày cấp chứng chỉ, cơ quan có thẩm quyền có trách "
                            "nhiệm đăng tải thông tin.") is None  # fmt: skip


def test_the_import_reads_dated_rates_across_the_catalogue(real_import: tuple[list, ImportReport]) -> None:
    records, report = real_import
    by_code = {r.code: r for r in records}
    dated = [r for r in records for c in r.channels for f in c.fees if f.periods]
    assert len({r.code for r in dated}) >= 60
    id_card = by_code["1.014064"].channels[0].fees[0]
    assert [(p.percent, p.end) for p in id_card.periods] == [(50.0, "2025-12-31"), (50.0, "2026-12-31")]
    household = by_code["1.001612"].channels[0].fees[0]
    assert household.kind == "province" and household.amount_vnd == 50000
    assert any("fees with a dated rate in their text" in line for line in report.values_lines)
