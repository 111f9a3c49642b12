"""Speaker labels benchmark: DER, word-level speaker accuracy and CPU time of earmark.diarize.

Conversations are built from the LibriSpeech test-other subset in shared/data (10 speakers x
10 utterances): 2, 3 and 4 speakers, turns of whole or partial utterances cut at word
boundaries, pauses of 0.1-0.8 s, back-channels (one or two words of a listener, <= 0.8 s),
and in the overlap condition 0.2-0.6 s of cross-talk at a third of the turn changes and
back-channels spoken over the current turn. Everything comes from a fixed seed.

Truth: the speaker of every stretch is exact (it is the utterance's speaker). Word times come
from Whisper tiny.en run on each source utterance alone (``earmark.api.transcribe``, cached),
shifted to where the stretch is placed: they are Whisper's approximations, not forced
alignment. Reference speech is the union of the placed words' spans (gaps under 0.5 s closed).

DER = (missed + false alarm + confusion) / reference speech, on 10 ms frames with overlap
scored, under the optimal one-to-one speaker mapping; reported with a 250 ms collar (frames
within 250 ms of a reference boundary not scored, NIST md-eval's ``-c 0.25``) and without.
Word accuracy: words whose diarized speaker (``label_words``) maps to their true speaker.
CPU: process CPU seconds of ``diarize`` (models loaded once beforehand) per audio hour.

    .venv/bin/python benchmarks/diarize_bench.py            # the table of benchmarks/diarize.md
    .venv/bin/python benchmarks/diarize_bench.py --quick    # one conversation per condition
"""

from __future__ import annotations

import argparse
import csv
import json
import time
import wave
from dataclasses import dataclass, field, replace
from itertools import permutations
from pathlib import Path

import numpy as np
import numpy.typing as npt

from earmark.audio.decode import decode_audio
from earmark.diarize import DiarizeOptions, SpeakerTurn, create_diarizer, label_words
from earmark.diarize.pyannote import PyannoteOnnxDiarizer
from earmark.types import AudioData, Segment, Transcript, Word

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
LIBRI = DATA / "librispeech_test_other_subset"
STEREO = DATA / "asr_samples" / "audio" / "stereo_diarization.wav"
SR = 16_000
FRAME_MS = 10


@dataclass
class Utterance:
    speaker: str
    samples: npt.NDArray[np.float32]
    words: list[tuple[str, int, int]]  # text, start_ms, end_ms in the utterance


@dataclass
class Conversation:
    name: str
    samples: npt.NDArray[np.float32]
    words: list[Word] = field(default_factory=list)  # speaker = true speaker

    @property
    def seconds(self) -> float:
        return len(self.samples) / SR


def load_utterances(cache: Path) -> dict[str, list[Utterance]]:
    from earmark.api import transcribe
    from earmark.asr.base import ASROptions

    rows = list(csv.DictReader((LIBRI / "transcripts.tsv").open(), delimiter="\t"))
    cached: dict[str, list[list[object]]] = json.loads(cache.read_text()) if cache.exists() else {}
    out: dict[str, list[Utterance]] = {}
    for row in rows:
        path = LIBRI / row["audio_path"]
        if row["utt_id"] not in cached:
            transcript = transcribe(path, ASROptions(model="tiny.en", threads=1))
            cached[row["utt_id"]] = [[w.text, w.start_ms, w.end_ms] for w in transcript.words]
            cache.write_text(json.dumps(cached))
        words = [(str(t), int(str(s)), int(str(e))) for t, s, e in cached[row["utt_id"]]]
        samples = decode_audio(path).samples
        samples = samples / max(float(np.sqrt(np.mean(samples**2))), 1e-4) * 0.05
        out.setdefault(row["speaker_id"], []).append(
            Utterance(row["speaker_id"], samples.astype(np.float32), words)
        )
    return out


