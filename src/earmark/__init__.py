"""earmark: self-hosted transcription and custom topic tagging.

The public API is small::

    import earmark
    t = earmark.transcribe("episode.mp3")            # -> earmark.Transcript
    r = earmark.tag(t, "media")                      # -> earmark.TagResult
    r = earmark.tag("text I already have", {"Sports": "Athletic events..."})

Heavy modules (models, numpy kernels) load on first use, not on import.
"""

from __future__ import annotations

from earmark.errors import EarmarkError
from earmark.types import Segment, Tag, TagList, TagResult, TagScore, Transcript, WindowTags, Word

__all__ = [
    "EarmarkError",
    "Segment",
    "Tag",
    "TagList",
    "TagResult",
    "TagScore",
    "Transcript",
    "WindowTags",
    "Word",
    "__version__",
    "tag",
    "transcribe",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    if name in ("transcribe", "tag"):
        from earmark import api

        return getattr(api, name)
    raise AttributeError(f"module 'earmark' has no attribute {name!r}")
