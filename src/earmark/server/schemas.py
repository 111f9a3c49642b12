"""Wire schema of ``POST /v2/transcript`` (pydantic lives only in :mod:`earmark.server`).

Known fields are typed so a wrong type is a clear 400; enum fields accept only the values
the SDKs know (echoing anything else back would break their parsers). Unknown fields are
accepted and ignored: newer SDKs add fields often.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from earmark.errors import InputError

__all__ = ["ECHO_FIELDS", "CreateTranscript", "parse_create"]


class CreateTranscript(BaseModel):
    """The create-transcript request (AssemblyAI's ``TranscriptParams`` plus ``custom_tags``)."""

    model_config = ConfigDict(extra="allow")

    audio_url: str | None = None
    speech_models: list[str] | None = None
    speech_model: str | None = None
    language_code: str | None = None
    language_codes: list[str] | None = None
    language_detection: bool | None = None
    language_confidence_threshold: float | None = Field(None, ge=0, le=1)
    punctuate: bool | None = None
    format_text: bool | None = None
    disfluencies: bool | None = None
    filter_profanity: bool | None = None
    speaker_labels: bool | None = None
    speakers_expected: int | None = Field(None, ge=1)
    multichannel: bool | None = None
    dual_channel: bool | None = None
    audio_start_from: int | None = Field(None, ge=0)
    audio_end_at: int | None = Field(None, ge=0)
    webhook_url: str | None = None
    webhook_auth_header_name: str | None = None
    webhook_auth_header_value: str | None = None
    word_boost: list[str] | None = None
    boost_param: Literal["low", "default", "high"] | None = None
    keyterms_prompt: list[str] | None = None
    prompt: str | None = None
    temperature: float | None = None
    custom_spelling: list[dict[str, Any]] | None = None
    iab_categories: bool | None = None
    auto_chapters: bool | None = None
    summarization: bool | None = None
    summary_model: Literal["informative", "conversational", "catchy"] | None = None
    summary_type: Literal["bullets", "bullets_verbose", "gist", "headline", "paragraph"] | None = (
        None
    )
    entity_detection: bool | None = None
    sentiment_analysis: bool | None = None
    auto_highlights: bool | None = None
    content_safety: bool | None = None
    content_safety_confidence: int | None = Field(None, ge=25, le=100)
    redact_pii: bool | None = None
    redact_pii_audio: bool | None = None
    redact_pii_audio_quality: Literal["mp3", "wav"] | None = None
    redact_pii_policies: list[str] | None = None
    redact_pii_sub: Literal["entity_name", "hash"] | None = None
    speech_threshold: float | None = Field(None, ge=0, le=1)
    custom_tags: str | dict[str, Any] | None = None


ECHO_FIELDS: tuple[str, ...] = tuple(
    name
    for name in CreateTranscript.model_fields
    if name not in ("audio_url", "speech_model", "webhook_auth_header_value")
)
"""Request fields stored with the job and echoed back in the transcript object."""


def parse_create(body: object) -> CreateTranscript:
    """Validate a decoded JSON body; raises :class:`InputError` naming the bad field."""
    if not isinstance(body, dict):
        raise InputError("Transcript creation error, the request body must be a JSON object")
    try:
        return CreateTranscript.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InputError(
            f"Transcript creation error, invalid value for {where}: {first.get('msg')}"
        ) from exc
