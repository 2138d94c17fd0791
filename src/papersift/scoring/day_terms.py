"""The words of the papers scored together, as one sparse matrix: built once a morning
and shared by every reader's lexical matcher.

A phrase of the interests is a set of terms (stemmed words and word pairs, see
``lexical.words``); matching all the phrases of every reader against the day is then two
sparse products (weighted counts and presence) instead of a loop over papers per reader.
Each phrase's column is kept, so a phrase two readers share is matched once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

# Less than this share of a phrase's weight is a passing word ("neural networks" of "how
# neural networks form features"), not a match. Tried 0, 1/3, 1/2, 2/3: 1/3 was the best
# over the 11 labelled days and better than none in both halves of them.
LEAST_MATCH = 0.34


@dataclass(frozen=True)
class Phrase:
    text: str  # as the reader wrote it
    terms: frozenset[str]
    words: frozenset[str]  # its single stemmed words
    single_parts: frozenset[str]  # its "and" / "or" parts of one word ("sparse")
    # ``terms`` in the order written: what is iterated, so that no output depends on the
    # order of a set (which changes with each process's hash seed)
    ordered: tuple[str, ...] = ()

    @property
    def pairs(self) -> frozenset[str]:
        return self.terms - self.words


@dataclass(frozen=True)
class PhraseColumns:
    """Per paper and phrase: its match (0 when below ``LEAST_MATCH``), whether a part of
    it is squarely there, and whether all of it is plainly there (for a filter)."""

    score: np.ndarray  # (papers, phrases) float
    squarely: np.ndarray  # (papers, phrases) bool
    plainly: np.ndarray  # (papers, phrases) bool


class DayTerms:
    """Term counts of ``texts`` (one row each) and each term's rarity among them."""

    def __init__(self, found: Sequence[tuple[tuple[str, str], ...]]):
        """``found``: ``lexical.words`` of each text, in order."""
        self.found = found
        self.vocabulary: dict[str, int] = {}
        rows, columns = [], []
        for row, terms in enumerate(found):
            for term, _ in terms:
                rows.append(row)
                columns.append(self.vocabulary.setdefault(term, len(self.vocabulary)))
        self.n = len(found)
        shape = (self.n, len(self.vocabulary))
        counts = sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=shape)
        counts.sum_duplicates()
        self.counts = counts
        self.frequency = np.bincount(counts.indices, minlength=shape[1])  # papers per term
        self.unseen = math.log(self.n + 1)
        self.weights = np.log((self.n + 1) / (self.frequency + 1))
        weighted = counts.copy()
        weighted.data = self.weights[weighted.indices] * (1 + np.log(weighted.data))
        self.weighted = weighted
        present = counts.copy()
        present.data = np.ones_like(present.data)
        self.present = present
        self._blocks: list[PhraseColumns] = []
        self._where: dict[str, tuple[int, int]] = {}  # phrase -> (block, its column there)
        self._row_terms: list[frozenset[str] | None] = [None] * self.n

    def terms_of(self, row: int) -> frozenset[str]:
        """The terms of paper ``row``."""
        if self._row_terms[row] is None:
            self._row_terms[row] = frozenset(term for term, _ in self.found[row])
        return self._row_terms[row]

    def weight(self, term: str) -> float:
        index = self.vocabulary.get(term)
        return float(self.weights[index]) if index is not None else self.unseen

    def columns(self, phrases: Sequence[Phrase]) -> PhraseColumns:
        """The match columns of ``phrases``, in order; those not matched yet are matched
        together, in one pass over the day."""
        fresh = list({p.text: p for p in phrases if p.text not in self._where}.values())
        if fresh:
            self._where.update((p.text, (len(self._blocks), i)) for i, p in enumerate(fresh))
            self._blocks.append(self._match(fresh))
        picks = [self._where[p.text] for p in phrases]
        parts = [np.zeros((self.n, 0)), np.zeros((self.n, 0), bool), np.zeros((self.n, 0), bool)]
        if picks:
            parts = [np.column_stack([getattr(self._blocks[b], name)[:, i] for b, i in picks])
                     for name in ("score", "squarely", "plainly")]
        return PhraseColumns(*parts)

    def _indicator(self, term_sets: Sequence[frozenset[str]]) -> sparse.csc_matrix:
        """(terms, sets): 1 where a set holds a term of the day."""
        rows, columns = [], []
        for column, terms in enumerate(term_sets):
            for term in sorted(terms):  # a fixed order: the same sums in every process
                if (index := self.vocabulary.get(term)) is not None:
                    rows.append(index)
                    columns.append(column)
        return sparse.csc_matrix((np.ones(len(rows)), (rows, columns)),
                                 shape=(len(self.vocabulary), len(term_sets)))

    def _match(self, phrases: Sequence[Phrase]) -> PhraseColumns:
        totals = np.array([sum(self.weight(t) for t in p.ordered) or 1.0 for p in phrases])
        terms = self._indicator([p.terms for p in phrases])
        found = (self.weighted @ terms).toarray()
        share = found / totals
        # One word of a longer phrase is not the phrase ("mixture" of "mixture of
        # experts", "laws" of "scaling laws"): two of its words side by side are, or a
        # one-word part of it ("sparse" of "sparse or dictionary learning").
        gate = (self.present @ self._indicator(
            [p.single_parts | p.pairs for p in phrases])).toarray() > 0
        gated = np.array([len(p.words) > 1 for p in phrases])
        passes = (share >= LEAST_MATCH) & (gate | ~gated)
        score = np.where(passes, share, 0.0)
        # Squarely: a part of a phrase ("KV-cache eviction" of "KV-cache eviction and
        # compression") all there, or a one-word phrase.
        pairs = (self.present @ self._indicator([p.pairs for p in phrases])).toarray() > 0
        single = np.array([len(p.words) == 1 for p in phrases])
        single_there = (self.present @ self._indicator(
            [p.words if len(p.words) == 1 else frozenset() for p in phrases])).toarray() > 0
        squarely = pairs | (single & single_there)
        # Plainly (said in a comment): every term there (a term the day lacks is never
        # counted), a one-word phrase more than once.
        sizes = np.array([len(p.terms) for p in phrases])
        plainly = ((self.present @ terms).toarray() >= sizes) & (sizes > 0)
        for column, phrase in enumerate(phrases):
            if len(phrase.words) == 1 and plainly[:, column].any():
                index = self.vocabulary[next(iter(phrase.words))]
                plainly[:, column] &= self.counts[:, index].toarray().ravel() >= 2
        return PhraseColumns(score, squarely, plainly)
