"""``iab_categories``: the shipped IAB Content Taxonomy 2.1, AssemblyAI's label form, and the
tier-by-tier scoring (with a scripted tagger; no model needed)."""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path

import pytest

from earmark.jobs.iab import (
    MAX_PARENTS,
    TAXONOMY_FILE,
    iab_categories,
    iab_label,
    iab_tags,
    run_iab,
    taxonomy,
    tier1_tags,
)
from earmark.tagging.base import Tagger, TagInput, TagOptions
from earmark.tagging.registry import TaggerPool
from earmark.types import TagList, TagResult, TagScore, Transcript, WindowTags

REPO = Path(__file__).resolve().parents[2]


def test_label_rule() -> None:
    assert iab_label(["Home & Garden"]) == "Home&Garden"
    assert iab_label(["Healthy Living", "Women's Health"]) == "HealthyLiving>Women'sHealth"
    assert iab_label(["Technology & Computing", "Computing", "Tablets and E-readers"]) == (
        "Technology&Computing>Computing>TabletsAndE-readers"
    )
    assert iab_label(["Business and Finance", "Business", "Business I.T."]) == (
        "BusinessAndFinance>Business>BusinessI.T."
    )
    assert iab_label(["Sports", "eSports"]) == "Sports>ESports"


def test_taxonomy_shape() -> None:
    topics = taxonomy()
    labels = [t.label for t in topics]
    assert len(topics) == 698 and len(set(labels)) == 698
    assert [t.id for t in topics] == list(range(1, 699))
    assert sum(t.tier == 1 for t in topics) == 29 and len(tier1_tags().tags) == 29
    assert max(t.tier for t in topics) == 4
    by_label = {t.label: t for t in topics}
    for t in topics:  # every parent exists, comes first, and is the path minus its last tier
        if t.parent is None:
            assert t.tier == 1
        else:
            parent = by_label[t.parent]
            assert parent.tiers == t.tiers[:-1] and parent.id < t.id
    # row 328: the Name column says "Special Interest Movies", the tiers (and labels) do not
    assert "Movies>IndieAndArthouseMovies" in by_label
    assert by_label["Sports>EquineSports>HorseRacing"].parent == "Sports>EquineSports"
    assert len({t.name for t in iab_tags().tags}) == 698  # the tagger's names are unique
    assert iab_tags().tags[0].description.startswith("Automotive, Auto Body Styles, ")


def test_data_file_attribution() -> None:
    text = resources.files("earmark").joinpath(TAXONOMY_FILE).read_text("utf-8")
    header = "\n".join(ln for ln in text.splitlines() if ln.startswith("#"))
    assert "IAB Tech Lab" in header and "CC BY 3.0" in header and "Content Taxonomy 2.1" in header


def test_observed_labels_byte_identical(shared: Path) -> None:
    observed = (shared / "data/iab/assemblyai_observed_labels.txt").read_bytes()
    lines = [ln for ln in observed.decode("utf-8").splitlines() if ln.strip()]
    ours = {t.label.encode("utf-8") for t in taxonomy()}
    missing = [ln for ln in lines if ln.encode("utf-8") not in ours]
    assert len(lines) == 80 and not missing


