"""What every reader's local ranking of one morning shares, computed once.

Readers differ in their interests, cutoffs and labels; the day does not. The papers'
vectors, how closely each restates a recent paper, the day's words (each phrase of every
reader matched in one sparse product, a phrase two readers share matched once) and the
interests' phrase vectors are kept here for the morning, keyed by the papers they were
computed over, so a thousand readers cost one day's reading plus their own arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from papersift.scoring.day_terms import DayTerms, Phrase
from papersift.scoring.lexical import day_terms

Population = tuple[str, ...]  # the keys of the papers scored together, in order


class SharedDay:
    """One morning's shared work; one instance serves every reader of the run."""

    def __init__(self) -> None:
        self.phrase_vectors: dict[str, np.ndarray] = {}  # text -> its vector, alone
        self._terms: dict[Population, DayTerms] = {}
        self._vectors: dict[Population, np.ndarray] = {}
        self._nearest: dict[tuple[Population, int], np.ndarray] = {}

    def terms(self, keys: Sequence[str], texts: Sequence[str]) -> DayTerms:
        """The words of ``texts`` (the papers ``keys``), counted once."""
        population = tuple(keys)
        if population not in self._terms:
            self._terms[population] = day_terms(texts)
        return self._terms[population]

    def match_all(self, keys: Sequence[str], texts: Sequence[str],
                  phrases: Sequence[Phrase]) -> None:
        """Every reader's phrases matched against these papers at once."""
        self.terms(keys, texts).columns(phrases)

    def vectors(self, keys: Sequence[str],
                compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The papers' unit vectors (``compute``: read or embed them), once."""
        population = tuple(keys)
        if population not in self._vectors:
            self._vectors[population] = compute()
        return self._vectors[population]

    def nearest(self, keys: Sequence[str], history_days: int,
                compute: Callable[[], np.ndarray]) -> np.ndarray:
        """Each paper's similarity to its nearest paper of the last ``history_days``."""
        slot = (tuple(keys), history_days)
        if slot not in self._nearest:
            self._nearest[slot] = compute()
        return self._nearest[slot]
