"""Model resolution: the split base model join (fake parts, then the real one), names, paths."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

import earmark.asr.models as models
from earmark.asr import ASROptions, available_models, get_engine, resolve_model
from earmark.asr.models import BASE_SHA256, canonical_name, join_verified
from earmark.asr.wer import word_error_rate
from earmark.errors import ModelError
from earmark.types import AudioData

PART_DATA = [b"first part " * 1000, b"second part " * 700]
JOINED_SHA = hashlib.sha256(b"".join(PART_DATA)).hexdigest()


@pytest.fixture()
def fake_package(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    src = tmp_path / "site"
    src.mkdir()
    parts = []
    for i, data in enumerate(PART_DATA, start=1):
        p = src / f"model.bin.part{i}"
        p.write_bytes(data)
        parts.append(p)
    aux = []
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        p = src / name
        p.write_text(json.dumps({"name": name}))
        aux.append(p)
    return parts, aux


def test_join_writes_model_beside_its_files(
    tmp_path: Path, fake_package: tuple[list[Path], list[Path]]
) -> None:
    parts, aux = fake_package
    target = tmp_path / "cache" / "whisper-base"

    assert join_verified(parts, aux, target, JOINED_SHA) == target

    assert (target / "model.bin").read_bytes() == b"".join(PART_DATA)
    for a in aux:
        assert (target / a.name).read_text() == a.read_text()
    marker = json.loads((target / ".earmark-verified.json").read_text())
    assert marker == {"sha256": JOINED_SHA, "size": len(b"".join(PART_DATA))}
    assert sorted(p.name for p in target.iterdir() if p.name.endswith(".tmp")) == []


def test_second_join_trusts_the_marker(
    tmp_path: Path, fake_package: tuple[list[Path], list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    parts, aux = fake_package
    target = tmp_path / "m"
    join_verified(parts, aux, target, JOINED_SHA)

    def no_rehash(*args: object) -> int:
        raise AssertionError("hashed again")

    monkeypatch.setattr(models, "_atomic_join", no_rehash)
    assert join_verified(parts, aux, target, JOINED_SHA) == target


def test_join_redone_when_the_file_changed_size(
    tmp_path: Path, fake_package: tuple[list[Path], list[Path]]
) -> None:
    parts, aux = fake_package
    target = tmp_path / "m"
    join_verified(parts, aux, target, JOINED_SHA)
    (target / "model.bin").write_bytes(b"half a download")

    join_verified(parts, aux, target, JOINED_SHA)

    assert (target / "model.bin").read_bytes() == b"".join(PART_DATA)


def test_sha_mismatch_keeps_nothing(
    tmp_path: Path, fake_package: tuple[list[Path], list[Path]]
) -> None:
    parts, aux = fake_package
    target = tmp_path / "m"
    target.mkdir()
    (target / "model.bin").write_bytes(b"stale unverified copy")

    with pytest.raises(ModelError, match="corrupt") as exc:
        join_verified(parts, aux, target, "0" * 64)

    assert "reinstall" in str(exc.value)
    assert not (target / "model.bin").exists()
    assert not (target / ".earmark-verified.json").exists()
    assert [p.name for p in target.iterdir() if p.name.endswith(".tmp")] == []


def test_missing_part_is_a_model_error(
    tmp_path: Path, fake_package: tuple[list[Path], list[Path]]
) -> None:
    parts, aux = fake_package
    parts[1].unlink()
    with pytest.raises(ModelError, match=r"model\.bin\.part2"):
        join_verified(parts, aux, tmp_path / "m", JOINED_SHA)


def test_concurrent_joins_agree(
    tmp_path: Path, fake_package: tuple[list[Path], list[Path]]
) -> None:
    parts, aux = fake_package
    target = tmp_path / "m"
    errors: list[BaseException] = []

    def join() -> None:
        try:
            join_verified(parts, aux, target, JOINED_SHA)
        except BaseException as exc:  # collected and re-checked below
            errors.append(exc)

    threads = [threading.Thread(target=join) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert (target / "model.bin").read_bytes() == b"".join(PART_DATA)
    assert [p.name for p in target.iterdir() if p.name.endswith(".tmp")] == []


def test_names_and_aliases(tmp_path: Path) -> None:
    assert available_models() == ("base", "tiny.en")
    assert canonical_name(" whisper-base ") == "base"
    assert canonical_name("Whisper-Tiny.en") == "tiny.en"
    assert canonical_name("small") == "small"
    tiny = Path(resolve_model("tiny.en", tmp_path))
    assert (tiny / "model.bin").is_file()
    assert resolve_model("whisper-tiny.en", tmp_path) == str(tiny)


def test_a_model_directory_is_used_as_is(tmp_path: Path) -> None:
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    (model_dir / "model.bin").write_bytes(b"x")
    assert resolve_model(str(model_dir), tmp_path) == str(model_dir)

    with pytest.raises(ModelError, match=r"needs a model\.bin"):
        resolve_model(str(tmp_path), tmp_path)
    with pytest.raises(ModelError, match="not found"):
        resolve_model(str(tmp_path / "missing"), tmp_path)


def test_hub_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert resolve_model("Systran/faster-whisper-small", tmp_path) == "Systran/faster-whisper-small"

    import faster_whisper.utils

    def not_cached(name: str, **kwargs: object) -> str:
        raise FileNotFoundError(name)

    monkeypatch.setattr(faster_whisper.utils, "download_model", not_cached)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="not available offline") as exc:
        resolve_model("tiny", tmp_path)
    assert "'tiny.en' is" in str(exc.value)
    assert "base (" in str(exc.value)
    with pytest.raises(ModelError, match="'base' is"):
        resolve_model("base.en", tmp_path)


def test_hub_cache_is_used_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import faster_whisper.utils

    monkeypatch.setattr(faster_whisper.utils, "download_model", lambda name, **kw: "/hub/cache/x")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert resolve_model("small", tmp_path) == "/hub/cache/x"


@pytest.fixture(scope="session")
def base_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


def test_embedded_base_joins_verifies_and_transcribes(
    base_cache: Path, jfk_audio: AudioData, jfk_reference: str
) -> None:
    path = Path(resolve_model("base", base_cache))

    assert path == base_cache / "whisper-base"
    assert (path / "model.bin").stat().st_size == 94_371_840 + 50_845_767
    marker = json.loads((path / ".earmark-verified.json").read_text())
    assert marker["sha256"] == BASE_SHA256
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        assert (path / name).is_file()

    engine = get_engine("base", device="cpu", cache_dir=base_cache)
    t = engine.transcribe(jfk_audio, ASROptions(model="base", beam_size=1))
    assert t.language == "en" and t.language_probability > 0.5  # detected, multilingual model
    assert t.model == "base"
    assert word_error_rate(jfk_reference, t.text) <= 0.10, t.text
