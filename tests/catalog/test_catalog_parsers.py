"""The source parsers on small cells written like the portal's, one difficulty at a time."""

from __future__ import annotations

import json

from knowledge.catalog.common import fee_from_value, legal_numbers, time_from_prose
from knowledge.catalog.provinces import match_province
from knowledge.tools.catalog.parse_2024 import parse_channel_table, parse_doc, parse_document_list, parse_fee_cell
from knowledge.tools.catalog.parse_api import parse_detail
from knowledge.tools.catalog.parse_portal import (
    CHANNEL_HEADER,
    parse_channels,
    parse_documents,
    parse_legal,
    parse_page,
    split_form,
    strip_chrome,
)
from tests.catalog.replay_portal import FIXTURES


def rows(cell: str) -> list[tuple]:
    parsed = parse_channels(CHANNEL_HEADER + cell)
    return [(c.method, c.time and (c.time.value, c.time.unit), [f.key() for f in c.fees]) for c in parsed.channels]


def test_channel_cells_run_together_are_split() -> None:
    cell = ("Trực tiếp7 Ngày làm việc70,000 Việt Nam Đồng(Lệ phí: 70.000 đồng/thẻ (xem ghi chú))- Nộp tại Công an xã."
            "Trực tuyến7 Ngày làm việcMiễn phíDịch vụ bưu chính15 NgàyKhông có thông tinGửi qua bưu điện.")  # fmt: skip
    assert rows(cell) == [
        ("trực tiếp", (7, "ngày làm việc"), [("amount", 70000, "VND")]),
        ("trực tuyến", (7, "ngày làm việc"), [("free", None, None)]),
        ("bưu chính", (15, "ngày"), []),
    ]
    direct = parse_channels(CHANNEL_HEADER + cell).channels[0]
    assert direct.fees[0].text == "Lệ phí: 70.000 đồng/thẻ (xem ghi chú)" and direct.note == "- Nộp tại Công an xã."


def test_a_bare_time_run_into_an_amount_is_read_with_the_amount_its_text_repeats() -> None:
    # "1" (no unit) then "20,000 VNĐ": printed as "120,000 VNĐ".
    assert rows("Trực tuyến120,000 VNĐ(20.000 đồng/tờ khai)") == [("trực tuyến", (1, None), [("amount", 20000, "VND")])]


def test_an_amount_that_lost_its_thousands_is_restored_from_its_text_or_marked() -> None:
    restored = parse_channels(CHANNEL_HEADER + "Trực tuyến120 VNĐ(20.000 vnđ /tờ khai)").channels[0].fees[0]
    assert (restored.amount_vnd, restored.listed_vnd, restored.suspect) == (20000, 20, False)
    unexplained = parse_channels(CHANNEL_HEADER + "Trực tuyến120 VNĐ").channels[0].fees[0]
    assert (unexplained.amount_vnd, unexplained.suspect) == (20, True)
    usd = parse_channels(CHANNEL_HEADER + "Trực tiếp5 Ngày làm việc155 VNĐ(thẻ 5 năm: 155 USD/thẻ)").channels[0]
    assert usd.fees[0].key() == ("amount", 155.0, "USD")


def test_prose_inside_descriptions_does_not_start_a_row() -> None:
    cell = ("Trực tuyến3 Ngày làm việc5,000 Việt Nam Đồng- Trực tuyến qua Cổng dịch vụ công. Trực tiếp tại xã."
            "Trực tiếpKhông có thông tinKhông có thông tinTrực tiếp: nộp tại trụ sở.")  # fmt: skip
    assert rows(cell) == [
        ("trực tiếp", None, []),
        ("trực tuyến", (3, "ngày làm việc"), [("amount", 5000, "VND")]),
    ]


def test_an_unclosed_bracket_stops_at_the_next_row() -> None:
    cell = ("Trực tuyến3 Ngày làm việc1,500,000 VNĐ(đồng/lần (miễn đến 30/6/2026 theo Thông tư 40/2026/TT-BTC"
            "Dịch vụ bưu chính3 Ngày làm việc1,500,000 VNĐ")  # fmt: skip
    assert [r[0] for r in rows(cell)] == ["trực tuyến", "bưu chính"]


def test_time_in_words_keeps_its_number_when_it_names_one() -> None:
    assert rows("Trực tuyếnKhông quá 10 ngày làm việcMiễn phí")[0][1] == (10, "ngày làm việc")
    assert rows("Trực tuyếnKhông phải trả kết quảMiễn phí")[0][1] == (None, None)
    assert time_from_prose("05 (năm) ngày làm việc kể từ ngày nhận hồ sơ").value == 5


def test_fee_kinds() -> None:
    assert fee_from_value(0, None, "Theo mức thu do Hội đồng nhân dân cấp tỉnh quy định").kind == "province"
    assert fee_from_value(0, None, "Cho một loại hình: 8.000.000/lần").kind == "described"
    assert fee_from_value(0, None, "Miễn lệ phí cho hộ nghèo").kind == "free"
    assert fee_from_value(50000, "VND", "").key() == ("amount", 50000, "VND")


def test_document_rows_with_glued_counts_and_forms() -> None:
    cell = ("* Giấy tờ phải nộp:Tên giấy tờMẫu đơn, tờ khaiSố lượngTờ khai theo Nghị định ngày 24/07/2023"
            "1 bản chínhGiấy đề nghị theo mẫu thống nhấtMẫu TP-LS-02.docx1 bản chính,1 bản sao"
            "* Giấy tờ phải xuất trình:Tên giấy tờMẫu đơn, tờ khaiSố lượngThẻ căn cước0 bản chính")  # fmt: skip
    documents = parse_documents(cell).documents
    assert [(d.name, d.originals, d.copies, d.form, d.group) for d in documents] == [
        ("Tờ khai theo Nghị định ngày 24/07/2023", 1, 0, None, "Giấy tờ phải nộp"),
        ("Giấy đề nghị theo mẫu thống nhất", 1, 1, "Mẫu TP-LS-02.docx", "Giấy tờ phải nộp"),
        ("Thẻ căn cước", 0, 0, None, "Giấy tờ phải xuất trình"),
    ]
    glued = "Văn bản đề nghị (theo mẫu)12.1.PLCpgiay.docx"
    assert split_form(glued) == ("Văn bản đề nghị (theo mẫu)", "12.1.PLCpgiay.docx")


