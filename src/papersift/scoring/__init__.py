"""Scorers: turn candidates into relevance and novelty scores (1–10) with a comment.

Every scorer has the same small shape (``Scorer``): a name, the model it reports, and
``score(candidates) -> ScoringOutcome`` in which each candidate is either scored or
listed as not scored with a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from papersift.models import Candidate, ScoringOutcome


class Scorer(Protocol):
    @property
    def model(self) -> str:
        """The model name shown in the digest's token table."""
        ...

    def score(self, candidates: Sequence[Candidate]) -> ScoringOutcome:
        """Score every candidate; none may be left out of the outcome."""
        ...
