"""The public Python API: ``earmark.transcribe`` and ``earmark.tag``."""

from __future__ import annotations

from pathlib import Path

import earmark
from earmark.asr.base import ASROptions


def test_transcribe_returns_typed_transcript(jfk_flac: Path) -> None:
    t = earmark.transcribe(jfk_flac, ASROptions(model="tiny.en", beam_size=1))
    assert isinstance(t, earmark.Transcript)
    assert "fellow americans" in t.text.lower()
    assert t.words and all(isinstance(w, earmark.Word) for w in t.words)
    assert t.duration_ms > 10_000


def test_tag_text_and_transcript(jfk_flac: Path) -> None:
    r = earmark.tag("The striker scored in the final minute to win the league title.", "media")
    assert isinstance(r, earmark.TagResult)
    assert r.best_tag == "Sports"
    assert len(r.tags) == 15

    t = earmark.transcribe(jfk_flac, ASROptions(model="tiny.en", beam_size=1))
    r2 = earmark.tag(
        t,
        {
            "Politics": "Government, presidents and public service.",
            "Cooking": "Recipes, kitchens and food preparation.",
        },
    )
    assert r2.tags[0].tag == "Politics"
    assert r2.segments and r2.segments[0].start_ms is not None


def test_tag_a_text_file(tmp_path: Path) -> None:
    f = tmp_path / "note.txt"
    f.write_text("My internet has been down since this morning, the whole area has an outage.")
    r = earmark.tag(f, "support")
    assert r.best_tag == "Service Disruption"