def build(
    utterances: dict[str, list[Utterance]],
    speakers: int,
    overlap: bool,
    seed: int,
    seconds: float = 75.0,
) -> Conversation:
    """One conversation (see the module docstring)."""
    rng = np.random.default_rng(seed)
    chosen = [str(s) for s in rng.choice(sorted(utterances), size=speakers, replace=False)]
    placed: list[tuple[str, npt.NDArray[np.float32], int, list[tuple[str, int, int]]]] = []
    cursor = 0  # ms
    previous = None
    used: dict[str, int] = dict.fromkeys(chosen, 0)
    while cursor < seconds * 1000:
        others = [s for s in chosen if s != previous]
        speaker = str(rng.choice(others))
        utt = utterances[speaker][used[speaker] % len(utterances[speaker])]
        used[speaker] += 1
        n = len(utt.words)
        if n == 0:
            continue
        first = int(rng.integers(0, max(1, n // 2))) if rng.random() < 0.5 else 0
        last = int(rng.integers(first + 1, n + 1)) if rng.random() < 0.5 else n
        words = utt.words[first:last]
        cut_start = max(0, words[0][1] - 60)
        cut_end = min(len(utt.samples) * 1000 // SR, words[-1][2] + 60)
        piece = utt.samples[cut_start * SR // 1000 : cut_end * SR // 1000]
        shifted = [(t, s - cut_start, e - cut_start) for t, s, e in words]
        if overlap and placed and rng.random() < 1 / 3:
            start = cursor - int(rng.integers(200, 601))
        else:
            start = cursor + int(rng.integers(100, 801))
        placed.append((speaker, piece, start, shifted))
        turn_end = start + len(piece) * 1000 // SR
        # a back-channel of a listener: inside the turn (overlap) or right after it
        if rng.random() < 0.3:
            listener = str(rng.choice([s for s in chosen if s != speaker]))
            pool = [u for u in utterances[listener] if u.words]
            source = pool[int(rng.integers(0, len(pool)))]
            k = int(rng.integers(0, len(source.words)))
            span = [w for w in source.words[k : k + 2] if w[2] - source.words[k][1] <= 800][:2]
            if span:
                a, b = span[0][1], span[-1][2]
                bc = source.samples[a * SR // 1000 : b * SR // 1000]
                bc_words = [(t, s - a, e - a) for t, s, e in span]
                if overlap:
                    at = start + int(rng.integers(0, max(1, turn_end - start - (b - a))))
                else:
                    at = turn_end + int(rng.integers(150, 400))
                    turn_end = at + (b - a)
                placed.append((listener, bc, at, bc_words))
        cursor = turn_end
        previous = speaker
    total = max(start + len(piece) * 1000 // SR for _, piece, start, _ in placed) + 500
    mix = np.zeros(total * SR // 1000 + SR, dtype=np.float32)
    words_out: list[Word] = []
    for speaker, piece, start, words in placed:
        i = start * SR // 1000
        mix[i : i + len(piece)] += piece
        for text, s, e in words:
            words_out.append(Word(text, start + s, start + e, 1.0, speaker=speaker))
    words_out.sort(key=lambda w: w.start_ms)
    name = f"{speakers} spk {'overlap' if overlap else 'no overlap'} #{seed}"
    return Conversation(name, np.clip(mix, -1, 1), words_out)


def reference_frames(words: list[Word], frames: int) -> dict[str, npt.NDArray[np.bool_]]:
    out: dict[str, npt.NDArray[np.bool_]] = {}
    for speaker in sorted({str(w.speaker) for w in words}):
        spans = sorted((w.start_ms, w.end_ms) for w in words if w.speaker == speaker)
        merged: list[list[int]] = []
        for a, b in spans:
            if merged and a - merged[-1][1] < 500:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        row = np.zeros(frames, dtype=bool)
        for a, b in merged:
            row[a // FRAME_MS : b // FRAME_MS] = True
        out[speaker] = row
    return out


def hypothesis_frames(turns: list[SpeakerTurn], frames: int) -> dict[str, npt.NDArray[np.bool_]]:
    out: dict[str, npt.NDArray[np.bool_]] = {}
    for t in turns:
        row = out.setdefault(t.speaker, np.zeros(frames, dtype=bool))
        row[t.start_ms // FRAME_MS : t.end_ms // FRAME_MS] = True
    return out


def best_mapping(
    ref: dict[str, npt.NDArray[np.bool_]], hyp: dict[str, npt.NDArray[np.bool_]]
) -> dict[str, str]:
    """hyp speaker -> ref speaker maximising the overlap (one to one)."""
    r, h = list(ref), list(hyp)
    score = np.array([[float((ref[a] & hyp[b]).sum()) for b in h] for a in r])
    best: tuple[float, dict[str, str]] = (-1.0, {})
    if len(h) <= len(r):
        for perm in permutations(range(len(r)), len(h)):
            total = sum(score[perm[j], j] for j in range(len(h)))
            if total > best[0]:
                best = (total, {h[j]: r[perm[j]] for j in range(len(h))})
    else:
        for perm in permutations(range(len(h)), len(r)):
            total = sum(score[i, perm[i]] for i in range(len(r)))
            if total > best[0]:
                best = (total, {h[perm[i]]: r[i] for i in range(len(r))})
    return best[1]


def der(
    ref: dict[str, npt.NDArray[np.bool_]],
    hyp: dict[str, npt.NDArray[np.bool_]],
    mapping: dict[str, str],
    collar_ms: int,
) -> tuple[float, float, float, float]:
    """(DER, missed, false alarm, confusion) as fractions of reference speech."""
    frames = len(next(iter(ref.values())))
    scored = np.ones(frames, dtype=bool)
    c = collar_ms // FRAME_MS
    if c:
        for row in ref.values():
            edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(int), [0]))))
            for e in edges:
                scored[max(0, e - c) : e + c] = False
    n_ref = sum(row.astype(int) for row in ref.values())
    n_hyp = sum(row.astype(int) for row in hyp.values()) if hyp else np.zeros(frames, int)
    correct = np.zeros(frames, dtype=int)
    for h, r in mapping.items():
        correct += (hyp[h] & ref[r]).astype(int)
    total = float(n_ref[scored].sum())
    missed = float(np.maximum(n_ref - n_hyp, 0)[scored].sum())
    false_alarm = float(np.maximum(n_hyp - n_ref, 0)[scored].sum())
    confusion = float((np.minimum(n_ref, n_hyp) - correct)[scored].sum())
    return (
        (missed + false_alarm + confusion) / total,
        missed / total,
        false_alarm / total,
        confusion / total,
    )


def word_accuracy(words: list[Word], turns: list[SpeakerTurn], mapping: dict[str, str]) -> float:
    segment = Segment(0, 0, words[-1].end_ms, "", tuple(replace(w, speaker=None) for w in words))
    transcript = Transcript("", (segment,), "en", 1.0, words[-1].end_ms)
    labelled = label_words(transcript, turns).words
    right = sum(
        1
        for truth, got in zip(words, labelled, strict=True)
        if got.speaker is not None and mapping.get(got.speaker) == truth.speaker
    )
    return right / len(words)


@dataclass
class Row:
    name: str
    seconds: float
    true_speakers: int
    found: int
    der: float
    der0: float
    missed: float
    false_alarm: float
    confusion: float
    words: float
    cpu: float


def evaluate(
    diarizer: PyannoteOnnxDiarizer,
    conv: Conversation,
    options: DiarizeOptions,
) -> Row:
    cpu = time.process_time()
    turns = diarizer.diarize(AudioData(conv.samples), options)
    cpu = time.process_time() - cpu
    frames = len(conv.samples) * 1000 // SR // FRAME_MS + 1
    ref = reference_frames(conv.words, frames)
    hyp = hypothesis_frames(turns, frames)
    mapping = best_mapping(ref, hyp)
    d, m, f, c = der(ref, hyp, mapping, 250)
    d0 = der(ref, hyp, mapping, 0)[0]
    acc = word_accuracy(conv.words, turns, mapping)
    return Row(conv.name, conv.seconds, len(ref), len(hyp), d, d0, m, f, c, acc, cpu)


def stereo_conversation() -> Conversation:
    """The two-channel sample downmixed; truth words from tiny.en on each channel alone."""
    from earmark.api import transcribe
    from earmark.asr.base import ASROptions

    transcript = transcribe(STEREO, ASROptions(model="tiny.en", multichannel=True, threads=1))
    names = {"1": "left", "2": "right"}
    words = [
        replace(w, speaker=names.get(str(w.channel), str(w.channel))) for w in transcript.words
    ]
    with wave.open(str(STEREO)) as f:
        raw = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).reshape(-1, 2)
    mono = (raw.astype(np.float32) / 32768).mean(axis=1).astype(np.float32)
    return Conversation(
        "stereo_diarization.wav downmixed", mono, sorted(words, key=lambda w: w.start_ms)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one conversation per condition")
    parser.add_argument("--seeds", type=int, default=3, help="conversations per condition")
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/earmark_diarize_bench_words.json"))
    parser.add_argument("--json", type=Path, help="write the rows here too")
    parser.add_argument("--threshold", type=float, help="clustering threshold (tuning)")
    parser.add_argument("--oracle", action="store_true", help="also run with speakers_expected")
    args = parser.parse_args()
    seeds = 1 if args.quick else args.seeds

    diarizer = create_diarizer("pyannote-onnx", threads=1)
    assert isinstance(diarizer, PyannoteOnnxDiarizer)
    if args.threshold is not None:
        diarizer.threshold = args.threshold
    utterances = load_utterances(args.cache)
    rows: list[Row] = []
    oracle: list[Row] = []
    for speakers in (2, 3, 4):
        for overlap in (False, True):
            for k in range(seeds):
                seed = args.first_seed + 10 * speakers + 2 * k + int(overlap) * 1000
                conv = build(utterances, speakers, overlap, seed)
                row = evaluate(diarizer, conv, DiarizeOptions())
                rows.append(row)
                print(
                    f"{row.name:28s} {row.seconds:5.0f}s found {row.found}/{row.true_speakers} "
                    f"DER {row.der:6.1%} (no collar {row.der0:6.1%}) words {row.words:6.1%} "
                    f"cpu {row.cpu:5.2f}s",
                    flush=True,
                )
                if args.oracle:
                    oracle.append(evaluate(diarizer, conv, DiarizeOptions(speakers=speakers)))
    stereo = evaluate(diarizer, stereo_conversation(), DiarizeOptions())
    print_table(rows, oracle, stereo)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in [*rows, stereo]], indent=1))


def print_table(rows: list[Row], oracle: list[Row], stereo: Row) -> None:
    print()
    print(
        "| condition | conversations | audio | speakers found = true | DER (collar 250 ms) "
        "| missed / FA / confusion | DER (no collar) | word speaker accuracy | CPU s per audio hour |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.name.split(" #")[0], []).append(r)
    groups["all"] = rows
    for name, group in groups.items():
        print(_line(name, group))
    if oracle:
        print(_line("all, speakers_expected given", oracle))
    print(_line(stereo.name, [stereo]))


def _line(name: str, group: list[Row]) -> str:
    seconds = sum(r.seconds for r in group)
    speech = [r.seconds for r in group]

    def weighted(attr: str) -> float:
        return float(np.average([getattr(r, attr) for r in group], weights=speech))

    exact = sum(r.found == r.true_speakers for r in group)
    return (
        f"| {name} | {len(group)} | {seconds / 60:.1f} min | {exact}/{len(group)} "
        f"| {weighted('der'):.1%} | {weighted('missed'):.1%} / {weighted('false_alarm'):.1%} / "
        f"{weighted('confusion'):.1%} | {weighted('der0'):.1%} | {weighted('words'):.1%} "
        f"| {sum(r.cpu for r in group) / seconds * 3600:.0f} |"
    )


if __name__ == "__main__":
    main()
