"""Which procedure or guide a citizen's question is about: the runtime search and its one decision.

Runtime: ``engine`` (loaded by the action server) and ``decision`` (answer / which one / stay / not sure).
Offline: ``fit`` (calibration), ``metrics`` (benchmarks, tests).
"""

from knowledge.search.decision import Context, Decision, Evidence, Thresholds, decide
from knowledge.search.engine import (
    Calibration,
    CalibrationError,
    Hit,
    KnowledgeBase,
    SearchResult,
    forget_knowledge_base,
    get_knowledge_base,
)

__all__ = [
    "Calibration", "CalibrationError", "Context", "Decision", "Evidence", "Hit", "KnowledgeBase", "SearchResult",
    "Thresholds", "decide", "forget_knowledge_base", "get_knowledge_base",
]  # fmt: skip
