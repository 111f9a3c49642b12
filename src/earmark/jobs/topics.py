"""Topic tags on a transcript job: the ``custom_tags`` extension and ``iab_categories``.

``custom_tags`` on a create request is one of:

- a preset name: ``"media"``, ``"support"``;
- an object tag name -> description: ``{"Sports": "Games, athletes...", ...}``;
- a settings object: ``{"tags": <preset name or object>, "threshold": 0.3, "engine": "llm"}``
  (recognised by its ``tags`` key holding an object, or a string together with at least one
  of ``threshold``/``engine``/``model``).

``iab_categories: true`` is :mod:`earmark.jobs.iab` (the IAB Content Taxonomy 2.1).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from earmark.errors import EarmarkError, InputError
from earmark.jobs.options import TopicsRequest
from earmark.storage.base import TopicsOutcome
from earmark.tagging.base import TagOptions
from earmark.tagging.registry import TaggerPool, check_engine
from earmark.types import TagList, Transcript

__all__ = ["TopicsRequest", "default_tags_spec", "parse_custom_tags", "run_topics"]

_SETTINGS_KEYS = frozenset(
    {"tags", "threshold", "engine", "model", "speaker", "channel", "per_speaker"}
)


def parse_custom_tags(
    value: object,
    *,
    read_files: bool = False,
    saved: Callable[[str], TagList | None] | None = None,
    default_engine: str = "embedding",
) -> TopicsRequest:
    """Validate the ``custom_tags`` field. Raises :class:`InputError` (or
    :class:`earmark.errors.TagListError`) with what is wrong.

    A client's string is a preset name, never a path: ``read_files`` stays ``False`` for
    anything that came over the wire (only the server's own ``EARMARK_CUSTOM_TAGS`` may name
    a file, and that is read once at start-up by :func:`default_tags_spec`).
    ``saved`` resolves a name that is not a preset to the caller's saved tag list (the web
    app's lists, :func:`earmark.storage.library.saved_lists`), or ``None``.
    ``default_engine`` is the engine when the value names none (the server's
    ``EARMARK_TAG_ENGINE``).
    """
    spec: object = value
    threshold: float | None = None
    engine = default_engine
    model: str | None = None
    if isinstance(value, Mapping) and _is_settings(value):
        spec = value["tags"]
        threshold = _threshold(value.get("threshold"))
        engine = check_engine(value.get("engine", default_engine), "custom_tags.engine")
        raw_model = value.get("model")
        if raw_model is not None and (not isinstance(raw_model, str) or len(raw_model) > 200):
            raise InputError("custom_tags.model must be a model name (a string of at most 200)")
        model = raw_model
        party = _party(value)
        per_party = value.get("per_speaker", False)
        if not isinstance(per_party, bool):
            raise InputError("custom_tags.per_speaker must be true or false")
    else:
        party, per_party = None, False
    if isinstance(spec, str):
        if not spec.strip():
            raise InputError("custom_tags must name a preset or map tag names to descriptions")
    elif isinstance(spec, Mapping):
        if not spec:
            raise InputError("custom_tags must not be empty")
    else:
        raise InputError(
            'custom_tags must be a preset name (e.g. "media") or an object mapping each '
            f"tag name to its description, not {type(spec).__name__}"
        )
    from earmark.tagging import load_tags

    found = None
    if saved is not None and isinstance(spec, str) and not spec.strip().startswith("{"):
        from earmark.tagging import presets

        found = None if spec.strip().lower() in presets() else saved(spec.strip())
    if found is not None:
        tags = found
    else:
        tags = load_tags(spec if isinstance(spec, str) else dict(spec), read_files=read_files)
    return TopicsRequest(
        tags=tags,
        threshold=threshold,
        engine=engine,
        model=model,
        party=party,
        per_party=per_party,
    )


def _party(value: Mapping[object, object]) -> str | None:
    speaker, channel = value.get("speaker"), value.get("channel")
    if speaker is not None and channel is not None:
        raise InputError("custom_tags: give speaker or channel, not both")
    party = speaker if speaker is not None else channel
    if party is None:
        return None
    if not isinstance(party, str) or not 1 <= len(party) <= 16 or not party.isalnum():
        raise InputError(
            'custom_tags.speaker / custom_tags.channel must be a label such as "A" or "2"'
        )
    return party


def _is_settings(value: Mapping[object, object]) -> bool:
    if "tags" not in value or not set(value) <= _SETTINGS_KEYS:
        return False
    inner = value["tags"]
    return isinstance(inner, Mapping) or (isinstance(inner, str) and len(value) > 1)


def _threshold(raw: object) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0.0 <= raw <= 1.0:
        raise InputError(f"custom_tags.threshold must be a number from 0 to 1, not {raw!r}")
    return float(raw)


def default_tags_spec(setting: str | None) -> object:
    """The value of ``EARMARK_CUSTOM_TAGS`` as a ``custom_tags`` field a client could send:
    a JSON object is decoded, a preset name is kept, and a tag-list file (the server
    operator's own) is read now, once, into an inline object. Raises :class:`InputError`
    when it cannot be used."""
    if setting is None or not setting.strip():
        return None
    text = setting.strip()
    spec: object = text
    try:
        if text.startswith("{"):
            try:
                spec = json.loads(text)
            except ValueError as exc:
                raise InputError(f"EARMARK_CUSTOM_TAGS is not valid JSON: {exc}") from exc
        else:
            from earmark.tagging import presets

            if text.lower() not in presets():
                spec = _inline(parse_custom_tags(text, read_files=True).tags)
        parse_custom_tags(spec)
    except EarmarkError as exc:
        raise InputError(f"EARMARK_CUSTOM_TAGS: {exc.message}") from exc
    return spec


def _inline(tags: TagList) -> dict[str, object]:
    return {
        "name": tags.name,
        "tags": {
            t.name: {"description": t.description, "examples": list(t.examples)} for t in tags.tags
        },
    }


def run_topics(
    transcript: Transcript, request: TopicsRequest, taggers: TaggerPool
) -> TopicsOutcome:
    """Score ``transcript`` against the tags with a tagger of ``taggers``; failures become
    an outcome with an error."""
    from earmark.conversation import only, parties

    subject = transcript if request.party is None else only(transcript, request.party)
    if not subject.text.strip():
        who = "" if request.party is None else f" from {request.party!r}"
        return TopicsOutcome(error=f"the transcript has no speech{who} to tag")
    options = TagOptions(threshold=request.threshold)
    try:
        tagger = taggers.get(request.engine, request.model)
        result = tagger.tag(subject, request.tags, options)
        per_party = tuple(
            (party, tagger.tag(only(transcript, party), request.tags, options))
            for party in (parties(transcript) if request.per_party else ())
        )
    except EarmarkError as exc:
        return TopicsOutcome(error=exc.message)
    return TopicsOutcome(result=result, per_party=per_party)
