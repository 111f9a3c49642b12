"""What the web app keeps beside the transcripts: sessions, saved tag lists, corrections,
per-transcript names (speakers, titles), re-tagged results and the full-text index.

:class:`Library` is the interface; :class:`SQLLibrary` implements it once for both SQL
stores on top of their two primitives (``_rows`` / ``_change``) and their dialect, in the
tables of migration ``0004_web_library``. :func:`library_of` gives the one library of a
store. Every method takes the caller's ``owner`` and never reads or writes another key's
rows. The text index (:mod:`earmark.storage.search`) is filled lazily: every listing and
search first indexes the owner's completed transcripts that are not indexed yet and drops
the rows of deleted ones, so no pipeline hook is needed and a restart loses nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from earmark.storage.base import TranscriptStore, utc_now
from earmark.storage.codec import _dump_outcome, _load_outcome
from earmark.storage.library_records import (
    SESSION_DAYS,
    CorrectionRow,
    ListedTranscript,
    Retag,
    SavedList,
    Session,
    WeekAccuracy,
    parse_list_body,
    valid_list_name,
)
from earmark.storage.search import Searcher, SearchHit
from earmark.storage.sql import SQLStore
from earmark.types import TagList

__all__ = [
    "SESSION_DAYS",
    "CorrectionRow",
    "Library",
    "ListedTranscript",
    "Retag",
    "SQLLibrary",
    "SavedList",
    "SearchHit",
    "Session",
    "WeekAccuracy",
    "library_of",
    "saved_lists",
    "valid_list_name",
]


class Library(ABC):
    """The web app's storage (see the module docstring)."""

    # -- sessions -------------------------------------------------------------------
    @abstractmethod
    def new_session(self, owner: str) -> tuple[str, Session]:
        """A new session for ``owner``: the cookie token (shown once) and the session."""

    @abstractmethod
    def session(self, token: str) -> Session | None:
        """The live session of a cookie token, or ``None``."""

    @abstractmethod
    def end_session(self, token: str) -> None:
        """Sign out: forget the session."""

    # -- saved tag lists ------------------------------------------------------------
    @abstractmethod
    def save_list(self, owner: str, name: str, body: str) -> SavedList:
        """Create or replace ``owner``'s list ``name`` (``body`` must parse)."""

    @abstractmethod
    def get_list(self, owner: str, name: str) -> SavedList | None: ...

    @abstractmethod
    def lists(self, owner: str) -> list[SavedList]: ...

    @abstractmethod
    def delete_list(self, owner: str, name: str) -> bool: ...

    # -- corrections ----------------------------------------------------------------
    @abstractmethod
    def add_correction(self, owner: str, row: CorrectionRow) -> CorrectionRow: ...

    @abstractmethod
    def corrections(self, owner: str, transcript_id: str | None = None) -> list[CorrectionRow]:
        """``owner``'s corrections, newest first (of one transcript when given)."""

    @abstractmethod
    def untaught(self, owner: str, list_name: str) -> list[CorrectionRow]:
        """Corrections not yet taught to ``list_name``."""

    @abstractmethod
    def mark_taught(self, owner: str, list_name: str, ids: Sequence[int]) -> None: ...

    def accuracy_by_week(self, owner: str) -> list[WeekAccuracy]:
        """Per ISO week, oldest first: corrections and how many confirmed the best tag."""
        weeks: dict[str, list[int]] = {}
        for c in self.corrections(owner):
            year, week, _ = datetime.fromisoformat(c.created).isocalendar()
            counts = weeks.setdefault(f"{year}-W{week:02d}", [0, 0])
            counts[0] += 1
            counts[1] += int(c.right)
        return [WeekAccuracy(w, n, r) for w, (n, r) in sorted(weeks.items())]

    # -- per-transcript values ------------------------------------------------------
    @abstractmethod
    def meta(self, owner: str, transcript_id: str) -> dict[str, str]:
        """Names given to a transcript: ``title`` and ``speaker:<label>`` keys."""

    @abstractmethod
    def set_meta(self, owner: str, transcript_id: str, key: str, value: str) -> None:
        """Set one value (an empty ``value`` removes it)."""

    @abstractmethod
    def retag(self, owner: str, transcript_id: str) -> Retag | None: ...

    @abstractmethod
    def set_retag(self, owner: str, transcript_id: str, retag: Retag) -> None: ...

    # -- listing and search ---------------------------------------------------------
    @abstractmethod
    def listing(
        self,
        owner: str,
        *,
        status: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ListedTranscript]:
        """``owner``'s live transcripts, newest first, filtered by status and by a tag that
        is selected or best (with re-tagged results counting)."""

    @abstractmethod
    def search(self, owner: str, query: str, limit: int = 100) -> list[SearchHit]:
        """Passages of ``owner``'s transcripts that hold every word of ``query``."""


