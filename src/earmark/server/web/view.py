"""What a transcript's page shows, computed from the stored job: paragraphs (turns of a
speaker or channel, cut at sentence ends), the words of each paragraph for the player,
the speakers with their names and colours, and the tags (the newest re-tag when there is
one) as a timeline of windows and ranked relevance bars.

Nothing here renders HTML: the templates do, with autoescaping, so every text and name
from a transcript or a tag list reaches the browser escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from earmark.storage.base import JobRecord, TopicsOutcome
from earmark.storage.library import Library, Retag
from earmark.types import TagResult, Transcript, Word

__all__ = ["Paragraph", "TagView", "TranscriptView", "build_view", "fmt_time", "words_payload"]

PARAGRAPH_WORDS = 60
PALETTE = 8


def fmt_time(ms: int | None) -> str:
    """``1:02:03`` / ``2:03`` from milliseconds."""
    s = max(0, int(ms or 0)) // 1000
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


@dataclass(frozen=True)
class Paragraph:
    index: int
    start_ms: int
    end_ms: int
    party: str | None
    text: str
    words: tuple[Word, ...] = field(repr=False)


@dataclass(frozen=True)
class Party:
    label: str
    default_name: str
    name: str
    colour: int


@dataclass(frozen=True)
class Window:
    start_ms: int
    end_ms: int
    top: str | None
    colour: int
    selected: tuple[str, ...]
    text: str
    scores: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class TagView:
    """The tags the page shows: from the job, or the newest re-tag."""

    list_name: str
    names: tuple[str, ...]
    result: TagResult | None
    error: str | None
    windows: tuple[Window, ...]
    colours: dict[str, int]
    retag: Retag | None


@dataclass(frozen=True)
class TranscriptView:
    transcript: Transcript
    paragraphs: tuple[Paragraph, ...]
    parties: tuple[Party, ...]
    tags: TagView | None
    title: str


def _party(w: Word) -> str | None:
    if w.speaker is not None:
        return f"speaker:{w.speaker}"
    if w.channel is not None:
        return f"channel:{w.channel}"
    return None


def paragraphs(t: Transcript) -> tuple[Paragraph, ...]:
    """Turns of one party, cut at a sentence end after 25 words and at 60 in any case."""
    from earmark.conversation import utterances

    turns = utterances(t)
    groups: list[tuple[Word, ...]] = (
        [u.words for u in turns] if turns else [tuple(s.words) for s in t.segments]
    )
    out: list[Paragraph] = []
    current: list[Word] = []

    def close() -> None:
        if current:
            out.append(
                Paragraph(
                    index=len(out),
                    start_ms=current[0].start_ms,
                    end_ms=max(w.end_ms for w in current),
                    party=_party(current[0]),
                    text=" ".join(w.text for w in current),
                    words=tuple(current),
                )
            )
            current.clear()

    last_party: str | None = None
    for words in groups:
        for w in words:
            if current and _party(w) != last_party:
                close()
            current.append(w)
            last_party = _party(w)
            n = len(current)
            if n >= PARAGRAPH_WORDS or (n >= 25 and w.text.endswith((".", "?", "!"))):
                close()
    close()
    return tuple(out)


def words_payload(paras: tuple[Paragraph, ...]) -> dict[str, Any]:
    """The words of every paragraph for the player: ``[start_ms, end_ms, text]`` each."""
    return {"p": [[[w.start_ms, w.end_ms, w.text] for w in p.words] for p in paras]}


def _tag_view(job: JobRecord, retag: Retag | None) -> TagView | None:
    assert job.result is not None
    outcome: TopicsOutcome | None = retag.outcome if retag else job.result.custom_tags
    if outcome is None:
        return None
    options = job.options or {}
    custom = options.get("custom_tags")
    list_name = retag.list_name if retag else ""
    names: tuple[str, ...] = ()
    if isinstance(custom, dict):
        list_name = list_name or str(custom.get("name") or "custom")
        if not retag:
            names = tuple(str(t["name"]) for t in custom.get("tags", []) if isinstance(t, dict))
    r = outcome.result
    if r is not None and not names:
        names = tuple(s.tag for s in r.tags)
    colours = {name: i % PALETTE for i, name in enumerate(names)}
    windows: list[Window] = []
    if r is not None:
        for w in r.segments:
            top = w.selected[0] if w.selected else None
            windows.append(
                Window(
                    start_ms=int(w.start_ms or 0),
                    end_ms=int(w.end_ms or 0),
                    top=top,
                    colour=colours.get(top, 0) if top else -1,
                    selected=w.selected,
                    text=w.text,
                    scores=tuple((s.tag, s.relevance) for s in w.tags[:5]),
                )
            )
    return TagView(
        list_name=list_name or "custom",
        names=names,
        result=r,
        error=outcome.error,
        windows=tuple(windows),
        colours=colours,
        retag=retag,
    )


def build_view(job: JobRecord, lib: Library) -> TranscriptView:
    """The view of a completed job (``job.result`` must be set)."""
    assert job.result is not None
    t = job.result.transcript
    paras = paragraphs(t)
    meta = lib.meta(job.owner, job.id)
    seen: list[str] = []
    for p in paras:
        if p.party is not None and p.party not in seen:
            seen.append(p.party)
    parties = []
    for i, label in enumerate(seen):
        kind, _, value = label.partition(":")
        default = f"Speaker {value}" if kind == "speaker" else f"Channel {value}"
        parties.append(Party(label, default, meta.get(label, default), i % PALETTE))
    return TranscriptView(
        transcript=t,
        paragraphs=paras,
        parties=tuple(parties),
        tags=_tag_view(job, lib.retag(job.owner, job.id)),
        title=meta.get("title", ""),
    )