def test_legal_basis_titles_and_numbers_run_together() -> None:
    cell = ("Tên văn bản pháp lýMã văn bảnNghị định số 123/2015/NĐ-CP ngày 15/11/2015 hướng dẫn Luật Hộ tịch"
            "123/2015/NĐ-CPLuật 60/2014/QH1360/2014/QH13Luật Cư trú 202068/2020/QH14"
            "Thông tư số 03/2023/TT-BTP ngày 02/8/2023 của Bộ Tư phápThông tư số 03/2023/TT-BTP")  # fmt: skip
    parsed = parse_legal(cell)
    assert [(b.number, b.title) for b in parsed.items] == [
        ("123/2015/NĐ-CP", "Nghị định số 123/2015/NĐ-CP ngày 15/11/2015 hướng dẫn Luật Hộ tịch"),
        ("60/2014/QH13", "Luật 60/2014/QH13"),
        ("68/2020/QH14", "Luật Cư trú 2020"),
        ("03/2023/TT-BTP", "Thông tư số 03/2023/TT-BTP ngày 02/8/2023 của Bộ Tư pháp"),
    ]
    assert [n for n, *_ in legal_numbers("Thông tư số 53/2025/TT-BCAngày 01/7/2025")] == ["53/2025/TT-BCA"]


def test_a_page_filed_under_another_code_is_rejected() -> None:
    page = {"ma_thu_tuc": "3.000243", "ten_thu_tuc": "Hỗ trợ phát triển sản xuất cộng đồng.",
            "raw_text": "Tên thủ tụcHỗ trợ phát triển sản xuất cộng đồng.Mã thủ tục1.014023Số quyết định…"}  # fmt: skip
    parsed = parse_page(page, "3.000243", "2026-06-08")
    assert parsed.mismatched and parsed.page_code == "1.014023"


def test_page_chrome_is_cut_from_text_fields() -> None:
    footer = "Không có thông tinTừ khóaKhông có thông tinMô tảKhông có thông tinChọn cơ quan thực hiện…"
    assert strip_chrome(footer) == ""
    assert strip_chrome("Có trụ sở làm việc.") == "Có trụ sở làm việc."


def test_2024_cells() -> None:
    fees = parse_fee_cell("Phí : 600000 Đồng Công nhận lâm phần  Phí : 2.400.000 Đồng vườn giống")
    assert [f.key() for f in fees] == [("amount", 600000, "VND"), ("amount", 2400000, "VND")]
    assert [f.kind for f in parse_fee_cell("Phí : Đồng Theo quy định của Bộ Tài chính")] == ["described"]
    assert [f.key() for f in parse_fee_cell("Phí : 25 USD Gia hạn tạm trú")] == [("amount", 25.0, "USD")]
    table = "|Hình thức nộp|Thời hạn giải quyết|Phí, lệ phí|Mô tả|\n|--|--|--|-|\n|Trực tiếp|5 Ngày làm việc||05 ngày|"
    channel = parse_channel_table(table)[0]
    assert channel.time is not None and channel.method == "trực tiếp" and channel.fees == []
    assert (channel.time.value, channel.time.unit) == (5, "ngày làm việc")
    documents = parse_document_list("Bao gồm\n- 01 Bản chính, 03 Bản sao - Văn bản đề nghị ([Mẫu A.docx](https://x))")
    assert [(d.name, d.originals, d.copies, d.form) for d in documents] == [("Văn bản đề nghị", 1, 3, "Mẫu A.docx")]


def test_a_2024_page_is_marked_as_predating_the_reorganisation() -> None:
    text = ("Chi tiết thủ tục hành chính:\nMã thủ tục:\n1.000009\nTên thủ tục:\nCấp chứng chỉ\n"
            "Cấp thực hiện:\nCấp Huyện\n")
    record = parse_doc(text, "1.000009")
    assert record is not None and record.predates_2025_reform and record.levels == ["huyện"]
    assert parse_doc(text, "1.000010") is None  # the page must be the procedure it is filed under


def test_api_answer_with_several_fees_and_a_province() -> None:
    answer = json.loads((FIXTURES / "details" / "1.010038.json").read_text("utf-8"))
    record = parse_detail(answer, "2026-07-18")
    direct = record.channel("trực tiếp")
    assert direct is not None and [f.key() for f in direct.fees] == [("amount", 10000, "VND"), ("free", None, None)]
    specific = parse_detail(json.loads((FIXTURES / "details" / "1.115462.json").read_text("utf-8")), "2026-07-18")
    assert specific.type == "SPECIFIC" and specific.province == "Tỉnh Bắc Ninh"


def test_province_names_as_citizens_type_them() -> None:
    assert match_province("tôi ở bac ninh") == "Tỉnh Bắc Ninh"
    assert match_province("UBND Thành phố Hải Phòng") == "Thành phố Hải Phòng"
    assert match_province("tp.hcm") == "Thành phố Hồ Chí Minh"
    assert match_province("nộp thuế ở đâu") is None  # "thuế" is not Huế
    assert match_province("Bắc Ninh hay Hà Nội") is None  # two provinces: do not guess
