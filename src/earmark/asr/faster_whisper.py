"""The faster-whisper (CTranslate2) ASR engine.

One :class:`FasterWhisperEngine` holds one loaded ``WhisperModel``. It is safe to share
between threads: CTranslate2 models accept concurrent calls, and faster-whisper's
``WhisperModel.transcribe`` keeps its per-call state local. With ``workers=1`` (the default)
concurrent transcriptions are served one model call at a time (interleaved); set ``workers``
to the number of transcriptions that should run truly in parallel (each worker needs its
own ``threads`` cores).
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from earmark.asr.base import ASREngine, ASROptions, Device, TranscriptionInfo
from earmark.asr.loops import collapse_loops, normalize_for_loops
from earmark.asr.models import EMBEDDED_MODELS, canonical_name, resolve_model
from earmark.errors import EmptyMediaError, InputError, ModelError
from earmark.types import SAMPLE_RATE, AudioData, Segment, Word

__all__ = [
    "EngineOptions",
    "FasterWhisperEngine",
    "convert_segments",
    "select_compute_type",
    "select_device",
    "select_threads",
]

_MS_PER_SAMPLE = 1000 / SAMPLE_RATE
_SAMPLES_PER_MS = SAMPLE_RATE // 1000


@dataclass(frozen=True)
class EngineOptions:
    """How to load a model (what :class:`~earmark.asr.base.ASROptions` cannot change per call).

    model: see :func:`earmark.asr.models.resolve_model`.
    device / compute_type / threads: as in ASROptions ("auto", "auto", 0 = one per core).
    workers: transcriptions that may run in parallel on this one model.
    cache_dir: where the embedded base model is assembled; default the settings' cache dir.
    """

    model: str = "base"
    device: Device = "auto"
    compute_type: str = "auto"
    threads: int = 0
    workers: int = 1
    cache_dir: Path | None = None


def _cuda_device_count() -> int:
    try:
        import ctranslate2

        return int(ctranslate2.get_cuda_device_count())
    except Exception:  # a broken CUDA install must not stop CPU transcription
        return 0


def select_device(device: str, cuda_device_count: Callable[[], int] = _cuda_device_count) -> str:
    """``"auto"`` -> ``"cuda"`` when CTranslate2 sees a GPU, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if cuda_device_count() > 0 else "cpu"
    if device == "cuda" and cuda_device_count() == 0:
        raise ModelError("ASR device 'cuda' was asked for, but CTranslate2 sees no CUDA device")
    if device not in ("cpu", "cuda"):
        raise ModelError(f"unknown ASR device {device!r}; use 'auto', 'cpu' or 'cuda'")
    return device


def select_compute_type(compute_type: str, device: str) -> str:
    """``"auto"`` -> int8 on CPU, float16 on CUDA; anything else is passed to CTranslate2."""
    if compute_type in ("auto", ""):
        return "float16" if device == "cuda" else "int8"
    return compute_type


