"""Plain-JSON encoding of job results, for storage backends that keep documents.

The encoding is versioned (``"v": 1``) so a later change can still read old rows.
"""

from __future__ import annotations

import json
from typing import Any

from earmark.storage.base import JobResult, TopicsOutcome
from earmark.types import Segment, TagResult, TagScore, Transcript, WindowTags, Word

__all__ = ["dump_result", "load_result"]

_VERSION = 1


def dump_result(result: JobResult) -> str:
    """Encode a :class:`JobResult` as compact JSON."""
    t = result.transcript
    doc: dict[str, Any] = {
        "v": _VERSION,
        "model": result.model,
        "transcript": {
            "text": t.text,
            "language": t.language,
            "language_probability": t.language_probability,
            "duration_ms": t.duration_ms,
            "model": t.model,
            "source": t.source,
            "channels": t.channels,
            "segments": [_dump_segment(s) for s in t.segments],
        },
        "custom_tags": _dump_outcome(result.custom_tags),
        "iab": _dump_outcome(result.iab),
        "redacted_audio": result.redacted_audio,
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def load_result(raw: str) -> JobResult:
    """Decode what :func:`dump_result` wrote."""
    doc = json.loads(raw)
    t = doc["transcript"]
    transcript = Transcript(
        text=t["text"],
        segments=tuple(_load_segment(s) for s in t["segments"]),
        language=t["language"],
        language_probability=float(t["language_probability"]),
        duration_ms=int(t["duration_ms"]),
        model=t.get("model", ""),
        source=t.get("source", ""),
        channels=int(t.get("channels", 1)),
    )
    return JobResult(
        transcript=transcript,
        model=doc["model"],
        custom_tags=_load_outcome(doc.get("custom_tags")),
        iab=_load_outcome(doc.get("iab")),
        redacted_audio=doc.get("redacted_audio"),
    )


def _dump_segment(s: Segment) -> dict[str, Any]:
    return {
        "id": s.id,
        "start": s.start_ms,
        "end": s.end_ms,
        "text": s.text,
        "confidence": s.confidence,
        # words as compact rows: [text, start, end, confidence(, speaker, channel)]
        "words": [_dump_word(w) for w in s.words],
        **{
            k: v
            for k, v in (("speaker", s.speaker), ("channel", s.channel), ("language", s.language))
            if v is not None
        },
    }


def _dump_word(w: Word) -> list[Any]:
    row: list[Any] = [w.text, w.start_ms, w.end_ms, w.confidence]
    if w.speaker is not None or w.channel is not None:
        row += [w.speaker, w.channel]
    return row


def _load_word(row: list[Any]) -> Word:
    word = Word(str(row[0]), int(row[1]), int(row[2]), float(row[3]))
    if len(row) > 4:
        return Word(word.text, word.start_ms, word.end_ms, word.confidence, row[4], row[5])
    return word


def _load_segment(d: dict[str, Any]) -> Segment:
    return Segment(
        id=int(d["id"]),
        start_ms=int(d["start"]),
        end_ms=int(d["end"]),
        text=d["text"],
        words=tuple(_load_word(w) for w in d["words"]),
        confidence=float(d.get("confidence", 0.0)),
        speaker=d.get("speaker"),
        channel=d.get("channel"),
        language=d.get("language"),
    )


def _dump_outcome(o: TopicsOutcome | None) -> dict[str, Any] | None:
    if o is None:
        return None
    out: dict[str, Any] = {"error": o.error, "result": _dump_tags(o.result) if o.result else None}
    if o.per_party:
        out["per_party"] = [[party, _dump_tags(r)] for party, r in o.per_party]
    return out


def _load_outcome(d: dict[str, Any] | None) -> TopicsOutcome | None:
    if d is None:
        return None
    raw = d.get("result")
    per_party = tuple((str(p), _load_tags(r)) for p, r in d.get("per_party", ()))
    return TopicsOutcome(
        result=_load_tags(raw) if raw else None, error=d.get("error"), per_party=per_party
    )


def _scores(scores: tuple[TagScore, ...]) -> list[list[Any]]:
    return [[s.tag, s.relevance] for s in scores]


def _load_scores(rows: list[list[Any]]) -> tuple[TagScore, ...]:
    return tuple(TagScore(str(r[0]), float(r[1])) for r in rows)


def _dump_tags(r: TagResult) -> dict[str, Any]:
    return {
        "best_tag": r.best_tag,
        "tags": _scores(r.tags),
        "selected": list(r.selected),
        "threshold": r.threshold,
        "engine": r.engine,
        "segments": [
            {
                "start": w.start_ms,
                "end": w.end_ms,
                "text": w.text,
                "tags": _scores(w.tags),
                "selected": list(w.selected),
            }
            for w in r.segments
        ],
        "extra": _jsonable(r.extra),
    }


def _load_tags(d: dict[str, Any]) -> TagResult:
    return TagResult(
        best_tag=d.get("best_tag"),
        tags=_load_scores(d["tags"]),
        selected=tuple(d.get("selected", ())),
        segments=tuple(
            WindowTags(
                start_ms=w.get("start"),
                end_ms=w.get("end"),
                text=w.get("text", ""),
                tags=_load_scores(w["tags"]),
                selected=tuple(w.get("selected", ())),
            )
            for w in d.get("segments", ())
        ),
        threshold=float(d.get("threshold", 0.0)),
        engine=str(d.get("engine", "")),
        extra=dict(d.get("extra") or {}),
    )


def _jsonable(extra: dict[str, object]) -> dict[str, object]:
    """Keep only the entries of ``extra`` that survive a JSON round trip."""
    out: dict[str, object] = {}
    for key, value in extra.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        out[str(key)] = value
    return out
