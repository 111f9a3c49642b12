"""The tagging seam: one small interface; the embedding and LLM taggers sit beside it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from earmark.types import TagList, TagResult, Transcript

__all__ = ["TagInput", "TagOptions", "Tagger"]

TagInput = Transcript | str
"""What can be tagged: a transcript (time-stamped windows) or plain text."""


@dataclass(frozen=True)
class TagOptions:
    """How to tag.

    threshold: relevance (0..1) a tag must reach to be selected; ``None`` uses the
        tagger's calibrated default. No tag over it means "none of these fits".
    window_ms: target length of the time-stamped windows a transcript is cut into.
    window_words: most words per window (plain text is cut by words only).
    per_window: also tag each window (``segments`` in the result).
    """

    threshold: float | None = None
    window_ms: int = 30_000
    window_words: int = 150
    per_window: bool = True


class Tagger(ABC):
    """Scores every tag of a list against a transcript or text."""

    name: str = "tagger"

    @abstractmethod
    def tag(self, item: TagInput, tags: TagList, options: TagOptions | None = None) -> TagResult:
        """Rank all tags for ``item``; see :class:`earmark.types.TagResult`."""

    def tag_many(
        self, items: list[TagInput], tags: TagList, options: TagOptions | None = None
    ) -> list[TagResult]:
        """Tag several items; implementations may batch."""
        return [self.tag(item, tags, options) for item in items]