def select_threads(threads: int) -> int:
    """0 -> one thread per usable core (CPU affinity aware)."""
    if threads < 0:
        raise ModelError(f"ASR threads must be >= 0, got {threads}")
    if threads:
        return threads
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class FasterWhisperEngine(ASREngine):
    """Whisper through faster-whisper. Build it once per model (see :func:`get_engine`)."""

    def __init__(self, options: EngineOptions) -> None:
        self.options = options
        self.name = canonical_name(options.model)
        self.device = select_device(options.device)
        self.compute_type = select_compute_type(options.compute_type, self.device)
        self.threads = select_threads(options.threads)
        cache_dir = options.cache_dir if options.cache_dir is not None else _default_cache_dir()
        self.model_path = resolve_model(self.name, cache_dir)
        started = time.perf_counter()
        self._model = _load(self.model_path, self, max(1, options.workers))
        self.load_seconds = time.perf_counter() - started
        self.multilingual = bool(self._model.model.is_multilingual)
        self._tap = _LanguageTap(self._model.model)
        self._model.model = self._tap

    def __repr__(self) -> str:
        return (
            f"FasterWhisperEngine(model={self.name!r}, device={self.device!r}, "
            f"compute_type={self.compute_type!r}, threads={self.threads})"
        )

    def stream(
        self, audio: AudioData, options: ASROptions
    ) -> tuple[TranscriptionInfo, Iterator[Segment]]:
        """Start transcribing ``audio``; segments decode lazily as the iterator is read.

        ``options.model/device/compute_type/threads`` are fixed when the engine is built
        and ignored here. Times are absolute in the source (``audio.offset_ms`` added).
        """
        if options.beam_size < 1:
            raise InputError(f"beam_size must be >= 1, got {options.beam_size}")
        samples, offset_ms = _slice(audio, options.start_ms, options.end_ms)
        language = self._language(options.language)
        multilingual = options.multilingual and language is None and self.multilingual
        condition = options.condition_on_previous_text
        segments, info = self._model.transcribe(
            samples,
            language=language,
            beam_size=options.beam_size,
            word_timestamps=options.word_timestamps,
            vad_filter=options.vad,
            initial_prompt=options.initial_prompt or None,
            task=options.task,
            temperature=options.temperature,
            multilingual=multilingual,
            condition_on_previous_text=(not multilingual) if condition is None else condition,
        )
        window_language = self._tap.last if multilingual else None
        end_ms = offset_ms + round(samples.shape[0] * _MS_PER_SAMPLE)

        def repair(start: int, stop: int) -> list[Segment]:
            return self._redecode(samples, offset_ms, start, stop, options, window_language)

        result = TranscriptionInfo(
            language=str(info.language),
            language_probability=float(info.language_probability),
            duration_ms=audio.offset_ms + audio.duration_ms,
            model=self.name,
        )
        return result, convert_segments(segments, offset_ms, end_ms, window_language, repair)

    def _redecode(
        self,
        samples: npt.NDArray[np.float32],
        offset_ms: int,
        start_ms: int,
        end_ms: int,
        options: ASROptions,
        language_of: Callable[[], str | None] | None,
    ) -> list[Segment]:
        """The stretch of a looping segment decoded again, fresh: no previous text, a wider
        beam, at temperature 0 (still deterministic). ``[]`` when that loops too."""
        lo = max(0, (start_ms - offset_ms) * _SAMPLES_PER_MS)
        hi = min(samples.shape[0], (end_ms - offset_ms) * _SAMPLES_PER_MS)
        if hi - lo < SAMPLE_RATE // 2:
            return []
        language = (language_of() if language_of is not None else None) or self._language(
            options.language
        )
        again, _ = self._model.transcribe(
            samples[lo:hi],
            language=language,
            beam_size=max(5, options.beam_size),
            word_timestamps=options.word_timestamps,
            task=options.task,
            temperature=0.0,
            condition_on_previous_text=False,
        )
        stretch_start = offset_ms + lo // _SAMPLES_PER_MS
        out: list[Segment] = []
        for seg in again:
            converted, looped = _convert_one(seg, stretch_start, end_ms, stretch_start)
            if looped:
                return []
            if converted is not None:
                out.append(dataclasses.replace(converted, language=language))
        return out

    def _language(self, language: str | None) -> str | None:
        if language is None or language.strip().lower() in ("", "auto"):
            return None
        code = _normalise_language(language)
        if not self.multilingual and code != "en":
            raise InputError(
                f"ASR model {self.name!r} is English-only and cannot transcribe "
                f"language {code!r}; use the multilingual 'base' model"
            )
        return code


def _default_cache_dir() -> Path:
    from earmark.config import ASRSettings

    return ASRSettings().cache_dir


