"""What a transcript job was asked to do, typed: built once at the edge, stored, read by the
pipeline.

The server turns a create request into a :class:`JobOptions` when the request arrives (so a
value it cannot honour is a 400 at once), stores it beside the job, and the pipeline reads
that object and nothing else. A new request field is one field here, one line where the
server fills it, and one line where the pipeline or the renderer uses it.

:func:`options_to_json` / :func:`options_from_json` are the stored form: plain JSON, with a
version number so a later release can still read jobs accepted before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from earmark.errors import InputError
from earmark.types import Tag, TagList

__all__ = [
    "DEFAULT_LANGUAGE",
    "JobOptions",
    "RedactRequest",
    "SpeakerRequest",
    "TopicsRequest",
    "options_from_json",
    "options_to_json",
]

DEFAULT_LANGUAGE = "en_us"
"""AssemblyAI's ``language_code`` when a request sets neither it nor language detection."""

_VERSION = 1


@dataclass(frozen=True)
class TopicsRequest:
    """A tag list to score a transcript against, and how."""

    tags: TagList
    threshold: float | None = None
    engine: str = "embedding"
    model: str | None = None
    party: str | None = None
    """Score only what this speaker ("A"...) or channel ("1"...) said; ``None`` = everyone."""
    per_party: bool = False
    """Also tag what each speaker (or channel) said on their own."""


@dataclass(frozen=True)
class SpeakerRequest:
    """``speaker_labels: true`` with ``speakers_expected`` / ``speaker_options``."""

    expected: int | None = None
    min_speakers: int = 1
    max_speakers: int = 10


@dataclass(frozen=True)
class RedactRequest:
    """``redact_pii: true`` with its policies, substitution and audio options."""

    policies: tuple[str, ...]
    substitution: str = "hash"
    audio: bool = False
    audio_format: str = "mp3"


@dataclass(frozen=True)
class JobOptions:
    """A create request, resolved against the server's configuration.

    model: the local ASR model (``speech_models`` mapped through ``EARMARK_SPEECH_MODEL_MAP``).
    language: the language to transcribe in (``"en_us"``, ``"de"``...); ``None`` detects it.
    start_ms / end_ms: ``audio_start_from`` / ``audio_end_at``.
    punctuate / format_text: AssemblyAI's two text switches.
    prompt: Whisper's initial prompt (``prompt``, else the key terms).
    custom_tags: earmark's ``custom_tags`` extension; ``iab``: ``iab_categories``.
    multichannel: transcribe each channel on its own (``multichannel``/``dual_channel``).
    speakers: speaker labels, and how many speakers to look for; ``None`` = off.
    redact: PII redaction; ``None`` = off.
    """

    model: str
    language: str | None = DEFAULT_LANGUAGE
    start_ms: int | None = None
    end_ms: int | None = None
    punctuate: bool = True
    format_text: bool = True
    prompt: str | None = None
    custom_tags: TopicsRequest | None = None
    iab: bool = False
    temperature: float = 0.0
    multichannel: bool = False
    speakers: SpeakerRequest | None = None
    redact: RedactRequest | None = None

    def __post_init__(self) -> None:
        if self.start_ms is not None and self.end_ms is not None and self.end_ms <= self.start_ms:
            raise InputError("audio_end_at must be greater than audio_start_from")


def options_to_json(options: JobOptions) -> dict[str, Any]:
    """The stored form of ``options`` (JSON types only)."""
    topics = options.custom_tags
    return {
        "v": _VERSION,
        "model": options.model,
        "language": options.language,
        "start_ms": options.start_ms,
        "end_ms": options.end_ms,
        "punctuate": options.punctuate,
        "format_text": options.format_text,
        "prompt": options.prompt,
        "iab": options.iab,
        "temperature": options.temperature,
        "multichannel": options.multichannel,
        "speakers": None if options.speakers is None else asdict(options.speakers),
        "redact": None if options.redact is None else asdict(options.redact),
        "custom_tags": None
        if topics is None
        else {
            "name": topics.tags.name,
            "tags": [
                {"name": t.name, "description": t.description, "examples": list(t.examples)}
                for t in topics.tags.tags
            ],
            "threshold": topics.threshold,
            "engine": topics.engine,
            "model": topics.model,
            "party": topics.party,
            "per_party": topics.per_party,
        },
    }


def options_from_json(data: Mapping[str, Any]) -> JobOptions:
    """Read what :func:`options_to_json` wrote (raises :class:`InputError` if it cannot)."""
    if data.get("v") != _VERSION:
        raise InputError(f"stored job options of version {data.get('v')!r} cannot be read")
    raw = data.get("custom_tags")
    topics = None
    if isinstance(raw, Mapping):
        tags = tuple(
            Tag(name=t["name"], description=t["description"], examples=tuple(t["examples"]))
            for t in raw["tags"]
        )
        topics = TopicsRequest(
            tags=TagList(tags=tags, name=raw["name"]),
            threshold=raw.get("threshold"),
            engine=raw.get("engine", "embedding"),
            model=raw.get("model"),
            party=raw.get("party"),
            per_party=bool(raw.get("per_party", False)),
        )
    return JobOptions(
        model=data["model"],
        language=data.get("language"),
        start_ms=data.get("start_ms"),
        end_ms=data.get("end_ms"),
        punctuate=bool(data.get("punctuate", True)),
        format_text=bool(data.get("format_text", True)),
        prompt=data.get("prompt"),
        custom_tags=topics,
        iab=bool(data.get("iab", False)),
        temperature=float(data.get("temperature", 0.0)),
        multichannel=bool(data.get("multichannel", False)),
        speakers=SpeakerRequest(**data["speakers"]) if data.get("speakers") else None,
        redact=_redact(data.get("redact")),
    )


def _redact(raw: Any) -> RedactRequest | None:
    if not isinstance(raw, Mapping):
        return None
    return RedactRequest(
        policies=tuple(raw["policies"]),
        substitution=raw.get("substitution", "hash"),
        audio=bool(raw.get("audio", False)),
        audio_format=raw.get("audio_format", "mp3"),
    )
