"""Evaluation metrics and the labelled-data loader."""

from __future__ import annotations

from pathlib import Path

import pytest
from tagging_fakes import KeywordEncoder

from earmark.errors import InputError
from earmark.tagging import load_tags
from earmark.tagging.embedding import EmbeddingTagger
from earmark.tagging.evaluate import evaluate, load_labelled

TAGS = load_tags({"Sports": "sport team goal", "Politics": "vote election senate"})


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


def test_load_labelled_csv_and_jsonl(tmp_path: Path) -> None:
    csv_file = tmp_path / "data.csv"
    csv_file.write_text('text,label\n"Goal, what a match",Sports\nThe vote,Politics\n')
    assert load_labelled(csv_file) == [("Goal, what a match", "Sports"), ("The vote", "Politics")]
    jl = tmp_path / "data.jsonl"
    jl.write_text('{"text": "a goal", "label": "Sports"}\n\n{"text": "x", "label": "none"}\n')
    assert load_labelled(jl) == [("a goal", "Sports"), ("x", "none")]
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
    with pytest.raises(InputError, match="'text' and 'label'"):
        load_labelled(no_header)
    with pytest.raises(InputError, match="does not exist"):
        load_labelled(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n")
    with pytest.raises(InputError, match="no labelled rows"):
        load_labelled(empty)
