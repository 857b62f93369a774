"""Vietnamese text normaliser placed first in the Rasa NLU pipeline.

Citizens type with or without diacritics, in NFC or NFD (some keyboards), and in chat abbreviations
("ko", "dc", "j", "bn"). Folding all of that to one form before tokenisation makes "lệ phí bao nhiêu",
"le phi bn" and an NFD-typed "lệ phí" featurise identically, in training and at inference.

What the action server sees: Rasa builds ``tracker.latest_message`` from the NLU parse data, whose
``text`` is the message text *after* this component (rasa/core/processor.py `_parse_message_with_graph`
copies ``Message.as_dict()`` into parse_data, and `UserUttered.__init__` lets parse_data overwrite
``text``). So ``latest_message["text"]`` is the folded text. The original (NFC) text is kept in the
output property ``text_original`` and the event's own ``text`` stays as the channel sent it; the
actions read ``text_original`` (see actions/dialogue.py `user_text`).

Import path: `rasa` puts the working directory on sys.path (rasa/__main__.py: ``sys.path.insert(1, os.getcwd())``),
so running it from the repository root finds both this package and ``knowledge.text`` (standard library only).
"""

# No `from __future__ import annotations`: Rasa checks these type hints when it validates the graph.
import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional  # noqa: UP035

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import knowledge.language
import knowledge.text
from knowledge.language import folded_message, vocabulary_fingerprint
from knowledge.text import MAX_MESSAGE_CHARS, as_typed_text, drop_personal_numbers

ORIGINAL_TEXT = "text_original"


def original_text(text: str) -> str:
    """What the actions read as the citizen's words: cleaned, never an intent payload, without personal numbers
    (and the words that only introduce them), and at most MAX_MESSAGE_CHARS long — the REST channel refuses longer
    messages; this cut is the last resort for other ways in (/model/parse), where NLU cost grows with the length."""
    return drop_personal_numbers(as_typed_text(text[: 2 * MAX_MESSAGE_CHARS])[:MAX_MESSAGE_CHARS])


def normalise(text: str) -> str:
    """Original text (above) as the model reads it: thumbs typed as a message and abbreviations spelled out, lower
    case without diacritics, one spelling per syllable (knowledge.language, from knowledge/data/vocabulary/)."""
    return folded_message(original_text(text))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class VietnameseNormalizer(GraphComponent):
    """Rewrites the message text to its folded form; keeps the NFC original in ``text_original``."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],  # noqa: UP006
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VietnameseNormalizer":
        return cls()

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:  # noqa: UP006, UP045
        """Rasa caches trained steps by config; the normalising code must be part of the key, or a change to it
        would reuse featurised training text normalised the old way. So must the vocabulary it reads."""
        sources = (Path(__file__), Path(knowledge.text.__file__), Path(knowledge.language.__file__))
        code = b"".join(path.read_bytes() for path in sources)
        return hashlib.sha256(code + vocabulary_fingerprint().encode()).hexdigest()

    @staticmethod
    def _normalise_message(message: Message, keep_original: bool) -> None:
        text = message.get(TEXT)
        # Button payloads ("/choose_procedure{...}") are parsed later by RegexMessageHandler: leave them intact.
        if not text or text.startswith("/"):
            return
        if keep_original:
            message.set(ORIGINAL_TEXT, original_text(text), add_to_output=True)
        message.set(TEXT, normalise(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalise_message(example, keep_original=False)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:  # noqa: UP006
        for message in messages:
            self._normalise_message(message, keep_original=True)
        return messages
