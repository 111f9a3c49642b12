"""The model-free half of diarization: from per-window local speaker activity to global speakers.

The segmentation model sees 10 s windows and names up to 3 *local* speakers in each, in an
order of its own. This module

1. links local speakers of consecutive (overlapping) windows into *tracks* when their
   activity agrees where the windows overlap (one-to-one, best total agreement);
2. clusters tracks by their voice signatures (average-linkage agglomerative on cosine
   distance) where two tracks seen in the same window never merge (they are two voices),
   within the speaker count bounds;
3. rebuilds global activity, each frame keeping as many speakers as the windows that cover
   it count there, and cuts it into turns.

Everything here is plain numpy on arrays, so it is tested on synthetic activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise, permutations

import numpy as np
import numpy.typing as npt

__all__ = [
    "POWERSET",
    "ClusterBounds",
    "Piece",
    "agglomerate",
    "cannot_link",
    "link_windows",
    "overlap_conflicts",
    "powerset_to_multilabel",
    "reconstruct",
    "runs",
    "split_pieces",
]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

POWERSET: tuple[tuple[int, ...], ...] = ((), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2))
"""segmentation-3.0's classes: none, speaker 1, 2, 3, and each pair speaking at once."""


def powerset_to_multilabel(log_probs: npt.NDArray[np.float32]) -> BoolArray:
    """``[windows, frames, 7]`` powerset scores to ``[windows, frames, 3]`` activity (argmax)."""
    best = np.argmax(log_probs, axis=-1)
    table = np.zeros((len(POWERSET), 3), dtype=bool)
    for k, speakers in enumerate(POWERSET):
        table[k, list(speakers)] = True
    out: BoolArray = table[best]
    return out


def link_windows(
    activity: BoolArray,
    step: int,
    *,
    min_frames: int,
    min_agreement: float = 0.5,
) -> IntArray:
    """Track ids ``[windows, speakers]`` (-1: the local speaker is absent) for ``activity``.

    ``activity`` is ``[windows, frames, speakers]``; window ``w`` starts ``w * step`` frames
    into the recording. A local speaker is present with at least ``min_frames`` active frames.
    Speakers of windows ``w`` and ``w + 1`` join one track when, over the frames both windows
    cover, their activities' intersection over union is at least ``min_agreement`` and they
    share ``min_frames`` active frames; the pairing is the one-to-one assignment with the
    largest total agreement. A track thus holds at most one local speaker per window.
    """
    windows, frames, speakers = activity.shape
    present = activity.sum(axis=1) >= min_frames
    ids = np.full((windows, speakers), -1, dtype=np.int64)
    next_id = 0
    overlap = frames - step
    for w in range(windows):
        if w > 0 and overlap > 0:
            previous = activity[w - 1, step:]
            current = activity[w, :overlap]
            scores = _agreement(previous, current)
            shared = previous.astype(np.int64).T @ current.astype(np.int64)
            for i, j in _assign(scores):
                if (
                    scores[i, j] >= min_agreement
                    and shared[i, j] >= min_frames
                    and ids[w - 1, i] >= 0
                    and present[w, j]
                ):
                    ids[w, j] = ids[w - 1, i]
        for j in range(speakers):
            if present[w, j] and ids[w, j] < 0:
                ids[w, j] = next_id
                next_id += 1
    return ids


def _agreement(a: BoolArray, b: BoolArray) -> npt.NDArray[np.float64]:
    """Intersection over union of each column of ``a`` with each of ``b``."""
    ai = a.astype(np.float64)
    bi = b.astype(np.float64)
    inter = ai.T @ bi
    union = ai.sum(axis=0)[:, None] + bi.sum(axis=0)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1.0), 0.0)


