"""Hybrid scoring: the local scorer ranks the whole day, the LLM reads only the best part.

This replaces the LLM's title pass as the cheap first look: instead of paying the LLM to
read every title, the local ranking (which keeps ~95% of an LLM's picks in its top 40%,
see benchmarks/quality.py) decides what the LLM reads. Papers below the cut are listed as
filtered, with their local rank, never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from papersift.models import Candidate, Filtered, ScoringOutcome
from papersift.scoring.llm import LLMScorer
from papersift.scoring.local import LocalScorer


class HybridScorer:
    """The local ranking picks what the LLM reads, and is the LLM guard's prior."""

    def __init__(self, local: LocalScorer, llm: LLMScorer, share: float):
        self.local, self.llm, self.share = local, llm, share

    @property
    def model(self) -> str:
        return self.llm.model

    def score(self, candidates: Sequence[Candidate]) -> ScoringOutcome:
        order = sorted(self.local.ranked(candidates), key=lambda pair: -pair[1])
        keep = max(1, math.ceil(self.share * len(order))) if order else 0
        sent = order[:keep]
        outcome = self.llm.score([s.candidate for s, _ in sent],
                                 prior={s.paper.arxiv_id: value for s, value in sent})
        below = [Filtered(s.paper, f"local prefilter: outside the top {self.share:.0%} "
                                   f"(local relevance {s.relevance})")
                 for s, _ in order[keep:]]
        return ScoringOutcome(outcome.scored, outcome.not_scored,
                              (*outcome.filtered, *below), outcome.usage,
                              asked=outcome.asked, fresh=outcome.fresh)
