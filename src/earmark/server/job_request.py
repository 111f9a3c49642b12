"""A create request, parsed once: the wire body becomes the echo and the typed job options.

``POST /v2/transcript`` calls :func:`accept` with the decoded body. It validates the body
(:mod:`earmark.server.schemas`), resolves it against the server's configuration into a
:class:`earmark.jobs.options.JobOptions` (a bad value is a 400 now, not a failed job later),
and returns what the job stores: the request fields to echo back, the options the pipeline
reads, and the webhook secret kept apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from earmark.errors import InputError
from earmark.jobs.options import (
    DEFAULT_LANGUAGE,
    JobOptions,
    RedactRequest,
    SpeakerRequest,
    TopicsRequest,
)
from earmark.jobs.pipeline import PipelineConfig
from earmark.jobs.topics import parse_custom_tags
from earmark.server.schemas import ECHO_FIELDS, CreateTranscript, parse_create
from earmark.types import TagList

__all__ = ["AcceptedRequest", "accept"]


@dataclass(frozen=True)
class AcceptedRequest:
    """What a valid create request turns into."""

    params: CreateTranscript
    echo: dict[str, Any]
    options: JobOptions


def accept(
    body: object,
    config: PipelineConfig,
    saved: Callable[[str], TagList | None] | None = None,
) -> AcceptedRequest:
    """Validate ``body`` and resolve it; raises :class:`~earmark.errors.InputError`.

    ``saved`` resolves ``custom_tags: "<name>"`` to the caller's saved tag list."""
    params = parse_create(body)
    echo = params.model_dump(include=set(ECHO_FIELDS), exclude_none=True)
    custom: object = params.custom_tags
    if config.default_custom_tags is not None and "custom_tags" not in params.model_fields_set:
        custom = config.default_custom_tags  # EARMARK_CUSTOM_TAGS; an explicit null opts out
        echo["custom_tags"] = custom
    if not params.language_detection and not params.language_code:
        echo["language_code"] = DEFAULT_LANGUAGE
    options = JobOptions(
        model=config.asr_model(params.speech_models),
        language=None if params.language_detection else echo["language_code"],
        start_ms=params.audio_start_from,
        end_ms=params.audio_end_at,
        punctuate=params.punctuate is not False,
        format_text=params.format_text is not False,
        prompt=_prompt(params),
        custom_tags=_topics(custom, saved, config.default_tag_engine),
        iab=params.iab_categories is True,
        temperature=params.temperature or 0.0,
        multichannel=params.multichannel is True or params.dual_channel is True,
        speakers=_speakers(params),
        redact=_redact(params),
    )
    return AcceptedRequest(params=params, echo=echo, options=options)


def _redact(params: CreateTranscript) -> RedactRequest | None:
    """``redact_pii`` and its options; every policy must be one earmark performs (400
    otherwise). Without ``redact_pii_policies``, every policy earmark performs applies."""
    if params.redact_pii is not True:
        if params.redact_pii_audio:
            raise InputError("Transcript creation error, redact_pii_audio needs redact_pii: true")
        return None
    from earmark.redact import POLICIES, validate_policies

    try:
        policies = validate_policies(params.redact_pii_policies or POLICIES)
    except InputError as exc:
        raise InputError(f"Transcript creation error, redact_pii_policies: {exc.message}") from exc
    return RedactRequest(
        policies=policies,
        substitution=params.redact_pii_sub or "hash",
        audio=params.redact_pii_audio is True,
        audio_format=params.redact_pii_audio_quality or "mp3",
    )


def _speakers(params: CreateTranscript) -> SpeakerRequest | None:
    if params.speaker_labels is not True:
        return None
    if params.multichannel or params.dual_channel:
        raise InputError(
            "Transcript creation error, speaker_labels and multichannel cannot be combined: "
            "with multichannel each channel is its own speaker"
        )
    opts = params.speaker_options
    low = opts.min_speakers_expected if opts and opts.min_speakers_expected else 1
    high = opts.max_speakers_expected if opts and opts.max_speakers_expected else 10
    return SpeakerRequest(expected=params.speakers_expected, min_speakers=low, max_speakers=high)


def _topics(
    custom: object, saved: Callable[[str], TagList | None] | None, engine: str
) -> TopicsRequest | None:
    if custom is None:
        return None
    return parse_custom_tags(custom, read_files=False, saved=saved, default_engine=engine)


def _prompt(params: CreateTranscript) -> str | None:
    """``prompt``, else ``keyterms_prompt``/``word_boost`` as Whisper's initial prompt."""
    if params.prompt and params.prompt.strip():
        return params.prompt.strip()
    terms = [t for t in (params.keyterms_prompt or []) + (params.word_boost or []) if t.strip()]
    return ", ".join(terms) if terms else None
