"""Structured document lists and import fidelity, on small cells written the way the portal runs them together."""

from __future__ import annotations

from collections import Counter

from knowledge.catalog.model import Channel, Document, Fee, LegalBasis, OfficialRecord
from knowledge.records.facts import from_official
from knowledge.tools.catalog.documents import structured
from knowledge.tools.catalog.fidelity import flag_stray_fees, garbled_number, problems
from knowledge.tools.catalog.parse_portal import DOCUMENT_HEADER, LEGAL_HEADER, parse_documents, parse_legal, parse_page
from knowledge.tools.catalog.report import ImportReport

TABLE = DOCUMENT_HEADER  # the header row the crawler glued in front of every documents table


def record(documents: list[Document], **fields: object) -> OfficialRecord:
    base = {"code": "1.000001", "name": "Thủ tục thử", "source": "national-portal-2026", "crawled": "2026-06",
            "detail": "full"}  # fmt: skip
    return OfficialRecord(**base | fields, documents=documents)  # type: ignore[arg-type]


def numbers(cell: str) -> list[str | None]:
    return [item.number for item in parse_legal(LEGAL_HEADER + cell).items]


# ------------------------------------------------------------------------------------------------ cases


def test_group_headings_that_name_a_situation_become_cases_with_their_own_documents() -> None:
    cell = ("Tờ khai theo mẫu CT01 ban hành kèm theo Thông tư1 bản chính"
            "Chỗ ở thuộc quyền sở hữu của mình" + TABLE + "Giấy tờ chứng minh quyền sở hữu chỗ ở1 bản chính"
            "Chỗ ở do thuê, mượn, ở nhờ" + TABLE + "Hợp đồng thuê nhà có công chứng hoặc chứng thực1 bản chính"
            "Văn bản đồng ý của người cho thuê0 bản chính,1 bản sao")  # fmt: skip
    parsed = structured(record(parse_documents("Giấy tờ phải nộp" + TABLE + cell).documents))
    assert [c.name for c in parsed.cases] == ["Chỗ ở thuộc quyền sở hữu của mình", "Chỗ ở do thuê, mượn, ở nhờ"]
    rented = parsed.cases[1]
    assert [d.name for d in rented.documents] == ["Hợp đồng thuê nhà có công chứng hoặc chứng thực",
                                                  "Văn bản đồng ý của người cho thuê"]  # fmt: skip
    assert [d.name for d in parsed.common_documents] == ["Tờ khai theo mẫu CT01 ban hành kèm theo Thông tư"]
    assert parsed.common_documents[0].form_code == "CT01"


def test_a_single_title_heading_or_generic_headings_are_not_cases() -> None:
    one_title = parse_documents("Hồ sơ đề nghị gồm" + TABLE + "Đơn đề nghị1 bản chính").documents
    assert structured(record(one_title)).cases == []
    generic = parse_documents("Giấy tờ phải nộp" + TABLE + "Đơn đề nghị1 bản chính"
                              "Giấy tờ phải xuất trình" + TABLE + "Thẻ căn cước1 bản chính").documents  # fmt: skip
    parsed = structured(record(generic))
    assert parsed.cases == [] and len(parsed.common_documents) == 2


def test_headings_naming_a_paper_an_addition_or_the_procedure_itself_are_not_cases() -> None:
    """A citizen asked "which case is yours?" must be offered situations, not papers ("Phiếu …"), what the list adds
    to the others ("Ngoài các tài liệu …") or the procedure's own name (the papers every case needs)."""
    cell = ("Đăng ký thành lập công ty thử" + TABLE + "Giấy đề nghị đăng ký doanh nghiệp1 bản chính"
            "Phiếu này là biểu mẫu điện tử, công dân kê khai khi nộp trực tuyến" + TABLE + "Tờ khai1 bản chính"
            "Ngoài các tài liệu nêu trên, hồ sơ phải có thêm" + TABLE + "Bản sao giấy phép1 bản sao"
            "Trường hợp ủy quyền cho cá nhân" + TABLE + "Văn bản ủy quyền1 bản chính"
            "Trường hợp đăng ký doanh nghiệp xã hội" + TABLE + "Cam kết mục tiêu xã hội1 bản chính")  # fmt: skip
    parsed = structured(record(parse_documents(cell).documents, name="Đăng ký thành lập công ty thử"))
    assert [c.name for c in parsed.cases] == ["Trường hợp ủy quyền cho cá nhân",
                                              "Trường hợp đăng ký doanh nghiệp xã hội"]
    assert "Giấy đề nghị đăng ký doanh nghiệp" in [d.name for d in parsed.common_documents]


