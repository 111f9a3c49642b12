"""A fake ASR engine for server tests that are not about Whisper.

Registered by name through the same seam as faster-whisper
(:func:`earmark.asr.register_engine`), and chosen with ``ASRSettings(asr_engine="fake")``.
It "hears" :data:`FAKE_TEXT`, its words spread evenly over the decoded audio, so tests
that exercise the server, storage, tagging or webhooks run in milliseconds per job.
"""

from __future__ import annotations

from collections.abc import Iterator

from earmark.asr import ASREngine, ASROptions, EngineOptions, TranscriptionInfo, register_engine
from earmark.types import AudioData, Segment, Word

FAKE_TEXT = (
    "The senate voted on the new budget bill today and the president promised to sign the law."
)


class FakeEngine(ASREngine):
    """Hears ``text`` (FAKE_TEXT by default) in any audio (decoding still runs, so bad media
    still fails)."""

    def __init__(self, options: EngineOptions, text: str = FAKE_TEXT) -> None:
        self.options = options
        self.text = text

    def stream(
        self, audio: AudioData, options: ASROptions
    ) -> tuple[TranscriptionInfo, Iterator[Segment]]:
        start = audio.offset_ms
        end = audio.offset_ms + audio.duration_ms
        texts = self.text.split()
        step = max(1, (end - start) // len(texts))
        words = tuple(
            Word(t, start + i * step, start + (i + 1) * step, 0.9) for i, t in enumerate(texts)
        )
        info = TranscriptionInfo("en", 1.0, end, "fake")
        return info, iter([Segment(0, start, words[-1].end_ms, self.text, words, 0.9)])


register_engine("fake", FakeEngine)
