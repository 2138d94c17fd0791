"""The SQLite store: papers, runs, LLM requests, scores and API caches.

One file makes reruns free (a paper scored under the same model and criteria is never
sent again) and failures safe (each batch is committed as it arrives). The schema
evolves through numbered migrations (``migrations.py``), applied under a lock
(``lock.py``). Every text written passes the run's redaction (no secret is ever
stored), and a damaged file is reported in one line naming it.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papersift import DEFAULT_PROFILE
from papersift.errors import PapersiftError
from papersift.models import Paper, Usage
from papersift.redact import Redactor
from papersift.store.learning import LabelledText, LearnerTables
from papersift.store.lock import StoreBusy, hold, open_lock_path, run_lock
from papersift.store.migrations import MIGRATIONS
from papersift.store.retention import archived_scores
from papersift.store.sql import now as _now

__all__ = ["MIGRATIONS", "CachedScore", "LabelledText", "Store", "StoreBusy", "StoreError",
           "run_lock"]
OPEN_LOCK_SECONDS = 120  # opening and migrating takes well under a second


class StoreError(PapersiftError):
    """The store file cannot be opened, is damaged, or is not a papersift store."""


@dataclass(frozen=True)
class CachedScore:
    relevance: int
    novelty: int
    comment: str


class Store(LearnerTables):
    """A papersift SQLite file. Use as a context manager, or call ``close()``."""

    def __init__(self, path: Path, *, redact: Callable[[str], str] | None = None,
                 busy_timeout: float = 30.0, profile: str = DEFAULT_PROFILE):
        """``busy_timeout``: how long to wait for another process's write (and, at most
        ``OPEN_LOCK_SECONDS``, for another to finish opening it). ``profile``: the reader
        whose verdicts, labels and runs this store reads and writes (one file holds every
        reader's; papers, embeddings and LLM judgments are shared)."""
        self.path = path
        self.profile = profile
        self.redact = redact or Redactor.from_environment()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the store: {exc.strerror or exc}") from None
        with hold(open_lock_path(path), min(OPEN_LOCK_SECONDS, busy_timeout),
                  "the store while opening it"):
            try:
                self.db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
            except (sqlite3.Error, OSError) as exc:
                raise StoreError(f"{path}: cannot open the store: {exc}") from None
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA foreign_keys=ON")
                self._migrate()
            except sqlite3.Error as exc:
                self.db.close()
                raise StoreError(self.describe(exc)) from None

    def for_profile(self, profile: str) -> Store:
        """This store as ``profile``'s (the same connection; close the store, not it)."""
        view = copy.copy(self)
        view.profile = profile
        return view

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close()
        if isinstance(exc, sqlite3.Error):  # one line naming the file, not a traceback
            raise StoreError(self.describe(exc)) from None

    def describe(self, exc: sqlite3.Error) -> str:
        """A one-line account of a database error, naming the store."""
        text = str(exc)
        if "malformed" in text or "not a database" in text or "disk I/O" in text:
            return (f"{self.path}: the store is damaged ({text}); move it away to start a "
                    "new one, or restore it from a backup")
        if "full" in text:
            return f"{self.path}: cannot write the store ({text}); free some space"
        return f"{self.path}: cannot use the store ({text})"

    def close(self) -> None:
        self.db.close()

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: written by a newer papersift (schema {current}); upgrade papersift"
            )
        for number, steps in enumerate(MIGRATIONS[current:], start=current + 1):
            self.db.execute("BEGIN")
            try:
                for step in steps:
                    if callable(step):
                        step(self.db)
                    else:  # executescript would commit first: one statement at a time
                        for statement in _statements(step):
                            self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # -- papers ---------------------------------------------------------------------

    def save_day(self, day: dt.date, papers: Sequence[Paper]) -> None:
        """Record the papers announced on ``day`` (newest metadata wins)."""
        now = _now()
        with self._transaction():
            self.db.executemany(
                """
                INSERT INTO papers (arxiv_id, version, title, abstract, authors, categories,
                                    comment, first_seen, last_seen)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (arxiv_id) DO UPDATE SET
                    version = excluded.version, title = excluded.title,
                    abstract = excluded.abstract, authors = excluded.authors,
                    categories = excluded.categories, comment = excluded.comment,
                    last_seen = excluded.last_seen
                WHERE excluded.version >= papers.version
                """,
                [
                    (p.arxiv_id, p.version, self.redact(p.title), self.redact(p.abstract),
                     self.redact(json.dumps(p.authors)), json.dumps(p.categories),
                     self.redact(p.comment), now, now)
                    for p in papers
                ],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO announcements (day, arxiv_id, announce_type) "
                "VALUES (?, ?, ?)",
                [(day.isoformat(), p.arxiv_id, p.announce_type) for p in papers],
            )

    def paper_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM papers").fetchone()[0])

    # -- runs and usage ---------------------------------------------------------------

    def start_run(self, day: dt.date, kind: str = "daily") -> int:
        cursor = self.db.execute(
            "INSERT INTO runs (day, model, started_at, kind, profile) VALUES (?, '', ?, ?, ?)",
            (day.isoformat(), _now(), kind, self.profile),
        )
        return int(cursor.lastrowid or 0)

    def set_run_model(self, run_id: int, model: str) -> None:
        self.db.execute("UPDATE runs SET model = ? WHERE id = ?", (self.redact(model), run_id))

    def finish_run(self, run_id: int, *, status: str, total: int = 0, scanned: int = 0,
                   relevant: int = 0, not_scored: int = 0) -> None:
        self.db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, total = ?, scanned = ?, relevant = ?,"
            " not_scored = ? WHERE id = ?",
            (_now(), status, total, scanned, relevant, not_scored, run_id),
        )

    def runs(self, day: dt.date) -> list[dict[str, Any]]:
        cursor = self.db.execute(
            "SELECT * FROM runs WHERE day = ? ORDER BY id", (day.isoformat(),)
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def record_request(self, run_id: int, stage: str, usage: Usage) -> None:
        self.db.execute(
            "INSERT INTO llm_requests (run_id, stage, prompt_tokens, cached_tokens,"
            " completion_tokens, prompt_cost, completion_cost, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, stage, usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens,
             usage.prompt_cost, usage.completion_cost, _now()),
        )

    def day_usage(self, day: dt.date, model: str) -> Usage:
        """All LLM use spent on ``day``'s digest with ``model``, over every run of that day."""
        row = self.db.execute(
            """
            SELECT count(r.id), coalesce(sum(r.prompt_tokens), 0),
                   coalesce(sum(r.cached_tokens), 0), coalesce(sum(r.completion_tokens), 0),
                   sum(r.prompt_cost), sum(r.completion_cost),
                   sum(r.prompt_cost IS NULL), sum(r.completion_cost IS NULL)
            FROM llm_requests r JOIN runs ON runs.id = r.run_id
            WHERE runs.day = ? AND runs.model = ? AND runs.kind = 'daily'
              AND runs.profile = ?
            """,
            (day.isoformat(), model, self.profile),
        ).fetchone()
        requests, prompt, cached, completion, p_cost, c_cost, p_unknown, c_unknown = row
        return Usage(
            requests=requests,
            prompt_tokens=prompt,
            cached_tokens=cached,
            completion_tokens=completion,
            prompt_cost=None if p_unknown else (p_cost or 0.0),
            completion_cost=None if c_unknown else (c_cost or 0.0),
        )

    def record_outcomes(self, run_id: int, outcomes: Iterable[tuple[str, str, str]]) -> None:
        """Record, for each (arxiv_id, outcome, reason), what happened to it in this run."""
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO run_papers (run_id, arxiv_id, outcome, reason)"
                " VALUES (?, ?, ?, ?)",
                [(run_id, arxiv_id, outcome, self.redact(reason))
                 for arxiv_id, outcome, reason in outcomes],
            )

    def outcomes(self, run_id: int) -> dict[str, tuple[str, str]]:
        rows = self.db.execute(
            "SELECT arxiv_id, outcome, reason FROM run_papers WHERE run_id = ?", (run_id,)
        )
        return {aid: (outcome, reason) for aid, outcome, reason in rows}

    # -- scores -----------------------------------------------------------------------

    def cached_scores(self, ids: Iterable[str], model: str, fingerprint: str
                      ) -> dict[str, CachedScore]:
        ids = list(ids)
        rows = self._rows_for_ids(
            "SELECT arxiv_id, relevance, novelty, comment FROM scores"
            " WHERE model = ? AND fingerprint = ? AND arxiv_id IN ({ids})",
            (model, fingerprint), ids)
        found = {aid: CachedScore(r, n, c) for aid, r, n, c in rows}
        missing = set(ids) - found.keys()
        if missing and self.archive_dir.is_dir():  # a re-run of a day long past
            for aid, (r, n, c) in archived_scores(self.archive_dir, missing, model,
                                                   fingerprint).items():
                found[aid] = CachedScore(r, n, c)
        return found

    def learn_from(self, fingerprint: str) -> None:
        """The LLM's judgments under ``fingerprint`` (this reader's interests and prompts)
        are this reader's labels: written for them, or read from another reader's cache."""
        self.db.execute("INSERT OR IGNORE INTO profile_fingerprints (profile, fingerprint)"
                        " VALUES (?, ?)", (self.profile, fingerprint))

    def save_scores(self, model: str, fingerprint: str,
                    scores: dict[str, CachedScore]) -> None:
        now = _now()
        with self._transaction():
            self.learn_from(fingerprint)
            self.db.executemany(
                "INSERT OR REPLACE INTO scores (arxiv_id, model, fingerprint, relevance,"
                " novelty, comment, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(aid, model, fingerprint, s.relevance, s.novelty, self.redact(s.comment), now)
                 for aid, s in scores.items()],
            )

    def cached_title_verdicts(self, ids: Iterable[str], model: str, fingerprint: str
                              ) -> dict[str, bool]:
        rows = self._rows_for_ids(
            "SELECT arxiv_id, keep FROM title_verdicts"
            " WHERE model = ? AND fingerprint = ? AND arxiv_id IN ({ids})",
            (model, fingerprint), ids)
        return {aid: bool(keep) for aid, keep in rows}

    def save_title_verdicts(self, model: str, fingerprint: str,
                            verdicts: dict[str, bool]) -> None:
        now = _now()
        with self._transaction():
            self.learn_from(fingerprint)
            self.db.executemany(
                "INSERT OR REPLACE INTO title_verdicts (arxiv_id, model, fingerprint, keep,"
                " decided_at) VALUES (?, ?, ?, ?, ?)",
                [(aid, model, fingerprint, int(keep), now) for aid, keep in verdicts.items()],
            )

    def paper(self, arxiv_id: str) -> tuple[str, str] | None:
        row = self.db.execute("SELECT title, abstract FROM papers WHERE arxiv_id = ?",
                              (arxiv_id,)).fetchone()
        return (row[0], row[1]) if row else None

    # -- summaries ----------------------------------------------------------------------

    def summaries(self, hashes: dict[str, str], model: str, language: str) -> dict[str, str]:
        """Stored summaries of the papers in ``hashes`` (id -> text hash) still current."""
        rows = self._rows_for_ids(
            "SELECT arxiv_id, text_hash, summary FROM summaries"
            " WHERE model = ? AND language = ? AND arxiv_id IN ({ids})",
            (model, language), hashes)
        return {key: summary for key, text_hash, summary in rows if hashes[key] == text_hash}

    def save_summaries(self, model: str, language: str,
                       rows: Iterable[tuple[str, str, str]]) -> None:
        """Keep (arxiv_id, text_hash, summary) rows, so no later run pays for them again."""
        now = _now()
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO summaries (arxiv_id, model, language, text_hash,"
                " summary, written_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(key, model, language, text_hash, self.redact(summary), now)
                 for key, text_hash, summary in rows])

    # -- Batch API ----------------------------------------------------------------------

    def save_batch(self, batch_id: str, model: str, request_ids: Sequence[str]) -> None:
        """Record a submitted batch at once, so no later run submits its requests again."""
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO llm_batches (batch_id, model, requests, submitted_at)"
                " VALUES (?, ?, ?, ?)", (batch_id, model, json.dumps(list(request_ids)), _now()))

    def pending_batches(self, model: str) -> dict[str, set[str]]:
        """Batches of ``model`` not yet collected: id -> the custom_ids they hold."""
        return {batch_id: set(json.loads(requests)) for batch_id, requests in self.db.execute(
            "SELECT batch_id, requests FROM llm_batches WHERE model = ? AND status = 'pending'"
            " ORDER BY submitted_at", (model,))}

    def finish_batch(self, batch_id: str, status: str) -> None:
        with self._transaction():
            self.db.execute("UPDATE llm_batches SET status = ?, ended_at = ? WHERE batch_id = ?",
                            (status, _now(), batch_id))

    # -- API cache --------------------------------------------------------------------

    def cache_get(self, key: str, max_age: dt.timedelta) -> Any | None:
        row = self.db.execute(
            "SELECT payload, fetched_at FROM api_cache WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        try:
            fetched_at = dt.datetime.fromisoformat(row[1])
            if dt.datetime.now(dt.UTC) - fetched_at > max_age:
                return None
            return json.loads(row[0])
        except (TypeError, ValueError, RecursionError):
            return None  # a damaged cache entry is fetched again

    def cache_put(self, key: str, payload: Any) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO api_cache (key, payload, fetched_at) VALUES (?, ?, ?)",
            (key, self.redact(json.dumps(payload)), _now()),
        )


def _statements(script: str) -> list[str]:
    """The statements of a migration script (its comments removed)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
