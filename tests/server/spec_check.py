"""AssemblyAI's published OpenAPI spec as JSON Schema validators, for checking real responses.

``Spec.check("Transcript", body)`` validates ``body`` against ``#/components/schemas/Transcript``
(OpenAPI 3.1 schemas are JSON Schema 2020-12; ``$ref``s are resolved inside the document
through a :mod:`referencing` registry). ``allow=`` names earmark's extension keys that this
response may carry: they are added to the schema's properties, everything else stays as
published (``additionalProperties: false`` included).

The spec's own faults (``../shared/docs/assemblyai-spec/README.md``): ``TranscriptParams``
puts ``additionalProperties: false`` beside an ``allOf``, so no body satisfies it;
:meth:`Spec.check` flattens such an ``allOf`` into one object schema before validating.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["EXTENSIONS", "Spec"]

_URI = "urn:assemblyai:openapi"
_PREFIX = "#/components/schemas/"

EXTENSIONS: dict[str, dict[str, Any]] = {
    # the create request's custom_tags, echoed (a preset name or an object)
    "custom_tags": {"type": ["string", "object"]},
    # shaped like iab_categories_result; null until the job completes
    "custom_tags_result": {
        "oneOf": [{"$ref": f"{_PREFIX}TopicDetectionModelResult"}, {"type": "null"}]
    },
    # with language_detection: the stretches of each language; null until completed
    "earmark_languages": {
        "oneOf": [
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["language", "start", "end"],
                    "properties": {
                        "language": {"type": "string"},
                        "start": {"type": "integer"},
                        "end": {"type": "integer"},
                    },
                },
            },
            {"type": "null"},
        ]
    },
    # request fields earmark accepted but did not perform; only when non-empty
    "earmark_not_performed": {
        "type": "array",
        "items": {"type": "string"},
        "minItems": 1,
        "uniqueItems": True,
    },
}
"""earmark-only keys a transcript response may carry, with their schemas."""


class Spec:
    """The component schemas of one OpenAPI document."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.schemas: Mapping[str, Any] = doc["components"]["schemas"]

    @classmethod
    def load(cls, path: Path) -> Spec:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def flattened(self, name: str) -> dict[str, Any]:
        """``name``'s schema with its ``allOf`` (of ``$ref``s and inline objects) merged in:
        properties and ``required`` are united, the outer ``additionalProperties`` kept."""
        schema: dict[str, Any] = copy.deepcopy(dict(self.schemas[name]))
        parts = schema.pop("allOf", [])
        props: dict[str, Any] = dict(schema.get("properties", {}))
        required: list[str] = list(schema.get("required", []))
        for part in parts:
            if "$ref" in part:
                part = self.flattened(part["$ref"].removeprefix(_PREFIX))
            props.update(part.get("properties", {}))
            required += [r for r in part.get("required", []) if r not in required]
        schema["type"] = "object"
        schema["properties"] = props
        if required:
            schema["required"] = required
        return schema

    def errors(self, name: str, body: Any, allow: Iterable[str] = ()) -> list[str]:
        """Every violation of ``name`` by ``body``, as ``path: message`` lines."""
        validator = _validator(self, name, frozenset(allow))
        found = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.path)))
        return [f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in found]

    def check(self, name: str, body: Any, allow: Iterable[str] = ()) -> None:
        """Raise :class:`AssertionError` listing every violation of ``name`` by ``body``."""
        problems = self.errors(name, body, allow)
        if problems:
            raise AssertionError(
                f"{name}: {len(problems)} violation(s):\n  " + "\n  ".join(problems)
            )

    def __hash__(self) -> int:
        return id(self)


@cache
def _validator(spec: Spec, name: str, allow: frozenset[str]) -> Draft202012Validator:
    doc = copy.deepcopy(dict(spec.doc))
    schemas = doc["components"]["schemas"]
    if "allOf" in schemas[name] and schemas[name].get("additionalProperties") is False:
        schemas[name] = spec.flattened(name)
    if allow:
        unknown = allow - EXTENSIONS.keys()
        assert not unknown, f"not an earmark extension key: {sorted(unknown)}"
        props = schemas[name].setdefault("properties", {})
        for key in allow:
            assert key not in props, f"{key} is in the spec's {name} already"
            props[key] = EXTENSIONS[key]
    resource = Resource.from_contents(doc, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_URI, resource)
    return Draft202012Validator(
        {"$ref": f"{_URI}{_PREFIX}{name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
