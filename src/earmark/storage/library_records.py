"""The records of the web app's library (:mod:`earmark.storage.library`): sessions, saved
tag lists, corrections, re-tags and listing rows, and the rules for list names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from earmark.errors import InputError
from earmark.storage.base import TopicsOutcome
from earmark.types import TagList

__all__ = [
    "SESSION_DAYS",
    "CorrectionRow",
    "ListedTranscript",
    "Retag",
    "SavedList",
    "Session",
    "WeekAccuracy",
    "parse_list_body",
    "valid_list_name",
]

SESSION_DAYS = 14
_NAME = re.compile(r"^[\w][\w .\-]{0,63}$")


def valid_list_name(name: str) -> str:
    """``name`` stripped if it can name a saved tag list (letters, digits, space, ``.-_``,
    at most 64, not a preset's name); else :class:`InputError`."""
    from earmark.tagging import presets

    name = name.strip()
    if not _NAME.match(name):
        raise InputError(
            "A tag list name is 1 to 64 letters, digits, spaces, '.', '-' or '_' "
            "(starting with a letter or digit)"
        )
    if name.lower() in presets():
        raise InputError(f"{name!r} is a built-in preset; choose another name for your list")
    return name


@dataclass(frozen=True)
class Session:
    """A signed-in browser: whose it is, and the CSRF token bound to it."""

    owner: str
    csrf: str
    expires: str


@dataclass(frozen=True)
class SavedList:
    """A tag list saved by a key: its YAML text as the user wrote it."""

    name: str
    body: str
    created: str
    updated: str

    def taglist(self) -> TagList:
        """The parsed list (named after the saved list)."""
        return parse_list_body(self.body, self.name)


def parse_list_body(body: str, name: str) -> TagList:
    """YAML/JSON text of a tag list as a :class:`TagList` called ``name``."""
    import dataclasses

    import yaml

    from earmark.errors import TagListError
    from earmark.tagging import load_tags

    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise TagListError(f"the tag list is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise TagListError("a tag list maps each tag name to its description")
    return dataclasses.replace(load_tags(data, read_files=False), name=name)


@dataclass(frozen=True)
class CorrectionRow:
    """A person's verdict on a transcript's (or one window's) tags.

    ``predicted`` was the best tag then; ``correct`` is the right one (``None``: none of the
    tags fits); ``wrong`` the tag marked wrong (``None`` when the best tag was confirmed).
    """

    id: int
    transcript_id: str
    start_ms: int | None
    end_ms: int | None
    text: str
    predicted: str | None
    wrong: str | None
    correct: str | None
    list_name: str | None
    created: str

    @property
    def right(self) -> bool:
        return self.predicted == self.correct


@dataclass(frozen=True)
class WeekAccuracy:
    """Corrections made in one ISO week, and the share where the best tag was right."""

    week: str
    total: int
    right: int

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0


@dataclass(frozen=True)
class Retag:
    """Tags computed again for a stored transcript, with a saved list or a preset."""

    list_name: str
    outcome: TopicsOutcome
    created: str


@dataclass(frozen=True)
class ListedTranscript:
    """One row of the web list: the job's state and, once indexed, its summary."""

    id: str
    status: str
    created: str
    completed: str | None
    error: str | None
    duration_ms: int | None
    best_tag: str | None
    selected: tuple[str, ...]
    preview: str
    title: str | None
