"""Transcript objects on the wire, rendered from stored domain data plus the request echo.

Rules from the compatibility contract: integers for every ms time and for
``audio_duration`` (seconds, rounded up); ``speech_model`` is always ``null`` and the local
engine goes in ``speech_model_used``; enum-typed fields are ``null`` unless produced;
features earmark does not do are accepted and answered with ``null``, never invented, and
named in ``earmark_not_performed`` (:mod:`earmark.server.features`).

Every object conforms to AssemblyAI's published OpenAPI spec (``Transcript``,
``additionalProperties: false``; checked by ``tests/server/test_server_spec.py``):

- a field the spec types without ``null`` (:data:`NOT_NULLABLE`) is left out while it has no
  value (``error`` before an error, ``speech_model_used`` before completion, ``language_code``
  before detection ends, an unset ``prompt``...), never sent as ``null``;
- keys the spec's ``Transcript`` lacks are sent only to requests that used them: earmark's
  extensions (``custom_tags`` with ``custom_tags_result``, ``earmark_languages`` with
  ``language_detection``, ``earmark_not_performed``) and
  the legacy request fields :data:`ECHO_IF_SENT`; ``content_safety_confidence`` is a
  ``TranscriptParams`` field without a ``Transcript`` field, so it is never echoed.
"""

from __future__ import annotations

import math
from typing import Any

from earmark.conversation import utterances
from earmark.server.derive import language_stretches, utterance_wire, word_wire
from earmark.server.features import not_performed
from earmark.server.schemas import ECHO_FIELDS
from earmark.storage.base import JobRecord, JobResult, TopicsOutcome

__all__ = [
    "ECHO_IF_SENT",
    "IAB_LABELS_PER_WINDOW",
    "IAB_SUMMARY_LABELS",
    "NEVER_ECHOED",
    "NOT_NULLABLE",
    "render_list_item",
    "render_transcript",
]

IAB_LABELS_PER_WINDOW = 10
IAB_SUMMARY_LABELS = 20

# Fields with their value when nothing else sets them; those in NOT_NULLABLE are dropped
# while they are null (see _finish).
_DEFAULTS: dict[str, Any] = {
    "language_model": "assemblyai_default",
    "acoustic_model": "assemblyai_default",
    "text": None,
    "words": None,
    "utterances": None,
    "confidence": None,
    "audio_duration": None,
    "language_confidence": None,
    "webhook_status_code": None,
    "webhook_auth": False,
    "speed_boost": False,
    "auto_highlights": False,
    "auto_highlights_result": None,
    "redact_pii": False,
    "summarization": False,
    "summary": None,
    "chapters": None,
    "entities": None,
    "sentiment_analysis_results": None,
    "content_safety_labels": None,
    "iab_categories_result": None,
    "throttled": None,
    "speech_model": None,
    "speech_model_used": None,
    "error": None,
}


NOT_NULLABLE = frozenset(
    {
        "error",
        "keyterms_prompt",
        "language_code",
        "prompt",
        "redact_pii_sub",
        "speech_model_used",
        # not echoed today; listed so that adding them to the echo cannot send a null
        "audio_channels",
        "language_detection_options",
        "redact_pii_audio_options",
        "speech_understanding",
        "topics",
        "translated_texts",
    }
)
"""``Transcript`` fields the spec types without ``null``: left out while they have no value."""

ECHO_IF_SENT = frozenset({"boost_param", "dual_channel", "word_boost", "custom_tags"})
"""Request fields in neither the spec's ``TranscriptParams`` nor its ``Transcript`` (legacy
AssemblyAI fields, earmark's ``custom_tags``): a client built from the spec never sends them,
so they are echoed only to requests that did."""

NEVER_ECHOED = frozenset({"content_safety_confidence", "speaker_options"})
"""``TranscriptParams`` fields the spec's ``Transcript`` does not have."""


