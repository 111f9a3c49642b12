"""PII redaction the way AssemblyAI's ``redact_pii`` does it: offline, rule-based, on words.

Detection reads the transcript's **words** (``Segment.words``), so every span covers whole
words with their times, and everything the server derives from words (SRT/VTT, sentences,
paragraphs, utterances, word search) comes out redacted too::

    from earmark.redact import RedactOptions, redact, redact_audio, encode_audio

    options = RedactOptions(policies=validate_policies(req.redact_pii_policies),
                            substitution=req.redact_pii_sub or "hash")
    result = redact(transcript, options)       # result.transcript, result.spans
    beeped = redact_audio(audio, result.spans)  # "beep" (default) or "silence"
    body = encode_audio(beeped, "mp3")          # or "wav"

Substitution (AssemblyAI's ``redact_pii_sub``, default ``hash``):

* ``hash``: every letter and digit of each redacted word becomes ``#``; punctuation stays
  ("John," -> "####,", "555-1234" -> "###-####"). Every word keeps its place and times.
* ``entity_name``: the first word of a span becomes ``[PERSON_NAME]`` (the policy name in
  capitals, in brackets) followed by the punctuation that ended the span's last word; the
  other words of the span are removed and the label word's ``end_ms`` becomes the span's
  end. A span never crosses a segment: one that does gets one label in each segment.

Segment texts of changed segments are rebuilt as the words joined by spaces; the
transcript text as the segment texts joined by spaces (as :func:`earmark.asr.base.collect`
builds it). Segments without words are redacted on their text split at spaces, with times
spread over the segment by character position.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from earmark.errors import InputError
from earmark.redact._detect import PRIORITY, detect
from earmark.redact._text import tokenize
from earmark.redact.audio import AUDIO_CONTENT_TYPES, encode_audio, redact_audio
from earmark.types import Segment, Transcript, Word

__all__ = [
    "ASSEMBLYAI_POLICIES",
    "AUDIO_CONTENT_TYPES",
    "POLICIES",
    "PiiSpan",
    "RedactOptions",
    "Redaction",
    "Substitution",
    "encode_audio",
    "redact",
    "redact_audio",
    "validate_policies",
]

Substitution = Literal["entity_name", "hash"]

POLICIES: tuple[str, ...] = tuple(sorted(PRIORITY))
"""The AssemblyAI policy names earmark performs."""

ASSEMBLYAI_POLICIES: tuple[str, ...] = (
    "account_number",
    "banking_information",
    "blood_type",
    "credit_card_cvv",
    "credit_card_expiration",
    "credit_card_number",
    "date",
    "date_interval",
    "date_of_birth",
    "drivers_license",
    "drug",
    "duration",
    "email_address",
    "event",
    "filename",
    "gender_sexuality",
    "healthcare_number",
    "injury",
    "ip_address",
    "language",
    "location",
    "marital_status",
    "medical_condition",
    "medical_process",
    "money_amount",
    "nationality",
    "number_sequence",
    "occupation",
    "organization",
    "passport_number",
    "password",
    "person_age",
    "person_name",
    "phone_number",
    "physical_attribute",
    "political_affiliation",
    "religion",
    "statistics",
    "time",
    "url",
    "us_social_security_number",
    "username",
    "vehicle_id",
    "zodiac_sign",
)
"""Every ``PiiPolicy`` of AssemblyAI's OpenAPI spec."""


def validate_policies(names: Sequence[str]) -> tuple[str, ...]:
    """The requested policies, de-duplicated in request order.

    Raises :class:`~earmark.errors.InputError` (HTTP 400) for an empty list, for a name
    that is not an AssemblyAI policy, and for one that earmark does not perform; the
    message names every such policy.
    """
    if isinstance(names, str):
        names = [names]
    if not names:
        raise InputError("redact_pii_policies must name at least one PII policy")
    unknown = [n for n in names if n not in ASSEMBLYAI_POLICIES]
    unsupported = [n for n in names if n in ASSEMBLYAI_POLICIES and n not in POLICIES]
    problems: list[str] = []
    if unknown:
        problems.append("unknown PII policies: " + ", ".join(map(repr, unknown)))
    if unsupported:
        problems.append(
            "PII policies earmark does not redact: "
            + ", ".join(unsupported)
            + " (supported: "
            + ", ".join(POLICIES)
            + ")"
        )
    if problems:
        raise InputError("; ".join(problems))
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class RedactOptions:
    """What to redact and how. Construction validates (:class:`InputError` on bad values)."""

    policies: tuple[str, ...]
    substitution: Substitution = "hash"

    def __post_init__(self) -> None:
        object.__setattr__(self, "policies", validate_policies(tuple(self.policies)))
        if self.substitution not in get_args(Substitution):
            raise InputError(
                f"redact_pii_sub must be 'entity_name' or 'hash', not {self.substitution!r}"
            )