def _assign(scores: npt.NDArray[np.float64]) -> list[tuple[int, int]]:
    """The one-to-one pairing of rows and columns with the largest total score (n <= 4)."""
    rows, cols = scores.shape
    best: tuple[float, list[tuple[int, int]]] = (-1.0, [])
    if rows <= cols:
        for perm in permutations(range(cols), rows):
            pairs = list(zip(range(rows), perm, strict=True))
            total = float(sum(scores[i, j] for i, j in pairs))
            if total > best[0]:
                best = (total, pairs)
    else:
        for perm in permutations(range(rows), cols):
            pairs = list(zip(perm, range(cols), strict=True))
            total = float(sum(scores[i, j] for i, j in pairs))
            if total > best[0]:
                best = (total, pairs)
    return best[1]


def cannot_link(ids: IntArray) -> BoolArray:
    """``[tracks, tracks]``: True where two tracks have local speakers in one window."""
    tracks = int(ids.max()) + 1 if ids.size else 0
    out = np.zeros((tracks, tracks), dtype=bool)
    for row in ids:
        seen = row[row >= 0]
        for a in seen:
            for b in seen:
                if a != b:
                    out[a, b] = True
    return out


@dataclass(frozen=True)
class ClusterBounds:
    """How many clusters: at least ``low`` and at most ``high`` (as far as the data allows)."""

    low: int = 1
    high: int = 8


def agglomerate(
    signatures: FloatArray,
    cannot: BoolArray,
    *,
    threshold: float,
    bounds: ClusterBounds = ClusterBounds(),
    weights: npt.NDArray[np.float64] | None = None,
) -> IntArray:
    """Cluster labels ``0..k-1`` (in order of first member) for unit-norm ``signatures``.

    Average-linkage agglomerative clustering on cosine distance: merge the closest pair of
    clusters while their distance is below ``threshold`` or there are more than
    ``bounds.high`` clusters, and never below ``bounds.low`` clusters. Two clusters holding
    members that ``cannot`` link do not merge, unless only such pairs are left while there
    are more than ``bounds.high`` clusters. The distance of two clusters is the
    ``weights``-weighted mean of their members' pairwise distances (speech seconds: long
    pieces speak louder), which keeps the threshold on the scale of two single signatures
    (the distance of two centroids shrinks as clusters grow).
    """
    n = len(signatures)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w = np.ones(n) if weights is None else np.maximum(np.asarray(weights, dtype=np.float64), 1e-6)
    unit = signatures.astype(np.float64)
    unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    pairwise = 1.0 - unit @ unit.T
    conflict = cannot.astype(bool).copy()
    alive = np.ones(n, dtype=bool)
    owner = np.arange(n)
    mass = w.copy()
    distance = pairwise.copy()
    np.fill_diagonal(distance, np.inf)
    blocked = np.where(conflict, np.inf, 0.0)
    count = n
    while count > max(1, bounds.low):
        flat = int(np.argmin(distance + blocked))
        a, b = divmod(flat, n)
        best = float(distance[a, b] + blocked[a, b])
        if not np.isfinite(best) and count > bounds.high:
            # more clusters than asked for and only conflicting pairs left: the caller's
            # count wins over the model's cross-talk
            flat = int(np.argmin(distance))
            a, b = divmod(flat, n)
            best = float(distance[a, b])
        if not np.isfinite(best) or (best > threshold and count <= bounds.high):
            break
        # average linkage (Lance-Williams): the weighted mean of the pairwise distances
        row = (mass[a] * distance[a] + mass[b] * distance[b]) / (mass[a] + mass[b])
        mass[a] += mass[b]
        alive[b] = False
        owner[owner == b] = a
        conflict[a] |= conflict[b]
        conflict[:, a] = conflict[a]
        row[~alive] = np.inf
        row[a] = np.inf
        distance[a] = row
        distance[:, a] = row
        distance[b] = np.inf
        distance[:, b] = np.inf
        blocked[a] = np.where(conflict[a], np.inf, 0.0)
        blocked[:, a] = blocked[a]
        count -= 1
    labels = np.empty(n, dtype=np.int64)
    first: dict[int, int] = {}
    for i in range(n):
        labels[i] = first.setdefault(int(owner[i]), len(first))
    return labels


