"""Check the knowledge files the way a careful colleague would, then say what to fix.

    python -m knowledge.tools.records.lint                 # everything under knowledge/data/
    python -m knowledge.tools.records.lint FILE_OR_DIR...  # only these files (cross-file checks among them)

Prints ``file:line: field: [lỗi|cảnh báo] message`` per problem and a summary; exits 1 when any error remains.
Besides the schema it checks: ids unique and equal to the file name, aliases shared between records, aliases that
copy a question of the frozen test split, review dates, wording from before the 1 July 2025 reorganisation, the
reform note, sources and legal references, and every fact a record linked to official codes still sets against the
official record (knowledge/tools/records/official_check.py: "field: curated says X, official <code> says Y"); a
`reform_2025: confirmed` needs such a link to a 2026 record with no disagreement left.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import functools
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge import clock
from knowledge.language import expand_abbreviations, syllables
from knowledge.records.loader import (
    KNOWLEDGE_ROOT,
    REPO_ROOT,
    ParsedFile,
    Problem,
    display_path,
    is_skipped,
    knowledge_files,
    parse_files,
)
from knowledge.records.schema import Guide, Procedure
from knowledge.text import fold, has_diacritics
from knowledge.tools.records.official_check import official_problems

STALE_AFTER_MONTHS = 12

# The frozen test split (tests/data/questions/README.md): no alias may copy one of its questions, or its figures
# would measure the aliases instead of the search.
TEST_QUESTIONS = REPO_ROOT / "tests" / "data" / "questions" / "test.yml"
# Near copy: same words after folding and expanding chat abbreviations, or a word-sequence similarity
# (difflib ratio 2*matches/total over those words) of at least NEAR_COPY. Measured on 2026-11-27, 454 aliases
# against 381 test questions written without reading them: the closest alias of each question scored median
# 0.47, p95 0.80, p99 0.89, max 0.90 ("làm mất bằng lái xe máy thì làm lại ở đâu" / "mất bằng lái xe máy làm
# lại ở đâu": independent writers converge on short stock phrases). Copies simulated from every test question
# score: one word dropped (first or last) 100 % >= 0.85, two trailing words dropped 88 %, one word replaced or
# two swapped 96 %, one inserted 100 %. Content-word Jaccard could not separate the two (13 independent pairs at
# 1.0: "mua bảo hiểm y tế hộ gia đình ở đâu" / "mua bảo hiểm y tế hộ gia đình"). At 0.85, 9 independent
# questions plus 3 identical ones collided with existing aliases; they were moved to the dev split.
NEAR_COPY = 0.85


@dataclass(frozen=True)
class OldTerm:
    pattern: re.Pattern[str]
    label: str
    folded: bool  # match on fold(text) (multi-word phrases) or on lower-case text with diacritics


def _folded(rx: str, label: str) -> OldTerm:
    return OldTerm(re.compile(rx), label, True)


def _accented(rx: str, label: str) -> OldTerm:
    return OldTerm(re.compile(rx), label, False)


# Names of the district level that ended on 1 July 2025. Single words are matched WITH diacritics, because
# folded "quan" is also "cơ quan" and folded "huyen" also "Huyền"; phrases are matched folded.
DISTRICT_TERMS: list[OldTerm] = [
    # Folded phrases never end in "quan": folded, "cấp quận" and "cấp quản lý" look alike.
    _folded(r"\bcap huyen\b", "cấp huyện"),
    _folded(r"\b(ubnd|uy ban nhan dan) (huyen|thi xa)\b", "UBND huyện/thị xã"),
    _folded(r"\bcong an (huyen|thi xa)\b", "Công an huyện"),
    _folded(r"\bphong( [a-z&,-]+){1,8} (huyen|thi xa)\b", "Phòng ... huyện"),
    _folded(r"\bchi nhanh van phong dang ky dat dai (cap )?(huyen|thi xa)\b", "Chi nhánh VPĐKĐĐ cấp huyện"),
    _folded(r"\bthi xa\b", "thị xã"),
    _folded(r"\bthi tran\b", "thị trấn"),
    _accented(r"\bhuyện\b", "huyện"),
    _accented(r"\bquận\b", "quận"),
]
# Same words typed without diacritics; only tried on text that has no diacritics at all.
UNACCENTED_TERMS: list[OldTerm] = [
    _folded(r"\bhuyen\b", "huyen"),
    _folded(r"\bquan (\d+|huyen)\b", "quan"),
]
# Provincial departments merged in 2025 (old name -> new name). Warnings: the old name may be quoted on purpose.
MERGED_DEPARTMENTS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"\bso tai nguyen (va|&) moi truong\b"), "Sở Tài nguyên và Môi trường", "Sở Nông nghiệp và Môi trường"),
    (re.compile(r"\bso ke hoach (va|&) dau tu\b"), "Sở Kế hoạch và Đầu tư", "Sở Tài chính"),
    (
        re.compile(r"\bso lao dong\W+thuong binh (va|&) xa hoi\b"),
        "Sở Lao động – Thương binh và Xã hội",
        "Sở Nội vụ (lao động, việc làm) hoặc Sở Y tế (bảo trợ xã hội, trẻ em)",
    ),
    (re.compile(r"\bso giao thong van tai\b"), "Sở Giao thông vận tải", "Sở Xây dựng"),
    (re.compile(r"\bso thong tin (va|&) truyen thong\b"), "Sở Thông tin và Truyền thông", "Sở Khoa học và Công nghệ"),
    (re.compile(r"\bchi cuc thue\b"), "Chi cục Thuế", "Thuế cơ sở"),
]
# Where the office a citizen must go to is named: old wording there is a warning even with a reform note.
OFFICE_FIELDS = ("agency", "submission.where")

DOCUMENT_NUMBER = re.compile(r"\b\d{1,5}/(\d{4}/)?[A-ZĐ][A-ZĐ0-9]*(-[A-ZĐ0-9]+)*", re.IGNORECASE)
URL = re.compile(r"https?://\S+|\b[\w-]+(\.[\w-]+)*\.(vn|gov|com|org|net|int)\b", re.IGNORECASE)
DOCUMENT_WORDS = re.compile(
    r"\b(nghi dinh|nghi quyet|thong tu|luat|bo luat|quyet dinh|cong van|van ban|thong bao|ke hoach|huong dan"
    r"|bo thu tuc|co so du lieu quoc gia|cong dich vu cong|cong thong tin|niem yet|phieu|bao|bai viet|tap chi"
    r"|ban tin|tai lieu|so tay|to khai|bieu mau)\b"
)


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) for every string in the raw YAML data, named as the loader names fields."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i + 1}]")


def old_wording(text: str) -> list[str]:
    """Labels of pre-July-2025 district-level wording found in ``text`` (empty when none)."""
    folded, lower = fold(text), text.lower()
    terms = DISTRICT_TERMS + ([] if has_diacritics(text) else UNACCENTED_TERMS)
    found = [t.label for t in terms if t.pattern.search(folded if t.folded else lower)]
    return list(dict.fromkeys(found))


class Linter:
    def __init__(self, parsed: list[ParsedFile], today: dt.date, test_questions: list[str] | None = None) -> None:
        self.parsed = parsed
        self.today = today
        self.test_questions = test_questions or []
        self.problems: list[Problem] = []

    def add(self, item: ParsedFile, field: str, message: str, severity: str = "warning") -> None:
        line = item.lines.get(field) or item.lines.get(field.split("[")[0].split(".")[0]) or 1
        self.problems.append(Problem(item.path, line, field, message, severity))  # type: ignore[arg-type]

    def run(self) -> list[Problem]:
        for item in self.parsed:
            self.problems.extend(item.problems)
        valid = [item for item in self.parsed if item.record is not None]
        for item in valid:
            self.check_file_name(item)
            self.check_review_date(item)
            self.check_reform(item)
            self.check_source(item)
            self.check_legal_basis(item)
            self.problems.extend(official_problems(item))
        self.check_aliases(valid)
        self.check_test_copies(valid)
        return sorted(self.problems, key=lambda p: (display_path(p.file), p.line, p.field))

    def check_file_name(self, item: ParsedFile) -> None:
        record = _record(item)
        expected = f"{record.id}.md" if isinstance(record, Guide) else f"{record.id}.yml"
        if item.path.name != expected:
            self.add(
                item,
                "id",
                f"tên file phải trùng với mã: đổi tên file thành «{expected}» (hoặc sửa id cho khớp tên file)",
                "error",
            )

    def check_review_date(self, item: ParsedFile) -> None:
        reviewed = _record(item).last_reviewed
        if reviewed > self.today:
            self.add(
                item,
                "last_reviewed",
                f"ngày rà soát {reviewed:%d/%m/%Y} ở tương lai — ghi ngày thực tế đã kiểm tra nội dung",
                "error",
            )
        elif reviewed < _months_before(self.today, STALE_AFTER_MONTHS):
            self.add(
                item,
                "last_reviewed",
                f"đã quá {STALE_AFTER_MONTHS} tháng chưa rà soát (lần cuối {reviewed:%d/%m/%Y}) — kiểm tra lại với "
                "văn bản hiện hành rồi cập nhật ngày",
            )

    def check_reform(self, item: ParsedFile) -> None:
        reform = _record(item).reform_2025
        if reform is not None and reform.status == "unverified":
            self.add(
                item,
                "reform_2025.status",
                "needs checking after the July 2025 reorganisation — đối chiếu với quy định sau 1/7/2025, "
                "xong thì đổi status thành confirmed",
            )
        for field, text, line in self._texts(item):
            if field.startswith("reform_2025"):
                continue
            labels = old_wording(text)
            if labels and reform is None:
                self._add_at(
                    item,
                    field,
                    line,
                    f"dùng cách gọi trước 1/7/2025 ({', '.join(labels)}) — nay không còn cấp huyện: sửa theo "
                    "cấp xã/tỉnh hiện hành, hoặc nếu cố ý nhắc tên cũ thì thêm mục reform_2025 (status, note) "
                    "giải thích thay đổi",
                    "error",
                )
            elif labels and field in OFFICE_FIELDS:
                self._add_at(
                    item,
                    field,
                    line,
                    f"nơi tiếp nhận vẫn ghi theo cách gọi cũ ({', '.join(labels)}) — ghi cơ quan hiện nay",
                    "warning",
                )
            # Old department names in a record already explained by a reform note are usually history on purpose.
            if reform is not None and field not in OFFICE_FIELDS:
                continue
            folded = fold(text)
            for pattern, old, new in MERGED_DEPARTMENTS:
                if pattern.search(folded):
                    self._add_at(
                        item,
                        field,
                        line,
                        f"«{old}» đã sáp nhập năm 2025, nay là {new} — sửa tên cơ quan "
                        "(bỏ qua nếu chỉ nhắc tên cũ để giải thích)",
                        "warning",
                    )

    def _texts(self, item: ParsedFile) -> Iterator[tuple[str, str, int]]:
        """(field, text, line) for every text field; a guide's body line by line."""
        for field, text in _strings(item.data):
            yield field, text, item.lines.get(field, 1)
        if isinstance(item.record, Guide):
            for i, line in enumerate(item.record.body.splitlines()):
                if line.strip():
                    yield "body", line, item.body_line + i

    def _add_at(self, item: ParsedFile, field: str, line: int, message: str, severity: str) -> None:
        self.problems.append(Problem(item.path, line, field, message, severity))  # type: ignore[arg-type]

    def check_source(self, item: ParsedFile) -> None:
        source = _record(item).source
        if not (URL.search(source) or DOCUMENT_NUMBER.search(source) or DOCUMENT_WORDS.search(fold(source))):
            self.add(
                item,
                "source",
                "không rõ nguồn — ghi địa chỉ trang web (https://...) hoặc tên văn bản, ví dụ "
                "«Quyết định 1234/QĐ-UBND công bố thủ tục hành chính»",
            )

    def check_legal_basis(self, item: ParsedFile) -> None:
        if not isinstance(item.record, Procedure):
            return
        for i, entry in enumerate(item.record.legal_basis or []):
            if not DOCUMENT_NUMBER.search(entry):
                self.add(
                    item,
                    f"legal_basis[{i + 1}]",
                    f"«{entry}» thiếu số hiệu văn bản — ghi kèm số hiệu, ví dụ «Nghị định 123/2015/NĐ-CP» "
                    "hoặc «Luật Hộ tịch số 60/2014/QH13»",
                )

    def check_aliases(self, items: list[ParsedFile]) -> None:
        """Two records answering to the same words make the bot guess: each alias should belong to one record."""
        groups: dict[str, list[tuple[ParsedFile, str, str]]] = {}  # folded text -> (file, field, text as written)
        for item in items:
            record = _record(item)
            name = record.name if isinstance(record, Procedure) else record.title
            seen = {fold(name): "tên chính"}
            groups.setdefault(fold(name), []).append((item, "name", name))
            for i, alias in enumerate(record.aliases):
                key, field = fold(alias), f"aliases[{i + 1}]"
                if key in seen:
                    self.add(item, field, f"«{alias}» bị lặp trong cùng file (trùng {seen[key]}) — xóa dòng này")
                    continue
                seen[key] = field
                groups.setdefault(key, []).append((item, field, alias))
        for entries in groups.values():
            if len({id(item) for item, _, _ in entries}) < 2:
                continue
            for item, field, text in entries:
                if field == "name":
                    continue
                others = ", ".join(f"{_record(o).id} ({display_path(o.path)})" for o, _, _ in entries if o is not item)
                self.add(
                    item,
                    field,
                    f"tên gọi «{text}» trùng với {others} — trợ lý sẽ không phân biệt được; chỉ giữ ở một nơi",
                )


    def check_test_copies(self, items: list[ParsedFile]) -> None:
        """An alias that repeats a frozen test question (nearly word for word) is an error: rephrase or drop it."""
        questions = tuple((q, _typed_words(q)) for q in self.test_questions)
        for item in items:
            for i, alias in enumerate(_record(item).aliases):
                copied = _near_copy_once(_typed_words(alias), questions)
                if copied is not None:
                    self.add(
                        item,
                        f"aliases[{i + 1}]",
                        f"«{alias}» gần như chép lại câu hỏi kiểm tra «{copied}» ({display_path(TEST_QUESTIONS)}) — "
                        "bộ câu hỏi kiểm tra phải độc lập với tên gọi: viết tên gọi theo cách khác hoặc xóa dòng này",
                        "error",
                    )


