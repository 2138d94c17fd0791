"""Local novelty: how closely a paper restates one of the last days' papers.

"New relative to recent arXiv", not a judgment of the paper's originality. The day's own
papers are never compared with each other (two papers on the reader's topic the same
morning are both news); without earlier days in the store, novelty is not measured.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from papersift.store import Store

# Novelty by the similarity of a paper's embedding to its nearest paper of the last days
# (MiniLM cosine): on the labelled days the picks' nearest earlier paper lies where every
# paper's does (median 0.60, 99th percentile 0.75), so ranking papers by it cut a quarter
# of the picks at random; only a paper that restates a recent one scores low.
NOVELTY_BY_SIMILARITY = ((0.95, 1), (0.90, 3), (0.85, 5), (0.80, 6), (0.75, 7), (0.70, 8),
                         (0.60, 9))
UNMEASURED_NOVELTY = 8  # no earlier day to compare with: neither news nor a repeat


def nearest_recent(store: Store, model: str, day: dt.date | None, days: int,
                   vectors: np.ndarray) -> np.ndarray:
    """Each vector's similarity to its nearest paper announced in the ``days`` before
    ``day`` (embedded by ``model``); empty when there is none (or no day)."""
    if day is None:
        return np.zeros(0)
    recent = store.recent_embeddings(model, day - dt.timedelta(days=days), day)
    if not recent.shape[0]:
        return np.zeros(0)
    similarity = vectors @ recent.T
    similarity[similarity > 0.9999] = -1.0  # the paper itself, announced again
    return similarity.max(axis=1)


def novelty(nearest: np.ndarray, papers: int) -> np.ndarray:
    """1-10 from ``nearest_recent`` (``NOVELTY_BY_SIMILARITY``: 10 for a paper unlike
    any recent one); ``UNMEASURED_NOVELTY`` for all ``papers`` without a recent day."""
    if not len(nearest):
        return np.full(papers, UNMEASURED_NOVELTY, dtype=int)
    scores = np.full(len(nearest), 10, dtype=int)
    for threshold, score in reversed(NOVELTY_BY_SIMILARITY):
        scores[nearest >= threshold] = score
    return scores
