"""How the embedding tagger is tuned, and the small helpers its prototypes are built from.

:class:`EmbeddingConfig` holds the tagger's calibration and gates (what each number does is
in its field docs; how each was fitted is in ``benchmarks/tagging.md``); the module's
functions give the built-in topic-free sentences, a content key of a tag list, and the items
of a description written as a list. Split from :mod:`earmark.tagging.embedding` so the
tagger module stays about the tagging itself.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from earmark.tagging.calibration import Calibration
from earmark.tagging.openset import OpenSetConfig
from earmark.types import TagList

__all__ = [
    "SPEECH_CONFIG",
    "EmbeddingConfig",
    "description_phrases",
    "neutral_texts",
    "taglist_key",
]


DOMAIN_OPEN_SET = OpenSetConfig(domain_lists_only=True, center=-0.06)
"""The default's open-set rejection: background topics, on domain lists only. Its centre
is stricter than the opt-in's for every list: with the support preset's examples, -0.06
kept every support call of the tune half and rejected more off-list talk than -0.12
(``benchmarks/tagging.md``, session 5)."""
MINILM_CALIBRATION = Calibration(slope=0.387, offset=-1.6)
"""The default engine's fitted calibration (``benchmarks/calibration_bench.py --fit``)."""


@dataclass(frozen=True)
class EmbeddingConfig:
    """Calibration of the embedding tagger (defaults measured in benchmarks/tagging.md).

    templates: how a tag's name and description become texts; a tag's vector is the mean
        of their embeddings (and of its examples'). The short "This is about <name>." prompt
        carries what the name alone says; on the media preset it lifted HuffPost accuracy
        from 0.391 to 0.434 with AG News unchanged (benchmarks/tagging.md).
    phrase_template: one more prototype per phrase of the description's list
        (:func:`description_phrases`), ``{phrase}`` filled in; ``None`` turns them off.
    sentence_pooling: embed each sentence of a window and pool them (square-root word
        weights) instead of embedding the window in one piece.
    sentences_need_english: with ``sentence_pooling``, a window that does not read as
        English (:func:`~earmark.tagging.language.reads_as_english`) is embedded in one
        piece: on the es/de/fr speech items sentence pooling lost to it (0.478 vs 0.652 on
        the tune half) while it won on every English set.
    center, temperature: the relevance mapping ``sigmoid((margin - center) / temperature)``
        where ``margin = cos - best_cos + m_best`` (the hybrid: ``cos`` in the weighted
        pooling ranks, ``m_best = max(cos_mean) - background`` in the mean pooling says
        whether any tag fits; see the module docstring). The centre keeps ~90-99% of in-domain texts
        (tune halves at -0.11: AG News 99.2%, HuffPost 99.2%, BANKING77 91.5%); the
        phrase prototypes raised all margins, and the old -0.15 kept 96-100% while
        selecting 3.1 / 10.3 / 3.3 tags per text (now 2.4 / 7.3 / 2.5).
    spread: a tag whose cosine is more than this below the best tag's (in the same text
        or window) falls under relevance 0.5, so ``selected`` holds the leading tags, not
        every tag of a related list; ``None`` turns the gate off (relevance then only
        measures "on topic at all"). 0.05: the weighted pooling's gaps are ~10% smaller
        than the mean pooling's, where 0.06 was best (see the module docstring).
    spread_temperature: how sharp that gate is (0.01-0.03 selected the same; 0.03 keeps
        the relevances of the tags below the leaders graded instead of ~0).
    background_k: how many of the closest neutral sentences make the background.
    threshold: the raw score a tag must reach to be selected by default; with a
        ``calibration`` the default threshold is its calibrated value (the same tags pass).
    example_weight: each example's unit embedding is added to the tag's (unit) described
        vector with this weight. At 1.0, five examples outweighed the description five
        to one and made tagging *worse* than zero-shot on AG News and HuffPost; 0.25 was
        as good as or better than 0.1/0.5/1.0 with 1, 5 and 20 examples per tag (tune/
        report halves; ``benchmarks/tagging.md`` section 7): 5 examples, 1.0 -> 0.25: AG
        News 0.779/0.756 -> 0.840/0.826 (zero-shot 0.822/0.823), HuffPost 0.496/0.493 ->
        0.542/0.518, BANKING77 0.475/0.471 -> 0.538/0.499.
    coverage: a tag's relevance to a whole recording is the larger of its relevance to
        the mean embedding and the relevance it keeps over this share of the words
        (so a topic that fills a quarter of a long call is not averaged away); the same
        holds sentence by sentence for a one-window text, with ``sentence_coverage``.
    sentence_coverage: apply ``coverage`` to the sentences of a text that fits in one
        window (a short clip, a single text; needs ``sentence_pooling``).
    long_sentence_words, piece_words: a "sentence" longer than ``long_sentence_words``
        words (speech recognised without punctuation is one endless sentence) is cut into
        near-equal pieces of about ``piece_words`` words before it is embedded, so that
        the greeting, the identity check and the problem of a call are separate pieces;
        ``None`` (the default) keeps sentences whole; 40/16 is the opt-in setting
        measured on the speech development set.
    topical_center, topical_temperature: each sentence (or piece) of a window is weighted
        by how topical it is, ``sigmoid((t - topical_center) / topical_temperature)``,
        where ``t`` is its best tag's cosine (mean pooling) less the mean of its
        ``background_k`` highest cosines with topic-free talk (the neutral sentences and
        :data:`~earmark.tagging.boilerplate.CALL_BOILERPLATE`): greetings, identity
        checks and goodbyes then hardly move a call's vector, whatever tag they happen
        to resemble. A window counts in the whole recording by its words times its
        sentences' mean weight. ``None`` (the default) turns the weighting off (every
        sentence by the square root of its words only); 0.0 is the opt-in setting. It
        won on the tune half of the speech development set and lost on the test half,
        so it is not the default (``benchmarks/tagging.md``, speech section).
    topical_decision_power: "does any tag fit" is decided on a window vector whose
        sentences count with the topical weight raised to this power: 1 would let the
        weighting make every text look on topic (off-topic talk too), 0 ignores it and,
        with long sentences cut into pieces, left more real calls without a tag; the
        value in between is measured in ``benchmarks/tagging.md`` (speech section).
    calibration: the map from the raw score above to the relevance reported, how often a
        tag at that relevance is right (:class:`~earmark.tagging.calibration.Calibration`,
        fitted per engine on tune data); ``None`` reports the raw score.
    open_set: background topics that turn every relevance of a text down when the text is
        closer to a broad topic the list does not hold than to any of its tags
        (:mod:`earmark.tagging.openset`); the default applies it to domain lists only (a
        list with a tag that no broad topic covers, as the support preset's "Account
        Issues"), where it won on the held-out speech; ``None`` turns it off.
    """

    templates: tuple[str, ...] = ("Topic: {name}. {description}", "This is about {lower}.")
    phrase_template: str | None = "This is about {phrase}."
    sentence_pooling: bool = True
    sentences_need_english: bool = True
    center: float = -0.11
    temperature: float = 0.05
    spread: float | None = 0.05
    spread_temperature: float = 0.03
    background_k: int = 3
    threshold: float = 0.5
    example_weight: float = 0.25
    coverage: float = 0.25
    sentence_coverage: bool = True
    long_sentence_words: int | None = None
    piece_words: int = 16
    topical_center: float | None = None
    topical_temperature: float = 0.05
    topical_decision_power: float = 0.25
    open_set: OpenSetConfig | None = DOMAIN_OPEN_SET
    calibration: Calibration | None = MINILM_CALIBRATION