def _record(item: ParsedFile) -> Procedure | Guide:
    """The record of a file that parsed: the checks of single records run on those only."""
    assert item.record is not None, item.path
    return item.record


@functools.lru_cache(maxsize=16384)
def _typed_words(text: str) -> tuple[str, ...]:
    """Folded words, one spelling each, chat abbreviations spelled out: "ko" and "không" are one word to a copier."""
    return tuple(syllables(expand_abbreviations(text)))


@functools.lru_cache(maxsize=8192)
def _near_copy_once(alias: tuple[str, ...], questions: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    """near_copy, remembered: the console checks every alias again on each edit, and each check costs ~3 ms."""
    return near_copy(alias, list(questions))


def near_copy(alias: tuple[str, ...], questions: list[tuple[str, tuple[str, ...]]]) -> str | None:
    """The first test question this alias (as folded words) nearly copies, or None."""
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq1(alias)
    for text, question in questions:
        if question == alias:
            return text
        matcher.set_seq2(question)
        # cheap upper bounds first: most pairs share almost nothing
        bounds = matcher.real_quick_ratio() >= NEAR_COPY and matcher.quick_ratio() >= NEAR_COPY
        if bounds and matcher.ratio() >= NEAR_COPY:
            return text
    return None


def _questions_once(path: Path) -> list[str]:
    """load_test_questions, read again only when the file changes (the console checks on every edit)."""
    stamp = path.stat().st_mtime_ns if path.is_file() else None
    return list(_read_questions(path, stamp))


@functools.lru_cache(maxsize=4)
def _read_questions(path: Path, stamp: int | None) -> tuple[str, ...]:
    return tuple(load_test_questions(path))


def load_test_questions(path: Path = TEST_QUESTIONS) -> list[str]:
    """The texts of the frozen test split (blocks of questions with provenance); none when the file is absent."""
    import yaml

    if not path.is_file():
        return []
    blocks = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [str(row["q"]) for block in blocks for row in block.get("questions", [block]) or []]


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files to check: files as given; a directory either is a knowledge root or holds records directly."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            if (path / "procedures").is_dir() or (path / "guides").is_dir():
                files += knowledge_files(path)
            else:
                files += sorted(
                    p
                    for p in path.iterdir()
                    if p.suffix in (".yml", ".yaml", ".md") and p.is_file() and not is_skipped(p)
                )
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def lint(
    paths: Iterable[Path] | None = None, today: dt.date | None = None, test_questions: Path = TEST_QUESTIONS
) -> tuple[list[Problem], list[ParsedFile]]:
    """All problems (errors and warnings) in the given files, or in the whole knowledge base."""
    files = collect_files(paths) if paths else knowledge_files(KNOWLEDGE_ROOT)
    parsed = parse_files(files)
    return Linter(parsed, today or clock.today(), _questions_once(test_questions)).run(), parsed


def _line(problem: Problem) -> str:
    tag = "lỗi" if problem.severity == "error" else "cảnh báo"
    return f"{display_path(problem.file)}:{problem.line}: {problem.field}: [{tag}] {problem.message}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.tools.records.lint", description="Kiểm tra các file tri thức."
    )
    parser.add_argument("paths", nargs="*", type=Path, help="file hoặc thư mục (mặc định: cả thư mục knowledge/data/)")
    parser.add_argument("--today", type=dt.date.fromisoformat, help="ngày dùng để so hạn rà soát (YYYY-MM-DD)")
    parser.add_argument("--errors-only", action="store_true", help="chỉ in lỗi, không in cảnh báo")
    parser.add_argument(
        "--test-questions", type=Path, default=TEST_QUESTIONS, help="bộ câu hỏi kiểm tra mà tên gọi không được chép"
    )
    args = parser.parse_args(argv)

    missing = [p for p in args.paths if not p.exists()]
    if missing:
        print(f"Không tìm thấy: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    problems, parsed = lint(args.paths, args.today, args.test_questions)
    for problem in problems:
        if problem.severity == "error" or not args.errors_only:
            print(_line(problem))
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    procedures = sum(item.kind == "procedure" for item in parsed)
    print(
        f"Đã kiểm tra {len(parsed)} file ({procedures} thủ tục, {len(parsed) - procedures} bài hướng dẫn): "
        f"{errors} lỗi, {warnings} cảnh báo."
        + (" File có lỗi sẽ KHÔNG được đưa vào trợ lý cho tới khi sửa xong." if errors else " Không có lỗi.")
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
