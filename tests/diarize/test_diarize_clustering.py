"""The model-free logic: powerset decoding, linking, clustering, reconstruction, pieces."""

from __future__ import annotations

import numpy as np
import pytest

from earmark.diarize.clustering import (
    ClusterBounds,
    Piece,
    agglomerate,
    cannot_link,
    link_windows,
    overlap_conflicts,
    powerset_to_multilabel,
    reconstruct,
    runs,
    split_pieces,
)

FRAMES = 20
STEP = 10


def windows_of(timeline: np.ndarray, order: list[list[int]]) -> np.ndarray:
    """Cut a global ``[frames, speakers]`` timeline into windows of FRAMES every STEP, the
    local speaker ``j`` of window ``w`` being global speaker ``order[w][j]`` (-1: none)."""
    out = np.zeros((len(order), FRAMES, 3), dtype=bool)
    for w, mapping in enumerate(order):
        chunk = timeline[w * STEP : w * STEP + FRAMES]
        for j, g in enumerate(mapping):
            if g >= 0:
                out[w, : len(chunk), j] = chunk[:, g]
    return out


def test_powerset_decodes_single_and_overlapping_speakers() -> None:
    scores = np.full((1, 4, 7), -10.0, dtype=np.float32)
    for frame, cls in enumerate([0, 2, 4, 6]):  # none, spk2, spk1+2, spk2+3
        scores[0, frame, cls] = 0.0
    active = powerset_to_multilabel(scores)
    assert active[0].tolist() == [
        [False, False, False],
        [False, True, False],
        [True, True, False],
        [False, True, True],
    ]


def test_linking_follows_a_speaker_through_permuted_local_slots() -> None:
    timeline = np.zeros((40, 2), dtype=bool)
    timeline[0:18, 0] = True  # speaker 0 talks, then speaker 1 (overlapping a little)
    timeline[15:40, 1] = True
    # the model names them in a different order in each window
    activity = windows_of(timeline, [[0, 1, -1], [1, 0, -1], [-1, -1, 1]])
    ids = link_windows(activity, STEP, min_frames=3)
    assert ids[0, 0] == ids[1, 1]  # speaker 0 in windows 0 and 1
    assert ids[0, 1] == ids[1, 0] == ids[2, 2]  # speaker 1 throughout
    assert ids[0, 0] != ids[0, 1]
    assert ids[2, 0] == ids[2, 1] == -1


def test_a_voice_back_after_silence_gets_a_new_track() -> None:
    timeline = np.zeros((40, 1), dtype=bool)
    timeline[0:8, 0] = True
    timeline[32:40, 0] = True  # nothing in the overlap of windows 1 and 2
    activity = windows_of(timeline, [[0, -1, -1], [0, -1, -1], [0, -1, -1]])
    ids = link_windows(activity, STEP, min_frames=3)
    assert ids[0, 0] >= 0 and ids[2, 0] >= 0
    assert ids[0, 0] != ids[2, 0]
    assert ids[1, 0] == -1  # window 1 hears nobody


def test_only_agreeing_activity_links() -> None:
    activity = np.zeros((2, FRAMES, 3), dtype=bool)
    activity[0, 10:20, 0] = True  # window 0 ends with speech in frames 10-19
    activity[1, 0:2, 0] = True  # window 1: 2 of those frames (IoU 0.2) as its speaker 0
    activity[1, 2:10, 1] = True  # and 8 (IoU 0.8) as its speaker 1
    ids = link_windows(activity, STEP, min_frames=2, min_agreement=0.5)
    assert ids[1, 1] == ids[0, 0]
    assert ids[1, 0] not in (-1, ids[0, 0])


def test_cannot_link_marks_tracks_sharing_a_window() -> None:
    ids = np.array([[0, 1, -1], [0, 2, -1], [3, -1, -1]])
    cannot = cannot_link(ids)
    assert cannot[0, 1] and cannot[1, 0] and cannot[0, 2]
    assert not cannot[1, 2] and not cannot[0, 3] and not cannot[0, 0]


def _voices(rng: np.random.Generator, centres: np.ndarray, labels: list[int]) -> np.ndarray:
    x = centres[labels] + rng.normal(scale=0.15, size=(len(labels), centres.shape[1]))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_agglomerate_finds_the_voices_under_the_threshold() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3] * 3
    truth = [0, 1, 2, 0, 1, 2, 0, 0, 1]
    signatures = _voices(rng, centres, truth)
    labels = agglomerate(signatures, np.zeros((9, 9), dtype=bool), threshold=0.5)
    assert labels.tolist() == truth  # labels in order of first member