def render_transcript(job: JobRecord) -> dict[str, Any]:
    """The full transcript object for ``GET /v2/transcript/{id}`` (and create, delete)."""
    req = job.request
    out: dict[str, Any] = {"id": job.id, "status": job.status, "audio_url": job.audio_url}
    out.update(_DEFAULTS)
    for name in ECHO_FIELDS:
        if name in NEVER_ECHOED or (name in ECHO_IF_SENT and req.get(name) is None):
            continue
        out[name] = req.get(name)
    out["language_code"] = req.get("language_code") or (
        None if req.get("language_detection") else "en_us"
    )
    out["punctuate"] = req.get("punctuate", True)
    out["format_text"] = req.get("format_text", True)
    out["webhook_auth"] = bool(req.get("webhook_auth_header_name"))
    out["webhook_status_code"] = job.webhook_status_code
    for flag in ("auto_highlights", "redact_pii", "summarization"):
        out[flag] = bool(req.get(flag))
    out["speech_model"] = None
    if "custom_tags" in out:
        out["custom_tags_result"] = None
    if req.get("language_detection"):
        out["earmark_languages"] = None  # where each language is spoken, once completed
    if job.status == "error":
        out["error"] = job.error or "Transcription failed"
    result = job.result
    if job.deleted:
        out["text"] = "Deleted by user."
        out["audio_url"] = "http://deleted_by_user"
        if req.get("webhook_url"):
            out["webhook_url"] = "http://deleted_by_user"
    elif result is not None:
        _add_result(out, req, result)
    return _finish(out, req)


def _add_result(out: dict[str, Any], req: dict[str, object], result: JobResult) -> None:
    t = result.transcript
    words = t.words
    out["text"] = t.text
    out["words"] = [word_wire(w) for w in words]
    out["confidence"] = round(t.confidence, 4) if words else None
    out["audio_duration"] = math.ceil(t.duration_ms / 1000) if t.duration_ms else 0
    out["speech_model_used"] = result.model
    if req.get("language_detection"):
        out["language_code"] = t.language
        out["language_confidence"] = round(t.language_probability, 4)
        out["earmark_languages"] = language_stretches(t)
    if req.get("multichannel") or req.get("dual_channel"):
        out["audio_channels"] = t.channels
    if req.get("speaker_labels") or req.get("multichannel") or req.get("dual_channel"):
        out["utterances"] = [utterance_wire(u) for u in utterances(t)]
    if result.iab is not None:
        out["iab_categories_result"] = render_topics(
            result.iab, labels_per_window=IAB_LABELS_PER_WINDOW, summary_labels=IAB_SUMMARY_LABELS
        )
    if result.custom_tags is not None and "custom_tags" in out:
        out["custom_tags_result"] = render_topics(result.custom_tags)


def _finish(out: dict[str, Any], req: dict[str, object]) -> dict[str, Any]:
    for name in NOT_NULLABLE:
        if out.get(name) is None:
            out.pop(name, None)
    skipped = not_performed(req)
    if skipped:
        out["earmark_not_performed"] = skipped
    return out


def render_topics(
    outcome: TopicsOutcome,
    *,
    labels_per_window: int | None = None,
    summary_labels: int | None = None,
) -> dict[str, Any]:
    """A :class:`TopicsOutcome` in the shape of ``iab_categories_result``.

    Extra fields beside AssemblyAI's (ignored by the SDKs): ``best_tag`` (``null`` when no
    tag clears the threshold), ``selected``, ``threshold``, ``engine``, and ``error`` when
    ``status`` is ``unavailable``.
    """
    r = outcome.result
    if r is None:
        return {"status": "unavailable", "results": [], "summary": {}, "error": outcome.error}
    results = []
    for w in r.segments:
        labels = [{"relevance": round(s.relevance, 4), "label": s.tag} for s in w.tags]
        results.append(
            {
                "text": w.text,
                "labels": labels[:labels_per_window] if labels_per_window else labels,
                "timestamp": {"start": int(w.start_ms or 0), "end": int(w.end_ms or 0)},
            }
        )
    ranked = r.tags[:summary_labels] if summary_labels else r.tags
    out: dict[str, Any] = {
        "status": "success",
        "results": results,
        "summary": {s.tag: round(s.relevance, 4) for s in ranked},
        "best_tag": r.best_tag,
        "selected": list(r.selected),
        "threshold": r.threshold,
        "engine": r.engine,
    }
    if outcome.per_party:
        out["speakers"] = [
            {
                "speaker": party,
                "best_tag": p.best_tag,
                "selected": list(p.selected),
                "summary": {s.tag: round(s.relevance, 4) for s in p.tags},
            }
            for party, p in outcome.per_party
        ]
    return out


def render_list_item(job: JobRecord, base: str) -> dict[str, Any]:
    """One entry of ``GET /v2/transcript``."""
    return {
        "id": job.id,
        "resource_url": f"{base}/v2/transcript/{job.id}",
        "status": job.status,
        "created": job.created,
        "completed": job.completed,
        "audio_url": "http://deleted_by_user" if job.deleted else job.audio_url,
        "error": job.error,
    }