class SQLLibrary(Library):
    """:class:`Library` in the tables of a :class:`SQLStore` (SQLite or PostgreSQL)."""

    def __init__(self, store: SQLStore) -> None:
        self.store = store
        self.searcher = Searcher(store)

    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        return self.store._rows(self.store.dialect.sql(sql), tuple(args))

    def _x(self, sql: str, args: Sequence[Any] = ()) -> int:
        return self.store._change(self.store.dialect.sql(sql), tuple(args))

    def _upsert(
        self,
        table: str,
        keys: Mapping[str, Any],
        values: Mapping[str, Any],
        updated: Sequence[str] | None = None,
    ) -> int:
        """Insert a row of ``table``, or where its ``keys`` exist set its ``updated``
        columns (all of ``values`` by default) to the new row's."""
        columns = [*keys, *values]
        sets = ", ".join(f"{c} = excluded.{c}" for c in (values if updated is None else updated))
        return self._x(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}",
            (*keys.values(), *values.values()),
        )

    # -- sessions -------------------------------------------------------------------
    def new_session(self, owner: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC).replace(tzinfo=None)
        session = Session(
            owner=owner,
            csrf=secrets.token_urlsafe(24),
            expires=(now + timedelta(days=SESSION_DAYS)).isoformat(timespec="seconds"),
        )
        self._x("DELETE FROM web_sessions WHERE expires < ?", (now.isoformat(),))
        self._x(
            "INSERT INTO web_sessions (token_hash, owner, csrf, created, expires) "
            "VALUES (?, ?, ?, ?, ?)",
            (_digest(token), owner, session.csrf, utc_now(), session.expires),
        )
        return token, session

    def session(self, token: str) -> Session | None:
        if not token or len(token) > 200:
            return None
        rows = self._q(
            "SELECT owner, csrf, expires FROM web_sessions WHERE token_hash = ? AND expires > ?",
            (_digest(token), utc_now()),
        )
        if not rows:
            return None
        return Session(owner=rows[0]["owner"], csrf=rows[0]["csrf"], expires=rows[0]["expires"])

    def end_session(self, token: str) -> None:
        self._x("DELETE FROM web_sessions WHERE token_hash = ?", (_digest(token),))

    # -- saved tag lists ------------------------------------------------------------
    def save_list(self, owner: str, name: str, body: str) -> SavedList:
        name = valid_list_name(name)
        parse_list_body(body, name)  # refuse what would not load later
        now = utc_now()
        self._upsert(
            "tag_lists",
            {"owner": owner, "name": name},
            {"body": body, "created": now, "updated": now},
            ("body", "updated"),
        )
        saved = self.get_list(owner, name)
        assert saved is not None
        return saved

    def get_list(self, owner: str, name: str) -> SavedList | None:
        rows = self._q(
            "SELECT name, body, created, updated FROM tag_lists WHERE owner = ? AND name = ?",
            (owner, name.strip()),
        )
        return _saved(rows[0]) if rows else None

    def lists(self, owner: str) -> list[SavedList]:
        rows = self._q(
            "SELECT name, body, created, updated FROM tag_lists WHERE owner = ? ORDER BY name",
            (owner,),
        )
        return [_saved(r) for r in rows]

    def delete_list(self, owner: str, name: str) -> bool:
        return self._x("DELETE FROM tag_lists WHERE owner = ? AND name = ?", (owner, name)) > 0

    # -- corrections ----------------------------------------------------------------
    _CORR = (
        "id, transcript_id, start_ms, end_ms, text, predicted, wrong, correct, list_name, created"
    )

    def add_correction(self, owner: str, row: CorrectionRow) -> CorrectionRow:
        rows = self._q(
            "INSERT INTO tag_corrections (owner, transcript_id, start_ms, end_ms, text, "
            "predicted, wrong, correct, list_name, created) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {self._CORR}",
            (
                owner,
                row.transcript_id,
                row.start_ms,
                row.end_ms,
                row.text,
                row.predicted,
                row.wrong,
                row.correct,
                row.list_name,
                row.created or utc_now(),
            ),
        )
        return _correction(rows[0])

    def corrections(self, owner: str, transcript_id: str | None = None) -> list[CorrectionRow]:
        sql = f"SELECT {self._CORR} FROM tag_corrections WHERE owner = ?"
        args: list[Any] = [owner]
        if transcript_id is not None:
            sql += " AND transcript_id = ?"
            args.append(transcript_id)
        return [_correction(r) for r in self._q(sql + " ORDER BY id DESC", args)]

    def untaught(self, owner: str, list_name: str) -> list[CorrectionRow]:
        rows = self._q(
            f"SELECT {self._CORR} FROM tag_corrections c WHERE owner = ? AND NOT EXISTS "
            "(SELECT 1 FROM tag_taught t WHERE t.correction_id = c.id AND t.list_name = ?) "
            "ORDER BY id",
            (owner, list_name),
        )
        return [_correction(r) for r in rows]

    def mark_taught(self, owner: str, list_name: str, ids: Sequence[int]) -> None:
        mine = {c.id for c in self.corrections(owner)}
        for i in ids:
            if i in mine:
                self._x(
                    "INSERT INTO tag_taught (correction_id, list_name) VALUES (?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (i, list_name),
                )

    # -- per-transcript values ------------------------------------------------------
    def meta(self, owner: str, transcript_id: str) -> dict[str, str]:
        rows = self._q(
            "SELECT key, value FROM transcript_meta WHERE owner = ? AND transcript_id = ?",
            (owner, transcript_id),
        )
        return {str(r["key"]): str(r["value"]) for r in rows}

    def set_meta(self, owner: str, transcript_id: str, key: str, value: str) -> None:
        if not value.strip():
            self._x(
                "DELETE FROM transcript_meta WHERE owner = ? AND transcript_id = ? AND key = ?",
                (owner, transcript_id, key),
            )
            return
        keys = {"owner": owner, "transcript_id": transcript_id, "key": key}
        self._upsert("transcript_meta", keys, {"value": value.strip()})

    def retag(self, owner: str, transcript_id: str) -> Retag | None:
        rows = self._q(
            "SELECT list_name, outcome, created FROM retags WHERE owner = ? AND transcript_id = ?",
            (owner, transcript_id),
        )
        if not rows:
            return None
        outcome = _load_outcome(json.loads(rows[0]["outcome"]))
        assert outcome is not None
        return Retag(list_name=rows[0]["list_name"], outcome=outcome, created=rows[0]["created"])

    def set_retag(self, owner: str, transcript_id: str, retag: Retag) -> None:
        body = json.dumps(_dump_outcome(retag.outcome), ensure_ascii=False)
        self._upsert(
            "retags",
            {"owner": owner, "transcript_id": transcript_id},
            {"list_name": retag.list_name, "outcome": body, "created": retag.created},
        )
        r = retag.outcome.result
        if r is not None:
            self._x(
                "UPDATE text_index SET best_tag = ?, selected = ? "
                "WHERE transcript_id = ? AND owner = ?",
                (r.best_tag, json.dumps(list(r.selected)), transcript_id, owner),
            )

    # -- listing and search ---------------------------------------------------------
    def listing(
        self,
        owner: str,
        *,
        status: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ListedTranscript]:
        self.searcher.refresh(owner)
        where, args = ["t.owner = ?", "NOT t.deleted"], [owner]
        if status:
            where.append("t.status = ?")
            args.append(status)
        if tag:
            where.append(f"(i.best_tag = ? OR {self.searcher.contains('i.selected')})")
            args += [tag, json.dumps(tag, ensure_ascii=False)]
        rows = self._q(
            "SELECT t.id, t.status, t.created, t.completed, t.error, i.duration_ms, i.best_tag, "
            "i.selected, i.preview, m.value AS title FROM transcripts t "
            "LEFT JOIN text_index i ON i.transcript_id = t.id AND i.owner = t.owner "
            "LEFT JOIN transcript_meta m ON m.owner = t.owner AND m.transcript_id = t.id "
            "AND m.key = 'title' "
            f"WHERE {' AND '.join(where)} ORDER BY t.seq DESC LIMIT ? OFFSET ?",
            (*args, max(1, min(limit, 500)), max(0, offset)),
        )
        return [
            ListedTranscript(
                id=r["id"],
                status=r["status"],
                created=r["created"],
                completed=r["completed"],
                error=r["error"],
                duration_ms=r["duration_ms"],
                best_tag=r["best_tag"],
                selected=tuple(json.loads(r["selected"])) if r["selected"] else (),
                preview=r["preview"] or "",
                title=r["title"],
            )
            for r in rows
        ]

    def search(self, owner: str, query: str, limit: int = 100) -> list[SearchHit]:
        self.searcher.refresh(owner)
        return self.searcher.search(owner, query, limit)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _saved(row: Any) -> SavedList:
    return SavedList(
        name=row["name"], body=row["body"], created=row["created"], updated=row["updated"]
    )


