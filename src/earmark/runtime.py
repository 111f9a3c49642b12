"""The engines one process runs on, owned together and built from one :class:`Settings`.

A :class:`Runtime` holds the ASR engine pool, the tagger pool and the LLM router. The
server's services own one (so ``custom_tags`` with ``engine: llm`` uses the app's
configured routes, not the environment's); the library API (:mod:`earmark.api`) keeps a
default one. :meth:`Runtime.transcribe` is the one transcription path: the library, the
CLI and the job pipeline all run it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from earmark.asr.base import ASREngine, ASROptions
from earmark.asr.faster_whisper import EngineOptions
from earmark.asr.registry import EnginePool
from earmark.config import Settings
from earmark.tagging.registry import TaggerPool
from earmark.types import AudioData, Segment, Transcript

if TYPE_CHECKING:
    from earmark.diarize import Diarizer
    from earmark.llm import Router

__all__ = ["Runtime", "default_asr_options"]


def default_asr_options(settings: Settings) -> ASROptions:
    """ASR options from the settings (``EARMARK_ASR_MODEL`` and friends)."""
    s = settings.asr
    return ASROptions(
        model=s.asr_model,
        device=s.asr_device,
        compute_type=s.asr_compute_type,
        threads=s.asr_threads,
        beam_size=s.asr_beam_size,
        vad=s.asr_vad,
    )


class Runtime:
    """ASR engines, taggers and the LLM router for one set of settings."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        engines: EnginePool | None = None,
        taggers: TaggerPool | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.engines = engines or EnginePool(kind=self.settings.asr.asr_engine)
        self.taggers = taggers or TaggerPool(self.settings, router=self.llm_router)
        self._router: Router | None = None
        self._diarizer: Diarizer | None = None
        self._lock = threading.Lock()

    def diarizer(self) -> Diarizer:
        """The speaker-labelling engine of these settings (loaded on first use)."""
        with self._lock:
            if self._diarizer is None:
                from earmark.diarize import create_diarizer

                self._diarizer = create_diarizer(self.settings.asr.diarizer)
            return self._diarizer

    def llm_router(self) -> Router:
        """The LLM router for these settings (built on first use)."""
        with self._lock:
            if self._router is None:
                from earmark.llm import Router

                self._router = Router.from_settings(self.settings.llm)
            return self._router

    def asr_options(self) -> ASROptions:
        """The default ASR options of these settings."""
        return default_asr_options(self.settings)

    def engine(self, options: ASROptions, workers: int = 1) -> ASREngine:
        """The loaded engine for ``options``' load-time part (model, device, compute type,
        threads); the rest of ``options`` is per call."""
        return self.engines.get(
            EngineOptions(
                model=options.model,
                device=options.device,
                compute_type=options.compute_type,
                threads=options.threads,
                workers=workers,
                cache_dir=self.settings.asr.cache_dir,
            )
        )

    def transcribe(
        self,
        source: str | Path | bytes | AudioData,
        options: ASROptions | None = None,
        *,
        on_segment: Callable[[Segment], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        workers: int = 1,
    ) -> Transcript:
        """Decode ``source`` (unless it is decoded audio already) and transcribe it.

        ``on_segment`` is called as each segment is decoded, and ``on_progress(done_ms,
        total_ms)`` after it. Raises :class:`earmark.errors.MediaError` subclasses for
        unreadable media.
        """
        from earmark.audio.decode import decode_audio

        opts = options or self.asr_options()
        if opts.multichannel and not isinstance(source, AudioData):
            return self._multichannel(source, opts, on_progress, workers)
        if isinstance(source, AudioData):
            audio = source
        else:
            audio = decode_audio(source, start_ms=opts.start_ms, end_ms=opts.end_ms)
        engine = self.engine(opts, workers)
        if on_progress is None:
            return engine.transcribe(audio, opts, on_segment=on_segment)
        total_ms = audio.duration_ms
        report = on_progress

        def _segment_done(segment: Segment) -> None:
            if on_segment is not None:
                on_segment(segment)
            report(min(segment.end_ms, total_ms), total_ms)

        transcript = engine.transcribe(audio, opts, on_segment=_segment_done)
        report(total_ms, total_ms)
        return transcript

    def english_for_tagging(
        self,
        audio: AudioData | str | Path,
        transcript: Transcript,
        options: ASROptions | None = None,
        workers: int = 1,
    ) -> Transcript:
        """What the English tag encoder should read: ``transcript`` itself when it is in
        English, else Whisper's translation of the same audio into English (a second,
        translating pass; its windows keep the recording's times).

        The tagger's MiniLM is English-only; on Spanish or German text it ranks tags by
        surface overlap (``benchmarks/tagging.md``, multilingual set).
        """
        if transcript.language.split("_")[0].split("-")[0].lower() in ("en", ""):
            return transcript
        opts = options or self.asr_options()
        if opts.model.endswith(".en"):
            return transcript  # an English-only model cannot translate
        translate = dataclasses.replace(
            opts,
            task="translate",
            language=transcript.language,
            multilingual=False,
            multichannel=False,
            initial_prompt=None,
        )
        return self.transcribe(audio, translate, workers=workers)

    def _multichannel(
        self,
        source: str | Path | bytes,
        opts: ASROptions,
        on_progress: Callable[[int, int], None] | None,
        workers: int,
    ) -> Transcript:
        """Each channel transcribed on its own, merged in time order (see :mod:`channels`)."""
        from earmark.asr.channels import distinct_channels, merge_channels
        from earmark.audio.decode import count_channels, decode_audio

        count = count_channels(source)
        tracks = [
            decode_audio(source, start_ms=opts.start_ms, end_ms=opts.end_ms, channel=c)
            for c in range(count)
        ]
        distinct = distinct_channels(tracks)
        total = sum(tracks[i].duration_ms for i in distinct)
        done = 0
        parts = []
        for i in distinct:

            def progress(part_ms: int, _total: int, before: int = done) -> None:
                if on_progress is not None:
                    on_progress(before + part_ms, total)

            parts.append(
                (
                    str(i + 1),
                    self.transcribe(tracks[i], opts, on_progress=progress, workers=workers),
                )
            )
            done += tracks[i].duration_ms
        return merge_channels(parts, count)