def test_a_situation_heading_beside_the_common_list_is_a_case() -> None:
    cell = ("Giấy tờ phải nộp" + TABLE + "Tờ khai1 bản chính"
            "a) Trường hợp ủy quyền, hồ sơ gồm:" + TABLE + "Văn bản ủy quyền có chứng thực1 bản chính")  # fmt: skip
    parsed = structured(record(parse_documents(cell).documents))
    assert [c.name for c in parsed.cases] == ["Trường hợp ủy quyền"]
    assert [d.name for d in parsed.common_documents] == ["Tờ khai"]


# ------------------------------------------------------------------------------- notes, shown, form codes


def test_notes_are_kept_apart_from_the_papers() -> None:
    cell = ("Tờ khai đăng ký (Mẫu số 14-HSB)1 bản chính"
            "* Lưu ý: giấy tờ nước ngoài phải được hợp pháp hóa lãnh sự0 bản chính"
            "Trường hợp nộp trực tuyến thì có thể nộp bản chụp1 bản sao"
            "Thành phần hồ sơ đối với người nước ngoài:1 bản chính"
            "Tài liệu bằng tiếng nước ngoài phải được dịch sang tiếng Việt0 bản chính"
            "Trường hợp con chưa đủ 6 tuổi thì phải có thêm giấy khai sinh của con1 bản chính")  # fmt: skip
    parsed = structured(record(parse_documents(TABLE + cell).documents))
    assert [d.name for d in parsed.papers] == [
        "Tờ khai đăng ký (Mẫu số 14-HSB)",
        "Trường hợp con chưa đủ 6 tuổi thì phải có thêm giấy khai sinh của con",  # a paper some citizens add
    ]
    assert len(parsed.document_notes) == 4 and parsed.document_notes[0].startswith("* Lưu ý")
    assert parsed.papers[0].form_code == "14-HSB"


def test_papers_only_shown_are_told_from_papers_handed_in() -> None:
    cell = ("Giấy tờ phải nộp" + TABLE + "Tờ khai TK1-TS1 bản chính"
            "Giấy tờ phải xuất trình" + TABLE + "Hộ chiếu hoặc thẻ căn cước1 bản chính"
            "--" + TABLE + "Xuất trình bản chính giấy khai sinh để đối chiếu1 bản chính"
            "Giấy tờ chứng minh nơi cư trú (không phải xuất trình nếu đã có trong CSDL)1 bản chính")  # fmt: skip
    parsed = structured(record(parse_documents(cell).documents))
    assert [(d.handling, d.form_code) for d in parsed.papers] == [
        ("nộp", "TK1-TS"), ("xuất trình", None), ("xuất trình", None), ("nộp", None),
    ]  # fmt: skip


def test_a_paper_asked_only_in_some_situation_says_which() -> None:
    cell = ("Tờ khai theo mẫu1 bản chính"
            "- Trường hợp trẻ em bị bỏ rơi thì phải có biên bản về việc trẻ bị bỏ rơi1 bản chính"
            "c) Đối với người định cư ở nước ngoài phải nộp thêm bản sao hộ chiếu0 bản chính,1 bản sao"
            "Văn bản ủy quyền có chứng thực trong trường hợp ủy quyền1 bản chính"
            "Các tài liệu khác có liên quan (nếu có)1 bản chính")  # fmt: skip
    parsed = structured(record(parse_documents(TABLE + cell).documents))
    assert [d.condition for d in parsed.papers] == [
        None, "Trường hợp trẻ em bị bỏ rơi", "Đối với người định cư ở nước ngoài", "trường hợp ủy quyền", "nếu có",
    ]  # fmt: skip
    assert [d.condition for d in from_official(parsed).documents][1] == "Trường hợp trẻ em bị bỏ rơi"


