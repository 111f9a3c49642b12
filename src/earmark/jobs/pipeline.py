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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from earmark.api import default_asr_options
from earmark.config import Settings
from earmark.errors import DownloadError, EarmarkError, InputError, MediaError
from earmark.jobs.fetch import FetchOptions, download
from earmark.jobs.textform import plain_text
from earmark.jobs.topics import TopicsRequest, iab_tags, parse_custom_tags, run_topics
from earmark.storage.base import JobRecord, JobResult, TranscriptStore
from earmark.storage.files import FileStore

__all__ = ["JobOptions", "Pipeline", "PipelineConfig", "job_options", "parse_model_map"]

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
    """

    settings: Settings
    fetch: FetchOptions
    workers: int = 1
    model_map: dict[str, str] = field(default_factory=dict)
    max_attempts: int = 5
    default_custom_tags: object = None


@dataclass(frozen=True)
class JobOptions:
    """What a create request asks for, resolved against the server's configuration."""

    model: str
    language: str | None
    start_ms: int | None = None
    end_ms: int | None = None
    punctuate: bool = True
    format_text: bool = True
    prompt: str | None = None
    custom_tags: TopicsRequest | None = None
    iab: bool = False


def job_options(request: Mapping[str, object], config: PipelineConfig) -> JobOptions:
    """Resolve a stored create request. Raises :class:`InputError` for unusable values, so
    the server calls it at create time and the client gets a 400 at once."""
    model = config.settings.asr.asr_model
    wanted = request.get("speech_models")
    if isinstance(wanted, list):
        for sm in wanted:
            if isinstance(sm, str) and sm in config.model_map:
                model = config.model_map[sm]
                break
    language: str | None = None
    if not request.get("language_detection"):
        code = request.get("language_code")
        language = code if isinstance(code, str) and code else "en_us"
    start, end = _ms(request, "audio_start_from"), _ms(request, "audio_end_at")
    if start is not None and end is not None and end <= start:
        raise InputError("audio_end_at must be greater than audio_start_from")
    custom = request.get("custom_tags")
    return JobOptions(
        model=model,
        language=language,
        start_ms=start,
        end_ms=end,
        punctuate=request.get("punctuate") is not False,
        format_text=request.get("format_text") is not False,
        prompt=_prompt(request),
        custom_tags=parse_custom_tags(custom) if custom is not None else None,
        iab=request.get("iab_categories") is True,
    )


def _ms(request: Mapping[str, object], key: str) -> int | None:
    value = request.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{key} must be a whole number of milliseconds >= 0, not {value!r}")
    return value


def _prompt(request: Mapping[str, object]) -> str | None:
    """``prompt``, else ``keyterms_prompt``/``word_boost`` as Whisper's initial prompt."""
    prompt = request.get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        return prompt.strip()
    terms: list[str] = []
    for key in ("keyterms_prompt", "word_boost"):
        value = request.get(key)
        if isinstance(value, list):
            terms += [t for t in value if isinstance(t, str) and t.strip()]
    return ", ".join(terms) if terms else None


class Pipeline:
    """Runs transcript jobs (see the module docstring)."""

    def __init__(
        self,
        store: TranscriptStore,
        files: FileStore,
        config: PipelineConfig,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.files = files
        self.config = config
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
                self.store.finish(job_id, result=self.process(job))
            except EarmarkError as exc:
                self.store.finish(job_id, error=_message(exc, job))
            except Exception as exc:
                log.exception("transcript %s failed", job_id)
                self.store.finish(
                    job_id,
                    error=f"Internal error while processing the transcript: "
                    f"{type(exc).__name__}: {exc}",
                )
        if self.notify is not None:
            self.notify(job_id)

    def process(self, job: JobRecord) -> JobResult:
        """Decode, transcribe and tag one job's audio (raises on failure)."""
        from earmark.asr import get_engine
        from earmark.audio.decode import decode_audio

        opts = job_options(job.request, self.config)
        path, temporary = self._audio(job)
        try:
            audio = decode_audio(path, start_ms=opts.start_ms, end_ms=opts.end_ms)
        finally:
            if temporary:
                self.files.discard(path)
        asr = self.config.settings.asr
        workers = max(1, self.config.workers)
        threads = asr.asr_threads or max(1, (os.cpu_count() or 1) // workers)
        asr_options = replace(
            default_asr_options(self.config.settings),
            model=opts.model,
            threads=threads,
            language=opts.language,
            start_ms=opts.start_ms,
            end_ms=opts.end_ms,
            initial_prompt=opts.prompt,
        )
        engine = get_engine(
            opts.model,
            device=asr_options.device,
            compute_type=asr_options.compute_type,
            threads=threads,
            cache_dir=asr.cache_dir,
            workers=workers,
        )
        transcript = engine.transcribe(audio, asr_options)
        transcript = plain_text(transcript, punctuate=opts.punctuate, format_text=opts.format_text)
        custom = run_topics(transcript, opts.custom_tags) if opts.custom_tags else None
        iab = run_topics(transcript, TopicsRequest(tags=iab_tags())) if opts.iab else None
        return JobResult(
            transcript=transcript,
            model=transcript.model or opts.model,
            custom_tags=custom,
            iab=iab,
        )

    def _audio(self, job: JobRecord) -> tuple[Path, bool]:
        """The local file to decode, and whether it is a temporary download."""
        if job.upload_id is not None:
            upload = self.store.get_upload(job.upload_id)
            if upload is None or upload.owner != job.owner or not Path(upload.path).is_file():
                raise DownloadError(
                    f"Download error, unable to download {job.audio_url}: no such upload on "
                    "this server (it was deleted, or made with another API key)"
                )
            return Path(upload.path), False
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
