"""Transcript objects on the wire, rendered from stored domain data plus the request echo.

Rules from the compatibility contract: integers for every ms time and for
``audio_duration`` (seconds, rounded up); ``speech_model`` is always ``null`` and the local
engine goes in ``speech_model_used``; enum-typed fields are ``null`` unless produced;
features earmark does not do are accepted and answered with ``null``, never invented.
"""

from __future__ import annotations

import math
from typing import Any

from earmark.server.derive import word_wire
from earmark.server.schemas import ECHO_FIELDS
from earmark.storage.base import JobRecord, TopicsOutcome

__all__ = ["IAB_LABELS_PER_WINDOW", "IAB_SUMMARY_LABELS", "render_list_item", "render_transcript"]

IAB_LABELS_PER_WINDOW = 10
IAB_SUMMARY_LABELS = 20

# Fields always present, with their value when nothing else sets them.
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
    "custom_tags_result": None,
    "throttled": None,
    "speech_model": None,
    "speech_model_used": None,
    "error": None,
}


def render_transcript(job: JobRecord) -> dict[str, Any]:
    """The full transcript object for ``GET /v2/transcript/{id}`` (and create, delete)."""
    req = job.request
    out: dict[str, Any] = {"id": job.id, "status": job.status, "audio_url": job.audio_url}
    out.update(_DEFAULTS)
    for name in ECHO_FIELDS:
        out[name] = req.get(name)
    out["language_code"] = req.get("language_code") or (
        None if req.get("language_detection") else "en_us"
    )
    out["punctuate"] = req.get("punctuate", True)
    out["format_text"] = req.get("format_text", True)
    out["word_boost"] = req.get("word_boost") or []
    out["webhook_auth"] = bool(req.get("webhook_auth_header_name"))
    out["webhook_status_code"] = job.webhook_status_code
    for flag in ("auto_highlights", "redact_pii", "summarization"):
        out[flag] = bool(req.get(flag))
    out["speech_model"] = None
    out["error"] = job.error
    if job.status == "error" and not out["error"]:
        out["error"] = "Transcription failed"
    result = job.result
    if job.deleted:
        out["text"] = "Deleted by user."
        out["audio_url"] = "http://deleted_by_user"
        if req.get("webhook_url"):
            out["webhook_url"] = "http://deleted_by_user"
        return out
    if result is None:
        return out
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
    if result.iab is not None:
        out["iab_categories_result"] = render_topics(
            result.iab, labels_per_window=IAB_LABELS_PER_WINDOW, summary_labels=IAB_SUMMARY_LABELS
        )
    if result.custom_tags is not None:
        out["custom_tags_result"] = render_topics(result.custom_tags)
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
    return {
        "status": "success",
        "results": results,
        "summary": {s.tag: round(s.relevance, 4) for s in ranked},
        "best_tag": r.best_tag,
        "selected": list(r.selected),
        "threshold": r.threshold,
        "engine": r.engine,
    }


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