def test_structuring_twice_changes_nothing() -> None:
    cell = "Trường hợp 1: cấp mới" + TABLE + "Đơn1 bản chính" + "Trường hợp 2: cấp lại" + TABLE + "Đơn1 bản chính"
    once = structured(record(parse_documents(cell).documents))
    assert structured(once) == once and len(once.cases) == 2


# ------------------------------------------------------------------------- documents lost by the crawl


def test_documents_are_read_from_the_page_text_when_their_cell_holds_another_section() -> None:
    page = {
        "ma_thu_tuc": "1.000001", "ten_thu_tuc": "Thủ tục thử",
        "thanh_phan_ho_so": "Bước 2. Cơ quan tiếp nhận hồ sơ và giải quyết.",  # the steps, not the table
        "raw_text": "Mã thủ tục 1.000001 Trình tự Bước 1. Chuẩn bị Thành phần hồ sơ theo quy định."
                    "Cách Thức Thực HiệnHình thức nộp…Thành phần hồ sơ" + TABLE
                    + "Đơn đề nghị1 bản chínhSổ bảo hiểm1 bản chính" + "Căn cứ pháp lý" + LEGAL_HEADER,
    }  # fmt: skip
    parse = parse_page(page, "1.000001", "2026-06")
    assert parse.record is not None and [d.name for d in parse.record.documents] == ["Đơn đề nghị", "Sổ bảo hiểm"]
    assert parse.documents is not None and parse.documents.from_page_text


# -------------------------------------------------------------------------------------- legal basis


def test_a_title_in_capitals_does_not_run_into_the_number_before_it() -> None:
    assert numbers("Nghị định 166/2016/NĐ-CP166/2016/NĐ-CPLUẬT  Bảo hiểm xã hội58/2014/QH13"
                   "THÔNG TƯ HƯỚNG DẪN01/2016/TT-BLĐTBXHBAN HÀNH QUY TRÌNH2222/QĐ-BHXH") == [  # fmt: skip
        "166/2016/NĐ-CP", "58/2014/QH13", "01/2016/TT-BLĐTBXH", "2222/QĐ-BHXH",
    ]  # fmt: skip


def test_a_date_that_ends_a_title_does_not_lend_its_digits_to_the_number() -> None:
    assert numbers("Luật số 43/2024/QH15 ngày 29/6/202443/2024/QH15"
                   "Quyết định phê duyệt quy trình năm 20223510/QĐ-BHXH"
                   "Luật Quản lý thuế số 78/2006/QH10 ngày 29/11/200678/2006/QH10") == [  # fmt: skip
        "43/2024/QH15", "3510/QĐ-BHXH", "78/2006/QH10",
    ]  # fmt: skip


def test_numbers_a_title_quotes_are_not_rows_and_rows_are_not_lost() -> None:
    assert numbers("Nghị định 146/2018/NĐ-CP Quy định chi tiết Luật bảo hiểm y tếNghị định 146/2018/NĐ-CP"
                   "Thông tư số 64/2025/TT-BCTThông tư số 64/2025/TT-BCT"
                   "THÔNG TƯ SỬA ĐỔI THÔNG TƯ SỐ 245/2016/TT-BTC NGÀY 11 THÁNG 11Thông tư số 110/2017/TT-BTC"
                   "Luật thủy sảnLuật 18/2017/QH14sửa đổi một số điều của 15 luật146/2025/QH15") == [  # fmt: skip
        "146/2018/NĐ-CP", "64/2025/TT-BCT", "110/2017/TT-BTC", "18/2017/QH14", "146/2025/QH15",
    ]  # fmt: skip


