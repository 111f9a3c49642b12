"""``punctuate: false`` and ``format_text: false``: plainer text from Whisper's output.

Whisper always punctuates and cases its output; AssemblyAI's two switches turn that off.
Here ``punctuate=False`` drops punctuation (apostrophes inside words stay) and
``format_text=False`` lower-cases the text.
"""

from __future__ import annotations

import dataclasses
import re

from earmark.types import Transcript

__all__ = ["plain_text"]

_PUNCT = re.compile(r"[^\w\s'’]|(?<!\w)['’]|['’](?!\w)")


def plain_text(t: Transcript, *, punctuate: bool, format_text: bool) -> Transcript:
    """Return ``t`` with punctuation and/or casing removed (``t`` itself if both are on)."""
    if punctuate and format_text:
        return t

    def fix(text: str) -> str:
        if not punctuate:
            text = re.sub(r"\s+", " ", _PUNCT.sub("", text)).strip()
        if not format_text:
            text = text.lower()
        return text

    segments = []
    for seg in t.segments:
        words = tuple(dataclasses.replace(w, text=fix(w.text)) for w in seg.words if fix(w.text))
        text = " ".join(w.text for w in words) if seg.words else fix(seg.text)
        segments.append(dataclasses.replace(seg, words=words, text=text))
    text = " ".join(s.text for s in segments if s.text)
    return dataclasses.replace(t, segments=tuple(segments), text=text)
