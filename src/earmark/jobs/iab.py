"""``iab_categories``: the IAB Content Taxonomy 2.1, scored tier by tier.

The taxonomy is IAB Tech Lab's Content Taxonomy 2.1 (CC BY 3.0; attribution: IAB Tech Lab),
its 698 topics shipped as ``earmark/data/iab_taxonomy_2.1.tsv`` (generated from the official
TSV by ``scripts/build_iab_taxonomy.py``).

Labels are written as AssemblyAI writes them (:func:`iab_label`): the topic's tier names
joined with ``>``; within a name the spaces are removed and the first character of each
space-separated word is upper-cased, the rest kept as it is (``Home & Garden`` ->
``Home&Garden``, ``Women's Health`` -> ``Women'sHealth``, ``Business I.T.`` ->
``BusinessI.T.``).

How a recording is tagged (:func:`iab_categories`), with the embedding tagger:

1. The 29 tier-1 topics are scored on their own. Each is described by its name and all
   its descendants' names (``"Sports, American Football, Baseball, ..."``), so the
   tagger's phrase prototypes cover what the category holds (``benchmarks/tagging.md``,
   "IAB Content Taxonomy 2.1": the name alone, or the tier-2 names only, ranked tier 1
   less well).
2. The *relevant* tier-1 topics are those selected (relevance at or over the threshold),
   at most :data:`MAX_PARENTS`, best first; when none is selected, the best one alone.
3. The descendants (tiers 2-4) of those tier-1 topics are scored: the tagger ranks all
   698 topics as one list (one cached list, so no new tag vectors per recording), each
   named by its path in plain words (``"Healthy Living: Women's Health"``) and described
   by its own and its descendants' names, and the descendants of the relevant tier-1
   topics keep their relevance; those of other tier-1 topics are dropped (not listed).
4. A topic's relevance is never above its parent's: a tier-2/3/4 topic's relevance is the
   smaller of its own (step 3) and its parent's (after this rule), window by window and
   for the whole recording; a tier-1 topic keeps its relevance from step 1.

The result lists every tier-1 topic and the scored descendants, ranked by relevance (on a
tie the deeper, more specific label first); ``selected`` are those at or over the threshold.
:func:`iab_flat` scores all 698 topics as one flat list (the benchmark's baseline).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from earmark.errors import EarmarkError
from earmark.storage.base import TopicsOutcome
from earmark.tagging.base import Tagger, TagInput, TagOptions
from earmark.tagging.registry import TaggerPool
from earmark.types import Tag, TagList, TagResult, TagScore, Transcript, WindowTags

__all__ = [
    "MAX_PARENTS",
    "TAXONOMY_FILE",
    "IabTopic",
    "iab_categories",
    "iab_flat",
    "iab_label",
    "iab_tags",
    "run_iab",
    "taxonomy",
    "tier1_tags",
]

TAXONOMY_FILE = "data/iab_taxonomy_2.1.tsv"
MAX_PARENTS = 3
"""Most tier-1 topics whose descendants are scored for one recording."""


@dataclass(frozen=True)
class IabTopic:
    """One topic of the taxonomy: its IAB id, tier names, label and parent's label."""

    id: int
    tiers: tuple[str, ...]
    label: str
    parent: str | None

    @property
    def tier(self) -> int:
        return len(self.tiers)

    @property
    def words(self) -> str:
        """The path in plain words, the tagger's name for it: ``"Healthy Living: Women's
        Health"`` (a parenthesised qualifier, as in ``"Comedy (Music and Audio)"``, dropped:
        the parent says it)."""
        return ": ".join(_plain(t) for t in self.tiers)


def iab_label(tiers: Sequence[str]) -> str:
    """AssemblyAI's label for a topic path: ``("Healthy Living", "Women's Health")`` ->
    ``"HealthyLiving>Women'sHealth"``."""
    return ">".join("".join(w[:1].upper() + w[1:] for w in name.split(" ")) for name in tiers)


def _plain(name: str) -> str:
    return re.sub(r"\s*\([^)]*\)", "", name).strip() or name


@functools.cache
def taxonomy() -> tuple[IabTopic, ...]:
    """The 698 topics in taxonomy order (every parent before its children)."""
    text = resources.files("earmark").joinpath(TAXONOMY_FILE).read_text("utf-8")
    by_path: dict[tuple[str, ...], str] = {}
    topics = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        uid, *tiers = line.split("\t")
        path = tuple(tiers)
        label = iab_label(path)
        topics.append(IabTopic(int(uid), path, label, by_path[path[:-1]] if path[1:] else None))
        by_path[path] = label
    return tuple(topics)


@functools.cache
def _index() -> tuple[dict[str, IabTopic], dict[str, tuple[IabTopic, ...]]]:
    """Topics by label, and each label's children (``""``: the tier-1 topics)."""
    by_label = {t.label: t for t in taxonomy()}
    children: dict[str, list[IabTopic]] = {}
    for t in taxonomy():
        children.setdefault(t.parent or "", []).append(t)
    return by_label, {k: tuple(v) for k, v in children.items()}