@dataclass(frozen=True)
class PiiSpan:
    """One redacted stretch: its policy, the times of its first and last word, the words."""

    policy: str
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class Redaction:
    transcript: Transcript
    """The redacted transcript (words, segment texts and text agree)."""
    spans: tuple[PiiSpan, ...]
    """What was redacted, in time order (the input for :func:`redact_audio`)."""


@dataclass
class _Unit:
    """One word of the transcript as the detector sees it."""

    seg: int
    word: Word
    real: bool
    """A real ``Segment.words`` entry (False: split from a segment's text)."""


def _units(transcript: Transcript) -> list[_Unit]:
    units: list[_Unit] = []
    for si, seg in enumerate(transcript.segments):
        if seg.words:
            units.extend(_Unit(si, w, True) for w in seg.words)
            continue
        pieces = seg.text.split()
        total = max(1, sum(len(p) + 1 for p in pieces))
        span = max(0, seg.end_ms - seg.start_ms)
        pos = 0
        for p in pieces:
            start = seg.start_ms + span * pos // total
            pos += len(p) + 1
            end = seg.start_ms + span * pos // total
            units.append(_Unit(si, Word(p, start, end, seg.confidence, seg.speaker), False))
    return units


def _hash(text: str) -> str:
    return "".join("#" if ch.isalnum() else ch for ch in text)


_TRAILING = ".,!?;:"


def _label(policy: str, last: str) -> str:
    tail = last[len(last.rstrip(_TRAILING)) :]
    return f"[{policy.upper()}]{tail}"


def redact(transcript: Transcript, options: RedactOptions) -> Redaction:
    """Find the PII of ``options.policies`` in the transcript's words and replace it."""
    units = _units(transcript)
    tokens = tokenize([u.word.text for u in units])
    found = detect(tokens, frozenset(options.policies))
    if not found:
        return Redaction(transcript, ())
    spans = tuple(
        PiiSpan(
            policy=f.policy,
            start_ms=units[f.start].word.start_ms,
            end_ms=max(u.word.end_ms for u in units[f.start : f.end]),
            text=" ".join(u.word.text for u in units[f.start : f.end]),
        )
        for f in found
    )
    # new text per unit: a string, or None for a word that disappears
    new: list[str | None] = [u.word.text for u in units]
    ends: dict[int, int] = {}
    for f in found:
        if options.substitution == "hash":
            for x in range(f.start, f.end):
                new[x] = _hash(units[x].word.text)
            continue
        # entity_name: one label per segment the span touches
        x = f.start
        while x < f.end:
            y = x
            while y + 1 < f.end and units[y + 1].seg == units[x].seg:
                y += 1
            new[x] = _label(f.policy, units[y].word.text)
            ends[x] = max(u.word.end_ms for u in units[x : y + 1])
            for z in range(x + 1, y + 1):
                new[z] = None
            x = y + 1
    changed_segments = {units[x].seg for f in found for x in range(f.start, f.end)}
    segments: list[Segment] = []
    for si, seg in enumerate(transcript.segments):
        if si not in changed_segments:
            segments.append(seg)
            continue
        idx = [i for i, u in enumerate(units) if u.seg == si]
        texts = [t for i in idx if (t := new[i]) is not None]
        if units[idx[0]].real:
            words = tuple(
                dataclasses.replace(
                    units[i].word,
                    text=t,
                    end_ms=ends.get(i, units[i].word.end_ms),
                )
                for i in idx
                if (t := new[i]) is not None
            )
            segments.append(dataclasses.replace(seg, words=words, text=" ".join(texts)))
        else:
            segments.append(dataclasses.replace(seg, text=" ".join(texts)))
    text = " ".join(s.text.strip() for s in segments if s.text.strip())
    redacted = dataclasses.replace(transcript, segments=tuple(segments), text=text)
    return Redaction(redacted, spans)