SPEECH_CONFIG = EmbeddingConfig(long_sentence_words=40, topical_center=0.0)
"""Opt-in: long unpunctuated sentences cut into pieces, sentences weighted by topicality.

Meant for recognised speech (calls, podcasts) whose greetings and identity checks
outweigh the topic; not the default because it did not hold up on the held-out half of
the speech development set (``benchmarks/tagging.md``, speech section).
"""


def neutral_texts() -> list[str]:
    """The built-in topic-free reference sentences (package data)."""
    raw = resources.files("earmark").joinpath("data/tagging_neutral.txt").read_text("utf-8")
    return [ln.strip() for ln in raw.splitlines() if ln.strip() and not ln.startswith("#")]


def taglist_key(tags: TagList) -> str:
    """A stable key of a tag list's content (names, descriptions, examples)."""
    h = hashlib.sha256()
    for t in tags.tags:
        for part in (t.name, t.description, *t.examples):
            h.update(part.encode())
            h.update(b"\x1f")
        h.update(b"\x1e")
    return h.hexdigest()


_LIST_SEP = re.compile(r"[,;]")
_LAST_ITEM = re.compile(r"\s+(?:and|or)\s+")


def description_phrases(description: str) -> list[str]:
    """The items of a description written as a list, in order.

    The description is cut at commas and semicolons; the last item is also cut at
    "and"/"or" ("..., trade and finance." gives "trade", "finance"). A description
    without a comma is one phrase; an empty one gives none.
    """
    text = description.strip().rstrip(".").strip()
    items = [p.strip() for p in _LIST_SEP.split(text) if p.strip()]
    if len(items) < 2:
        return items
    last = re.sub(r"^(?:and|or)\s+", "", items[-1])
    return items[:-1] + [p.strip() for p in _LAST_ITEM.split(last) if p.strip()]
