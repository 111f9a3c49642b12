"""The pipeline's steps after speech recognition that conversations need: speaker labels
and PII redaction (text and audio). Each takes the typed request from the job's options.

Order matters and is fixed in :meth:`earmark.jobs.pipeline.Pipeline.process`: words get
their speakers first (redaction keeps each word's speaker and times), then the text is
redacted, and topic tags are computed on the redacted transcript (or on its redacted
English translation, for recordings in other languages), so no tag window's text can show
what redaction removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, cast

from earmark.jobs.options import RedactRequest, SpeakerRequest
from earmark.runtime import Runtime
from earmark.storage.base import TranscriptStore, UploadRecord, utc_now
from earmark.storage.files import FileStore
from earmark.types import AudioData, Transcript

if TYPE_CHECKING:
    from earmark.diarize import SpeakerTurn
    from earmark.redact import PiiSpan

__all__ = [
    "REDACTED_PREFIX",
    "label_words",
    "redact_transcript",
    "speaker_turns",
    "store_redacted_audio",
]

REDACTED_PREFIX = "r"
"""Upload ids of redacted audio start with this (served without auth by their id)."""


def speaker_turns(runtime: Runtime, audio: AudioData, request: SpeakerRequest) -> list[SpeakerTurn]:
    """Who speaks when in ``audio``: turns of speakers "A", "B"... (the runtime's diarizer)."""
    from earmark.diarize import DiarizeOptions

    options = DiarizeOptions(
        speakers=request.expected,
        min_speakers=request.min_speakers,
        max_speakers=max(request.min_speakers, request.max_speakers),
    )
    return runtime.diarizer().diarize(audio, options)


def label_words(transcript: Transcript, turns: Sequence[SpeakerTurn]) -> Transcript:
    """``transcript`` with a speaker on every word and segment (see :mod:`earmark.diarize`)."""
    from earmark.diarize import label_words as label

    return label(transcript, turns)


def redact_transcript(
    transcript: Transcript, request: RedactRequest
) -> tuple[Transcript, tuple[PiiSpan, ...]]:
    """The redacted transcript and the spans found (for redacting the audio)."""
    from earmark.redact import RedactOptions, redact

    substitution = cast(Literal["entity_name", "hash"], request.substitution)
    result = redact(transcript, RedactOptions(policies=request.policies, substitution=substitution))
    return result.transcript, tuple(result.spans)


def store_redacted_audio(
    audio: AudioData,
    spans: tuple[PiiSpan, ...],
    request: RedactRequest,
    owner: str,
    files: FileStore,
    store: TranscriptStore,
) -> str:
    """Beep the spans out of ``audio``, encode it, keep it as an upload of ``owner`` (so it
    reaches every server of a PostgreSQL deployment and expires with the upload TTL), and
    return the upload id: an unguessable capability for ``/v2/redacted-audio/{id}``."""
    from earmark.redact import encode_audio, redact_audio

    fmt = cast(Literal["mp3", "wav"], request.audio_format)
    body = encode_audio(redact_audio(audio, spans, "beep"), fmt)
    upload_id = REDACTED_PREFIX + FileStore.new_id()
    with files.upload_writer(upload_id, len(body) + 1) as writer:
        writer.write(body)
        path = writer.commit()
    store.add_upload(
        UploadRecord(id=upload_id, owner=owner, path=str(path), size=len(body), created=utc_now())
    )
    return upload_id