def reconstruct(
    activity: BoolArray,
    ids: IntArray,
    clusters: Sequence[int],
    step: int,
    total_frames: int,
) -> BoolArray:
    """Global activity ``[speakers, total_frames]`` from the windows and the track clusters.

    ``clusters[t]`` is the speaker of track ``t``. Each speaker's score at a frame is the
    mean over the covering windows of its (linked) local activity, window edges weighed less
    (Hamming); the frame keeps the top ``n`` speakers, ``n`` being the rounded mean count of
    active local speakers of those windows.
    """
    windows, frames, local = activity.shape
    speakers = max(clusters, default=-1) + 1
    score = np.zeros((max(speakers, 1), total_frames), dtype=np.float64)
    count = np.zeros(total_frames, dtype=np.float64)
    cover = np.zeros(total_frames, dtype=np.float64)
    hamming = np.hamming(frames) * 0.9 + 0.1
    for w in range(windows):
        start = w * step
        end = min(start + frames, total_frames)
        if end <= start:
            continue
        span = end - start
        weight = hamming[:span]
        act = activity[w, :span]
        cover[start:end] += weight
        count[start:end] += weight * act.sum(axis=1)
        for j in range(local):
            track = int(ids[w, j])
            if track >= 0:
                score[clusters[track], start:end] += weight * act[:, j]
    covered = np.maximum(cover, 1e-9)
    score /= covered
    n_active = np.rint(count / covered).astype(np.int64)
    out = np.zeros((speakers, total_frames), dtype=bool)
    if speakers == 0:
        return out
    order = np.argsort(-score, axis=0)  # [speakers, frames]
    for rank in range(min(speakers, local)):
        chosen = order[rank]
        keep = (n_active > rank) & (score[chosen, np.arange(total_frames)] > 0)
        out[chosen[keep], np.flatnonzero(keep)] = True
    return out


def runs(active: BoolArray, *, fill: int = 0, shortest: int = 1) -> list[tuple[int, int]]:
    """``[start, end)`` runs of True in ``active``, gaps up to ``fill`` frames closed first,
    then runs under ``shortest`` frames dropped."""
    padded = np.concatenate(([False], active.astype(bool), [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    spans = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a - merged[-1][1] <= fill:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return [(a, b) for a, b in merged if b - a >= shortest]


@dataclass(frozen=True)
class Piece:
    """A stretch ``[start, end)`` of frames of one track, the unit that gets a signature."""

    track: int
    start: int
    end: int


def split_pieces(tracks: BoolArray, *, gap: int, longest: int, shortest: int = 1) -> list[Piece]:
    """Cut each track's activity ``[tracks, frames]`` into pieces: runs (gaps up to ``gap``
    frames closed), each run cut into equal parts of at most ``longest`` frames; runs under
    ``shortest`` frames are dropped. Sorted by start.

    The segmentation model sometimes hears two similar voices as one local speaker of a
    window; a pause or the length limit cuts such a track so that its pieces can go to
    different speakers.
    """
    out: list[Piece] = []
    for t, row in enumerate(tracks):
        for a, b in runs(row, fill=gap, shortest=shortest):
            parts = max(1, -(-(b - a) // longest))
            edges = np.linspace(a, b, parts + 1).round().astype(int)
            out.extend(Piece(t, int(x), int(y)) for x, y in pairwise(edges))
    out.sort(key=lambda p: (p.start, p.track))
    return out


def overlap_conflicts(pieces: Sequence[Piece], tracks: BoolArray, *, min_frames: int) -> BoolArray:
    """``[pieces, pieces]``: True where two pieces of different tracks are active together
    for at least ``min_frames`` frames (two voices at once are two speakers)."""
    n = len(pieces)
    out = np.zeros((n, n), dtype=bool)
    for i, p in enumerate(pieces):
        for j in range(i + 1, n):
            q = pieces[j]
            if q.start >= p.end:
                break
            if q.track == p.track:
                continue
            lo, hi = q.start, min(p.end, q.end)
            both = tracks[p.track, lo:hi] & tracks[q.track, lo:hi]
            if int(both.sum()) >= min_frames:
                out[i, j] = out[j, i] = True
    return out
