"""Full-text search over transcript text, for SQLite (FTS5) and PostgreSQL (``tsvector``).

A completed transcript is cut into passages (a sentence or so, at most 40 words); each
passage is a row of ``text_chunks``: its text folded (lower case, no accents) for matching,
and its words as spoken with their start times (``times``, JSON ``[[ms, word], ...]``), so a
hit shows the words and links to the moment its first matching word is spoken. ``text_index`` holds one row per
indexed transcript (its duration, best and selected tags, a preview) and the range of its
passages. :meth:`Searcher.refresh` indexes an owner's completed transcripts that are not
indexed yet and drops what deleted transcripts left, in one transaction per transcript.

Queries are words (letters and digits; everything else separates them): a passage matches
when it holds every word, on both backends alike (SQLite: FTS5 ``unicode61`` with
diacritics removed; PostgreSQL: ``to_tsvector('simple', ...)`` with a GIN index and
``websearch_to_tsquery``). Highlighting is computed here, on the stored words, so both
backends mark the same words and the web layer escapes them like any text.
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from earmark.storage.base import TopicsOutcome, utc_now
from earmark.storage.codec import _load_outcome
from earmark.storage.sql import SQLStore
from earmark.types import Transcript, Word

__all__ = ["SearchHit", "Searcher", "chunk_words", "query_terms"]

MAX_TERMS = 12
CHUNK_WORDS = 40
PREVIEW_WORDS = 30

Run = Callable[[str, Sequence[Any]], list[Any]]


@dataclass(frozen=True)
class SearchHit:
    """One passage that matched: its words as ``(text, start_ms, matched)``."""

    transcript_id: str
    start_ms: int
    tokens: tuple[tuple[str, int, bool], ...]
    created: str
    title: str | None

    @property
    def first_match_ms(self) -> int:
        return next((t for _, t, hit in self.tokens if hit), self.start_ms)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_terms(query: str) -> list[str]:
    """The words of a search query, folded (case and diacritics), at most 12."""
    terms: list[str] = []
    for t in re.findall(r"\w+", _fold(query)):
        if t not in terms and len(t) <= 64:
            terms.append(t)
    return terms[:MAX_TERMS]


def chunk_words(words: Sequence[Word]) -> list[list[tuple[str, int]]]:
    """Passages of ``(token, start_ms)``: break after a sentence end once a passage has 12
    words, and at 40 words in any case. A word holding spaces becomes several tokens."""
    ordered = sorted(words, key=lambda w: (w.start_ms, w.channel or ""))
    out: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    for w in ordered:
        current += [(part, w.start_ms) for part in w.text.split()]
        if len(current) >= CHUNK_WORDS or (len(current) >= 12 and w.text.endswith((".", "?", "!"))):
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


class Searcher:
    """The text index of one SQL store."""

    def __init__(self, store: SQLStore) -> None:
        self.store = store
        self.postgres = store.dialect.placeholder != "?"

    def contains(self, column: str) -> str:
        """SQL: ``column`` (text) contains the next parameter."""
        return f"strpos({column}, ?) > 0" if self.postgres else f"instr({column}, ?) > 0"

    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        return self.store._rows(self.store.dialect.sql(sql), tuple(args))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Run]:
        dialect = self.store.dialect
        if self.postgres:
            with self.store.connection() as conn, conn.transaction():  # type: ignore[attr-defined]

                def run_pg(sql: str, args: Sequence[Any] = ()) -> list[Any]:
                    cur = conn.execute(dialect.sql(sql), tuple(args))
                    return list(cur.fetchall()) if cur.description is not None else []

                yield run_pg
            return
        conn = self.store._conn()  # type: ignore[attr-defined]
        conn.execute("BEGIN IMMEDIATE")
        try:

            def run_sqlite(sql: str, args: Sequence[Any] = ()) -> list[Any]:
                return list(conn.execute(sql, tuple(args)).fetchall())

            yield run_sqlite
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- indexing -------------------------------------------------------------------
    def refresh(self, owner: str) -> int:
        """Index ``owner``'s completed transcripts missing from the index and drop the
        index rows of deleted ones; returns how many were indexed."""
        for row in self._q(
            "SELECT i.transcript_id FROM text_index i JOIN transcripts t "
            "ON t.id = i.transcript_id WHERE i.owner = ? AND t.deleted",
            (owner,),
        ):
            self.drop(str(row["transcript_id"]))
        missing = self._q(
            "SELECT t.id FROM transcripts t WHERE t.owner = ? AND t.status = 'completed' "
            "AND NOT t.deleted AND NOT EXISTS "
            "(SELECT 1 FROM text_index i WHERE i.transcript_id = t.id) ORDER BY t.seq",
            (owner,),
        )
        done = 0
        for row in missing:
            job = self.store.get(str(row["id"]), owner)
            if job is None or job.result is None or job.deleted:
                continue
            outcome = job.result.custom_tags
            retag = self._q(
                "SELECT outcome FROM retags WHERE owner = ? AND transcript_id = ?",
                (owner, job.id),
            )
            if retag:
                outcome = _load_outcome(json.loads(retag[0]["outcome"]))
            done += self.index(job.id, owner, job.result.transcript, outcome)
        return done

    def index(
        self, transcript_id: str, owner: str, t: Transcript, outcome: TopicsOutcome | None
    ) -> int:
        """Index one transcript (once: a second call, or a concurrent one, does nothing)."""
        chunks = chunk_words(t.words)
        r = outcome.result if outcome is not None else None
        preview = " ".join(t.text.split()[:PREVIEW_WORDS])
        with self._transaction() as run:
            if run("SELECT 1 AS x FROM text_index WHERE transcript_id = ?", (transcript_id,)):
                return 0
            ids: list[int] = []
            base = 0
            if not self.postgres:
                base = int(run("SELECT coalesce(max(rowid), 0) AS m FROM text_chunks", ())[0][0])
            for n, chunk in enumerate(chunks):
                # matched on folded text (PostgreSQL's 'simple' keeps accents); shown from
                # the words as spoken, kept with their times
                text = _fold(" ".join(tok for tok, _ in chunk))
                times = json.dumps([[ms, tok] for tok, ms in chunk], ensure_ascii=False)
                if self.postgres:
                    got = run(
                        "INSERT INTO text_chunks (transcript_id, owner, start_ms, times, text) "
                        "VALUES (?, ?, ?, ?, ?) RETURNING id",
                        (transcript_id, owner, chunk[0][1], times, text),
                    )
                    ids.append(int(got[0]["id"]))
                else:
                    run(
                        "INSERT INTO text_chunks (rowid, transcript_id, owner, start_ms, times, "
                        "text) VALUES (?, ?, ?, ?, ?, ?)",
                        (base + n + 1, transcript_id, owner, chunk[0][1], times, text),
                    )
                    ids.append(base + n + 1)
            run(
                "INSERT INTO text_index (transcript_id, owner, duration_ms, best_tag, selected, "
                "preview, first_chunk, last_chunk, indexed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    transcript_id,
                    owner,
                    t.duration_ms,
                    r.best_tag if r else None,
                    json.dumps(list(r.selected) if r else [], ensure_ascii=False),
                    preview,
                    min(ids, default=0),
                    max(ids, default=-1),
                    utc_now(),
                ),
            )
        return 1

    def drop(self, transcript_id: str) -> None:
        """Remove a transcript's passages and summary."""
        with self._transaction() as run:
            rows = run(
                "SELECT first_chunk, last_chunk FROM text_index WHERE transcript_id = ?",
                (transcript_id,),
            )
            if not rows:
                return
            if self.postgres:
                run("DELETE FROM text_chunks WHERE transcript_id = ?", (transcript_id,))
            else:
                run(
                    "DELETE FROM text_chunks WHERE rowid BETWEEN ? AND ?",
                    (int(rows[0][0]), int(rows[0][1])),
                )
            run("DELETE FROM text_index WHERE transcript_id = ?", (transcript_id,))

    # -- searching ------------------------------------------------------------------
    def search(self, owner: str, query: str, limit: int = 100) -> list[SearchHit]:
        terms = query_terms(query)
        if not terms:
            return []
        select = "SELECT c.transcript_id, c.start_ms, c.times, c.text, t.created, m.value AS title "
        joins = (
            "JOIN transcripts t ON t.id = c.transcript_id "
            "LEFT JOIN transcript_meta m ON m.owner = t.owner AND m.transcript_id = t.id "
            "AND m.key = 'title' "
        )
        if self.postgres:
            sql = (
                f"{select} FROM text_chunks c {joins}"
                "WHERE c.owner = ? AND t.owner = ? AND NOT t.deleted "
                "AND c.tsv @@ websearch_to_tsquery('simple', ?) "
                "ORDER BY ts_rank(c.tsv, websearch_to_tsquery('simple', ?)) DESC, t.seq DESC, "
                "c.start_ms LIMIT ?"
            )
            args: tuple[Any, ...] = (owner, owner, " ".join(terms), " ".join(terms), limit)
        else:
            sql = (
                f"{select} FROM text_chunks AS c {joins}"
                "WHERE text_chunks MATCH ? AND c.owner = ? AND t.owner = ? AND NOT t.deleted "
                "ORDER BY bm25(text_chunks), t.seq DESC, c.start_ms LIMIT ?"
            )
            fts = " ".join(f'"{t}"' for t in terms)  # \w+ only: nothing to escape
            args = (fts, owner, owner, limit)
        hits = []
        wanted = set(terms)
        for row in self._q(sql, args):
            tokens = tuple(
                (tok, int(ms), _hit(tok, wanted)) for ms, tok in json.loads(row["times"])
            )
            hits.append(
                SearchHit(
                    transcript_id=row["transcript_id"],
                    start_ms=int(row["start_ms"]),
                    tokens=tokens,
                    created=row["created"],
                    title=row["title"],
                )
            )
        return hits


def _hit(token: str, terms: set[str]) -> bool:
    return any(part in terms for part in re.findall(r"\w+", _fold(token)))
