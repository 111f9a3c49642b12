"""Relevance calibration: Platt scaling that changes the numbers, never the decisions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tagging_fakes import KeywordEncoder

from earmark.tagging.calibration import Calibration
from earmark.tagging.embedding import EmbeddingConfig, EmbeddingTagger
from earmark.types import Tag, TagList

TAGS = TagList(
    tags=(
        Tag("Sports", "sport team goal"),
        Tag("Politics", "vote election senate"),
        Tag("Money", "money bank"),
    )
)
TEXTS = [
    "The team scored a goal in the sport final",
    "okay hello okay",
    "the senate vote on the election. the bank lost money",
    "sport sport vote money",
    "hello",
]


def test_identity_and_formula() -> None:
    raw = np.array([0.0, 0.1, 0.5, 0.9, 0.999, 1.0], np.float32)
    assert Calibration().apply(raw) == pytest.approx(np.clip(raw, 1e-6, 1 - 1e-6), abs=1e-6)
    cal = Calibration(slope=0.4, offset=-1.7)
    z = np.log(0.9 / 0.1)
    assert cal.apply(np.array([0.9], np.float32))[0] == pytest.approx(
        1 / (1 + np.exp(-(0.4 * z - 1.7))), abs=1e-6
    )
    assert cal.at(0.5) == np.floor(1e4 / (1 + np.exp(1.7))) / 1e4


def test_strictly_increasing_so_order_and_ties_stay_broken() -> None:
    cal = Calibration(slope=0.387, offset=-1.6)
    raw = np.array([0.3, 0.5, 0.9, 0.99, 0.993, 0.994, 0.9999], np.float32)
    out = cal.apply(raw)
    assert np.all(np.diff(out) > 0)
    # two tags 0.001 apart near the top stay apart at the 4 decimals shown
    assert round(float(out[5]), 4) != round(float(out[4]), 4)


@pytest.mark.parametrize("slope,offset", [(0.0, 0.0), (-1.0, 0.0), (1.0, float("nan"))])
def test_bad_parameters_are_refused(slope: float, offset: float) -> None:
    with pytest.raises(ValueError):
        Calibration(slope, offset)


def test_calibration_moves_numbers_not_decisions() -> None:
    enc = KeywordEncoder()
    raw = EmbeddingTagger(enc, replace(EmbeddingConfig(), calibration=None))
    cal = EmbeddingTagger(enc, replace(EmbeddingConfig(), calibration=Calibration(0.4, -1.7)))
    assert raw.default_threshold == 0.5
    assert cal.default_threshold == Calibration(0.4, -1.7).at(0.5)
    for a, b in zip(raw.tag_many(TEXTS, TAGS), cal.tag_many(TEXTS, TAGS), strict=True):
        assert (a.best_tag, a.selected) == (b.best_tag, b.selected)
        assert [s.tag for s in a.tags] == [s.tag for s in b.tags]
        assert [w.selected for w in a.segments] == [w.selected for w in b.segments]
        assert b.threshold == cal.default_threshold
