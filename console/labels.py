"""Plain Vietnamese names for what staff would otherwise see as codes: the intents NLU reads (console/intent_labels.yml,
the one place they are written) and the fields of a procedure record (console.records.FORM)."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from console.records import FORM

INTENT_LABELS = Path(__file__).resolve().parent / "intent_labels.yml"


@functools.lru_cache(maxsize=1)
def intent_labels() -> dict[str, str]:
    return {str(k): str(v) for k, v in yaml.safe_load(INTENT_LABELS.read_text(encoding="utf-8")).items()}


def intent_label(intent: str | None) -> str:
    """«hỏi lệ phí» for ask_fee; an intent with no label yet keeps its code rather than vanishing."""
    if not intent:
        return ""
    return intent_labels().get(intent, intent)


# Record fields the editor shows as several of its own (console.records.FORM), named as a whole.
GROUPED_FIELDS = {"id": "Mã thủ tục", "submission": "Nơi nộp, cách nộp", "reform_2025": "Sắp xếp 2025"}


def field_label(name: str) -> str:
    """«Phí, lệ phí» for fee: the editor's own label of a record field."""
    return next((f.label for f in FORM if f.name == name), GROUPED_FIELDS.get(name, name))