def test_agglomerate_honours_bounds_and_cannot_link() -> None:
    rng = np.random.default_rng(1)
    centres = np.eye(8)[:3] * 3
    truth = [0, 1, 2, 0, 1, 2]
    signatures = _voices(rng, centres, truth)
    none = np.zeros((6, 6), dtype=bool)
    assert len(set(agglomerate(signatures, none, threshold=0.5, bounds=ClusterBounds(1, 2)))) == 2
    assert len(set(agglomerate(signatures, none, threshold=0.5, bounds=ClusterBounds(5, 8)))) == 5
    assert len(set(agglomerate(signatures, none, threshold=2.0))) == 1
    # two members of one voice that were heard together stay apart
    cannot = none.copy()
    cannot[0, 3] = cannot[3, 0] = True
    labels = agglomerate(signatures, cannot, threshold=0.5)
    assert labels[0] != labels[3]
    # unless the bounds ask for fewer clusters than the conflicts allow: the count wins
    labels = agglomerate(signatures, cannot, threshold=0.5, bounds=ClusterBounds(1, 1))
    assert set(labels.tolist()) == {0}
    everything = ~np.eye(6, dtype=bool)
    labels = agglomerate(signatures, everything, threshold=0.5, bounds=ClusterBounds(1, 8))
    assert len(set(labels.tolist())) == 6


def test_agglomerate_empty() -> None:
    assert (
        agglomerate(np.zeros((0, 4), np.float32), np.zeros((0, 0), bool), threshold=0.5).size == 0
    )


def test_reconstruct_keeps_as_many_speakers_as_counted() -> None:
    timeline = np.zeros((40, 2), dtype=bool)
    timeline[0:25, 0] = True
    timeline[20:40, 1] = True  # frames 20-24: both speak
    activity = windows_of(timeline, [[0, 1, -1], [1, 0, -1], [-1, 1, -1]])
    ids = link_windows(activity, STEP, min_frames=3)
    tracks = int(ids.max()) + 1
    clusters = list(range(tracks))
    active = reconstruct(activity, ids, clusters, STEP, 40)
    first, second = ids[0, 0], ids[0, 1]
    assert active[first, 0:20].all() and not active[first, 26:40].any()
    assert active[second, 21:40].all() and not active[second, 0:19].any()
    assert active[:, 21:24].sum(axis=0).tolist() == [2, 2, 2]


def test_runs_fill_and_drop() -> None:
    row = np.array([1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1], dtype=bool)
    assert runs(row) == [(0, 2), (3, 4), (7, 8), (10, 13)]
    assert runs(row, fill=1) == [(0, 4), (7, 8), (10, 13)]
    assert runs(row, fill=1, shortest=3) == [(0, 4), (10, 13)]
    assert runs(np.zeros(4, dtype=bool)) == []


def test_split_pieces_cuts_at_pauses_and_length() -> None:
    tracks = np.zeros((2, 30), dtype=bool)
    tracks[0, 0:10] = True
    tracks[0, 14:30] = True  # 16 frames: two pieces of 8 with longest=10
    tracks[1, 5:7] = True  # too short
    pieces = split_pieces(tracks, gap=2, longest=10, shortest=3)
    assert pieces == [Piece(0, 0, 10), Piece(0, 14, 22), Piece(0, 22, 30)]


def test_overlap_conflicts_only_between_tracks_at_once() -> None:
    tracks = np.zeros((2, 20), dtype=bool)
    tracks[0, 0:12] = True
    tracks[1, 8:20] = True
    pieces = [Piece(0, 0, 12), Piece(1, 8, 20)]
    assert overlap_conflicts(pieces, tracks, min_frames=4)[0, 1]
    assert not overlap_conflicts(pieces, tracks, min_frames=5)[0, 1]


@pytest.mark.parametrize("shape", [(1, 5, 7), (3, 589, 7)])
def test_powerset_shapes(shape: tuple[int, int, int]) -> None:
    assert powerset_to_multilabel(np.zeros(shape, np.float32)).shape == (*shape[:2], 3)
