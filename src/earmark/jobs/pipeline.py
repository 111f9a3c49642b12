"""The transcript job handler: id in, stored outcome out.

``Pipeline.run(job_id)`` claims the job, fetches its audio (an upload on this server, or an
``audio_url`` download), decodes it, runs ASR, applies ``punctuate``/``format_text``, adds
the requested topic tags, stores the result and hands the job to the webhook sender.
It is idempotent: the claim and the store are compare-and-set, so a job delivered twice by
an at-least-once queue is processed once. Failures are stored as ``status: error`` with a
message that says what went wrong; they are never raised.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from earmark.config import Settings
from earmark.errors import DownloadError, EarmarkError, InputError, MediaError
from earmark.jobs.conversation_steps import (
    label_words,
    redact_transcript,
    speaker_turns,
    store_redacted_audio,
)
from earmark.jobs.fetch import FetchOptions, download
from earmark.jobs.iab import run_iab
from earmark.jobs.options import JobOptions, options_from_json
from earmark.jobs.textform import plain_text
from earmark.jobs.topics import run_topics
from earmark.runtime import Runtime
from earmark.storage.base import JobRecord, JobResult, TranscriptStore
from earmark.storage.files import FileStore
from earmark.types import AudioData, Transcript

__all__ = ["JobOptions", "Pipeline", "PipelineConfig", "parse_model_map"]

log = logging.getLogger("earmark.pipeline")


def parse_model_map(text: str) -> dict[str, str]:
    """``"universal-3-pro=base, universal-2=tiny.en"`` -> ``{"universal-3-pro": "base", ...}``."""
    out: dict[str, str] = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(
                f"EARMARK_SPEECH_MODEL_MAP: {pair.strip()!r} is not 'speech_model_id=local_model'"
            )
        out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class PipelineConfig:
    """What every job shares: settings, the worker count and the download limits.

    model_map: speech_models id -> local ASR model; unmapped ids use ``settings.asr.asr_model``.
    workers: transcription workers sharing each engine (sets the engine's parallelism).
    max_attempts: a job interrupted (process killed) this many times is failed.
    default_custom_tags: ``custom_tags`` for requests that do not set it (``EARMARK_CUSTOM_TAGS``).
    default_tag_engine: the tagging engine of a ``custom_tags`` that names none
        (``EARMARK_TAG_ENGINE``).
    """

    settings: Settings
    fetch: FetchOptions
    workers: int = 1
    model_map: dict[str, str] = field(default_factory=dict)
    max_attempts: int = 5
    default_custom_tags: object = None
    default_tag_engine: str = "embedding"

    def asr_model(self, speech_models: list[str] | None) -> str:
        """The local model for a request's ``speech_models`` (first mapped id wins)."""
        for sm in speech_models or ():
            if sm in self.model_map:
                return self.model_map[sm]
        return self.settings.asr.asr_model


class Pipeline:
    """Runs transcript jobs (see the module docstring)."""

    def __init__(
        self,
        store: TranscriptStore,
        files: FileStore,
        config: PipelineConfig,
        runtime: Runtime,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.files = files
        self.config = config
        self.runtime = runtime
        self.notify = notify

    def run(self, job_id: str) -> None:
        """Process one job; every outcome is stored, nothing is raised for job failures."""
        job = self.store.claim(job_id)
        if job is None:
            return  # finished, deleted, or claimed by someone else
        if job.attempts > self.config.max_attempts:
            self.store.finish(
                job_id,
                error=f"Processing error, the job was interrupted {job.attempts - 1} times "
                "(the server stopped while transcribing it) and was given up",
            )
        else:
            try:
                result = self.process(job)
            except EarmarkError as exc:
                self.store.finish(job_id, error=_message(exc, job))
            except Exception as exc:
                log.exception("transcript %s failed", job_id)
                self.store.finish(
                    job_id,
                    error=f"Internal error while processing the transcript: "
                    f"{type(exc).__name__}: {exc}",
                )
            else:
                self._store_result(job_id, result)
        if self.notify is not None:
            self.notify(job_id)

    def _store_result(self, job_id: str, result: JobResult) -> None:
        """Store the result; if the store refuses it, the job still ends, as an error."""
        try:
            self.store.finish(job_id, result=result)
        except Exception as exc:
            log.exception("transcript %s: the result could not be stored", job_id)
            self.store.finish(
                job_id,
                error=f"Internal error, the result could not be stored: {type(exc).__name__}",
            )

    def process(self, job: JobRecord) -> JobResult:
        """Decode, transcribe and tag one job's audio (raises on failure)."""
        if job.options is None:
            raise InputError(
                "Processing error, this transcript was accepted by an older earmark that did "
                "not store its options; submit it again"
            )
        opts = options_from_json(job.options)
        path, temporary = self._audio(job)
        asr = self.config.settings.asr
        workers = max(1, self.config.workers)
        asr_options = replace(
            self.runtime.asr_options(),
            model=opts.model,
            threads=asr.asr_threads or max(1, (os.cpu_count() or 1) // workers),
            language=opts.language,
            start_ms=opts.start_ms,
            end_ms=opts.end_ms,
            initial_prompt=opts.prompt,
            temperature=opts.temperature,
            multilingual=opts.language is None,
            multichannel=opts.multichannel,
        )
        try:
            audio = None if opts.multichannel else self._decode(path, opts)
            transcript = self.runtime.transcribe(audio or path, asr_options, workers=workers)
            english: Transcript | None = None  # Whisper's English, when tags need it
            if (opts.custom_tags or opts.iab) and audio is not None:
                heard = self.runtime.english_for_tagging(audio, transcript, asr_options, workers)
                english = heard if heard is not transcript else None
        finally:
            if temporary:
                self.files.discard(path)
        transcript = plain_text(transcript, punctuate=opts.punctuate, format_text=opts.format_text)
        if opts.speakers is not None and audio is not None:
            turns = speaker_turns(self.runtime, audio, opts.speakers)
            transcript = label_words(transcript, turns)
            english = label_words(english, turns) if english is not None else None
        redacted_audio = None
        if opts.redact is not None:
            transcript, spans = redact_transcript(transcript, opts.redact)
            english = redact_transcript(english, opts.redact)[0] if english is not None else None
            if opts.redact.audio and audio is not None:
                redacted_audio = store_redacted_audio(
                    audio, spans, opts.redact, job.owner, self.files, self.store
                )
        tag_source = english or transcript
        taggers = self.runtime.taggers
        custom = run_topics(tag_source, opts.custom_tags, taggers) if opts.custom_tags else None
        iab = run_iab(tag_source, taggers) if opts.iab else None
        return JobResult(
            transcript=transcript,
            model=transcript.model or opts.model,
            custom_tags=custom,
            iab=iab,
            redacted_audio=redacted_audio,
        )

    @staticmethod
    def _decode(path: Path, opts: JobOptions) -> AudioData:
        from earmark.audio.decode import decode_audio

        return decode_audio(path, start_ms=opts.start_ms, end_ms=opts.end_ms)

    def _audio(self, job: JobRecord) -> tuple[Path, bool]:
        """The local file to decode, and whether it is a temporary download."""
        if job.upload_id is not None:
            upload = self.store.get_upload(job.upload_id)
            local = self.store.local_upload_path(job.upload_id) if upload is not None else None
            if upload is None or upload.owner != job.owner or local is None:
                raise DownloadError(
                    f"Download error, unable to download {job.audio_url}: no such upload on "
                    "this server (it was deleted, or made with another API key)"
                )
            return local, False
        with self.files.download_writer(job.id, self.config.fetch.max_bytes) as writer:
            download(job.audio_url, writer, self.config.fetch)
            return writer.commit(), True


def _message(exc: EarmarkError, job: JobRecord) -> str:
    """The job's ``error`` text: never a server path, always what went wrong."""
    text = exc.message
    for path in (job.upload_id and str(job.upload_id), job.id):
        if path:
            text = _hide_paths(text, path, job.audio_url)
    if isinstance(exc, MediaError):
        return f"Transcoding error, the file at {job.audio_url} could not be decoded: {text}"
    return text


def _hide_paths(text: str, name: str, url: str) -> str:
    """Replace any server-side path ending in ``name`` with the client's URL."""
    out = []
    for token in text.split(" "):
        core = token.strip("'\",:;()")
        if "/" in core and core.rstrip("/").endswith(name):
            token = token.replace(core, url)
        out.append(token)
    return " ".join(out)
