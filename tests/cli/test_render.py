"""The human text rendering of tag results (no models)."""

from __future__ import annotations

from earmark.cli.render import TaggedItem, tag_text
from earmark.types import TagResult, TagScore, WindowTags


def _result(windows: tuple[WindowTags, ...]) -> TagResult:
    ranked = (TagScore("Sports", 0.9), TagScore("Money", 0.2))
    return TagResult("Sports", ranked, ("Sports",), windows, 0.5, "embedding")


def test_windows_with_times_are_listed_by_clock() -> None:
    windows = (
        WindowTags(0, 30_000, "a b", (TagScore("Sports", 0.9),), ("Sports",)),
        WindowTags(30_000, 65_000, "c", (TagScore("Money", 0.7),), ("Money",)),
    )
    out = tag_text(TaggedItem("x.mp3", "a b c", None, _result(windows)), show_text=False)
    assert "by time:" in out
    assert "00:00-00:30  Sports" in out and "00:30-01:05  Money" in out


def test_plain_text_windows_are_listed_by_word_range() -> None:
    windows = (
        WindowTags(None, None, "one two three", (TagScore("Sports", 0.9),), ("Sports",)),
        WindowTags(None, None, "four five", (TagScore("Money", 0.3),), ()),
    )
    out = tag_text(TaggedItem("x.txt", "one two three four five", None, _result(windows)))
    assert "--:--" not in out
    assert "words 1-3  Sports" in out and "words 4-5  (none)" in out


def test_consecutive_windows_with_the_same_tags_are_merged() -> None:
    sports = (TagScore("Sports", 0.9),)
    windows = (
        WindowTags(0, 30_000, "a", sports, ("Sports",)),
        WindowTags(30_000, 60_000, "b", sports, ("Sports",)),
        WindowTags(60_000, 90_000, "c", (TagScore("Money", 0.8),), ("Money",)),
        WindowTags(90_000, 120_000, "d", sports, ("Sports",)),
    )
    out = tag_text(TaggedItem("x.mp3", "a b c d", None, _result(windows)), show_text=False)
    lines = out.splitlines()[out.splitlines().index("by time:") + 1 :]
    assert lines == ["  00:00-01:00  Sports", "  01:00-01:30  Money", "  01:30-02:00  Sports"]
