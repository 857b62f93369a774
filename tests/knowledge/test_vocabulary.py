"""The vocabulary staff edit (knowledge/data/vocabulary/*.yml) drives understanding; extending it needs no Python."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import language
from knowledge.index.build import build
from knowledge.language import VOCABULARY_DIR, Vocabulary, VocabularyError, expand_abbreviations, feedback_score
from knowledge.search import KnowledgeBase
from knowledge.search.reading import with_official_names

BIRTH = "ho-tich-khai-sinh"


def vocabulary_copy(tmp_path: Path) -> Path:
    target = tmp_path / "vocabulary"
    shutil.copytree(VOCABULARY_DIR, target)
    return target


def add_lines(path: Path, after: str, lines: str) -> None:
    """Edit a vocabulary file as staff would, in a text editor: new lines under a section."""
    text = path.read_text(encoding="utf-8")
    assert after in text
    path.write_text(text.replace(after, after + lines, 1), encoding="utf-8")


def test_every_file_loads_and_staff_have_a_guide() -> None:
    vocabulary = Vocabulary.load(VOCABULARY_DIR)
    assert vocabulary.chat["dk"] == "đăng ký" and vocabulary.documents["cchc"] == "cải cách hành chính"
    assert ("ket", "qua") in vocabulary.scaffold_phrases
    assert "Cách thêm" in (VOCABULARY_DIR / "README.md").read_text(encoding="utf-8")


def test_chat_abbreviations_are_spelled_out_in_messages_and_official_ones_only_for_word_matching() -> None:
    assert expand_abbreviations("dk tam tru ko, cần j") == "đăng ký tam tru không, cần gì"
    assert expand_abbreviations("đc cchc") == "được cchc"  # compared without diacritics: "đc" is "dc"
    # Official texts: one-letter list items stay, official abbreviations are spelled out.
    assert expand_abbreviations("điểm e khoản a, CCHC", documents=True) == "điểm e khoản a, cải cách hành chính"


def test_i_and_y_spellings_are_one_everywhere() -> None:
    assert language.syllables("đăng kí lí lịch tư pháp") == language.syllables("Đăng ký lý lịch tư pháp")
    assert language.folded_message("Đăng kí lí lịch 👍") == "dang ki li lich huu ich"
    assert language.folded_message("tay quay") == "tay quay"  # y after a vowel is another sound


@pytest.mark.parametrize(
    "praise",
    ["thẻ bảo hiểm y tế rất rõ", "cụ thể lắm", "rất rõ", "dễ hiểu", "the bao hiem y te rat ro", "cu the lam",
     "không có gì sai", "thông tin hữu ích lắm", "👍"],
)  # fmt: skip
def test_praise_scores_positive(praise: str) -> None:
    assert feedback_score(praise) > 0


@pytest.mark.parametrize(
    "complaint",
    ["không rõ", "chưa rõ", "khó hiểu", "k ro lam", "không hữu ích", "trả lời sai rồi", "chẳng giúp được gì",
     "thông tin cũ rồi", "không", "👎"],
)  # fmt: skip
def test_complaints_score_negative(complaint: str) -> None:
    assert feedback_score(complaint) < 0


def test_a_new_abbreviation_changes_what_the_search_understands_after_a_rebuild(
    knowledge_and_index: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge_dir, index_dir = knowledge_and_index
    build(index_dir, knowledge_dir)
    question = "lam gks cho con"
    before = KnowledgeBase(index_dir, watch=False).search(question)
    assert (before.verdict, before.hits[0].doc_id) != ("sure", BIRTH)

    vocabulary = vocabulary_copy(tmp_path)
    add_lines(vocabulary / "abbreviations.yml", "chat:\n", "  gks: giấy khai sinh\n")
    monkeypatch.setenv("MOCUA_VOCABULARY_DIR", str(vocabulary))
    report = build(index_dir, knowledge_dir)
    assert report.published, "a vocabulary change must rebuild the index"
    after = KnowledgeBase(index_dir, watch=False).search(question)
    assert (after.verdict, after.hits[0].doc_id) == ("sure", BIRTH)


def test_a_running_process_picks_up_an_edited_vocabulary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vocabulary = vocabulary_copy(tmp_path)
    monkeypatch.setenv("MOCUA_VOCABULARY_DIR", str(vocabulary))
    assert expand_abbreviations("xin gks") == "xin gks"
    add_lines(vocabulary / "abbreviations.yml", "chat:\n", "  gks: giấy khai sinh\n")
    monkeypatch.setattr(language, "RELOAD_CHECK_SECONDS", 0.0)
    assert expand_abbreviations("xin gks") == "xin giấy khai sinh"


@pytest.mark.parametrize(
    ("file", "after", "lines", "problem"),
    [
        ("abbreviations.yml", "chat:\n", "  đk: đăng ký\n", "«dk» đã có ở trên"),
        ("abbreviations.yml", "chat:\n", "  giay ks: giấy khai sinh\n", "phải là một từ"),
        ("abbreviations.yml", "chat:\n", "  no: không\n", "ngoặc kép"),
        ("spelling_variants.yml", "syllables:\n", "  ki: kii\n", "vừa là cách viết chung"),
        ("stop_phrases.yml", "phrases:\n", "  - a: b\n", "phải là danh sách"),
    ],
)
def test_a_mistake_in_a_file_is_reported_with_the_file_and_what_to_fix(
    tmp_path: Path, file: str, after: str, lines: str, problem: str
) -> None:
    vocabulary = vocabulary_copy(tmp_path)
    add_lines(vocabulary / file, after, lines)
    with pytest.raises(VocabularyError, match=f"{file}.*{problem}"):
        Vocabulary.load(vocabulary)


def test_the_aspect_a_message_asks_is_read_from_its_cue_phrases_with_or_without_diacritics() -> None:
    assert language.cued_aspect("làm giấy khai sinh cho con có mất tiền không") == "fee"
    assert language.cued_aspect("lam giay khai sinh cho con co mat tien khong") == "fee"
    assert language.cued_aspect("cap lai can cuoc cho me toi can dieu kien gi") == "eligibility"
    assert language.cued_aspect("tôi muốn đăng ký kết hôn") is None
    assert language.cued_aspect("giấy khai sinh bị mất, làm lại thế nào") is None  # "bị mất" is not a fee
    # two aspects asked at once: none is the one asked, the overview answers both
    assert language.cued_aspect("làm khai sinh mất tiền không, nộp ở đâu") is None


def test_staff_add_an_aspect_cue_without_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vocabulary = vocabulary_copy(tmp_path)
    monkeypatch.setenv("MOCUA_VOCABULARY_DIR", str(vocabulary))
    assert language.cued_aspect("làm hộ chiếu có tốn xèng không") is None
    add_lines(vocabulary / "aspects.yml", "fee:\n", "  - tốn xèng\n")
    assert language.cued_aspect("lam ho chieu co ton xeng khong") == "fee"


REISSUE_VEHICLE_REGISTRATION = {"1.013080", "1.013082"}  # one procedure, listed per channel


def test_an_everyday_name_of_a_paper_finds_the_procedure_official_texts_name_otherwise(
    built_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """«cà vẹt» is what citizens call the vehicle registration certificate; no official text says it. The search reads
    it as the certificate (questions.yml everyday_names), so a re-issue asked that way is answered with the re-issue
    procedure the national catalogue alone holds; without that line in the file it is not."""
    kb = KnowledgeBase(built_index, watch=False)
    question = "bi mat cavet xe may thi xin cap lai o dau"

    def answered() -> str | None:
        decision = kb.search(question).decision
        return decision.best.doc_id if decision.kind == "answer" and decision.best else None

    assert answered() in REISSUE_VEHICLE_REGISTRATION
    vocabulary = vocabulary_copy(tmp_path)
    file = vocabulary / "questions.yml"
    line = next(x for x in file.read_text(encoding="utf-8").splitlines() if "cavet" in x)
    file.write_text(file.read_text(encoding="utf-8").replace(line + "\n", ""), encoding="utf-8")
    monkeypatch.setenv("MOCUA_VOCABULARY_DIR", str(vocabulary))
    monkeypatch.setattr(language, "RELOAD_CHECK_SECONDS", 0.0)
    assert answered() not in REISSUE_VEHICLE_REGISTRATION


def test_an_everyday_name_is_read_with_its_diacritics_when_the_message_has_them() -> None:
    assert "thị thực" in with_official_names("xin visa cho vợ người nước ngoài")
    assert "kiểm định" in with_official_names("xe oto den han dang kiem")  # typed without: compared folded
    assert "khai tử" not in with_official_names("bảo tu")  # typed with them, another word is not the name
    assert with_official_names("đăng ký khai sinh") == "đăng ký khai sinh"  # nothing to add