def _correction(r: Any) -> CorrectionRow:
    return CorrectionRow(
        id=int(r["id"]),
        transcript_id=r["transcript_id"],
        start_ms=r["start_ms"],
        end_ms=r["end_ms"],
        text=r["text"],
        predicted=r["predicted"],
        wrong=r["wrong"],
        correct=r["correct"],
        list_name=r["list_name"],
        created=r["created"],
    )


_LIBRARIES: weakref.WeakKeyDictionary[TranscriptStore, Library] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def library_of(store: TranscriptStore) -> Library:
    """The one :class:`Library` of ``store`` (SQLite and PostgreSQL stores)."""
    with _LOCK:
        lib = _LIBRARIES.get(store)
        if lib is None:
            if not isinstance(store, SQLStore):
                raise TypeError(f"the web library needs a SQL store, not {type(store).__name__}")
            lib = SQLLibrary(store)
            _LIBRARIES[store] = lib
        return lib


def saved_lists(store: TranscriptStore, owner: str) -> Callable[[str], TagList | None]:
    """A resolver for ``custom_tags: "<saved list name>"``: ``owner``'s saved list of that
    name, or ``None`` (then the name must be a preset)."""

    def resolve(name: str) -> TagList | None:
        with contextlib.suppress(TypeError):
            saved = library_of(store).get_list(owner, name)
            return saved.taglist() if saved is not None else None
        return None

    return resolve
