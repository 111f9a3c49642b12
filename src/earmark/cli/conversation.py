"""Conversation options of ``earmark transcribe`` and ``earmark tag``: channels, speakers,
languages and PII redaction, as the server does them for AssemblyAI's request fields.

The steps are the job pipeline's own (:mod:`earmark.jobs.conversation_steps`), so a file
gets the same speakers and redaction from the CLI as from ``POST /v2/transcript``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from earmark.jobs.options import RedactRequest, SpeakerRequest
from earmark.runtime import Runtime
from earmark.types import Transcript

__all__ = ["apply_conversation", "conversation_options", "redact_request", "speaker_request"]

F = TypeVar("F", bound=Callable[..., Any])


def conversation_options(func: F) -> F:
    """Add --multichannel, --detect-languages, --speaker-labels/--speakers, --redact-pii."""
    decorators = [
        click.option(
            "--multichannel",
            is_flag=True,
            help="Transcribe each audio channel on its own (a stereo call: agent and "
            "customer); words and turns carry the channel. Identical channels once.",
        ),
        click.option(
            "--detect-languages",
            is_flag=True,
            help="Detect the language of every 30-s window, so a recording that switches "
            "language keeps each (needs a multilingual model such as base).",
        ),
        click.option(
            "--speaker-labels",
            is_flag=True,
            help="Label who speaks (A, B...) on every word and turn (offline, on CPU).",
        ),
        click.option(
            "--speakers",
            type=click.IntRange(1, 26),
            default=None,
            help="With --speaker-labels: the exact number of speakers.",
        ),
        click.option(
            "--redact-pii",
            "redact_pii",
            default=None,
            metavar="POLICIES",
            help="Redact private data: 'all', or comma-separated AssemblyAI policies "
            "(phone_number,email_address,credit_card_number,person_name,location,...).",
        ),
        click.option(
            "--redact-sub",
            type=click.Choice(["hash", "entity_name"]),
            default="hash",
            show_default=True,
            help="With --redact-pii: '####' or '[PHONE_NUMBER]'.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def speaker_request(params: dict[str, Any]) -> SpeakerRequest | None:
    """The speaker request of these options (``--speakers`` alone implies labels)."""
    if not params.get("speaker_labels") and params.get("speakers") is None:
        return None
    if params.get("multichannel"):
        raise click.UsageError("--speaker-labels and --multichannel cannot be combined")
    return SpeakerRequest(expected=params.get("speakers"))


def redact_request(params: dict[str, Any]) -> RedactRequest | None:
    """The redaction request of these options; bad policy names are a usage error."""
    raw = params.get("redact_pii")
    if raw is None:
        return None
    from earmark.errors import InputError
    from earmark.redact import POLICIES, validate_policies

    names = POLICIES if raw.strip().lower() == "all" else tuple(n.strip() for n in raw.split(","))
    try:
        policies = validate_policies(names)
    except InputError as exc:
        raise click.BadParameter(exc.message, param_hint="--redact-pii") from exc
    return RedactRequest(policies=policies, substitution=params.get("redact_sub") or "hash")


def apply_conversation(
    runtime: Runtime,
    path: Path,
    transcript: Transcript,
    speakers: SpeakerRequest | None,
    redact: RedactRequest | None,
) -> Transcript:
    """Speaker labels, then redaction (the pipeline's order)."""
    from earmark.jobs.conversation_steps import label_words, redact_transcript, speaker_turns

    if speakers is not None:
        from earmark.audio.decode import decode_audio

        audio = decode_audio(path)
        transcript = label_words(transcript, speaker_turns(runtime, audio, speakers))
    if redact is not None:
        transcript = redact_transcript(transcript, redact)[0]
    return transcript
