"""Evaluation metrics and the labelled-data loader."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from tagging_fakes import KeywordEncoder

from earmark.errors import InputError
from earmark.tagging import load_tags
from earmark.tagging.base import Tagger, TagInput, TagOptions
from earmark.tagging.embedding import EmbeddingTagger
from earmark.tagging.evaluate import (
    LabelledItem,
    calibration_table,
    evaluate,
    load_labelled,
)
from earmark.types import TagList, TagResult, TagScore

TAGS = load_tags({"Sports": "sport team goal", "Politics": "vote election senate"})


class ScriptedTagger(Tagger):
    """Answers from a table: text -> (best tag or None, relevance of the top-ranked tag, top)."""

    name = "scripted"

    def __init__(self, answers: dict[str, tuple[str | None, float, str]]) -> None:
        self.answers = answers

    def tag(self, item: TagInput, tags: TagList, options: TagOptions | None = None) -> TagResult:
        assert isinstance(item, str)
        best, rel, top = self.answers[item]
        others = [TagScore(n, 0.0) for n in tags.names if n != top]
        return TagResult(best, (TagScore(top, rel), *others), (best,) if best else (), (), 0.5, "x")


def test_metrics_and_none_label() -> None:
    tagger = EmbeddingTagger(KeywordEncoder())
    items = [
        ("goal team sport", "sports"),  # labels ignore case
        ("senate vote", "Politics"),
        ("election vote", "Sports"),  # wrong on purpose: predicted Politics
        ("okay hello", "none"),
    ]
    r = evaluate(tagger, TAGS, items)
    assert r.n == 4
    assert r.predictions == ["Sports", "Politics", "Politics", "none"]
    assert r.accuracy == pytest.approx(0.75)
    assert r.per_tag["Sports"].precision == 1.0 and r.per_tag["Sports"].recall == 0.5
    assert r.per_tag["Politics"].precision == 0.5 and r.per_tag["Politics"].recall == 1.0
    assert r.confusion["Sports"] == {"Sports": 1, "Politics": 1}
    assert (r.none_expected, r.none_predicted, r.none_correct) == (1, 1, 1)
    f1s = [2 / 3, 2 / 3, 1.0]
    assert r.macro_f1 == pytest.approx(sum(f1s) / 3)
    assert "accuracy: 0.750" in r.summary()
    with pytest.raises(InputError, match="label 'Weather' is not a tag"):
        evaluate(tagger, TAGS, [("x", "Weather")])
    with pytest.raises(InputError, match="nothing to evaluate"):
        evaluate(tagger, TAGS, [])


def _items(rows: Sequence[tuple[str, str | None, tuple[str, ...]]]) -> list[LabelledItem]:
    return [LabelledItem(label=g, text=t, also=a) for t, g, a in rows]


def test_lenient_none_rates_and_calibration_with_known_answers() -> None:
    tagger = ScriptedTagger(
        {
            "a": ("Sports", 0.95, "Sports"),  # right
            "b": ("Politics", 0.85, "Politics"),  # wrong strictly, right leniently
            "c": ("Politics", 0.75, "Politics"),  # wrong
            "d": (None, 0.15, "Sports"),  # labelled Sports, wrongly none
            "e": (None, 0.05, "Politics"),  # none, right
            "f": ("Sports", 0.65, "Sports"),  # none row given a tag: wrong
        }
    )
    items = _items(
        [
            ("a", "Sports", ()),
            ("b", "Sports", ("politics",)),
            ("c", "Sports", ()),
            ("d", "Sports", ()),
            ("e", None, ()),
            ("f", "", ()),
        ]
    )
    r = evaluate(tagger, TAGS, items)
    assert r.accuracy == pytest.approx(2 / 6)
    assert r.lenient_accuracy == pytest.approx(3 / 6)
    assert r.none_right_rate == pytest.approx(1 / 2)
    assert r.wrongly_none_rate == pytest.approx(1 / 4)
    # strict: Sports P 1/2 R 1/4; none P 1/2 R 1/2
    assert r.per_tag["Sports"].precision == pytest.approx(0.5)
    assert r.per_tag["Sports"].recall == pytest.approx(0.25)
    assert r.macro_f1 == pytest.approx((1 / 3 + 0.5) / 2)
    # lenient: row b counts as Politics (P 1/2, R 1) and Sports loses it (P 1/2, R 1/3)
    assert r.lenient_macro_f1 == pytest.approx((0.4 + 2 / 3 + 0.5) / 3)
    assert [e.text for e in r.errors] == ["c", "d", "f"]
    bins = {round(b.lo, 1): b for b in r.calibration if b.count}
    assert len(r.calibration) == 10 and sum(b.count for b in r.calibration) == 6
    assert bins[0.9].share_correct == 1.0 and bins[0.8].share_correct == 1.0  # b: alternative
    assert bins[0.7].share_correct == 0.0 and bins[0.1].share_correct == 1.0  # d: top is right
    expected_ece = (0.05 + 0.15 + 0.75 + 0.85 + 0.65 + 0.05) / 6  # |share - relevance| per row
    assert r.ece == pytest.approx(expected_ece)
    m = r.metrics()
    assert m["errors"] == 3 and m["tags"] == ["Sports", "Politics"]
    assert {"calibration", "ece", "lenient_accuracy", "none_right_rate"} <= set(m)
    json.dumps(m)
    assert "lenient: 0.500" in r.summary() and "wrongly given none 25%" in r.summary()


def test_calibration_bin_edges() -> None:
    table, ece = calibration_table([0.0, 0.1, 0.999, 1.0], [False, True, True, True])
    assert [b.count for b in table] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert ece == pytest.approx((0.0 + 0.9 + 0.001 + 0.0) / 4)


def test_load_labelled_csv_and_jsonl(tmp_path: Path) -> None:
    csv_file = tmp_path / "data.csv"
    csv_file.write_text('text,label\n"Goal, what a match",Sports\nThe vote,Politics\n')
    rows = load_labelled(csv_file)
    assert [(r.text, r.label) for r in rows] == [
        ("Goal, what a match", "Sports"),
        ("The vote", "Politics"),
    ]
    jl = tmp_path / "data.jsonl"
    jl.write_text('{"text": "a goal", "label": "Sports"}\n\n{"text": "x", "label": "none"}\n')
    assert [(r.text, r.label) for r in load_labelled(jl)] == [("a goal", "Sports"), ("x", "none")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n')
    with pytest.raises(InputError, match="line 1: 'label'"):
        load_labelled(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "a", "label": "b"}\n{oops\n')
    with pytest.raises(InputError, match="line 2: invalid JSON"):
        load_labelled(broken)
    no_header = tmp_path / "nohdr.csv"
    no_header.write_text("a,b\n")
    with pytest.raises(InputError, match=r"'text'.*'label'"):
        load_labelled(no_header)
    with pytest.raises(InputError, match="does not exist"):
        load_labelled(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n")
    with pytest.raises(InputError, match="no labelled rows"):
        load_labelled(empty)


def test_load_gold_also_and_audio_rows(tmp_path: Path) -> None:
    jl = tmp_path / "dev.jsonl"
    jl.write_text(
        '{"id": "s1", "gold": null, "also": [], "split": "test", "text": "hello"}\n'
        '{"id": "s2", "gold": "Sports", "also": ["Politics"], "split": "tune", "text": "goal"}\n'
    )
    a, b = load_labelled(jl)
    assert (a.label, a.id, a.split) == (None, "s1", "test")
    assert (b.label, b.also, b.split) == ("Sports", ("Politics",), "tune")
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "one.wav").write_bytes(b"RIFF")
    csv_file = tmp_path / "audio.csv"
    csv_file.write_text("file,gold,also\nclips/one.wav,Sports,Politics|Health\n")
    (row,) = load_labelled(csv_file)
    assert row.file == (tmp_path / "clips" / "one.wav").resolve()
    assert row.also == ("Politics", "Health") and row.text == ""
    with pytest.raises(InputError, match="transcribe audio rows"):
        row.subject()
    (tmp_path / "clips" / "labels.csv").write_text("file,label\none.wav,\n")
    (folder_row,) = load_labelled(tmp_path / "clips")
    assert folder_row.file is not None and folder_row.file.name == "one.wav"
    assert folder_row.label == ""
    missing = tmp_path / "missing_audio.csv"
    missing.write_text("file,label\nnope.wav,Sports\n")
    with pytest.raises(InputError, match=r"'nope\.wav' does not exist"):
        load_labelled(missing)
    with pytest.raises(InputError, match=r"without labels\.csv"):
        load_labelled(tmp_path)


def test_support_dev_set_reads_directly() -> None:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "speech_dev" / "support.jsonl"
    rows = load_labelled(path)
    assert len(rows) > 50
    assert any(r.label is None for r in rows) and {r.split for r in rows} == {"test", "tune"}
