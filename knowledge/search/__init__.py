"""Which procedure or guide a citizen's question is about: the runtime search and its confidence model.

Runtime: ``engine`` (loaded by the action server). Offline: ``fit`` (calibration), ``metrics`` (benchmarks, tests).
"""

from knowledge.search.engine import (
    Calibration,
    Hit,
    KnowledgeBase,
    SearchResult,
    ambiguous_candidates,
    get_knowledge_base,
)

__all__ = ["Calibration", "Hit", "KnowledgeBase", "SearchResult", "ambiguous_candidates", "get_knowledge_base"]
