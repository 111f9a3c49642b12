"""Relevance calibration: a tagger's raw score mapped to how often a tag at that score is right.

The embedding tagger's raw score says "on topic at all" and "among the leading tags"
(:mod:`earmark.tagging.embedding`); it is not a probability: on speech, raw 0.90-0.99 was
right only 52-77% of the time, and on news and bank queries less. A :class:`Calibration`
is Platt scaling of that score, ``relevance = sigmoid(slope * logit(raw) + offset)``,
fitted per engine by ``benchmarks/calibration_bench.py --fit`` (maximum likelihood over
every text-tag pair of the tune data: is this tag acceptable for this text) and reported
on held-out data there, with reliability plots. The map is strictly increasing, so the
order of the tags is unchanged, two tags that differed still differ, and the tagger's
default threshold (the calibrated value of its raw gate) selects exactly what the gate
selected: "none fits" and ``selected`` do not move, only the numbers say what they mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Calibration"]

F32 = npt.NDArray[np.float32]
_EPS = 1e-6


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of a raw relevance: ``sigmoid(slope * logit(raw) + offset)``.

    slope: how much the raw score's confidence is believed (under 1: less sure).
    offset: the shift in log-odds (negative: a tag at raw 0.5 is right less than half the
        time).
    ``Calibration()`` (1, 0) leaves relevances unchanged.
    """

    slope: float = 1.0
    offset: float = 0.0

    def __post_init__(self) -> None:
        if not (self.slope > 0 and math.isfinite(self.slope) and math.isfinite(self.offset)):
            raise ValueError("a calibration needs a positive slope and a finite offset")

    def apply(self, raw: F32) -> F32:
        """The calibrated relevances of ``raw`` (any shape, values in 0..1)."""
        r = np.clip(raw.astype(np.float64), _EPS, 1 - _EPS)
        z = self.slope * np.log(r / (1 - r)) + self.offset
        out: F32 = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return out

    def at(self, raw: float) -> float:
        """The calibrated value of one raw score, rounded down to the 4 decimals shown."""
        value = float(self.apply(np.array([raw], np.float32))[0])
        return math.floor(value * 1e4) / 1e4