def _load(path: str, engine: FasterWhisperEngine, workers: int) -> Any:
    from faster_whisper import WhisperModel

    from earmark.asr._features import BlockedFeatureExtractor

    try:
        model = WhisperModel(
            path,
            device=engine.device,
            compute_type=engine.compute_type,
            cpu_threads=engine.threads,
            num_workers=workers,
        )
        # Same features, computed 30 s at a time: flat memory and faster on long files.
        model.feature_extractor = BlockedFeatureExtractor(**model.feat_kwargs)
        return model
    except Exception as exc:  # CTranslate2 and the hub raise many unrelated types
        hint = ""
        if engine.name not in EMBEDDED_MODELS:
            hint = "; embedded models that need no download: " + ", ".join(EMBEDDED_MODELS)
        raise ModelError(
            f"cannot load ASR model {engine.name!r} from {path} on {engine.device} "
            f"({engine.compute_type}): {exc}{hint}"
        ) from exc


def _known_languages() -> frozenset[str]:
    try:
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        return frozenset(_LANGUAGE_CODES)
    except ImportError:  # a newer faster-whisper renamed it: trust the caller
        return frozenset()


def _normalise_language(language: str) -> str:
    """``"en"``, ``"EN"``, ``"en_us"``, ``"en-GB"`` -> ``"en"``; unknown codes raise."""
    code = language.strip().lower().replace("_", "-")
    known = _known_languages()
    if not known or code in known:
        return code
    head = code.split("-", 1)[0]
    if head in known:
        return head
    raise InputError(
        f"unknown language {language!r}; use an ISO 639-1 code such as 'en', 'de' or 'fr'"
    )


def _slice(
    audio: AudioData, start_ms: int | None, end_ms: int | None
) -> tuple[npt.NDArray[np.float32], int]:
    """The samples to transcribe and the absolute time (ms) of the first one."""
    if audio.sample_rate != SAMPLE_RATE:
        raise InputError(f"audio must be {SAMPLE_RATE} Hz, got {audio.sample_rate} Hz")
    if start_ms is not None and start_ms < 0:
        raise InputError(f"start_ms must be >= 0, got {start_ms}")
    if end_ms is not None and end_ms <= (start_ms or 0):
        raise InputError(f"end_ms ({end_ms}) must be greater than start_ms ({start_ms or 0})")
    samples = audio.samples
    lo = max(0, (start_ms or 0) - audio.offset_ms) * _SAMPLES_PER_MS
    hi = samples.shape[0]
    if end_ms is not None:
        hi = min(hi, max(0, end_ms - audio.offset_ms) * _SAMPLES_PER_MS)
    if hi <= lo:
        what = audio.source or "the audio"
        raise EmptyMediaError(
            f"{what}: no audio to transcribe between {start_ms or 0} ms and "
            f"{'the end' if end_ms is None else f'{end_ms} ms'} "
            f"(it covers {audio.offset_ms}-{audio.offset_ms + audio.duration_ms} ms)"
        )
    if lo == 0 and hi == samples.shape[0]:
        return samples, audio.offset_ms
    return samples[lo:hi], audio.offset_ms + lo // _SAMPLES_PER_MS


class _LanguageTap:
    """Wraps the CTranslate2 Whisper model to note, per thread, the language each window's
    detection found (faster-whisper's ``multilingual`` mode detects it before decoding each
    window, but does not put it on the segments it yields). Everything else passes through.
    """

    def __init__(self, model: Any) -> None:
        self._model = model
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def detect_language(self, *args: Any, **kwargs: Any) -> Any:
        results = self._model.detect_language(*args, **kwargs)
        self._local.language = str(results[0][0][0])[2:-2]  # "<|de|>" -> "de"
        return results

    def last(self) -> str | None:
        """The language of the window whose segments are being decoded in this thread."""
        value: str | None = getattr(self._local, "language", None)
        return value


Repair = Callable[[int, int], list[Segment]]
"""``repair(start_ms, end_ms)``: the stretch decoded again, as segments (``[]`` = keep)."""

