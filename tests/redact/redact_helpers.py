"""Hand-made transcripts for the redaction tests."""

from __future__ import annotations

from earmark.types import Segment, Transcript, Word

WORD_MS = 400


def transcript(*segments: str, words: bool = True) -> Transcript:
    """One segment per string, words 400 ms apart (350 ms long), times running on."""
    segs: list[Segment] = []
    t = 0
    for i, text in enumerate(segments):
        ws = []
        for w in text.split():
            ws.append(Word(w, t, t + WORD_MS - 50, 0.9, speaker="A"))
            t += WORD_MS
        start = ws[0].start_ms if ws else t
        segs.append(
            Segment(i, start, t, text, tuple(ws) if words else (), confidence=0.8, speaker="A")
        )
    text = " ".join(s.text for s in segs)
    return Transcript(text, tuple(segs), "en", 1.0, t)
