"""The fault suite's counts, kept where both the tests and conftest's summary hook import the same list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FaultCount:
    """What the citizens of one fault test sent and got."""

    fault: str
    sent: int = 0
    answered: int = 0
    lost: int = 0
    duplicated: int = 0
    notices: int = 0
    outcome: str = ""

    def line(self) -> str:
        return (
            f"fault: {self.fault:<34} sent {self.sent:3d} answered {self.answered:3d} lost {self.lost} "
            f"duplicated {self.duplicated} delay-notices {self.notices} — {self.outcome}"
        )


FAULT_COUNTS: list[FaultCount] = []
