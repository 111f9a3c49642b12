"""Rendering transcripts and tag results for the terminal and for files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earmark.cli.term import wrap_lines
from earmark.export import to_text
from earmark.types import TagResult, Transcript, WindowTags

__all__ = [
    "TaggedItem",
    "tag_csv_header",
    "tag_csv_row",
    "tag_record",
    "tag_text",
    "transcript_record",
]


@dataclass(frozen=True)
class TaggedItem:
    """One tagged input: the source, its transcript (None for plain text) and the result."""

    file: str
    text: str
    transcript: Transcript | None
    result: TagResult


def _round(x: float) -> float:
    return round(float(x), 4)


def transcript_record(file: str, t: Transcript) -> dict[str, Any]:
    """The JSON for one transcribed file: text, language, duration, segments and words."""
    return {
        "file": file,
        "text": t.text,
        "language": t.language,
        "language_probability": _round(t.language_probability),
        "duration_ms": t.duration_ms,
        "confidence": _round(t.confidence),
        "model": t.model,
        "segments": [
            {
                "id": s.id,
                "start_ms": s.start_ms,
                "end_ms": s.end_ms,
                "text": s.text,
                "confidence": _round(s.confidence),
                "words": [
                    {
                        "text": w.text,
                        "start_ms": w.start_ms,
                        "end_ms": w.end_ms,
                        "confidence": _round(w.confidence),
                        **({"speaker": w.speaker} if w.speaker is not None else {}),
                        **({"channel": w.channel} if w.channel is not None else {}),
                    }
                    for w in s.words
                ],
                **{
                    k: v
                    for k, v in (
                        ("speaker", s.speaker),
                        ("channel", s.channel),
                        ("language", s.language),
                    )
                    if v is not None
                },
            }
            for s in t.segments
        ],
    }


def tag_record(item: TaggedItem) -> dict[str, Any]:
    """The JSON for one tagged file (the documented shape of ``earmark tag --format json``)."""
    r = item.result
    t = item.transcript
    return {
        "file": item.file,
        "text": item.text,
        "language": t.language if t else None,
        "duration_ms": t.duration_ms if t else None,
        "best_tag": r.best_tag,
        "tags": [{"tag": s.tag, "relevance": _round(s.relevance)} for s in r.tags],
        "selected": list(r.selected),
        "threshold": _round(r.threshold),
        "engine": r.engine,
        "segments": [
            {
                "start_ms": w.start_ms,
                "end_ms": w.end_ms,
                "text": w.text,
                "tags": [{"tag": s.tag, "relevance": _round(s.relevance)} for s in w.tags],
                "selected": list(w.selected),
            }
            for w in r.segments
        ],
    }


def _clock(ms: int | None) -> str:
    if ms is None:
        return "--:--"
    seconds = ms // 1000
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def tag_text(
    item: TaggedItem, show_text: bool = True, top: int = 5, width: int | None = None
) -> str:
    """A human summary: transcript, best tag, ranked tags and per-window tags.

    The transcript is printed as ``earmark transcribe`` prints it: one line per segment (a
    text input as given), each wrapped to ``width`` when it is not ``None`` (a terminal).
    """
    r = item.result
    out = [f"== {item.file}"]
    if show_text:
        body = to_text(item.transcript) if item.transcript is not None else item.text
        out.append(wrap_lines(body, width))
        out.append("")
    best = r.best_tag if r.best_tag is not None else "(none of these fits)"
    out.append(f"best tag: {best}")
    if r.selected:
        out.append(f"selected: {', '.join(r.selected)}  (relevance >= {r.threshold:.2f})")
    out.append("ranked:")
    width = max(len(s.tag) for s in r.tags) if r.tags else 0
    for s in r.tags[:top]:
        bar = "#" * round(s.relevance * 20)
        out.append(f"  {s.tag:<{width}}  {s.relevance:.3f}  {bar}")
    if len(r.segments) > 1:
        timed = all(w.start_ms is not None for w in r.segments)
        out.append("by time:" if timed else "by part (plain text: word ranges):")
        out.extend(f"  {where}  {label}" for where, label in _timeline(r.segments, timed))
    return "\n".join(out)


def _timeline(windows: Sequence[WindowTags], timed: bool) -> list[tuple[str, str]]:
    """``(where, tags)`` lines; consecutive windows with the same selected tags are merged.

    ``where`` is a clock range for timed windows, a word range for plain text.
    """
    runs: list[tuple[int, int, str]] = []  # (start, end, label); ms or word numbers
    first_word = 1
    for w in windows:
        label = ", ".join(w.selected) if w.selected else "(none)"
        last_word = first_word + len(w.text.split()) - 1
        start, end = (w.start_ms or 0, w.end_ms or 0) if timed else (first_word, last_word)
        first_word = last_word + 1
        if runs and runs[-1][2] == label:
            runs[-1] = (runs[-1][0], end, label)
        else:
            runs.append((start, end, label))
    if timed:
        return [(f"{_clock(a)}-{_clock(b)}", label) for a, b, label in runs]
    return [(f"words {a}-{b}", label) for a, b, label in runs]


def tag_csv_header() -> list[str]:
    return ["file", "best_tag", "best_relevance", "selected", "language", "duration_ms", "tags"]


def tag_csv_row(item: TaggedItem) -> list[str]:
    r = item.result
    best_rel = next((s.relevance for s in r.tags if s.tag == r.best_tag), None)
    return [
        item.file,
        r.best_tag or "",
        "" if best_rel is None else f"{best_rel:.4f}",
        ";".join(r.selected),
        item.transcript.language if item.transcript else "",
        "" if item.transcript is None else str(item.transcript.duration_ms),
        json.dumps({s.tag: _round(s.relevance) for s in r.tags}, ensure_ascii=False),
    ]


def csv_line(row: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def write_atomic(path: Path, content: str) -> None:
    """Write a file so that a crash never leaves a half-written output (resumability)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)
