"""Reading a long message for the search: which clause asks, and whether the message tells a story around it
(knowledge/search/reading.py). Pure functions over the shipped vocabulary: no index, no servers."""

from __future__ import annotations

import pytest

from knowledge.search.reading import (
    asking_clause,
    operation_phrases,
    said_operations,
    sibling_operations,
    tells_a_story,
    with_folded,
)
from knowledge.text import fold

# The procedure is named in a question in the middle; the message closes with a question that names nothing.
NAMED_IN_THE_MIDDLE = [
    ("Tôi về quê ăn Tết từ hôm 25 tháng Chạp. Giấy phép lái xe bị mất thì xin cấp lại có được không. Tuần sau tôi "
     "phải chạy xe giao hàng rồi. Vậy tôi phải làm sao ạ?",
     "Giấy phép lái xe bị mất thì xin cấp lại có được không."),
    ("Mẹ tôi năm nay 83 tuổi, sống một mình ở Bến Tre. Người già không có lương hưu thì được trợ cấp bao nhiêu. "
     "Cán bộ xã hẹn tôi tuần sau quay lại. Tôi nên làm thế nào đây?",
     "Người già không có lương hưu thì được trợ cấp bao nhiêu."),
    ("Tôi thuê phòng trọ ở Thủ Đức từ tháng 3, giá 2 triệu rưỡi. Đăng ký tạm trú ở nhà thuê cần giấy tờ gì. Chủ "
     "nhà bảo tự đi mà làm. Mọi người giải đáp giúp em được không ạ?",
     "Đăng ký tạm trú ở nhà thuê cần giấy tờ gì."),
]


# Closings that keep words of their own ("giờ", "đây", "bây giờ": knowledge/vocabulary/questions.yml closing)
NAMED_IN_THE_MIDDLE += [
    ("Tháng trước nhà tôi bị mất trộm, mất luôn cái ví. Đăng ký xe máy bị mất thì xin cấp lại ở đâu. Tôi đã báo "
     "công an rồi. Giờ tôi phải làm sao đây?",
     "Đăng ký xe máy bị mất thì xin cấp lại ở đâu."),
    ("Em đi làm xa nhà đã ba năm, giờ mới về quê. Đăng ký thường trú lại cho con cần giấy tờ gì. Cán bộ hẹn em thứ "
     "hai. Bây giờ em phải làm gì ạ?",
     "Đăng ký thường trú lại cho con cần giấy tờ gì."),
]


@pytest.mark.parametrize(("message", "asking"), NAMED_IN_THE_MIDDLE)
def test_a_closing_that_names_nothing_leaves_the_question_before_it(message: str, asking: str) -> None:
    assert asking_clause(message) == asking
    assert asking_clause(fold(message)) == fold(asking)  # typed without diacritics alike


def test_the_last_question_that_names_something_is_the_one_asked() -> None:
    message = ("Năm ngoái tôi hỏi làm căn cước ở đâu thì được chỉ lên công an huyện. Giờ huyện bỏ rồi, cán bộ bảo "
               "lên tỉnh. Cho tôi hỏi cấp lại căn cước bị mất thì mất bao lâu?")  # fmt: skip
    assert asking_clause(message) == "Cho tôi hỏi cấp lại căn cước bị mất thì mất bao lâu?"


def test_a_story_whose_clauses_name_nothing_asked_is_read_whole() -> None:
    # the need is told as a statement, not asked: no clause stands for the question
    message = ("Tôi làm mất sổ hộ khẩu cũ từ lâu. Cán bộ bảo giờ không dùng sổ nữa. Tôi đã gọi tổng đài 2 lần. "
               "Vậy tôi phải làm sao?")  # fmt: skip
    assert asking_clause(message) is None
    assert tells_a_story(message)


@pytest.mark.parametrize(
    "message",
    ["làm căn cước ở đâu? cần gì?", "Cho tôi hỏi đăng ký kết hôn cần giấy tờ gì ạ?",
     "Con tôi mới sinh. Làm khai sinh ở đâu?"],
)  # fmt: skip
def test_a_short_question_tells_no_story(message: str) -> None:
    assert not tells_a_story(message)
    assert asking_clause(message) is None


def test_a_word_of_a_closing_read_without_diacritics_may_still_name_something() -> None:
    # "day" typed without diacritics may be "dạy" (teaching): a one-word closing counts only with its diacritics
    message = "Nhà tôi mở lớp ở quận 3 từ tháng 9. Phụ huynh hỏi nhiều. Giấy phép dạy thêm ở đâu?"
    assert asking_clause(fold(message)) == fold("Giấy phép dạy thêm ở đâu?")


def test_the_phrases_that_name_another_operation_are_learned_from_the_catalogues_families() -> None:
    papers = ["giấy phép lái tàu", "thẻ hội viên", "chứng chỉ hành nghề", "giấy phép bay", "thẻ ngư dân"]
    pairs = [(f"Cấp lại {paper}", f"Cấp {paper}") for paper in papers]
    pairs += [(f"Cấp, cấp lại {paper}", f"Cấp {paper}") for paper in papers]  # two operations listed name none
    pairs += [("Cấp đổi thẻ hội viên", "Cấp thẻ hội viên")]  # one family is too few to tell
    pairs += [("Cấp lại", "Cấp"), ("Đăng ký", "Đăng")]  # names as short as that are read without failing
    phrases = with_folded(operation_phrases(pairs, min_families=5))
    assert phrases.keys() == {("cấp", "lại")}
    assert said_operations("Xin cấp lại sổ đỏ bị mất", phrases) == [("cấp", "lại")]
    assert said_operations("xin cap lai so do", phrases) == [("cấp", "lại")]
    # with diacritics typed they are read: «cấp lái» is not «cấp lại»; and a word that only ends up next is not said
    assert said_operations("giấy phép cấp lái xe", phrases) == []
    assert said_operations("lại bị từ chối cấp", phrases) == []


def test_the_operations_that_tell_siblings_apart_are_learned_from_names_that_vary_over_one_paper() -> None:
    papers = [f"giấy phép khai thác mỏ số {n}" for n in range(12)]
    titles = [f"Cấp {paper}" for paper in papers] + [f"Gia hạn {paper}" for paper in papers]
    titles += [f"Thu hồi {paper}" for paper in papers[:3]]  # varies over too few papers to count
    # «Đăng ký» varies over the twelve papers too, but starts far more names than that: a kind of procedure
    titles += [f"Đăng ký {paper}" for paper in papers]
    titles += [f"Đăng ký hoạt động hội nghề số {n}" for n in range(300)]
    operations = with_folded(sibling_operations(titles, min_objects=10, min_share=0.05))
    # a one-word lead («Cấp») is what longer ones share, never an operation
    assert operations.keys() == {("gia", "hạn")}
    assert said_operations("giấy phép sắp hết hạn, xin gia hạn ở đâu", operations) == [("gia", "hạn")]
    assert said_operations("xin gia han giay phep", operations) == [("gia", "hạn")]
