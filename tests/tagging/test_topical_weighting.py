"""Topical sentence weights, long-sentence pieces, the whole text's leader and tie-breaks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tagging_fakes import KeywordEncoder

from earmark.tagging import load_tags
from earmark.tagging.base import TagOptions
from earmark.tagging.embedding import (
    SPEECH_CONFIG,
    EmbeddingConfig,
    EmbeddingTagger,
    _below,
    _rank,
)

TAGS = load_tags(
    {"Sports": "sport team goal", "Politics": "vote election senate", "Money": "money bank"}
)
OFF = EmbeddingConfig(topical_center=None, long_sentence_words=None)


def test_long_unpunctuated_sentences_are_cut_into_pieces() -> None:
    tagger = EmbeddingTagger(KeywordEncoder(), EmbeddingConfig(long_sentence_words=10))
    words = [f"w{i}" for i in range(32)]
    pieces = tagger.sentences(" ".join(words) + ". Short one.")
    assert [len(p.split()) for p in pieces] == [16, 16, 2]
    assert " ".join(pieces[:2]).split() == [*words[:-1], "w31."]
    assert EmbeddingTagger(KeywordEncoder(), OFF).sentences(" ".join(words)) == [" ".join(words)]


def test_topic_free_sentences_weigh_less_than_topical_ones() -> None:
    tagger = EmbeddingTagger(KeywordEncoder(), SPEECH_CONFIG)
    tag_mean = tagger.tag_matrices(TAGS)[0]
    rows = tagger.encoder.encode(["hello okay hello", "sport goal team"])
    w = tagger.topical_weights(rows, tag_mean)
    assert w[1] > 0.5 > w[0]
    off = EmbeddingTagger(KeywordEncoder(), OFF).topical_weights(rows, tag_mean)
    assert off.tolist() == [1.0, 1.0]


def test_greetings_no_longer_decide_the_leading_tag() -> None:
    # the long opening mentions "bank" once among greetings; the short middle is sports
    text = "hello okay hello okay bank hello okay. sport goal team. hello okay hello okay."
    opts = TagOptions(threshold=0.0, per_window=False)
    on = EmbeddingTagger(KeywordEncoder(), SPEECH_CONFIG).tag(text, TAGS, opts)
    off = EmbeddingTagger(KeywordEncoder(), OFF).tag(text, TAGS, opts)
    rel_on = {s.tag: s.relevance for s in on.tags}
    rel_off = {s.tag: s.relevance for s in off.tags}
    assert on.tags[0].tag == "Sports"
    assert rel_on["Sports"] - rel_on["Money"] > rel_off["Sports"] - rel_off["Money"]


def test_ties_are_broken_and_covered_tags_stay_visibly_below_the_leader() -> None:
    rel = np.array([0.99, 0.99, 0.5], np.float32)
    ranked, selected = _rank(["A", "B", "C"], rel, 0.5, np.array([0.1, 0.2, 0.0], np.float32))
    assert [s.tag for s in ranked] == ["B", "A", "C"]
    assert selected == ("B", "A", "C")
    assert round(float(_below(np.float32(0.994))), 4) < 0.994
    assert _below(0.0) == 0.0


SPEECH = Path(__file__).resolve().parents[2] / "benchmarks" / "speech_dev" / "support.jsonl"


@pytest.mark.skipif(not SPEECH.exists(), reason="speech development set not present")
def test_real_support_calls_leave_the_sink_tags() -> None:
    """The opt-in speech setting moves calls the default tags by their boilerplate."""
    from earmark.tagging.encoder import get_encoder

    wanted = {"support-002", "support-008", "support-016", "support-022", "support-051"}
    rows = [json.loads(ln) for ln in SPEECH.read_text("utf-8").splitlines() if ln.strip()]
    rows = [r for r in rows if r["id"] in wanted]
    assert len(rows) == len(wanted)
    texts, tags = [r["text"] for r in rows], load_tags("support")

    def right(config: EmbeddingConfig) -> int:
        results = EmbeddingTagger(get_encoder(), config).tag_many(texts, tags)
        return sum(res.tags[0].tag == r["gold"] for r, res in zip(rows, results, strict=True))

    speech, default = right(SPEECH_CONFIG), right(EmbeddingConfig())
    assert speech >= 3
    assert speech > default
