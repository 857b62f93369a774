"""A family of records: the shortest name whose words another record's name all holds heads it
(knowledge/index/documents.assign_families). Pure, on hand-made records."""

from __future__ import annotations

from typing import Any

from knowledge.index.documents import assign_families


def records(*titles: str) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "kind": "official", "title": t, "fields": ["Đường bộ"]} for i, t in enumerate(titles)]


def heads(docs: list[dict[str, Any]]) -> dict[str, str | None]:
    by_id = {d["id"]: d["title"] for d in docs}
    return {d["title"]: by_id.get(d.get("family") or "") for d in docs}


def test_a_re_issue_whose_word_folds_like_one_of_the_name_joins_its_family() -> None:
    # "lại" (again) folds like "lái" (drive): the re-issue's folded words are the same set as the first issue's
    docs = records("Cấp Giấy chứng nhận giáo viên dạy thực hành lái xe",
                   "Cấp lại Giấy chứng nhận giáo viên dạy thực hành lái xe")  # fmt: skip
    assign_families(docs)
    assert heads(docs)["Cấp lại Giấy chứng nhận giáo viên dạy thực hành lái xe"] == docs[0]["title"]
    assert docs[0]["variants"] == [docs[1]["id"]]


def test_a_name_that_only_repeats_a_word_of_another_says_nothing_more() -> None:
    # "Cấp, cấp lại …" repeats "cấp": it is no case of "Cấp lại …" (a first issue would be answered as a re-issue)
    docs = records("Cấp lại Giấy phép liên vận GMS", "Cấp, cấp lại Giấy phép liên vận GMS")
    assign_families(docs)
    assert heads(docs) == {docs[0]["title"]: None, docs[1]["title"]: None}


def test_a_variant_with_words_of_its_own_joins_its_family_and_another_procedure_does_not() -> None:
    docs = records("Đăng ký khai sinh", "Đăng ký khai sinh lưu động", "Đăng ký khai tử", "Cấp giấy phép lái xe",
                   "Cấp lại giấy phép lái xe")  # fmt: skip
    assign_families(docs)
    assert heads(docs) == {
        "Đăng ký khai sinh": None, "Đăng ký khai sinh lưu động": "Đăng ký khai sinh", "Đăng ký khai tử": None,
        "Cấp giấy phép lái xe": None, "Cấp lại giấy phép lái xe": "Cấp giấy phép lái xe",
    }  # fmt: skip
