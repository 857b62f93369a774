"""The fixed wording a citizen reads outside the dialogue's replies, from one data file staff edit: wording.yml.

The Telegram bridge (bot/), the REST channel (channels/) and the answers built from records (actions/answers.py)
take their fixed sentences and labels from here; the dialogue's own replies stay `responses` in domain.yml (why:
wording.yml's opening comment). The modules read their texts into constants when they are imported, so a key the
code asks for and the file lacks stops the process at its start with `WordingError` naming the key and the file,
never a silent English or empty text. It lives in `settings`, the bottom layer, because every process reads it
like its settings (the file is one: MOCUA_WORDING_FILE names another copy) and the bridge must not load the
knowledge base's modules. Standard library and PyYAML only: the Rasa env imports it too.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

import settings

__all__ = ["WordingError", "load", "text"]


class WordingError(KeyError):
    """The wording file lacks a text the code asks for, or cannot be read: a person must fix the file."""

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0])


def text(key: str) -> str:
    """The text at `key` ("bridge.too_long", "answers.aspects.fee.button") of this process's wording file.

    Templates keep their {name} places: the caller fills them with `str.format`."""
    path = settings.current().wording_file
    table = load(path)
    if key not in table:
        raise WordingError(f"{path}: the text «{key}» is missing (renamed or deleted?); the code needs it")
    return table[key]


@functools.cache
def load(path: Path) -> dict[str, str]:
    """Every text of the file by its dotted key, in Unicode NFC (some editors save decomposed accents)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise WordingError(f"{path}: cannot read the wording file: {error}") from error
    if not isinstance(data, Mapping):
        raise WordingError(f"{path}: the wording file must be sections of `key: text` lines")
    return dict(_flatten(path, data, ""))


def _flatten(path: Path, data: Mapping[str, Any], prefix: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            found += _flatten(path, value, f"{key}.")
        elif isinstance(value, str) and value.strip():
            found.append((key, unicodedata.normalize("NFC", value)))
        else:
            raise WordingError(f"{path}: «{key}» must be a text, got {value!r}")
    return found
