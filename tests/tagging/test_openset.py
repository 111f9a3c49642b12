"""Open-set rejection with background topics (earmark.tagging.openset).

The logic on hand-made vectors and the keyword encoder, then the real MiniLM tagger on
the cases the feature was built for.
"""

from __future__ import annotations

import numpy as np
import pytest
from tagging_fakes import KeywordEncoder

from earmark.tagging import load_tags, openset
from earmark.tagging.embedding import EmbeddingConfig, EmbeddingTagger
from earmark.tagging.openset import (
    BackgroundTopics,
    OpenSetConfig,
    background_tags,
    keep_background,
    open_set_factor,
    open_set_margin,
)
from earmark.types import Tag, TagList


def _unit(*rows: list[float]) -> np.ndarray:
    x = np.array(rows, dtype=np.float32)
    out: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def test_background_close_to_a_user_tag_is_dropped() -> None:
    background = _unit([1, 0, 0], [0, 1, 0], [0, 0, 1])
    user = _unit([1, 0.1, 0], [0, 0.2, 1])  # like the first and the third
    assert keep_background(background, user, 0.9).tolist() == [False, True, False]
    assert keep_background(background, user, 1.01).tolist() == [True, True, True]
    assert keep_background(background, user[:0], 0.5).tolist() == [True, True, True]


def test_margin_is_best_user_less_best_background() -> None:
    cos_user = np.array([[0.2, 0.5], [0.3, 0.1]], np.float32)
    cos_bg = np.array([[0.4, 0.1, 0.0], [0.6, 0.2, 0.7]], np.float32)
    assert np.allclose(open_set_margin(cos_user, cos_bg), [0.1, -0.4])
    nothing = open_set_margin(cos_user, np.zeros((2, 0), np.float32))
    assert np.isposinf(nothing).all()


def test_factor_halves_at_the_centre_and_keeps_without_background() -> None:
    margin = np.array([-0.12, 1.0, -1.0, np.inf], np.float32)
    f = open_set_factor(margin, -0.12, 0.01)
    assert f[0] == pytest.approx(0.5)
    assert f[1] == pytest.approx(1.0)
    assert f[2] == pytest.approx(0.0, abs=1e-6)
    assert f[3] == 1.0


def test_background_tags_are_the_iab_tier1_topics() -> None:
    tags = background_tags()
    assert len(tags.tags) == 29
    by_name = tags.as_dict()
    assert "Sports" in by_name and "Travel" in by_name
    assert by_name["Sports"].startswith("Sports, ")
    assert "Basketball" in by_name["Sports"]  # descendants' names describe it
    assert not any("(" in t.name or "(" in t.description for t in tags.tags)


def test_background_vectors_built_once_and_kept_per_list() -> None:
    background = _unit([1, 0, 0], [0, 1, 0], [0, 0, 1])
    calls: list[TagList] = []

    def build(tags: TagList) -> tuple[np.ndarray, np.ndarray]:
        calls.append(tags)
        return background, background

    topics = BackgroundTopics(OpenSetConfig(max_similarity=0.9), build)
    first = _unit([1, 0, 0.1])
    second = _unit([0, 0, 1])
    kept_first = topics.vectors((first, first))
    kept_second = topics.vectors((second, second))
    assert topics.vectors((first, first)) is kept_first  # cached per list
    assert len(calls) == 1  # the background itself once
    assert kept_first[0].tolist() == background[1:].tolist()
    assert kept_second[0].tolist() == background[:2].tolist()
    # a text along the user's tag keeps it; one along a kept background topic does not
    rows = _unit([1, 0, 0], [0, 1, 0])
    f = topics.factor(rows, (first, first))
    assert f[0] > 0.99 and f[1] < 0.01


SMALL_BACKGROUND = TagList(
    tags=(
        Tag("Sport", "sport, team, goal"),
        Tag("Money", "money, bank"),
    ),
    name="background",
)
USER = load_tags({"Elections": "vote, election, senate", "Banking": "money, bank"})


@pytest.fixture
def small_background(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openset, "background_tags", lambda: SMALL_BACKGROUND)


@pytest.mark.usefixtures("small_background")
def test_tagger_says_none_for_an_off_list_topic() -> None:
    text = "the team scored a goal, what a sport, the team"
    closed = EmbeddingConfig(open_set=None)
    plain = EmbeddingTagger(KeywordEncoder(), closed).tag(text, USER)
    opened = EmbeddingTagger(KeywordEncoder(), EmbeddingConfig(open_set=OpenSetConfig()))
    result = opened.tag(text, USER)
    assert plain.tags[0].relevance > result.tags[0].relevance
    assert result.best_tag is None and result.selected == ()
    # the ranking is the same: every relevance of the text is scaled alike
    assert [s.tag for s in result.tags] == [s.tag for s in plain.tags]


@pytest.mark.usefixtures("small_background")
def test_tagger_keeps_listed_topics_and_drops_the_background_twin() -> None:
    opened = EmbeddingTagger(KeywordEncoder(), EmbeddingConfig(open_set=OpenSetConfig()))
    plain = EmbeddingTagger(KeywordEncoder(), EmbeddingConfig(open_set=None))
    for text in ("the senate vote on the election", "the bank lost money, money"):
        a, b = opened.tag(text, USER), plain.tag(text, USER)
        assert a.best_tag == b.best_tag is not None
        assert a.tags[0].relevance == pytest.approx(b.tags[0].relevance, abs=1e-3)
    # "Money" is in the user list as "Banking": it was dropped from the background
    assert opened._background is not None
    kept = opened._background.vectors(opened.tag_matrices(USER))[0]
    assert len(kept) == 1


