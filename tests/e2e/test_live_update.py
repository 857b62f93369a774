"""Staff edit the knowledge and rebuild the index; the running bot follows without restart or retraining."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.helpers import reply_text

pytestmark = pytest.mark.stack

FEE_QUESTION = "đăng ký khai sinh mất phí bao nhiêu"
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


def test_edited_fee_is_answered_after_kb_build_without_restart(say, knowledge_copy, stack) -> None:
    record = knowledge_copy.knowledge_dir / RECORD
    original = record.read_text(encoding="utf-8")
    new_fee = "Lệ phí thử nghiệm 12.345 đồng cho mọi trường hợp"
    assert new_fee not in ask_fresh(say, FEE_QUESTION)
    servers_before = {name: process.pid for name, process in stack.processes.items()}
    record.write_text(re.sub(r"^fee: .*$", f"fee: {new_fee}.", original, flags=re.M), encoding="utf-8")
    try:
        result = knowledge_copy.rebuild()
        assert result.returncode == 0, result.stdout + result.stderr
        assert new_fee in wait_for_answer_containing(say, FEE_QUESTION, new_fee)
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
