"""The store's schema as numbered migrations, applied once each, in order, never
dropped and recreated (a store of any earlier papersift opens and upgrades). A
migration is SQL, and where data must be rewritten, a function run in the same
transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

import numpy as np

# Each migration is applied once, in order, inside one transaction with the version bump.
# Never edit a released migration: append a new one.
_M1_INITIAL = """
        CREATE TABLE papers (
            arxiv_id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            title TEXT NOT NULL,
            abstract TEXT NOT NULL,
            authors TEXT NOT NULL,          -- JSON list
            categories TEXT NOT NULL,       -- JSON list, primary first
            comment TEXT NOT NULL DEFAULT '',
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL
        );
        CREATE TABLE announcements (
            day TEXT NOT NULL,
            arxiv_id TEXT NOT NULL REFERENCES papers(arxiv_id),
            announce_type TEXT NOT NULL,
            PRIMARY KEY (day, arxiv_id)
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            day TEXT NOT NULL,
            model TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            total INTEGER,
            scanned INTEGER,
            relevant INTEGER,
            not_scored INTEGER
        );
        CREATE TABLE llm_requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            stage TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            cached_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            prompt_cost REAL,               -- NULL: price unknown
            completion_cost REAL,
            at TEXT NOT NULL
        );
        CREATE TABLE scores (
            arxiv_id TEXT NOT NULL,
            model TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            relevance INTEGER NOT NULL,
            novelty INTEGER NOT NULL,
            comment TEXT NOT NULL,
            scored_at TEXT NOT NULL,
            PRIMARY KEY (arxiv_id, model, fingerprint)
        );
        CREATE TABLE title_verdicts (
            arxiv_id TEXT NOT NULL,
            model TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            keep INTEGER NOT NULL,
            decided_at TEXT NOT NULL,
            PRIMARY KEY (arxiv_id, model, fingerprint)
        );
        CREATE TABLE run_papers (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            arxiv_id TEXT NOT NULL,
            outcome TEXT NOT NULL,          -- filtered | scored | selected | not_scored
            reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, arxiv_id)
        );
        CREATE TABLE api_cache (
            key TEXT PRIMARY KEY,
            payload TEXT NOT NULL,          -- JSON
            fetched_at TEXT NOT NULL
        );
"""

_M2_LOCAL_SCORER = """
        CREATE TABLE embeddings (
            arxiv_id TEXT NOT NULL,
            model TEXT NOT NULL,
            text_hash TEXT NOT NULL,        -- re-embedded when title/abstract change
            vector BLOB NOT NULL,           -- float32, unit length
            PRIMARY KEY (arxiv_id, model)
        );
        CREATE TABLE labels (
            key TEXT NOT NULL,              -- an arXiv id, or 'library:...' for an import
            source TEXT NOT NULL,           -- feedback | library
            label INTEGER NOT NULL,         -- 1 wanted, 0 not wanted
            title TEXT NOT NULL DEFAULT '',
            abstract TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            PRIMARY KEY (key, source)
        );
"""

_M3_RUN_KINDS = """
        ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'daily';  -- daily | monthly
"""

_M4_LLM_BATCHES = """
        CREATE TABLE llm_batches (          -- Batch API submissions (llm.batch_api)
            batch_id TEXT PRIMARY KEY,
            model TEXT NOT NULL,
            requests TEXT NOT NULL,         -- JSON list of the custom_ids it holds
            status TEXT NOT NULL DEFAULT 'pending',  -- pending, or how it ended
            submitted_at TEXT NOT NULL,
            ended_at TEXT
        );
"""

_M5_SUMMARIES = """
        CREATE TABLE summaries (            -- LLM-written TL;DRs ([summary])
            arxiv_id TEXT NOT NULL,
            model TEXT NOT NULL,
            language TEXT NOT NULL,
            text_hash TEXT NOT NULL,        -- written again when title/abstract change
            summary TEXT NOT NULL,
            written_at TEXT NOT NULL,
            PRIMARY KEY (arxiv_id, model, language)
        );