def test_data_file_is_the_official_release(shared: Path) -> None:
    spec = importlib.util.spec_from_file_location("build", REPO / "scripts/build_iab_taxonomy.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    rows = build.rows(shared / "data/iab/content_taxonomy_2.1.tsv")
    assert [(uid, tiers) for uid, _, tiers in rows] == [(t.id, t.tiers) for t in taxonomy()]


class Scripted(Tagger):
    """Relevance by the tagger's tag name (plain-word path); 0.01 for the rest. One window,
    whose relevances are ``window`` (defaults to the same)."""

    name = "scripted"

    def __init__(self, scores: dict[str, float], window: dict[str, float] | None = None) -> None:
        self.scores = scores
        self.window = window if window is not None else scores
        self.lists: list[str] = []

    def tag(self, item: TagInput, tags: TagList, options: TagOptions | None = None) -> TagResult:
        self.lists.append(tags.name)

        def ranked(scores: dict[str, float]) -> tuple[TagScore, ...]:
            out = [TagScore(t.name, scores.get(t.name, 0.01)) for t in tags.tags]
            return tuple(sorted(out, key=lambda s: -s.relevance))

        whole, win = ranked(self.scores), ranked(self.window)
        chosen = tuple(s.tag for s in whole if s.relevance >= 0.5)
        segment = WindowTags(0, 1000, "text", win, tuple(s.tag for s in win if s.relevance >= 0.5))
        return TagResult(chosen[0] if chosen else None, whole, chosen, (segment,), 0.5, self.name)


def test_children_only_under_relevant_parents_and_capped() -> None:
    tagger = Scripted(
        {
            "Sports": 0.9,
            "Sports: Basketball": 0.95,  # above its parent: capped at 0.9
            "Sports: Tennis": 0.6,
            "Travel": 0.2,  # not relevant: its children are not listed
            "Travel: Travel Type: Beach Travel": 0.99,
            "Healthy Living": 0.55,
            "Healthy Living: Women's Health": 0.5,
            "Healthy Living: Wellness: Smoking Cessation": 0.8,  # capped by Wellness (0.01)
        },
        window={"Sports": 0.4, "Sports: Basketball": 0.7, "Healthy Living": 0.9},
    )
    r = iab_categories("some text", tagger)
    assert tagger.lists == ["iab-tier1", "iab"]
    rel = {s.tag: s.relevance for s in r.tags}
    assert rel["Sports>Basketball"] == rel["Sports"] == 0.9
    assert rel["Sports>Tennis"] == 0.6 and rel["Travel"] == 0.2
    assert not any(lb.startswith("Travel>") for lb in rel)
    assert rel["HealthyLiving>Women'sHealth"] == 0.5
    assert rel["HealthyLiving>Wellness>SmokingCessation"] == 0.01
    assert len([lb for lb in rel if ">" not in lb]) == 29  # every tier-1 topic is listed
    assert r.tags[0].tag == "Sports>Basketball"  # on a tie the more specific label first
    assert r.best_tag == "Sports>Basketball" and "Sports" in r.selected
    assert r.selected[-1] == "HealthyLiving>Women'sHealth"
    assert r.extra["parents"] == ["HealthyLiving", "Sports"]
    (w,) = r.segments
    wrel = {s.tag: s.relevance for s in w.tags}
    assert wrel["Sports>Basketball"] == 0.4  # capped by the window's own Sports
    assert w.tags[0].tag == "HealthyLiving" and w.selected == ("HealthyLiving",)
    for res in (r.tags, w.tags):  # never above the parent
        got = {s.tag: s.relevance for s in res}
        for t in taxonomy():
            if t.label in got and t.parent is not None:
                assert got[t.label] <= got[t.parent]


def test_at_most_max_parents_and_a_best_guess_when_none_fits() -> None:
    names = [t.name for t in tier1_tags().tags]
    tagger = Scripted({n: 0.9 - i * 0.01 for i, n in enumerate(names[:6])})
    r = iab_categories("text", tagger)
    assert len(r.extra["parents"]) == MAX_PARENTS  # type: ignore[arg-type]
    tops = {lb.split(">")[0] for lb in (s.tag for s in r.tags) if ">" in lb}
    assert tops == set(r.extra["parents"])  # type: ignore[arg-type]
    weak = iab_categories("text", Scripted({"Pets": 0.3, "Pets: Cats": 0.2}))
    assert weak.best_tag is None and weak.extra["parents"] == ["Pets"]
    assert {s.tag: s.relevance for s in weak.tags}["Pets>Cats"] == 0.2


def test_run_iab_outcomes() -> None:
    pool = TaggerPool()
    pool._taggers[("embedding", None)] = Scripted({"Pets": 0.8})
    empty = Transcript("  ", (), "en", 1.0, 0)
    assert run_iab(empty, pool).error == "the transcript has no speech to tag"
    out = run_iab(Transcript("my cat", (), "en", 1.0, 1000), pool)
    assert out.result is not None and out.result.tags[0].tag == "Pets"


@pytest.mark.parametrize("label", ["NewsAndPolitics>Politics>Elections", "Home&Garden"])
def test_known_labels(label: str) -> None:
    assert label in {t.label for t in taxonomy()}