_MIN_REPEAT_WORDS = 4
"""A segment repeating the one before is dropped only from this many words: a loop, not a
second "Okay." from the other side of a call."""


def convert_segments(
    segments: Iterable[Any],
    offset_ms: int,
    end_ms: int,
    language_of: Callable[[], str | None] | None = None,
    repair: Repair | None = None,
) -> Iterator[Segment]:
    """faster-whisper segments -> earmark :class:`Segment` objects, lazily.

    Times become integer ms, shifted by ``offset_ms`` and kept within
    ``[offset_ms, end_ms]``; word starts never go backwards. Word confidence is Whisper's
    probability; a segment's confidence is the mean of its words', or ``exp(avg_logprob)``
    without words. Segments with no text are dropped; ids count from 0. Repetition loops
    (the same words again and again, a known Whisper failure) are cut to two repeats
    (:func:`earmark.asr.loops.collapse_loops`); when ``repair`` is given, the stretch of a
    segment that looped is decoded again (it is usually a decoder that lost its place, and a
    fresh decode without the previous text gets the words back). A segment that only
    repeats the one before it (from :data:`_MIN_REPEAT_WORDS` words) is dropped.
    ``language_of`` gives each segment's language (multilingual mode).
    """
    index = 0
    last = offset_ms
    previous = ""
    for seg in segments:
        converted, looped = _convert_one(seg, offset_ms, end_ms, last)
        if converted is None:
            continue
        parts = [converted]
        if looped and repair is not None:
            repaired = repair(converted.start_ms, converted.end_ms)
            parts, looped = (repaired, False) if repaired else (parts, looped)
        for part in parts:
            key = normalize_for_loops(part.text)
            if key == previous and (looped or len(key.split()) >= _MIN_REPEAT_WORDS):
                continue
            previous = key
            last = part.words[-1].start_ms if part.words else part.start_ms
            language = part.language or (language_of() if language_of is not None else None)
            yield dataclasses.replace(part, id=index, language=language)
            index += 1


def _convert_one(seg: Any, offset_ms: int, end_ms: int, floor: int) -> tuple[Segment | None, bool]:
    """One segment converted, and whether a repetition loop was cut out of it."""
    text = seg.text.strip()
    if not text:
        return None, False
    start = min(max(offset_ms + round(seg.start * 1000), floor), end_ms)
    end = min(max(offset_ms + round(seg.end * 1000), start), end_ms)
    words: tuple[Word, ...] = ()
    looped = False
    if seg.words:
        words = _convert_words(seg.words, offset_ms, end_ms, start)
        kept = collapse_loops([w.text for w in words])
        if len(kept) < len(words):
            looped = True
            words = tuple(words[i] for i in kept)
            text = " ".join(w.text for w in words)
    else:
        tokens = text.split()
        kept = collapse_loops(tokens)
        if len(kept) < len(tokens):
            looped = True
            text = " ".join(tokens[i] for i in kept)
    if words:
        confidence = sum(w.confidence for w in words) / len(words)
        end = max(end, words[-1].end_ms)
    else:
        confidence = math.exp(seg.avg_logprob) if seg.avg_logprob is not None else 0.0
    segment = Segment(
        id=0, start_ms=start, end_ms=end, text=text, words=words, confidence=confidence
    )
    return segment, looped


def _convert_words(raw: Iterable[Any], offset_ms: int, end_ms: int, floor: int) -> tuple[Word, ...]:
    out: list[Word] = []
    last = floor
    for w in raw:
        text = w.word.strip()
        if not text:
            continue
        start = min(max(offset_ms + round(w.start * 1000), last), end_ms)
        end = min(max(offset_ms + round(w.end * 1000), start), end_ms)
        out.append(Word(text=text, start_ms=start, end_ms=end, confidence=float(w.probability)))
        last = start
    return tuple(out)