def test_number_cells_the_portal_cut_or_spaced_are_repaired() -> None:
    assert numbers("Một cửa liên thông118/2025/NĐ-CLuật Đất đai31/2024/QH15") == ["118/2025/NĐ-CP", "31/2024/QH15"]
    assert numbers("Thông tư liên tịch21/2008/TTLT- BQP-BTC") == ["21/2008/TTLT-BQP-BTC"]
    assert numbers("Thông tư 08.a/2010/TT-BTP08.a/2010/TT-BTP") == ["08.a/2010/TT-BTP"]


def test_garbled_numbers_are_recognised_for_the_report() -> None:
    for bad in ("166/2016/NĐ-CPLUẬT", "02443/2024/QH15", "20223510/QĐ-BHXH", "118/2025/NĐ-C"):
        assert garbled_number(bad), bad
    for good in ("166/2016/NĐ-CP", "43/2024/QH15", "30a/2008/NQ-CP", "66.7/2025/NQ-CP", "05/2015/TTLT-BTP-BCA-BYT"):
        assert not garbled_number(good), good


# --------------------------------------------------------------------------------------------- fees


def test_a_fee_far_below_the_other_channels_is_flagged_and_not_answered_as_is() -> None:
    fee = lambda amount: Fee(kind="amount", amount_vnd=amount, currency="VND")  # noqa: E731
    channels = [Channel(method="trực tiếp", fees=[fee(800_000)]), Channel(method="bưu chính", fees=[fee(8_000)])]
    flagged = flag_stray_fees(record([], channels=channels))
    assert [f.suspect for c in flagged.channels for f in c.fees] == [False, True]
    post = from_official(flagged).channels[1]
    assert post.fee is not None and "Chưa rõ mức thu" in post.fee and not post.fee.startswith("8.000")
    tiers = [Channel(method="trực tiếp", fees=[fee(500_000), fee(50_000_000)]),
             Channel(method="trực tuyến", fees=[fee(50_000_000), fee(500_000)])]  # fmt: skip
    assert not any(f.suspect for c in flag_stray_fees(record([], channels=tiers)).channels for f in c.fees)


# ----------------------------------------------------------------------------------- answer side, report


def test_the_answer_side_gets_cases_common_documents_and_notes() -> None:
    cell = ("Giấy tờ phải nộp" + TABLE + "Tờ khai1 bản chính" "Lưu ý: mang theo bản chính để đối chiếu0 bản chính"
            "Trường hợp thuê nhà" + TABLE + "Hợp đồng thuê nhà1 bản chính"
            "Trường hợp nhà của mình" + TABLE + "Giấy chứng nhận quyền sở hữu1 bản chính")  # fmt: skip
    facts = from_official(structured(record(parse_documents(cell).documents)))
    assert [(c.name, [d.name for d in c.documents]) for c in facts.cases] == [
        ("Trường hợp thuê nhà", ["Hợp đồng thuê nhà"]), ("Trường hợp nhà của mình", ["Giấy chứng nhận quyền sở hữu"]),
    ]  # fmt: skip
    assert [d.name for d in facts.common_documents] == ["Tờ khai"]
    assert facts.document_notes == ("Lưu ý: mang theo bản chính để đối chiếu",)
    assert "Lưu ý" not in " ".join(d.name for d in facts.documents)


def test_the_report_prints_each_problem_before_and_after() -> None:
    broken = record([], legal_basis=[LegalBasis(number="166/2016/NĐ-CPLUẬT", title="Nghị định")])
    fixed = structured(record([Document(name="Đơn", originals=1), Document(name="Lưu ý: mang bản chính")],
                              legal_basis=[LegalBasis(number="166/2016/NĐ-CP", title="Nghị định")]))  # fmt: skip
    report = ImportReport(fidelity_before=problems([broken]), fidelity_after=problems([fixed]))
    text = report.text()
    assert "legal basis with a garbled number                        1 →     0" in text
    assert "no documents                                             1 →     0" in text
    assert problems([fixed]) >= Counter({"notes separated from documents": 1})
