"""The ASR seam: one small interface, with faster-whisper beside it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from earmark.types import AudioData, Segment, Transcript

__all__ = ["ASREngine", "ASROptions", "TranscriptionInfo", "collect", "main_language"]

Device = Literal["auto", "cpu", "cuda"]


@dataclass(frozen=True)
class ASROptions:
    """How to transcribe.

    model: ``"base"`` (embedded Whisper base, multilingual, the default), ``"tiny.en"``
        (embedded, fast), a faster-whisper model directory, or a hub name (needs internet).
    device: ``"auto"`` picks CUDA when a GPU is present, else CPU.
    compute_type: ``"auto"`` is int8 on CPU and float16 on CUDA.
    threads: CPU threads; 0 means one per core.
    language: an ISO code such as ``"en"``; ``None`` detects it.
    vad: skip silence with Silero VAD before decoding.
    beam_size: 2 (default) matched beam 5's WER on LibriSpeech and was 0.3 points behind on
        phone audio, at ~0.75x its time (benchmarks/asr.md); 1 is greedy (fastest); 5 is
        Whisper's default.
    word_timestamps: compute per-word times and confidences.
    start_ms / end_ms: transcribe only this stretch of the audio (times stay absolute).
    initial_prompt: text that primes the decoder (names, jargon).
    temperature: 0 decodes greedily / by beam with no sampling fallback, so the same audio
        always gives the same text; higher values let Whisper resample hard windows.
    multilingual: detect the language of every 30-s window, so a recording that switches
        language keeps each one; every segment carries its language.
    condition_on_previous_text: feed the previous window's text to the next; ``None`` = on,
        except with ``multilingual`` (text in one language primes the next window to stay in
        it, and a window in another language can then be decoded as silence).
    multichannel: transcribe each audio channel on its own (words carry ``channel``);
        identical channels (mono stored as stereo) are transcribed once.
    task: ``"transcribe"``, or ``"translate"`` to English (Whisper's own translation; the
        English tagger reads it for recordings in other languages).
    """

    model: str = "base"
    device: Device = "auto"
    compute_type: str = "auto"
    threads: int = 0
    language: str | None = None
    vad: bool = False
    beam_size: int = 2
    word_timestamps: bool = True
    start_ms: int | None = None
    end_ms: int | None = None
    initial_prompt: str | None = None
    temperature: float = 0.0
    multilingual: bool = False
    condition_on_previous_text: bool | None = None
    multichannel: bool = False
    task: Literal["transcribe", "translate"] = "transcribe"


@dataclass(frozen=True)
class TranscriptionInfo:
    """What is known before the segments are decoded."""

    language: str
    language_probability: float
    duration_ms: int
    model: str


class ASREngine(ABC):
    """Turns audio into segments. Implementations load their model once and are reused."""

    @abstractmethod
    def stream(
        self, audio: AudioData, options: ASROptions
    ) -> tuple[TranscriptionInfo, Iterator[Segment]]:
        """Start transcribing; segments are decoded lazily as the iterator is consumed."""

    def transcribe(
        self,
        audio: AudioData,
        options: ASROptions,
        on_segment: Callable[[Segment], None] | None = None,
    ) -> Transcript:
        """Transcribe to completion, calling ``on_segment`` as each segment arrives."""
        info, segments = self.stream(audio, options)
        return collect(info, segments, on_segment, source=audio.source)


def collect(
    info: TranscriptionInfo,
    segments: Iterator[Segment],
    on_segment: Callable[[Segment], None] | None = None,
    source: str = "",
) -> Transcript:
    """Drain a segment stream into a :class:`Transcript`."""
    done: list[Segment] = []
    for seg in segments:
        done.append(seg)
        if on_segment is not None:
            on_segment(seg)
    text = " ".join(s.text.strip() for s in done if s.text.strip())
    return Transcript(
        text=text,
        segments=tuple(done),
        language=main_language(done) or info.language,
        language_probability=info.language_probability,
        duration_ms=info.duration_ms,
        model=info.model,
        source=source,
    )


def main_language(segments: Sequence[Segment]) -> str | None:
    """The language spoken longest, when segments carry their own (multilingual mode)."""
    spoken: dict[str, int] = {}
    for seg in segments:
        if seg.language:
            spoken[seg.language] = spoken.get(seg.language, 0) + max(1, seg.end_ms - seg.start_ms)
    return max(spoken, key=lambda k: spoken[k]) if spoken else None