def _descendants(topic: IabTopic) -> list[IabTopic]:
    out: list[IabTopic] = []
    for kid in _index()[1].get(topic.label, ()):
        out += [kid, *_descendants(kid)]
    return out


def _tag(topic: IabTopic) -> Tag:
    """The tagger's tag: the path in plain words, described by the topic's own name and
    all its descendants' names (the tagger makes one prototype per listed name)."""
    names = [_plain(topic.tiers[-1]), *(_plain(k.tiers[-1]) for k in _descendants(topic))]
    return Tag(name=topic.words, description=", ".join(names))


@functools.cache
def iab_tags() -> TagList:
    """All 698 topics as one flat tag list (tag names are :attr:`IabTopic.words`)."""
    return TagList(tags=tuple(_tag(t) for t in taxonomy()), name="iab")


@functools.cache
def tier1_tags() -> TagList:
    """The 29 tier-1 topics (step 1)."""
    return TagList(tags=tuple(_tag(t) for t in _index()[1][""]), name="iab-tier1")


@functools.cache
def _label_of() -> dict[str, IabTopic]:
    return {t.words: t for t in taxonomy()}


def iab_categories(item: TagInput, tagger: Tagger, options: TagOptions | None = None) -> TagResult:
    """Tag ``item`` with the taxonomy, tier 1 first (see the module docstring); tags are
    AssemblyAI labels."""
    first = tagger.tag(item, tier1_tags(), options)
    top = first.selected[:MAX_PARENTS] or tuple(s.tag for s in first.tags[:1])
    parents = frozenset(_label_of()[name].label for name in top)
    second = tagger.tag(item, iab_tags(), options)
    overall = _merge(first.tags, second.tags, parents)
    segments: tuple[WindowTags, ...] = ()
    if len(first.segments) == len(second.segments):
        segments = tuple(
            _window(a, _merge(a.tags, b.tags, parents), first.threshold)
            for a, b in zip(first.segments, second.segments, strict=True)
        )
    return _result(overall, segments, first, {"parents": sorted(parents)})


def iab_flat(item: TagInput, tagger: Tagger, options: TagOptions | None = None) -> TagResult:
    """All 698 topics scored as one flat list (no hierarchy); tags are AssemblyAI labels."""
    r = tagger.tag(item, iab_tags(), options)
    overall = _relabel(r.tags)
    segments = tuple(_window(w, _relabel(w.tags), r.threshold) for w in r.segments)
    return _result(overall, segments, r, {})


def _relabel(scores: Iterable[TagScore]) -> dict[str, float]:
    names = _label_of()
    return {names[s.tag].label: s.relevance for s in scores}


def _merge(
    tier1: Sequence[TagScore], flat: Sequence[TagScore], parents: frozenset[str]
) -> dict[str, float]:
    """Tier-1 relevances from step 1; the descendants of ``parents`` from step 3, capped by
    their parents (step 4)."""
    names = _label_of()
    rel = {names[s.tag].label: s.relevance for s in tier1}
    below = {names[s.tag].label: s.relevance for s in flat if names[s.tag].parent}
    for t in taxonomy():  # parents first
        if t.parent is not None and t.label.split(">", 1)[0] in parents:
            rel[t.label] = min(below[t.label], rel[t.parent])
    return rel


def _ranked(rel: Mapping[str, float]) -> tuple[TagScore, ...]:
    depth = {t.label: t.tier for t in taxonomy()}
    order = sorted(rel, key=lambda lb: (-rel[lb], -depth[lb]))
    return tuple(TagScore(lb, rel[lb]) for lb in order)


def _window(w: WindowTags, rel: Mapping[str, float], threshold: float) -> WindowTags:
    ranked = _ranked(rel)
    selected = tuple(s.tag for s in ranked if s.relevance >= threshold)
    return WindowTags(w.start_ms, w.end_ms, w.text, ranked, selected)


def _result(
    rel: Mapping[str, float],
    segments: tuple[WindowTags, ...],
    base: TagResult,
    extra: dict[str, object],
) -> TagResult:
    ranked = _ranked(rel)
    selected = tuple(s.tag for s in ranked if s.relevance >= base.threshold)
    return TagResult(
        best_tag=selected[0] if selected else None,
        tags=ranked,
        selected=selected,
        segments=segments,
        threshold=base.threshold,
        engine=base.engine,
        extra={**base.extra, "taxonomy": "IAB Content Taxonomy 2.1", **extra},
    )


def run_iab(transcript: Transcript, taggers: TaggerPool) -> TopicsOutcome:
    """``iab_categories`` for a job: :func:`iab_categories` with the embedding tagger;
    failures become an outcome with an error."""
    if not transcript.text.strip():
        return TopicsOutcome(error="the transcript has no speech to tag")
    try:
        return TopicsOutcome(result=iab_categories(transcript, taggers.get("embedding", None)))
    except EarmarkError as exc:
        return TopicsOutcome(error=exc.message)