def test_default_config_rejects_on_domain_lists_only() -> None:
    assert EmbeddingConfig().open_set == OpenSetConfig(domain_lists_only=True, center=-0.06)
    assert EmbeddingTagger(KeywordEncoder())._background is not None
    assert EmbeddingTagger(KeywordEncoder(), EmbeddingConfig(open_set=None))._background is None


# The real model (MiniLM), on the cases open-set rejection was built for.

JFK = (
    "And so, my fellow Americans: ask not what your country can do for you, ask what you "
    "can do for your country."
)
MATCH = (
    "and that's full time here, two one to the home side, a late winner in the ninetieth "
    "minute from the substitute striker, what a header. the fans are on the pitch. that "
    "result takes them top of the league for the first time this season, the away side down "
    "to ten men after the red card in the second half."
)
PODCAST = (
    "welcome back to the pod, so what a weekend of football that was, the derby went to "
    "penalties and the keeper saved two, honestly i think the manager got the substitutions "
    "right, and the league table now has them three points clear with five games to go, and "
    "next week it's the cup semi final against the champions"
)
BILLING_CALL = (
    "thank you for calling Brightline Mobile my name is Sam how can I help you today hi um "
    "I've been charged twice on my bill this month for my monthly plan, I can see two "
    "payments of thirty pounds on my bank statement okay let me just pull that up for you, "
    "yes I can see the duplicate charge, I'll refund the second payment to your card, it "
    "should be back in three to five working days, is there anything else I can help with, "
    "no that's all thanks"
)
OUTAGE = "my internet has been down since this morning"


def _described(preset: str) -> TagList:
    """A preset's tags with their descriptions only (a user's own list has no examples)."""
    return load_tags({t.name: t.description for t in load_tags(preset).tags})


def test_support_preset_examples_say_none_fits_and_rank_calls(
    real: tuple[EmbeddingTagger, EmbeddingTagger],
) -> None:
    """The shipped support preset's examples fix what the bare descriptions got wrong."""
    plain, _ = real
    support = load_tags("support")
    assert all(t.examples for t in support.tags)
    assert plain.tag(JFK, support).best_tag is None
    assert plain.tag(MATCH, support).best_tag is None
    assert plain.tag(OUTAGE, support).best_tag == "Service Disruption"
    assert plain.tag(OUTAGE, _described("support")).best_tag != "Service Disruption"


@pytest.fixture(scope="module")
def real() -> tuple[EmbeddingTagger, EmbeddingTagger]:
    from earmark.tagging.encoder import get_encoder

    enc = get_encoder()
    return (
        EmbeddingTagger(enc, EmbeddingConfig(open_set=None)),
        EmbeddingTagger(enc, EmbeddingConfig(open_set=OpenSetConfig())),
    )


def test_real_model_off_list_and_on_list_cases(
    real: tuple[EmbeddingTagger, EmbeddingTagger],
) -> None:
    plain, opened = real
    support, media = _described("support"), load_tags("media")
    assert plain.tag(JFK, support).best_tag is not None  # what open-set rejection fixes
    assert opened.tag(JFK, support).best_tag is None
    assert opened.tag(MATCH, support).best_tag is None
    assert opened.tag(OUTAGE, support).best_tag is not None  # on-list talk keeps a tag
    billing = opened.tag(BILLING_CALL, media)
    assert billing.best_tag in {"Finance", "Business"}
    assert billing.best_tag == plain.tag(BILLING_CALL, media).best_tag


@pytest.mark.xfail(reason="known limits, benchmarks/tagging.md 'Open-set rejection'", strict=False)
def test_real_model_known_misses(real: tuple[EmbeddingTagger, EmbeddingTagger]) -> None:
    _, opened = real
    support = _described("support")
    # ranking (unchanged by this feature) puts Account Issues first
    assert opened.tag(OUTAGE, support).best_tag == "Service Disruption"
    # IAB "Sports" beats Service Disruption by 0.09 only, under the -0.12 centre
    assert opened.tag(PODCAST, support).best_tag is None


def test_domain_lists_only_spares_lists_of_broad_topics() -> None:
    background = np.eye(3, dtype=np.float32)  # three broad topics
    broad = np.array([[0.9, 0.1, 0.0], [0.0, 0.8, 0.2]], np.float32)  # each near one
    domain = np.array([[0.9, 0.1, 0.0], [0.3, 0.3, 0.3]], np.float32)  # one near none
    assert not openset.is_domain_list(background, broad, 0.5)
    assert openset.is_domain_list(background, domain, 0.5)


def test_default_rejects_off_list_talk_on_domain_lists_only(
    real: tuple[EmbeddingTagger, EmbeddingTagger],
) -> None:
    """The default tagger: background topics for the support list, not for the media list."""
    from earmark.tagging.embedding_config import DOMAIN_OPEN_SET

    plain, _ = real
    default = EmbeddingTagger(plain.encoder)
    assert default.config.open_set == DOMAIN_OPEN_SET
    assert default.tag(JFK, _described("support")).best_tag is None
    assert plain.tag(JFK, _described("support")).best_tag is not None
    media = load_tags("media")
    for text in (JFK, MATCH, BILLING_CALL):
        a, b = default.tag(text, media), plain.tag(text, media)
        assert [(s.tag, s.relevance) for s in a.tags] == [(s.tag, s.relevance) for s in b.tags]
