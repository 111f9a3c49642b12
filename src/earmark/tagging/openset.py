"""Open-set rejection for the embedding tagger: "none of these fits" for off-list topics.

The embedding tagger's first factor says whether a text is *on topic at all* (closer to
some tag than to topic-free talk). A text about something the user did not list (a
speech about patriotism tagged with a list of support-call topics) passes it: it is
topical, and some tag of the list is always the closest. This module adds *background
topics*: a fixed set of broad topics that cover what people talk about (the 29 tier-1
topics of the IAB Content Taxonomy 2.1, shipped as ``earmark/data/iab_taxonomy_2.1.tsv``,
each described by its own name and all its descendants' names, as
:mod:`earmark.jobs.iab` does). For a given user list:

1. background topics whose (mean-pooled) tag vector is within cosine ``max_similarity``
   of any user tag's are dropped, so "Sports" in a user list does not compete with the
   background's "Sports" (:func:`keep_background`);
2. for each text (window, sentence or whole recording) the *open-set margin* is its best
   user tag's cosine less its best remaining background topic's (:func:`open_set_margin`);
3. every relevance of that text is multiplied by ``sigmoid((margin - center) /
   temperature)`` (:func:`open_set_factor`): a text much closer to a background topic
   than to any listed tag then falls under the threshold, and "none fits".

The background vectors are built once per process by the tagger (its tag-vector cache),
the kept subset once per user list (:class:`BackgroundTopics`); per text the cost is one
small matrix product. Measured in ``benchmarks/tagging.md`` ("Open-set rejection").
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

from earmark.types import Tag, TagList

__all__ = [
    "IAB_FILE",
    "BackgroundTopics",
    "OpenSetConfig",
    "background_tags",
    "is_domain_list",
    "keep_background",
    "open_set_factor",
    "open_set_margin",
]

F32 = npt.NDArray[np.float32]
Pair = tuple[F32, F32]

IAB_FILE = "data/iab_taxonomy_2.1.tsv"


@dataclass(frozen=True)
class OpenSetConfig:
    """How background topics turn a text's relevances down (opt-in; measured in
    ``benchmarks/tagging.md``, "Open-set rejection": these values won on the tune half of
    the speech development set without losing an on-topic item there).

    max_similarity: a background topic is dropped for a user list when its tag vector's
        cosine (mean pooling) with any user tag's reaches this (0.5 drops IAB "Sports",
        "Travel", "Business and Finance"... for the media preset, and "Personal Finance",
        "Business and Finance", "Technology & Computing" for the support preset).
    center, temperature: the factor ``sigmoid((margin - center) / temperature)``, where
        ``margin`` is the best user tag's cosine less the best kept background topic's,
        both in the tagger's weighted pooling (its ranking pooling; the mean pooling
        separated less); at ``margin == center`` every relevance is halved. A negative
        centre leaves a text its tag unless a background topic clearly leads: support
        calls about a TV outage or an airline's pet policy are also about "Television"
        or "Travel", by up to 0.28.
    domain_lists_only: apply only to *domain lists*: lists with a tag that no background
        topic is within ``max_similarity`` of, a tag no broad topic covers ("Account
        Issues", "Service Disruption"). In a list of broad topics (news sections, the media
        preset: every tag has a background topic at 0.55 or more) there is little off-list
        for the background to find, and rejection there cost accuracy.
    """

    max_similarity: float = 0.5
    center: float = -0.12
    temperature: float = 0.01
    domain_lists_only: bool = False


def _plain(name: str) -> str:
    """A taxonomy name without its parenthesised qualifier ("Comedy (Music and Audio)")."""
    head = name.split(" (", 1)[0].strip()
    return head or name


@functools.cache
def background_tags() -> TagList:
    """The background topics: IAB Content Taxonomy 2.1's tier-1 topics, each described by
    its own name and all its descendants' names (tiers 2-4), in taxonomy order (the
    tier-2 names alone or the bare name rejected fewer off-list texts)."""
    text = resources.files("earmark").joinpath(IAB_FILE).read_text("utf-8")
    names: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        tiers = line.split("\t")[1:]
        names.setdefault(tiers[0], [])
        if len(tiers) > 1:
            names[tiers[0]].append(_plain(tiers[-1]))
    tags = tuple(
        Tag(name=_plain(top), description=", ".join([_plain(top), *kids]))
        for top, kids in names.items()
    )
    return TagList(tags=tags, name="background")


def keep_background(background: F32, user: F32, max_similarity: float) -> npt.NDArray[np.bool_]:
    """Which background topics (rows of ``background``, unit vectors) stay for a user list
    (rows of ``user``): those whose cosine with every user tag is under ``max_similarity``."""
    if len(background) == 0 or len(user) == 0:
        return np.ones(len(background), dtype=np.bool_)
    sims = background @ user.T
    keep: npt.NDArray[np.bool_] = sims.max(axis=1) < max_similarity
    return keep


def is_domain_list(background: F32, user: F32, max_similarity: float) -> bool:
    """Whether some user tag (rows of ``user``) has no background topic within ``max_similarity``."""
    if len(background) == 0 or len(user) == 0:
        return True
    return bool((user @ background.T).max(axis=1).min() < max_similarity)


def open_set_margin(cos_user: F32, cos_background: F32) -> F32:
    """Per row: best user tag's cosine less best background topic's (``+inf`` without any)."""
    if cos_background.shape[1] == 0:
        return np.full(len(cos_user), np.inf, dtype=np.float32)
    out: F32 = (cos_user.max(axis=1) - cos_background.max(axis=1)).astype(np.float32)
    return out


def open_set_factor(margin: F32, center: float, temperature: float) -> F32:
    """``sigmoid((margin - center) / temperature)``, 1 where the margin is ``+inf``."""
    x = np.clip((margin.astype(np.float64) - center) / temperature, -50.0, 50.0)
    out: F32 = (1.0 / (1.0 + np.exp(-x))).astype(np.float32)
    return out


class BackgroundTopics:
    """The kept background vectors per user list, cached (at most 64 lists).

    ``build`` makes both poolings' tag vectors of a tag list (the tagger's
    ``tag_matrices``), called for :func:`background_tags` once and kept here.
    """

    def __init__(self, config: OpenSetConfig, build: Callable[[TagList], Pair]) -> None:
        self.config = config
        self._build = build
        self._lock = threading.Lock()
        self._kept: OrderedDict[bytes, Pair] = OrderedDict()
        self._all: Pair | None = None

    def vectors(self, user: Pair) -> Pair:
        """The background topics kept for the user tag vectors ``user`` (both poolings)."""
        key = np.ascontiguousarray(user[0]).tobytes()
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        if self._all is None:
            self._all = self._build(background_tags())
        mean, weighted = self._all
        keep = keep_background(mean, user[0], self.config.max_similarity)
        c = self.config
        if c.domain_lists_only and not is_domain_list(mean, user[0], c.max_similarity):
            keep[:] = False  # a list of broad topics: no background competes with it
        kept = (mean[keep], mean[keep] if weighted is mean else weighted[keep])
        with self._lock:
            self._kept[key] = kept
            while len(self._kept) > 64:
                self._kept.popitem(last=False)
        return kept

    def factor(self, rows: F32, user: Pair) -> F32:
        """Each row's factor (``rows``: texts, weighted pooling; ``user``: the tag vectors)."""
        c = self.config
        background = self.vectors(user)[1]
        margin = open_set_margin(rows @ user[1].T, rows @ background.T)
        return open_set_factor(margin, c.center, c.temperature)
