"""Staff edit the knowledge and rebuild the index; the running bot follows without restart or retraining."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.helpers import reply_text

pytestmark = pytest.mark.stack

NEW_WORDING = "giấy chào đời cho bé"  # the bot is not sure of it until staff add it as an alias
RECORD = "procedures/ho-tich-khai-sinh.yml"


def ask_fresh(say, question: str) -> str:
    return reply_text(say(question, sender=f"live-{uuid.uuid4().hex[:8]}"))


def wait_for_answer_containing(say, question: str, expected: str, seconds: float = 20.0) -> str:
    deadline = time.monotonic() + seconds
    while True:
        text = ask_fresh(say, question)
        if expected in text or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


def test_alias_added_by_staff_is_answered_after_kb_build_without_restart(say, knowledge_copy, stack) -> None:
    # The facts of a linked record come from the official catalogue; what staff write is the curated layer, such
    # as a new way citizens name the procedure.
    record = knowledge_copy.knowledge_dir / RECORD
    original = record.read_text(encoding="utf-8")
    assert "(mã 1.001193)" not in ask_fresh(say, NEW_WORDING)
    servers_before = {name: process.pid for name, process in stack.processes.items()}
    record.write_text(original.replace("aliases:\n", f"aliases:\n  - {NEW_WORDING}\n", 1), encoding="utf-8")
    try:
        result = knowledge_copy.rebuild()
        assert result.returncode == 0, result.stdout + result.stderr
        answer = wait_for_answer_containing(say, NEW_WORDING, "(mã 1.001193)")
        assert answer.startswith("📄 Đăng ký khai sinh (mã 1.001193)")
        assert {name: process.pid for name, process in stack.processes.items()} == servers_before
    finally:
        record.write_text(original, encoding="utf-8")
        knowledge_copy.rebuild()


def test_broken_record_does_not_stop_the_previous_index_serving(say, knowledge_copy) -> None:
    broken = knowledge_copy.knowledge_dir / "procedures/ho-tich-ban-nhap-loi.yml"
    broken.write_text("id: ho-tich-ban-nhap-loi\nname: [thiếu dấu đóng\n", encoding="utf-8")
    try:
        result = knowledge_copy.rebuild()
        assert result.returncode == 1
        assert re.search(r"ho-tich-ban-nhap-loi\.yml:\d+:", result.stdout + result.stderr)
        assert "khai sinh" in ask_fresh(say, "làm giấy khai sinh cho con ở đâu").lower()
    finally:
        broken.unlink()
        knowledge_copy.rebuild()


def test_a_fee_edit_built_by_a_long_lived_builder_is_answered_with_the_view_files_reused(say, knowledge_copy,
                                                                                          stack) -> None:  # fmt: skip
    # What the staff console does on «Lưu» (knowledge/index/worker.py, in its own process): only facts changed, so the
    # search's files are the serving version's and the running action server only reads the new records.
    from knowledge.index.worker import IndexBuilder
    from tests.console.edits import wait_served

    record = knowledge_copy.knowledge_dir / "procedures/bao-hiem-the-bhyt-ho-gia-dinh.yml"
    original = record.read_text(encoding="utf-8")
    question, new_amount = "mua BHYT cho cả gia đình hết bao nhiêu tiền", "131.313 đồng"
    assert new_amount not in ask_fresh(say, question)
    edited = re.sub(r"^fee: .*$", f'fee: "Năm 2027: người thứ nhất đóng {new_amount}/tháng."', original, count=1,
                    flags=re.M)  # fmt: skip
    builder = IndexBuilder(knowledge_copy.knowledge_dir, knowledge_copy.index_dir)
    record.write_text(edited, encoding="utf-8")
    try:
        run = builder.request("fee edit").wait(600)
        assert run is not None and run.status == "ok", run and run.lines
        assert "view files reused" in run.outcome
        assert new_amount in wait_for_answer_containing(say, question, new_amount)
    finally:
        record.write_text(original, encoding="utf-8")
        builder.request("revert").wait(600)
        wait_served(stack, knowledge_copy.index_dir)  # the next test meets the shipped fee
