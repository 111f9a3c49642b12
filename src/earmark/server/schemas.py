"""Wire schema of ``POST /v2/transcript`` (pydantic lives only in :mod:`earmark.server`).

Known fields are typed so a wrong type is a clear 400; enum fields accept only the values
the SDKs know (echoing anything else back would break their parsers). Unknown fields are
accepted and ignored: newer SDKs add fields often.

Every free-text field has a length limit and every list a size limit (:data:`LIMITS`,
documented in ``docs/limits.md``); numbers must be finite; no string anywhere in the body
may hold a NUL character (PostgreSQL cannot store one, and no client means one). A value
earmark cannot store or honour is refused here, at create, so an accepted job can always
end ``completed`` or ``error``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from earmark.errors import InputError

__all__ = [
    "ECHO_FIELDS",
    "LIMITS",
    "REFUSED_FIELDS",
    "CreateTranscript",
    "check_json_value",
    "parse_create",
]

MAX_DEPTH = 32
"""Deepest nesting of objects and lists accepted anywhere in a JSON body."""

LIMITS: dict[str, str] = {
    "body": "2 MB per JSON request (EARMARK_MAX_REQUEST_KB), 413 past it",
    "nesting": f"{MAX_DEPTH} levels of objects and lists",
    "audio_url": "4,096 characters",
    "webhook_url": "2,048 characters",
    "webhook_auth_header_name": "an RFC 9110 token of at most 256 characters; no framing or "
    "hop-by-hop header (Content-Length, Transfer-Encoding, Host, Connection...)",
    "webhook_auth_header_value": "4,096 visible ASCII characters (no CR, LF or NUL)",
    "prompt": "4,000 characters",
    "keyterms_prompt / word_boost": "1,000 terms of at most 100 characters",
    "custom_spelling": "1,000 entries",
    "speech_models / language_codes / redact_pii_policies": "100 items of at most 64 characters",
    "custom_tags": "500 tags, names of 100 and descriptions of 2,000 characters, "
    "100 examples of 500 characters per tag",
    "strings": "no NUL character anywhere in the body",
    "numbers": "finite (no NaN or Infinity)",
}
"""The documented limits, by field (rendered into ``docs/limits.md`` and checked by a test)."""

REFUSED_FIELDS: dict[str, str] = {}
"""Boolean features that are refused with a 400 when ``true``, rather than accepted and
silently not done."""

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$")
_FIELD_VALUE = re.compile(r"^[\t\x20-\x7e]*$")
_FORBIDDEN_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "content-type",
        "content-encoding",
        "expect",
        "host",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

Short = Annotated[str, StringConstraints(max_length=64)]
Term = Annotated[str, StringConstraints(max_length=100)]


class SpeakerOptions(BaseModel):
    """``speaker_options``: a range of possible speakers."""

    model_config = ConfigDict(extra="forbid", strict=True)

    min_speakers_expected: int | None = Field(None, ge=1, le=50)
    max_speakers_expected: int | None = Field(None, ge=1, le=50)


class CreateTranscript(BaseModel):
    """The create-transcript request (AssemblyAI's ``TranscriptParams`` plus ``custom_tags``)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False, strict=True)

    audio_url: str | None = Field(None, max_length=4096)
    speech_models: list[Short] | None = Field(None, max_length=100)
    speech_model: Short | None = None
    language_code: Short | None = None
    language_codes: list[Short] | None = Field(None, max_length=100)
    language_detection: bool | None = None
    language_confidence_threshold: float | None = Field(None, ge=0, le=1)
    punctuate: bool | None = None
    format_text: bool | None = None
    disfluencies: bool | None = None
    filter_profanity: bool | None = None
    speaker_labels: bool | None = None
    speakers_expected: int | None = Field(None, ge=1, le=50)
    speaker_options: SpeakerOptions | None = None
    multichannel: bool | None = None
    dual_channel: bool | None = None
    audio_start_from: int | None = Field(None, ge=0, le=2**40)
    audio_end_at: int | None = Field(None, ge=0, le=2**40)
    webhook_url: str | None = Field(None, max_length=2048)
    webhook_auth_header_name: str | None = None
    webhook_auth_header_value: str | None = Field(None, max_length=4096)
    word_boost: list[Term] | None = Field(None, max_length=1000)
    boost_param: Literal["low", "default", "high"] | None = None
    keyterms_prompt: list[Term] | None = Field(None, max_length=1000)
    prompt: str | None = Field(None, max_length=4000)
    temperature: float | None = Field(None, ge=0, le=1)
    custom_spelling: list[dict[str, Any]] | None = Field(None, max_length=1000)
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
    redact_pii_policies: list[Short] | None = Field(None, max_length=100)
    redact_pii_sub: Literal["entity_name", "hash"] | None = None
    speech_threshold: float | None = Field(None, ge=0, le=1)
    custom_tags: str | dict[str, Any] | None = None


ECHO_FIELDS: tuple[str, ...] = tuple(
    name
    for name in CreateTranscript.model_fields
    if name not in ("audio_url", "speech_model", "webhook_auth_header_value")
)
"""Request fields stored with the job and echoed back in the transcript object."""


def check_json_value(value: object, where: str = "body", depth: int = 0) -> None:
    """Refuse what no store can keep: NUL characters, non-finite numbers, deep nesting.

    Raises :class:`InputError` naming the first offending field.
    """
    if depth > MAX_DEPTH:
        raise InputError(f"Invalid request: {where} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if "\x00" in value:
            raise InputError(f"Invalid request: {where} contains a NUL character")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InputError(f"Invalid request: {where} must be a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where != "body" else str(key)
            if "\x00" in str(key):
                raise InputError(f"Invalid request: a key in {where} contains a NUL character")
            check_json_value(item, name[:200], depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_json_value(item, f"{where}[{i}]", depth + 1)


def parse_create(body: object) -> CreateTranscript:
    """Validate a decoded JSON body; raises :class:`InputError` naming the bad field."""
    if not isinstance(body, dict):
        raise InputError("Transcript creation error, the request body must be a JSON object")
    check_json_value(body)
    try:
        params = CreateTranscript.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InputError(
            f"Transcript creation error, invalid value for {where}: {first.get('msg')}"
        ) from exc
    for name, why in REFUSED_FIELDS.items():
        if getattr(params, name) is True:
            raise InputError(f"Transcript creation error, {name}: {why}")
    _check_webhook_header(params)
    _check_speakers(params)
    return params


def _check_speakers(params: CreateTranscript) -> None:
    opts = params.speaker_options
    low = opts.min_speakers_expected if opts else None
    high = opts.max_speakers_expected if opts else None
    if low is not None and high is not None and low > high:
        raise InputError(
            "Transcript creation error, speaker_options.min_speakers_expected must not be "
            "greater than max_speakers_expected"
        )
    n = params.speakers_expected
    if n is not None and ((low is not None and n < low) or (high is not None and n > high)):
        raise InputError(
            "Transcript creation error, speakers_expected is outside speaker_options' range"
        )


def _check_webhook_header(params: CreateTranscript) -> None:
    name, value = params.webhook_auth_header_name, params.webhook_auth_header_value
    if name is None and value is None:
        return
    if name is None or value is None:
        raise InputError(
            "Transcript creation error, webhook_auth_header_name and "
            "webhook_auth_header_value must be given together"
        )
    if not _TOKEN.match(name):
        raise InputError(
            "Transcript creation error, webhook_auth_header_name must be an HTTP header name "
            "(letters, digits and !#$%&'*+-.^_`|~, at most 256 characters)"
        )
    if name.lower() in _FORBIDDEN_HEADERS or name.lower().startswith("proxy-"):
        raise InputError(
            f"Transcript creation error, webhook_auth_header_name {name!r} is a header the "
            "server sets itself (framing, routing or hop-by-hop); use e.g. X-Webhook-Secret"
        )
    if not _FIELD_VALUE.match(value) or value != value.strip():
        raise InputError(
            "Transcript creation error, webhook_auth_header_value must be visible characters "
            "without CR, LF, NUL or surrounding spaces"
        )