"""

_M6_BOUNDED = """
        CREATE TABLE zero_shot (            -- each paper's zero-shot score, computed once
            arxiv_id TEXT NOT NULL,
            interests TEXT NOT NULL,        -- a hash of the interests and the encoder
            score REAL NOT NULL,
            PRIMARY KEY (arxiv_id, interests)
        );
        CREATE INDEX announcements_by_paper ON announcements (arxiv_id, day);
        CREATE TABLE learner_folds (        -- a labelled day scored by a model of the days
            model TEXT NOT NULL,            -- before it (the learner's stacking), kept
            day INTEGER NOT NULL,           -- proleptic ordinal
            signals BLOB NOT NULL,          -- float32 (papers, 3)
            labels BLOB NOT NULL,           -- int8 (papers,)
            made_at TEXT NOT NULL,
            PRIMARY KEY (model, day)
        );
"""

_M7_PROFILES = """
        CREATE TABLE labels_by_profile (
            key TEXT NOT NULL,
            source TEXT NOT NULL,
            profile TEXT NOT NULL DEFAULT 'default',  -- whose verdict (config [profiles])
            label INTEGER NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            abstract TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            PRIMARY KEY (key, source, profile)
        );
        INSERT INTO labels_by_profile (key, source, profile, label, title, abstract,
                                       created_at)
            SELECT key, source, 'default', label, title, abstract, created_at FROM labels;
        DROP TABLE labels;
        ALTER TABLE labels_by_profile RENAME TO labels;
        ALTER TABLE runs ADD COLUMN profile TEXT NOT NULL DEFAULT 'default';
        CREATE TABLE profile_fingerprints (  -- the LLM judgments each reader learns from
            profile TEXT NOT NULL,
            fingerprint TEXT NOT NULL,      -- scores.fingerprint: interests and prompts
            PRIMARY KEY (profile, fingerprint)
        );
        INSERT OR IGNORE INTO profile_fingerprints (profile, fingerprint)
            SELECT DISTINCT 'default', fingerprint FROM scores;
        INSERT OR IGNORE INTO profile_fingerprints (profile, fingerprint)
            SELECT DISTINCT 'default', fingerprint FROM title_verdicts;
"""

_M8_PREDICTIONS = """
        CREATE TABLE learner_predictions (  -- a morning's learned signals of its own
            model TEXT NOT NULL,            -- papers: the next morning's fold of that day
            day INTEGER NOT NULL,           -- proleptic ordinal
            keys TEXT NOT NULL,             -- JSON list of arXiv ids, in row order
            signals BLOB NOT NULL,          -- float32 (papers, 3)
            PRIMARY KEY (model, day)
        );
"""


def _m6_quantize_embeddings(db: sqlite3.Connection) -> None:
    """float32 embeddings (1.5 kB each) become int8 with a scale (388 bytes)."""
    rows = db.execute("SELECT rowid, vector FROM embeddings").fetchall()
    db.executemany("UPDATE embeddings SET vector = ? WHERE rowid = ?",
                   [(pack_vector(unpack_vector(blob)), rowid) for rowid, blob in rows])


def pack_vector(vector: np.ndarray) -> bytes:
    """A unit vector as one tag byte, a float32 scale and int8 components."""
    vector = np.asarray(vector, dtype=np.float32)
    scale = float(np.abs(vector).max()) / 127.0 or 1.0
    quantized = np.clip(np.rint(vector / scale), -127, 127).astype(np.int8)
    return _INT8 + np.float32(scale).tobytes() + quantized.tobytes()


def unpack_vector(blob: bytes) -> np.ndarray:
    """The stored vector as float32 of unit length (an older store's float32 as is)."""
    return unpack_vectors([blob])[0]


def unpack_vectors(blobs: Sequence[bytes]) -> np.ndarray:
    """``unpack_vector`` of each blob, as rows (at once when all are int8 of one size,
    as a store's are; the same numbers either way)."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    size = len(blobs[0])
    if not all(len(b) == size and size % 4 and b[:1] == _INT8 for b in blobs):
        return np.vstack([unpack_vectors([b]) if len(b) % 4 and b[:1] == _INT8
                          else np.frombuffer(b, dtype=np.float32)[None, :] for b in blobs])
    rows = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), size)
    scales = rows[:, 1:5].copy().view(np.float32)  # (n, 1)
    vectors = rows[:, 5:].view(np.int8).astype(np.float32) * scales
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    return np.divide(vectors, norms, out=vectors, where=norms > 0)


_INT8 = b"\x01"

Migration = str | Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[Migration, ...]] = [
    (_M1_INITIAL,), (_M2_LOCAL_SCORER,), (_M3_RUN_KINDS,), (_M4_LLM_BATCHES,),
    (_M5_SUMMARIES,), (_M6_BOUNDED, _m6_quantize_embeddings), (_M7_PROFILES,),
    (_M8_PREDICTIONS,)]
