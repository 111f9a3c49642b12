"""Tag lists: built-in presets, JSON/YAML files and mappings, validated into a TagList.

Accepted shapes (in a file, inline, or as a mapping)::

    {"Sports": "News on athletic events."}                              # name: description
    {"Sports": {"description": "...", "examples": ["the match", ...]}}  # with examples
    {"name": "my list", "tags": {...one of the above...}}               # named wrapper
    {"tags": [{"name": "Sports", "description": "...", "examples": [...]}]}

Every problem raises :class:`earmark.errors.TagListError` with a message that says what
to fix (which tag, which file and line).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import yaml

from earmark.errors import TagListError
from earmark.types import Tag, TagList

__all__ = ["dump_tags", "load_tags", "presets"]

_TAG_KEYS = {"description", "examples"}
_WRAPPER_KEYS = {"name", "tags", "description"}
MAX_TAGS = 500
MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 2_000
MAX_EXAMPLES = 100
MAX_EXAMPLE_CHARS = 500


@functools.cache
def _preset_data() -> dict[str, dict[str, object]]:
    text = resources.files("earmark").joinpath("data/presets.json").read_text("utf-8")
    data: dict[str, dict[str, object]] = json.loads(text)
    return data


def presets() -> tuple[str, ...]:
    """Names of the built-in tag lists (``media``, ``support``)."""
    return tuple(_preset_data())


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def _examples(tag: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TagListError(
            f"tag {tag!r}: 'examples' must be a list of phrases, got {type(value).__name__}"
        )
    if len(value) > MAX_EXAMPLES:
        raise TagListError(f"tag {tag!r}: more than {MAX_EXAMPLES} examples")
    out: list[str] = []
    for i, ex in enumerate(value):
        if not isinstance(ex, str) or not ex.strip():
            raise TagListError(
                f"tag {tag!r}: example {i + 1} must be a non-empty string, got {ex!r}"
            )
        if len(ex) > MAX_EXAMPLE_CHARS:
            raise TagListError(
                f"tag {tag!r}: example {i + 1} is longer than {MAX_EXAMPLE_CHARS} characters"
            )
        out.append(ex.strip())
    return tuple(out)


def _tag(name: object, value: object) -> Tag:
    if not isinstance(name, str) or not name.strip():
        raise TagListError(f"tag names must be non-empty strings, got {name!r}")
    clean = re.sub(r"\s+", " ", name).strip()
    if len(clean) > MAX_NAME_CHARS:
        raise TagListError(f"tag name {clean[:40]!r}... is longer than {MAX_NAME_CHARS} characters")
    examples: tuple[str, ...] = ()
    if isinstance(value, Mapping):
        unknown = set(value) - _TAG_KEYS
        if unknown:
            raise TagListError(
                f"tag {clean!r}: unknown keys {sorted(map(str, unknown))}; use 'description' and 'examples'"
            )
        examples = _examples(clean, value.get("examples"))
        value = value.get("description")
    if not isinstance(value, str):
        raise TagListError(
            f"tag {clean!r}: the description must be a string, got {type(value).__name__}"
        )
    if not value.strip():
        raise TagListError(
            f"tag {clean!r} has an empty description; say in a sentence what it means"
        )
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise TagListError(
            f"tag {clean!r}: description longer than {MAX_DESCRIPTION_CHARS} characters"
        )
    return Tag(name=clean, description=" ".join(value.split()), examples=examples)


def _entries(body: object) -> list[tuple[object, object]]:
    if isinstance(body, Mapping):
        return list(body.items())
    if isinstance(body, Sequence) and not isinstance(body, str):
        pairs: list[tuple[object, object]] = []
        for i, item in enumerate(body):
            if not isinstance(item, Mapping) or "name" not in item:
                raise TagListError(
                    f"tag list item {i + 1} must be a mapping with a 'name', got {item!r}"
                )
            pairs.append((item["name"], {k: v for k, v in item.items() if k != "name"}))
        return pairs
    raise TagListError(f"a tag list must be a mapping of tag names, got {type(body).__name__}")


def _from_mapping(data: object, default_name: str) -> TagList:
    name = default_name
    body = data
    if isinstance(data, Mapping) and isinstance(data.get("tags"), (Mapping, list)):
        unknown = set(data) - _WRAPPER_KEYS
        if unknown:
            raise TagListError(f"unknown top-level keys {sorted(map(str, unknown))} beside 'tags'")
        if data.get("name") is not None:
            if not isinstance(data["name"], str) or not data["name"].strip():
                raise TagListError("the tag list 'name' must be a non-empty string")
            name = data["name"].strip()
        body = data["tags"]
    entries = _entries(body)
    if not entries:
        raise TagListError("the tag list is empty: give at least one tag with a description")
    if len(entries) > MAX_TAGS:
        raise TagListError(
            f"the tag list has {len(entries)} tags; at most {MAX_TAGS} are supported"
        )
    tags = [_tag(k, v) for k, v in entries]
    seen: dict[str, str] = {}
    for tag in tags:
        key = _norm(tag.name)
        if key in seen:
            raise TagListError(
                f"duplicate tag names {seen[key]!r} and {tag.name!r} (names ignore case and spaces)"
            )
        seen[key] = tag.name
    return TagList(tags=tuple(tags), name=name)


def _parse_text(text: str, where: str, as_json: bool) -> object:
    try:
        return json.loads(text) if as_json else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise TagListError(
            f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TagListError(f"{where}: invalid YAML{at}: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise TagListError(f"{where}: invalid YAML: {exc}") from exc


def _from_file(path: Path) -> TagList:
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise TagListError(f"tag list file {path} is not UTF-8 text") from exc
    except OSError as exc:
        raise TagListError(f"cannot read tag list file {path}: {exc.strerror or exc}") from exc
    data = _parse_text(text, f"tag list file {path}", as_json=path.suffix.lower() == ".json")
    if data is None:
        raise TagListError(f"tag list file {path} is empty")
    try:
        return _from_mapping(data, path.stem)
    except TagListError as exc:
        raise TagListError(f"tag list file {path}: {exc.message}") from exc


def load_tags(
    spec: str | Path | Mapping[str, object] | TagList, *, read_files: bool = True
) -> TagList:
    """Load and validate a tag list.

    ``spec`` is a preset name (see :func:`presets`), a path to a JSON or YAML file,
    inline JSON/YAML text starting with ``{``, a mapping, or an existing TagList.
    With ``read_files=False`` (what a server does with a client's value) a string is only
    ever a preset name or inline text: no path is opened, and the error for an unknown name
    says nothing about the server's disk.
    """
    if isinstance(spec, TagList):
        return _from_mapping(
            {
                t.name: {"description": t.description, "examples": list(t.examples)}
                for t in spec.tags
            },
            spec.name,
        )
    if isinstance(spec, Mapping):
        return _from_mapping(spec, "custom")
    if isinstance(spec, str):
        key = spec.strip()
        if not key:
            raise TagListError(
                f"no tag list given; use a preset ({', '.join(presets())}) or a file"
            )
        if key.lower() in _preset_data():
            return _from_mapping(_preset_data()[key.lower()], key.lower())
        if key.startswith("{"):
            return _from_mapping(_parse_text(key, "inline tag list", as_json=False), "custom")
        if not read_files:
            shown = key if len(key) <= 60 else key[:60] + "..."
            raise TagListError(
                f"unknown tag list preset {shown!r}; presets are: {', '.join(presets())} "
                "(or give the tags inline as an object of tag name -> description)"
            )
        spec = Path(key)
    if not isinstance(spec, Path) or not read_files:
        raise TagListError(f"cannot read a tag list from {type(spec).__name__}")
    if spec.is_file():
        return _from_file(spec)
    if spec.exists():
        raise TagListError(f"tag list path {spec} is not a file")
    if spec.suffix or len(spec.parts) > 1:
        raise TagListError(
            f"tag list file {spec} does not exist (and it is not a preset: {', '.join(presets())})"
        )
    raise TagListError(
        f"unknown tag list preset {str(spec)!r}; presets are: {', '.join(presets())}"
    )


def dump_tags(taglist: TagList, fmt: str = "yaml") -> str:
    """Render a tag list as YAML or JSON, in a shape :func:`load_tags` reads back."""
    body: dict[str, object] = {
        t.name: {"description": t.description, "examples": list(t.examples)}
        if t.examples
        else t.description
        for t in taglist.tags
    }
    if fmt == "json":
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
    raise TagListError(f"unknown tag list format {fmt!r}; use 'yaml' or 'json'")
