"""The embedding tagger's logic (background prior, threshold, caching, windows) with a fake encoder."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from tagging_fakes import KeywordEncoder

from earmark.errors import InputError
from earmark.tagging import ENGINES, get_tagger, load_tags
from earmark.tagging.base import TagOptions
from earmark.tagging.embedding import (
    EmbeddingConfig,
    EmbeddingTagger,
    description_phrases,
    taglist_key,
)
from earmark.types import Segment, Transcript

TAGS = load_tags(
    {"Sports": "sport team goal", "Politics": "vote election senate", "Money": "money bank"}
)


@pytest.fixture()
def tagger() -> EmbeddingTagger:
    return EmbeddingTagger(KeywordEncoder())


def test_ranks_all_tags_and_selects_over_threshold(tagger: EmbeddingTagger) -> None:
    result = tagger.tag("The team scored a goal in the sport final", TAGS)
    assert result.best_tag == "Sports"
    assert result.tags[0].tag == "Sports" and len(result.tags) == 3
    assert all(0.0 <= s.relevance <= 1.0 for s in result.tags)
    assert result.tags[0].relevance > result.tags[1].relevance
    assert result.selected == tuple(s.tag for s in result.tags if s.relevance >= result.threshold)
    # the default threshold is the raw gate 0.5, calibrated (what is selected is the same)
    assert tagger.config.calibration is not None
    assert result.threshold == tagger.config.calibration.at(0.5) == tagger.default_threshold
    assert result.engine == "embedding"


def test_neutral_talk_fits_no_tag(tagger: EmbeddingTagger) -> None:
    result = tagger.tag("okay hello okay", TAGS)
    assert result.best_tag is None and result.selected == ()
    assert all(s.relevance < 0.5 for s in result.tags)
    # threshold 0 always picks the top-ranked tag
    assert tagger.tag("okay hello okay", TAGS, TagOptions(threshold=0.0)).best_tag is not None


def test_background_is_removed_per_text(tagger: EmbeddingTagger) -> None:
    import numpy as np

    cos = np.array([[0.30, 0.10]], dtype=np.float32)
    low = tagger.relevance(cos, np.array([0.0], dtype=np.float32))
    high = tagger.relevance(cos, np.array([0.5], dtype=np.float32))
    assert (high < low).all()
    c = tagger.config
    at_center = tagger.relevance(
        np.array([[c.center + 0.2]], dtype=np.float32), np.array([0.2], dtype=np.float32)
    )
    assert at_center[0, 0] == pytest.approx(0.5)


def test_threshold_validation(tagger: EmbeddingTagger) -> None:
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(InputError, match="threshold"):
            tagger.tag("goal", TAGS, TagOptions(threshold=bad))


def test_tag_vectors_cached_by_content_and_examples_move_them(tagger: EmbeddingTagger) -> None:
    enc = tagger.encoder
    assert isinstance(enc, KeywordEncoder)
    first = tagger.tag_vectors(TAGS)
    calls = len(enc.calls)
    assert tagger.tag_vectors(load_tags(dict(TAGS.as_dict()))) is first
    assert len(enc.calls) == calls
    taught = load_tags(
        {
            "Sports": {"description": "sport team goal", "examples": ["money money"]},
            "Politics": "vote",
            "Money": "bank",
        }
    )
    assert taglist_key(taught) != taglist_key(TAGS)
    assert tagger.tag_vectors(taught)[0, 6] > 0  # the 'money' dimension now belongs to Sports too


def test_example_weight_sets_how_far_examples_pull_a_tag() -> None:
    taught = load_tags({"Sports": {"description": "sport team goal", "examples": ["money"]}})
    pulls = [
        EmbeddingTagger(KeywordEncoder(), EmbeddingConfig(example_weight=w)).tag_vectors(taught)[
            0, 6
        ]
        for w in (0.0, 0.25, 1.0)
    ]
    assert pulls[0] == 0.0 < pulls[1] < pulls[2]


def test_tag_many_encodes_in_one_batch(tagger: EmbeddingTagger) -> None:
    enc = tagger.encoder
    assert isinstance(enc, KeywordEncoder)
    tagger.tag("warm up: tag vectors and neutral sentences", TAGS)
    enc.calls.clear()
    results = tagger.tag_many(["goal team", "vote senate", "bank money"], TAGS)
    assert [r.best_tag for r in results] == ["Sports", "Politics", "Money"]
    assert enc.calls == [3]


def test_per_window_tags_on_a_transcript(tagger: EmbeddingTagger) -> None:
    segs = [
        Segment(i, i * 10_000, (i + 1) * 10_000, "the team scored a goal sport") for i in range(6)
    ]
    segs += [
        Segment(6 + i, 60_000 + i * 10_000, 70_000 + i * 10_000, "the senate vote on the election")
        for i in range(6)
    ]
    tr = Transcript("", tuple(segs), "en", 1.0, 120_000)
    result = tagger.tag(tr, TAGS, TagOptions(window_ms=30_000))
    assert [(w.start_ms, w.end_ms) for w in result.segments] == [
        (0, 30_000),
        (30_000, 60_000),
        (60_000, 90_000),
        (90_000, 120_000),
    ]
    assert [w.tags[0].tag for w in result.segments] == ["Sports", "Sports", "Politics", "Politics"]
    assert set(result.selected[:2]) == {"Sports", "Politics"}
    assert tagger.tag(tr, TAGS, TagOptions(per_window=False)).segments == ()


def test_empty_input_fits_nothing(tagger: EmbeddingTagger) -> None:
    result = tagger.tag("", TAGS)
    assert (
        result.best_tag is None
        and result.segments == ()
        and {s.relevance for s in result.tags} == {0.0}
    )


def test_get_tagger_registry() -> None:
    assert "embedding" in ENGINES
    assert get_tagger() is get_tagger("embedding")
    with pytest.raises(InputError, match="unknown tagging engine 'nope'; engines: embedding"):
        get_tagger("nope")
    with pytest.raises(InputError, match="unknown model"):
        get_tagger("embedding", "bert-large")


def test_config_changes_calibration() -> None:
    strict = EmbeddingTagger(KeywordEncoder(), EmbeddingConfig(threshold=0.99))
    assert strict.tag("goal", TAGS).best_tag is None


@pytest.mark.parametrize(
    ("description", "phrases"),
    [
        (
            "News about companies, markets, the economy, trade and finance.",
            ["News about companies", "markets", "the economy", "trade", "finance"],
        ),
        (
            "Information on movies, music, television, celebrities, and arts.",
            ["Information on movies", "music", "television", "celebrities", "arts"],
        ),
        (
            "Problems related to user accounts, such as login difficulties or account access.",
            ["Problems related to user accounts", "such as login difficulties", "account access"],
        ),
        ("Refunds; returns; exchanges", ["Refunds", "returns", "exchanges"]),
        # no list: one phrase, "and" inside it is kept
        (
            "News and discussion about environmental issues and sustainability.",
            ["News and discussion about environmental issues and sustainability"],
        ),
        ("  ", []),
    ],
)
def test_description_phrases(description: str, phrases: list[str]) -> None:
    assert description_phrases(description) == phrases


class _RecordingEncoder(KeywordEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.texts.extend(texts)
        return super().encode(texts)


def test_tag_vector_is_the_mean_of_templates_and_phrase_prototypes() -> None:
    enc = _RecordingEncoder()
    tags = load_tags({"Sports": "sport, team and goal", "Money": "money bank"})
    vectors = EmbeddingTagger(enc).tag_vectors(tags)
    sports = [
        "Topic: Sports. sport, team and goal",
        "This is about sports.",
        "This is about sport.",
        "This is about team.",
        "This is about goal.",
    ]
    money = ["Topic: Money. money bank", "This is about money.", "This is about money bank."]
    assert enc.texts == sports + money
    expected = enc.encode(sports).mean(axis=0)
    assert vectors[0] == pytest.approx(expected / np.linalg.norm(expected), abs=1e-6)
    # without phrase prototypes only the two templates remain
    enc.texts.clear()
    EmbeddingTagger(enc, EmbeddingConfig(phrase_template=None)).tag_vectors(tags)
    assert enc.texts == sports[:2] + money[:2]


def test_window_vector_pools_its_sentences() -> None:
    enc = _RecordingEncoder()
    tagger = EmbeddingTagger(enc)
    tagger.tag("warm up", TAGS)
    text = "goal goal goal goal goal goal goal goal goal. vote!"
    enc.texts.clear()
    pooled = tagger.tag(text, TAGS, TagOptions(threshold=0.0, per_window=False))
    assert enc.texts == ["goal goal goal goal goal goal goal goal goal.", "vote!"]
    # square-root word weights: the 9-word sentence counts 3 times the 1-word one
    emb = enc.encode(["goal goal goal goal goal goal goal goal goal.", "vote!"])
    vec = 3.0 * emb[0] + 1.0 * emb[1]
    vec /= np.linalg.norm(vec)
    tagvecs = tagger.tag_vectors(TAGS)
    neutral = tagger._neutral_vectors()
    background = np.sort(vec @ neutral.T)[-3:].mean()
    expected = tagger.relevance((vec @ tagvecs.T)[None, :], np.array([background], np.float32))
    assert tagger.config.calibration is not None
    expected = tagger.config.calibration.apply(expected)
    got = {s.tag: s.relevance for s in pooled.tags}
    for name, rel in zip(TAGS.names, expected[0], strict=True):
        assert got[name] == pytest.approx(float(rel), abs=1e-4)
    # one piece: the long sentence drowns the other; pooled, Politics keeps a real share
    whole = EmbeddingTagger(KeywordEncoder(), EmbeddingConfig(sentence_pooling=False))
    one_piece = {s.tag: s.relevance for s in whole.tag(text, TAGS, TagOptions(threshold=0.0)).tags}
    assert got["Politics"] > one_piece["Politics"]


def test_spread_gate_keeps_only_the_leading_tags(tagger: EmbeddingTagger) -> None:
    bg = np.array([0.0], dtype=np.float32)
    cos = np.array([[0.60, 0.57, 0.40]], dtype=np.float32)  # all far over the background
    gated = tagger.relevance(cos, bg)
    ungated = EmbeddingTagger(KeywordEncoder(), EmbeddingConfig(spread=None)).relevance(cos, bg)
    assert (ungated > 0.99).all()
    assert gated[0, 0] == pytest.approx(ungated[0, 0])  # the best tag is not scaled
    assert gated[0, 1] > 0.5 > gated[0, 2]  # 0.03 below the best stays, 0.20 below drops
    assert list(np.argsort(-gated[0])) == list(np.argsort(-ungated[0]))
    spread = tagger.config.spread
    assert spread is not None
    edge = tagger.relevance(np.array([[0.6, 0.6 - spread]], dtype=np.float32), bg)
    t = tagger.config.spread_temperature
    # g(-spread) = sigmoid(0) / sigmoid(spread / t): the gate's midpoint, normalised
    assert edge[0, 1] == pytest.approx(edge[0, 0] * 0.5 * (1 + np.exp(-spread / t)), abs=1e-3)


def test_a_topic_in_a_third_of_a_short_text_is_selected(tagger: EmbeddingTagger) -> None:
    text = (
        "The senate vote on the election law passed. The election vote was close in the senate."
        " Then the team scored a goal."
    )
    with_sentences = tagger.tag(text, TAGS)
    without = EmbeddingTagger(KeywordEncoder(), EmbeddingConfig(sentence_coverage=False)).tag(
        text, TAGS
    )
    assert with_sentences.best_tag == without.best_tag == "Politics"
    assert "Sports" in with_sentences.selected and "Sports" not in without.selected
    # the sentence vote never lifts a tag over the window's own leading tag
    assert with_sentences.tags[0].tag == "Politics"


def test_hybrid_ranks_by_weighted_pooling_and_decides_by_mean() -> None:
    from tagging_fakes import TwoPoolEncoder

    text = "sport sport sport sport vote vote"  # mean: Sports leads; weighted: Politics
    hybrid = EmbeddingTagger(TwoPoolEncoder())
    mean_only = EmbeddingTagger(KeywordEncoder())
    opts = TagOptions(threshold=0.0, per_window=False)
    got, plain = hybrid.tag(text, TAGS, opts), mean_only.tag(text, TAGS, opts)
    assert plain.tags[0].tag == "Sports" and got.tags[0].tag == "Politics"
    # "on topic at all" is the mean pooling's best margin: the leaders' relevances agree
    assert got.tags[0].relevance == pytest.approx(plain.tags[0].relevance, abs=1e-4)
    # the formula: margin = cos_r - max(cos_r) + (max(cos_mean) - background(mean))
    mean, weighted = hybrid.encoder.encode_pair([text])
    tag_mean, tag_weighted = hybrid.tag_matrices(TAGS)
    assert not np.allclose(tag_mean, tag_weighted)
    cos_r, cos_m = (weighted @ tag_weighted.T)[0], (mean @ tag_mean.T)[0]
    background = np.sort(mean @ hybrid._neutral_vectors().T)[0, -3:].mean()
    margin = cos_r - cos_r.max() + cos_m.max() - background
    c = hybrid.config
    assert c.spread is not None
    first = 1 / (1 + np.exp(-(margin - c.center) / c.temperature))
    gate = 1 / (1 + np.exp(-(cos_r - cos_r.max() + c.spread) / c.spread_temperature))
    expected = first * gate / (1 / (1 + np.exp(-c.spread / c.spread_temperature)))
    assert c.calibration is not None
    expected = c.calibration.apply(expected.astype(np.float32))
    scores = {s.tag: s.relevance for s in got.tags}
    for name, rel in zip(TAGS.names, expected, strict=True):
        assert scores[name] == pytest.approx(float(rel), abs=1e-4)


def test_an_encoder_without_weighted_pooling_scores_with_the_mean() -> None:
    enc = KeywordEncoder()
    mean, weighted = enc.encode_pair(["goal vote"])
    assert weighted is mean  # the TextEncoder default
    tagger = EmbeddingTagger(enc)
    tag_mean, tag_weighted = tagger.tag_matrices(TAGS)
    assert tag_weighted is tag_mean is tagger.tag_vectors(TAGS)
