"""Values that depend on the day asked, through the REST channel with the real Rasa and action servers.

The action server reads the day from MOCUA_TODAY (knowledge/clock.py): the same question on the last day of the
50 % reduction of Thông tư 64/2025/TT-BTC and on the day after gets the reduced fee, then the standard one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.stack import Stack
from tests.helpers import reply_text

pytestmark = pytest.mark.stack

QUESTION = "lệ phí cấp lại căn cước bị mất bao nhiêu"


@pytest.fixture
def on_day(stack: Stack) -> Iterator[object]:
    """`on_day("2026-12-31")` restarts the action server with its clock frozen on that day; unfrozen afterwards."""

    def freeze(day: str) -> None:
        stack.extra_env["MOCUA_TODAY"] = day
        stack.restart("actions")

    yield freeze
    stack.extra_env.pop("MOCUA_TODAY", None)
    stack.restart("actions")


def test_the_lost_id_card_fee_on_both_sides_of_the_end_of_its_reduction(say, on_day) -> None:
    on_day("2026-12-31")
    last_day = reply_text(say(QUESTION))
    assert "(mã 1.014064)" in last_day, last_day
    assert "35.000 đồng, giảm 50 % đến hết 31/12/2026 (Thông tư 64/2025/TT-BTC); mức thường 70.000 đồng" in last_day

    on_day("2027-01-01")
    day_after = reply_text(say(QUESTION))
    assert "(mã 1.014064)" in day_after, day_after
    assert "70.000 đồng" in day_after and "35.000" not in day_after and "giảm 50 %" not in day_after


def test_a_deadline_question_gets_the_deadline_and_a_time_question_the_processing_time(say) -> None:
    deadline = reply_text(say("sinh con xong thì trong bao lâu phải đi đăng ký khai sinh"))
    first, second = deadline.split("\n")[:2]
    assert first.endswith("— hạn phải đi làm thủ tục:"), deadline
    assert "60 ngày kể từ ngày sinh" in second
    processing = reply_text(say("làm giấy khai sinh mất bao lâu"))
    assert processing.split("\n")[0].endswith("— thời gian giải quyết:"), processing
    assert "60 ngày" not in processing
