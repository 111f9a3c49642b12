"""Which AssemblyAI create-request fields earmark performs: the one table.

:data:`FEATURES` says, for every field of AssemblyAI's ``TranscriptParams`` (plus the legacy
``dual_channel``/``word_boost``/``boost_param`` and earmark's ``custom_tags``), whether earmark
does it (``done``), does some of it (``partly``), or accepts it and does nothing (``not done``).

- The renderer names each ``not done`` field the stored request asks for in the transcript's
  ``earmark_not_performed`` list (:func:`not_performed`), in every status.
- README.md's section :data:`README_HEADING` holds :func:`markdown_table`; a test checks the
  two agree.

A field "asks for" something unless it is absent, ``null``, ``false`` or empty: so
``speaker_labels: false`` is not listed, while ``speakers_expected: 2`` is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from earmark.server.schemas import ECHO_FIELDS

__all__ = [
    "FEATURES",
    "README_HEADING",
    "Feature",
    "Status",
    "listed",
    "markdown_table",
    "not_performed",
]

Status = Literal["done", "partly", "not done"]

README_HEADING = "### AssemblyAI features: what earmark does"


@dataclass(frozen=True)
class Feature:
    """One create-request field: what earmark does with it, in a few words."""

    field: str
    status: Status
    note: str


FEATURES: tuple[Feature, ...] = (
    # speech recognition
    Feature(
        "speech_models",
        "partly",
        "each id maps to a local Whisper model (`EARMARK_SPEECH_MODEL_MAP`); the first "
        "mapped id wins, unmapped ids use `EARMARK_ASR_MODEL`",
    ),
    Feature("speech_model", "not done", "deprecated; ignored, use `speech_models`"),
    Feature("language_code", "done", "the language Whisper transcribes in"),
    Feature(
        "language_detection",
        "done",
        "Whisper's detection on every 30-s window: a recording that switches language keeps "
        "each (`earmark_languages` lists the stretches); `language_code` is the one spoken "
        "longest",
    ),
    Feature(
        "language_confidence_threshold",
        "not done",
        "echoed; a low-confidence detection does not fail the job",
    ),
    Feature(
        "language_codes",
        "partly",
        "code switching comes with language_detection: each 30-s window keeps its language",
    ),
    Feature("language_detection_options", "not done", "ignored"),
    Feature("punctuate", "done", "`false` strips punctuation from Whisper's text"),
    Feature("format_text", "done", "`false` lower-cases the text"),
    Feature("disfluencies", "not done", "filler words are as Whisper writes them"),
    Feature("filter_profanity", "not done", "no profanity filter"),
    Feature("audio_start_from", "done", "decoding starts there"),
    Feature("audio_end_at", "done", "decoding stops there"),
    Feature(
        "keyterms_prompt",
        "partly",
        "joined into Whisper's initial prompt: a hint, not a boost",
    ),
    Feature("prompt", "partly", "Whisper's initial prompt (a style and vocabulary hint)"),
    Feature("word_boost", "partly", "legacy; joined into Whisper's initial prompt"),
    Feature("boost_param", "not done", "legacy; no boost weight"),
    Feature(
        "temperature",
        "done",
        "Whisper's decoding temperature; the default 0 never samples, so the same audio gives "
        "the same text",
    ),
    Feature("custom_spelling", "not done", "no replacement of spellings"),
    Feature("remove_audio_tags", "not done", "ignored"),
    Feature("speech_threshold", "not done", "no minimum share of speech"),
    # speakers and channels
    Feature(
        "speaker_labels",
        "done",
        "speakers A, B... on every word and in `utterances` (pyannote segmentation + a "
        "voice encoder, on CPU); not with multichannel (400)",
    ),
    Feature("speakers_expected", "done", "the exact number of speakers to find"),
    Feature("speaker_options", "done", "min/max speakers to find"),
    Feature(
        "multichannel",
        "done",
        "each channel transcribed on its own; `channel` on words, turns in `utterances`, "
        "`audio_channels`; identical channels once",
    ),
    Feature("dual_channel", "done", "legacy; as multichannel"),
    # audio intelligence
    Feature(
        "iab_categories",
        "done",
        "the official IAB Content Taxonomy 2.1 (698 topics); tier 2-4 labels only under a "
        "relevant tier-1 topic; relevances are earmark's own",
    ),
    Feature(
        "custom_tags",
        "done",
        "earmark's extension: your tags, in `custom_tags_result`",
    ),
    Feature("summarization", "not done", "`summary` stays null"),
    Feature("summary_model", "not done", "no summarization"),
    Feature("summary_type", "not done", "no summarization"),
    Feature("auto_chapters", "not done", "`chapters` stays null"),
    Feature("sentiment_analysis", "not done", "`sentiment_analysis_results` stays null"),
    Feature("entity_detection", "not done", "`entities` stays null"),
    Feature("auto_highlights", "not done", "`auto_highlights_result` stays null"),
    Feature("content_safety", "not done", "`content_safety_labels` stays null"),
    Feature("content_safety_confidence", "not done", "no content safety"),
    Feature("topics", "not done", "deprecated; ignored"),
    Feature("custom_topics", "not done", "deprecated; ignored"),
    Feature("speech_understanding", "not done", "no translation, speaker naming or formatting"),
    # PII redaction
    Feature(
        "redact_pii",
        "done",
        "rules on the words (spoken and written forms, Luhn-checked cards, name and place "
        "lists); text, words, utterances, sentences, paragraphs, SRT/VTT and tags see only "
        "the redacted text",
    ),
    Feature(
        "redact_pii_audio",
        "done",
        "the spans beeped out; `/redacted-audio` gives its URL until the upload TTL expires",
    ),
    Feature("redact_pii_audio_quality", "done", "mp3 (default) or wav"),
    Feature("redact_pii_audio_options", "not done", "always beeped, never silenced"),
    Feature(
        "redact_pii_policies",
        "partly",
        "20 of AssemblyAI's policies; one earmark cannot do is refused with a 400 naming it",
    ),
    Feature("redact_pii_sub", "done", "`hash` (default) or `entity_name`"),
    # delivery
    Feature("webhook_url", "done", "POST `{transcript_id, status}`, retried with backoff"),
    Feature("webhook_auth_header_name", "done", "sent with every webhook"),
    Feature("webhook_auth_header_value", "done", "sent with every webhook, never shown"),
)
"""Every create-request field earmark knows, in the order of the README table."""

_NOT_DONE: tuple[str, ...] = tuple(f.field for f in FEATURES if f.status == "not done")


def _asks(value: object) -> bool:
    """Whether a request value asks for work: not absent/null, ``false`` or empty."""
    if value is None or value is False:
        return False
    return not (isinstance(value, str | list | dict) and not value)


def not_performed(request: Mapping[str, object]) -> list[str]:
    """The ``not done`` fields that ``request`` asks for, in table order."""
    return [name for name in _NOT_DONE if _asks(request.get(name))]


def listed(feature: Feature) -> bool:
    """Whether a ``not done`` field can be named in ``earmark_not_performed``: only fields
    stored with the job (:data:`~earmark.server.schemas.ECHO_FIELDS`) can."""
    return feature.field in ECHO_FIELDS


def markdown_table() -> str:
    """The README table: one row per field of :data:`FEATURES`."""
    rows = ["| request field | earmark | what it does here |", "|---|---|---|"]
    for f in FEATURES:
        note = f.note
        if f.status == "not done" and not listed(f):
            note += " (not stored with the job, so not listed in `earmark_not_performed`)"
        rows.append(f"| `{f.field}` | {f.status} | {note} |")
    return "\n".join(rows) + "\n"
