"""The tables the local scorer learns from: embeddings, the reader's and the LLM's labels
(the learner's bounded sample of them, ``retention``), zero-shot scores and the learner's
folds, each computed once and kept. Mixed into ``Store``."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from papersift.store.migrations import pack_vector, unpack_vectors
from papersift.store.retention import (
    ARCHIVE_FOLDER,
    Compaction,
    LabelRow,
    compact,
    learning_sample,
)
from papersift.store.sql import Transaction, day_of, now, rows_for_ids

# A morning's learned signals wait this many days to become the fold of their day (made
# the next morning that has the day's labels; after a gap, computed afresh).
PREDICTION_DAYS = 14


@dataclass(frozen=True)
class LabelledText:
    key: str
    title: str
    abstract: str
    wanted: bool
    day: dt.date | None = None  # announced (else labelled) on; orders labels in time


class LearnerTables:
    """The learner's side of the store (``db``, ``path`` and ``redact`` are the store's)."""

    db: sqlite3.Connection
    path: Path
    redact: Callable[[str], str]
    profile: str

    def _transaction(self) -> Transaction:
        return Transaction(self.db)

    def _rows_for_ids(self, query: str, leading: tuple[Any, ...], ids: Iterable[str]
                      ) -> Iterator[tuple[Any, ...]]:
        """Rows of ``query`` for many ids (``sql.rows_for_ids``)."""
        return rows_for_ids(self.db, query, leading, ids)

    # -- embeddings and labels ---------------------------------------------------------

    def embeddings(self, keys: Sequence[str], model: str, hashes: Sequence[str]
                   ) -> dict[str, np.ndarray]:
        """Stored vectors of ``keys`` whose text hash still matches."""
        wanted = dict(zip(keys, hashes, strict=True))
        rows = self._rows_for_ids(
            "SELECT arxiv_id, text_hash, vector FROM embeddings"
            " WHERE model = ? AND arxiv_id IN ({ids})", (model,), keys)
        rows = [(key, blob) for key, text_hash, blob in rows if wanted[key] == text_hash]
        return dict(zip([key for key, _ in rows], unpack_vectors([blob for _, blob in rows]),
                        strict=True))

    def save_embeddings(self, model: str, rows: Iterable[tuple[str, str, np.ndarray]]
                        ) -> dict[str, np.ndarray]:
        """Keep the vectors (int8); returns each as it will be read back, so that a paper
        scores the same on the morning it is embedded as on any later one."""
        packed = [(key, model, text_hash, pack_vector(vector))
                  for key, text_hash, vector in rows]
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO embeddings (arxiv_id, model, text_hash, vector)"
                " VALUES (?, ?, ?, ?)", packed)
        return dict(zip([key for key, *_ in packed],
                        unpack_vectors([blob for *_, blob in packed]), strict=True))

    def recent_embeddings(self, model: str, since: dt.date, before: dt.date) -> np.ndarray:
        """Vectors of papers announced in [since, before): what 'recent arXiv' looked like."""
        rows = self.db.execute(
            "SELECT DISTINCT e.arxiv_id, e.vector FROM embeddings e"
            " JOIN announcements a ON a.arxiv_id = e.arxiv_id"
            " WHERE e.model = ? AND a.day >= ? AND a.day < ?",
            (model, since.isoformat(), before.isoformat()),
        ).fetchall()
        return unpack_vectors([blob for _, blob in rows])

    def recent_papers(self, *, since: dt.date, before: dt.date, limit: int,
                      exclude: set[str]) -> list[tuple[str, str, str]]:
        """(id, title, abstract) of papers announced in [since, before), newest day first."""
        rows = self.db.execute(
            "SELECT p.arxiv_id, p.title, p.abstract, max(a.day) AS last FROM papers p"
            " JOIN announcements a ON a.arxiv_id = p.arxiv_id"
            " WHERE a.day >= ? AND a.day < ? AND p.title != '' GROUP BY p.arxiv_id"
            " ORDER BY last DESC, p.arxiv_id LIMIT ?",
            (since.isoformat(), before.isoformat(), limit)).fetchall()
        return [(key, title, abstract) for key, title, abstract, _ in rows
                if key not in exclude]

    def add_label(self, key: str, source: str, label: bool, *, title: str = "",
                  abstract: str = "") -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO labels (key, source, profile, label, title, abstract,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, source, self.profile, int(label), self.redact(title),
             self.redact(abstract), now()),
        )

    def feedback_labels(self) -> dict[str, bool]:
        """The reader's own verdicts: arXiv id -> liked."""
        return {key: bool(label) for key, label in self.db.execute(
            "SELECT key, label FROM labels WHERE source = 'feedback' AND profile = ?",
            (self.profile,))}

    def feedback_by_day(self) -> dict[dt.date, dict[str, bool]]:
        """The reader's verdicts by the days their papers were announced (a digest's
        day): announcement day -> arXiv id -> liked."""
        found: dict[dt.date, dict[str, bool]] = {}
        for day, key, label in self.db.execute(
                "SELECT a.day, l.key, l.label FROM labels l JOIN announcements a"
                " ON a.arxiv_id = l.key WHERE l.source = 'feedback' AND l.profile = ?",
                (self.profile,)):
            found.setdefault(dt.date.fromisoformat(day), {})[key] = bool(label)
        return found

    def label_index(self, *, relevance_cutoff: int, novelty_cutoff: int,
                    profile: str | None = None) -> list[LabelRow]:
        """Every paper labelled for ``profile`` (default: this store's reader), without
        its text, newest judgment first per paper: the reader's verdict beats an LLM's
        score of the same paper, a score beats the LLM's title pass. The LLM's judgments
        count under the fingerprints the reader learns from (``learn_from``)."""
        reader = self.profile if profile is None else profile
        found: dict[str, LabelRow] = {}
        first_day = ("LEFT JOIN (SELECT arxiv_id, min(day) AS day FROM announcements"
                     " GROUP BY arxiv_id) a ON a.arxiv_id = {}")
        theirs = ("fingerprint IN (SELECT fingerprint FROM profile_fingerprints"
                  " WHERE profile = ?)")
        for key, label, day in self.db.execute(
            "SELECT l.key, l.label, coalesce(a.day, substr(l.created_at, 1, 10))"
            " FROM labels l " + first_day.format("l.key") +
            " WHERE l.profile = ? ORDER BY l.source = 'feedback', l.created_at", (reader,)
        ):
            found[key] = LabelRow(key, bool(label), day_of(day), True)
        for key, relevance, novelty, day in self.db.execute(
            "SELECT s.arxiv_id, max(s.relevance), max(s.novelty),"
            " coalesce(a.day, substr(max(s.scored_at), 1, 10)) FROM scores s "
            + first_day.format("s.arxiv_id") + " WHERE s." + theirs +
            " GROUP BY s.arxiv_id", (reader,)
        ):
            if key not in found:
                wanted = relevance >= relevance_cutoff and novelty >= novelty_cutoff
                found[key] = LabelRow(key, wanted, day_of(day), False)
        for key, day in self.db.execute(  # the LLM's title pass: unwanted
            "SELECT t.arxiv_id, coalesce(a.day, substr(t.decided_at, 1, 10))"
            " FROM title_verdicts t " + first_day.format("t.arxiv_id") +
            " WHERE t.keep = 0 AND t." + theirs, (reader,)
        ):
            if key not in found:
                found[key] = LabelRow(key, False, day_of(day), False)
        return list(found.values())

    def labelled_papers(self, *, relevance_cutoff: int, novelty_cutoff: int,
                        exclude_day: dt.date | None = None,
                        today: dt.date | None = None) -> list[LabelledText]:
        """The labels the learner trains on: its bounded sample (``retention``), with
        their texts; papers announced on ``exclude_day`` are left out (the learner never
        trains on the day it scores)."""
        rows = self.label_index(relevance_cutoff=relevance_cutoff,
                                novelty_cutoff=novelty_cutoff)
        excluded = set()
        if exclude_day is not None:
            excluded = {row[0] for row in self.db.execute(
                "SELECT arxiv_id FROM announcements WHERE day = ?", (exclude_day.isoformat(),))}
        chosen = learning_sample([r for r in rows if r.key not in excluded],
                                 today or exclude_day or dt.date.today())
        texts: dict[str, tuple[str, str]] = {}
        for key, title, abstract in self._rows_for_ids(
                "SELECT l.key, l.title, l.abstract FROM labels l WHERE l.profile = ? AND"
                " l.key IN ({ids})", (self.profile,), chosen):
            texts[key] = (title, abstract)
        for key, title, abstract in self._rows_for_ids(
                "SELECT arxiv_id, title, abstract FROM papers WHERE title != '' AND"
                " arxiv_id IN ({ids})", (), chosen):
            texts[key] = (title, abstract)  # arXiv's own text beats a click's title
        return [LabelledText(r.key, *texts[r.key], r.wanted, r.day) for r in rows
                if r.key in chosen and r.key in texts and any(texts[r.key])]

    def compact(self, day: dt.date, *, cutoffs: dict[str, tuple[int, int]],
                novelty_days: int) -> Compaction:
        """Apply the retention rules once ``day`` is published (``retention.compact``):
        what every reader's learner samples is kept (``cutoffs``: profile -> relevance
        and novelty cutoffs, which say what its LLM judgments mean)."""
        kept: set[str] = set()
        for profile, (relevance_cutoff, novelty_cutoff) in cutoffs.items():
            kept |= learning_sample(self.label_index(
                relevance_cutoff=relevance_cutoff, novelty_cutoff=novelty_cutoff,
                profile=profile), day)
        return compact(self.db, kept, day=day, novelty_days=novelty_days,
                       archive_dir=self.archive_dir)

    @property
    def archive_dir(self) -> Path:
        """Where ``compact`` writes the archive shards (beside the store)."""
        return self.path.parent / ARCHIVE_FOLDER

    # -- the learner's folds --------------------------------------------------------------

    def learner_fold(self, model: str, day: int) -> tuple[np.ndarray, np.ndarray] | None:
        """A kept fold of ``model``'s learner: (signals, labels), or None."""
        row = self.db.execute("SELECT signals, labels FROM learner_folds WHERE model = ? AND"
                              " day = ?", (model, day)).fetchone()
        if row is None:
            return None
        signals = np.frombuffer(row[0], dtype=np.float32).reshape(-1, 3)
        return signals.astype(np.float64), np.frombuffer(row[1], dtype=np.int8).astype(int)

    def save_learner_fold(self, model: str, day: int, signals: np.ndarray,
                          labels: np.ndarray) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO learner_folds (model, day, signals, labels, made_at)"
            " VALUES (?, ?, ?, ?, ?)", (model, day, signals.astype(np.float32).tobytes(),
                                        labels.astype(np.int8).tobytes(), now()))
        self.db.execute("DELETE FROM learner_folds WHERE model = ? AND day < ?",
                        (model, day - 120))  # far older than any day the learner weighs
        self.db.execute("DELETE FROM learner_predictions WHERE model = ? AND day <= ?",
                        (model, day))  # made into this fold, or never will be

    def learner_predictions(self, model: str, day: int) -> dict[str, np.ndarray]:
        """The learned signals ``model`` gave the papers of ``day`` that morning."""
        row = self.db.execute("SELECT keys, signals FROM learner_predictions WHERE model = ?"
                              " AND day = ?", (model, day)).fetchone()
        if row is None:
            return {}
        signals = np.frombuffer(row[1], dtype=np.float32).reshape(-1, 3).astype(np.float64)
        return dict(zip(json.loads(row[0]), signals, strict=True))

    def save_learner_predictions(self, model: str, day: int, keys: Sequence[str],
                                 signals: np.ndarray) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO learner_predictions (model, day, keys, signals)"
            " VALUES (?, ?, ?, ?)", (model, day, json.dumps(list(keys)),
                                     signals.astype(np.float32).tobytes()))
        self.db.execute("DELETE FROM learner_predictions WHERE model = ? AND day < ?",
                        (model, day - PREDICTION_DAYS))

    # -- zero-shot scores ---------------------------------------------------------------

    def zero_shot_scores(self, keys: Sequence[str], interests: str) -> dict[str, float]:
        rows = self._rows_for_ids(
            "SELECT arxiv_id, score FROM zero_shot WHERE interests = ? AND arxiv_id IN ({ids})",
            (interests,), keys)
        return {key: float(score) for key, score in rows}

    def save_zero_shot(self, interests: str, scores: dict[str, float]) -> None:
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO zero_shot (arxiv_id, interests, score) VALUES (?, ?, ?)",
                [(key, interests, float(score)) for key, score in scores.items()])

