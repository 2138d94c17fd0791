"""What the store keeps, so that it stays small and a morning costs the same in year two
as in week two.

Every label is kept as a label; what a paper's *text and embedding* are kept for is the
learner, and the learner reads a bounded sample (``learning_sample``): every verdict of
the reader (likes, dislikes, an imported library), the newest ``MAX_WANTED`` papers an
LLM picked, and ``MAX_UNWANTED`` of those it passed over, drawn with a preference for
recent days (weighted sampling without replacement, keyed by a hash of the id, so the
sample is stable from one morning to the next and a paper that leaves it never returns).

``compact`` runs after each published day:

- a paper outside the sample loses its text once its day is published (the day's JSON
  and Markdown keep what the reader saw), and its embedding once it is older than the
  novelty window;
- a paper older than ``ARCHIVE_AFTER_DAYS`` (and outside the sample) moves, with its
  scores and verdicts, into an archive shard ``archive/YYYY-MM-DD.sqlite`` written once
  and never changed: the store the morning opens stays the size of a few weeks, and a
  re-run of an old day still finds its LLM scores there (nothing is paid for twice);
- caches past their use are pruned, and the file is vacuumed when it is mostly free
  pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MAX_WANTED = 2000  # the newest papers an LLM picked (all of the reader's own are kept)
MAX_UNWANTED = 4000  # of those it passed over, recent days preferred
RECENCY_DAYS = 60.0  # an unwanted paper this many days older weighs e times less
ARCHIVE_AFTER_DAYS = 32  # just past the novelty window (30): the hot store stays < 50 MB
KEEP_CACHE_DAYS = 60  # API answers (Semantic Scholar) and per-run outcomes
ARCHIVE_FOLDER = "archive"
# Moved to an archive shard, in this order (papers last: the others refer to it).
ARCHIVED_TABLES = ("announcements", "scores", "title_verdicts", "summaries", "papers")


@dataclass(frozen=True)
class LabelRow:
    """One labelled paper, without its text: enough to choose the sample."""

    key: str
    wanted: bool
    day: dt.date | None
    reader: bool  # the reader's own verdict (feedback, library), always kept


def learning_sample(rows: Iterable[LabelRow], today: dt.date) -> set[str]:
    """The keys the learner trains on (see the module's docstring)."""
    kept: set[str] = set()
    wanted: list[LabelRow] = []
    unwanted: list[tuple[float, str]] = []
    for row in rows:
        if row.reader:
            kept.add(row.key)
        elif row.wanted:
            wanted.append(row)
        else:
            age = (today - row.day).days if row.day else 0
            unwanted.append((_priority(row.key, max(age, 0)), row.key))
    wanted.sort(key=lambda r: (r.day or today, r.key), reverse=True)
    kept.update(r.key for r in wanted[:MAX_WANTED])
    unwanted.sort(reverse=True)
    kept.update(key for _, key in unwanted[:MAX_UNWANTED])
    return kept


def _priority(key: str, age_days: int) -> float:
    """Efraimidis-Spirakis key log(u)/w with weight w = exp(-age/RECENCY_DAYS): the
    largest keys are a weighted sample without replacement. u comes from the id, so the
    order of two papers never changes as both grow older."""
    digest = hashlib.sha256(key.encode()).digest()
    u = (int.from_bytes(digest[:8], "big") + 1) / (2**64 + 2)
    return math.log(u) * math.exp(age_days / RECENCY_DAYS)


@dataclass(frozen=True)
class Compaction:
    texts_dropped: int
    embeddings_dropped: int
    archived: int
    shard: Path | None


def compact(db: sqlite3.Connection, sample: set[str], *, day: dt.date, novelty_days: int,
            archive_dir: Path) -> Compaction:
    """Apply the retention rules after ``day`` is published (one transaction each)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (arxiv_id TEXT PRIMARY KEY)")
    db.execute("DELETE FROM keep")
    db.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(k,) for k in sample])
    db.execute("INSERT OR IGNORE INTO keep SELECT key FROM labels")
    # When each paper was last announced, once (each rule below asks it of every paper).
    db.execute("CREATE TEMP TABLE IF NOT EXISTS last_seen (arxiv_id TEXT PRIMARY KEY, "
               "day TEXT NOT NULL)")
    db.execute("DELETE FROM last_seen")
    db.execute("INSERT INTO last_seen SELECT arxiv_id, max(day) FROM announcements "
               "GROUP BY arxiv_id")
    outside = ("arxiv_id NOT IN (SELECT arxiv_id FROM keep) AND arxiv_id IN "
               "(SELECT arxiv_id FROM last_seen WHERE day {} ?)")
    db.execute("BEGIN")
    texts = db.execute(
        "UPDATE papers SET title = '', abstract = '', authors = '[]', comment = ''"
        f" WHERE title != '' AND {outside.format('<')}", (day.isoformat(),)).rowcount
    db.execute(f"DELETE FROM zero_shot WHERE {outside.format('<')}", (day.isoformat(),))
    horizon = (day - dt.timedelta(days=novelty_days)).isoformat()
    vectors = db.execute(f"DELETE FROM embeddings WHERE {outside.format('<')}",
                         (horizon,)).rowcount
    db.execute("DELETE FROM api_cache WHERE fetched_at < ?",
               ((day - dt.timedelta(days=KEEP_CACHE_DAYS)).isoformat(),))
    db.execute("DELETE FROM run_papers WHERE run_id IN (SELECT id FROM runs WHERE day < ?)",
               ((day - dt.timedelta(days=KEEP_CACHE_DAYS)).isoformat(),))
    db.execute("COMMIT")
    archived, shard = _archive(db, day, outside.format("<"), archive_dir)
    if texts or vectors or archived:
        # Emptied texts leave half-empty pages that only a rebuild gives back (seconds
        # for the few tens of MB a store holds; the rebuilt file also diffs well in git).
        db.execute("VACUUM")
    return Compaction(texts, vectors, archived, shard)


def _archive(db: sqlite3.Connection, day: dt.date, outside: str,
             archive_dir: Path) -> tuple[int, Path | None]:
    """Move papers last announced before the archive horizon into a new shard."""
    horizon = (day - dt.timedelta(days=ARCHIVE_AFTER_DAYS)).isoformat()
    db.execute("CREATE TEMP TABLE IF NOT EXISTS leaving (arxiv_id TEXT PRIMARY KEY)")
    db.execute("DELETE FROM leaving")
    db.execute(f"INSERT INTO leaving SELECT arxiv_id FROM papers WHERE {outside}", (horizon,))
    count = db.execute("SELECT count(*) FROM leaving").fetchone()[0]
    if not count:
        return 0, None
    archive_dir.mkdir(parents=True, exist_ok=True)
    shard = archive_dir / f"{day.isoformat()}.sqlite"
    partial = shard.with_name(f".{shard.name}.tmp")
    partial.unlink(missing_ok=True)
    db.execute("ATTACH DATABASE ? AS shard", (str(partial),))
    try:
        db.execute("BEGIN")
        for table in reversed(ARCHIVED_TABLES):  # papers first in the new file
            db.execute(f"CREATE TABLE shard.{table} AS SELECT * FROM main.{table} WHERE 0")
            db.execute(f"INSERT INTO shard.{table} SELECT * FROM main.{table} "
                       "WHERE arxiv_id IN (SELECT arxiv_id FROM leaving)")
        db.execute("CREATE INDEX shard.scores_by_paper ON scores (arxiv_id, model, "
                   "fingerprint)")
        db.execute("COMMIT")
    finally:
        db.execute("DETACH DATABASE shard")
    if shard.exists():  # a second compaction the same day: keep both, never overwrite
        shard = archive_dir / f"{day.isoformat()}-{_free_suffix(archive_dir, day)}.sqlite"
    partial.replace(shard)
    db.execute("BEGIN")
    for table in ARCHIVED_TABLES:
        db.execute(f"DELETE FROM main.{table} WHERE arxiv_id IN (SELECT arxiv_id FROM leaving)")
    db.execute("DELETE FROM main.embeddings WHERE arxiv_id IN (SELECT arxiv_id FROM leaving)")
    db.execute("DELETE FROM main.zero_shot WHERE arxiv_id IN (SELECT arxiv_id FROM leaving)")
    db.execute("COMMIT")
    return count, shard


def _free_suffix(folder: Path, day: dt.date) -> int:
    number = 2
    while (folder / f"{day.isoformat()}-{number}.sqlite").exists():
        number += 1
    return number


def archived_scores(archive_dir: Path, ids: set[str], model: str,
                    fingerprint: str) -> dict[str, tuple[int, int, str]]:
    """Scores of ``ids`` kept in the archive shards (newest shard first)."""
    found: dict[str, tuple[int, int, str]] = {}
    for shard in sorted(archive_dir.glob("*.sqlite"), reverse=True):
        missing = sorted(ids - found.keys())
        if not missing:
            break
        try:
            with sqlite3.connect(f"file:{shard}?mode=ro", uri=True) as db:
                for start in range(0, len(missing), 500):
                    chunk = missing[start:start + 500]
                    rows = db.execute(
                        "SELECT arxiv_id, relevance, novelty, comment FROM scores WHERE "
                        f"model = ? AND fingerprint = ? AND arxiv_id IN "
                        f"({','.join('?' * len(chunk))})", (model, fingerprint, *chunk))
                    for key, relevance, novelty, comment in rows:
                        found.setdefault(key, (relevance, novelty, comment))
        except sqlite3.Error:
            continue  # a shard not restored (sparse checkout) or damaged: scored again
    return found
