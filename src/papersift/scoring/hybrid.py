"""Hybrid scoring: the local scorer ranks the whole day, the LLM reads only the best part.

This replaces the LLM's title pass as the cheap first look: instead of paying the LLM to
read every title, the local ranking decides what the LLM reads. Where it can, the cut is
calibrated on the store's labelled days (``learn.calibrate``): every paper scoring above
the level that the LLM's past picks reached with the requested probability is read, so
a day rich in relevant papers sends more and a thin day less (never less than the least
share a calibration day needed). Until the store can say, a fixed share of the day goes.
Papers below the cut are listed as filtered, with their local relevance, never silently
dropped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from papersift.models import Candidate, Filtered, ScoringOutcome, Usage
from papersift.scoring.llm import LLMScorer
from papersift.scoring.local import LocalScorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """The local prefilter's verdict on a day: the papers the LLM reads, the day's local
    values (the LLM guard's prior) and the papers left below the cut."""

    sent: tuple[Candidate, ...]
    prior: dict[str, float]
    below: tuple[Filtered, ...]


class HybridScorer:
    """The local ranking picks what the LLM reads, and is the LLM guard's prior."""

    def __init__(self, local: LocalScorer, llm: LLMScorer, share: float):
        self.local, self.llm, self.share = local, llm, share
        self._plan: tuple[tuple[str, ...], Plan] | None = None

    @property
    def model(self) -> str:
        return self.llm.model

    def plan(self, candidates: Sequence[Candidate]) -> Plan:
        """What goes to the LLM (with the local ranking as its prior) and what stays
        below the cut; made once per set of candidates (a panel asks first, ``score``
        then finds the same plan)."""
        key = tuple(c.paper.arxiv_id for c in candidates)
        if self._plan is not None and self._plan[0] == key:
            return self._plan[1]
        order = sorted(self.local.ranked(candidates), key=lambda pair: -pair[1])
        cut = self.local.cut
        if cut is not None:
            # Never less than the least share a calibration day needed: a day unlike the
            # labelled ones scores lower across the board, and a pick must not pay for it.
            keep = max(sum(value >= cut.threshold for _, value in order),
                       math.ceil(cut.least_share * len(order)))
            why = f"below the cut calibrated to keep {cut.recall:.0%} of the LLM's picks"
            log.info("local prefilter: %d of %d papers (%.0f%%) go to the LLM, above a cut "
                     "that kept %.0f%% of the picks of %d earlier days (%d picks, %.0f%% of "
                     "their papers, at least %.0f%% of each)", keep, len(order),
                     100 * keep / max(1, len(order)), 100 * cut.recall, cut.days,
                     cut.positives, 100 * cut.share, 100 * cut.least_share)
        else:
            keep = max(1, math.ceil(self.share * len(order))) if order else 0
            why = f"outside the top {self.share:.0%}"
            log.info("local prefilter: the store holds too few labelled days to calibrate "
                     "a cut; the top %.0f%% (%d of %d papers) go to the LLM",
                     100 * self.share, keep, len(order))
        plan = Plan(tuple(s.candidate for s, _ in order[:keep]),
                    {s.paper.arxiv_id: value for s, value in order},
                    tuple(Filtered(s.paper, f"local prefilter: {why} (local relevance "
                                            f"{s.relevance})") for s, _ in order[keep:]))
        self._plan = (key, plan)
        return plan

    def score(self, candidates: Sequence[Candidate]) -> ScoringOutcome:
        plan = self.plan(candidates)
        if not plan.sent:
            return ScoringOutcome((), (), plan.below, Usage(), asked=0, fresh=0)
        outcome = self.llm.score(plan.sent, prior=plan.prior)
        return ScoringOutcome(outcome.scored, outcome.not_scored,
                              (*outcome.filtered, *plan.below), outcome.usage,
                              asked=outcome.asked, fresh=outcome.fresh)
