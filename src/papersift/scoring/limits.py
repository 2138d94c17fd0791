"""What stops or limits an LLM run, and what a batch of requests came to: the run's
budget and time limits, the reasons papers stay unscored, merged batch results."""

from __future__ import annotations

from dataclasses import dataclass, field

from papersift.config import LLMConfig
from papersift.models import Usage
from papersift.scoring.chat import RequestFailed
from papersift.store import CachedScore

BUDGET_REASON = "budget"
TIME_REASON = "time limit"
BATCH_REASON = "batch pending"


class OverBudget(Exception):
    """The run reached its token or cost limit: no further request is sent."""


class OverTime(Exception):
    """The run reached ``llm.max_seconds_per_run``: no further request is sent."""


Stopped = RequestFailed | OverBudget | OverTime


@dataclass
class BatchScores:
    """What one batch (and the halves it was split into) came to."""

    scores: dict[str, CachedScore] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # unscored id -> why
    stopped: bool = False  # a run limit was reached: later rounds send nothing

    def merge(self, other: BatchScores) -> BatchScores:
        self.scores.update(other.scores)
        self.reasons.update(other.reasons)
        self.stopped |= other.stopped
        return self


def reason_for(exc: Stopped) -> str:
    """The reason shown for papers a stopped or failed request leaves unscored."""
    if isinstance(exc, OverBudget):
        return f"{BUDGET_REASON}: {exc}"
    if isinstance(exc, OverTime):
        return f"{TIME_REASON}: {exc}"
    return f"request failed: {exc}"


def sum_costs(*usages: Usage) -> float | None:
    """The total cost, or None when any part's price is unknown."""
    costs = [u.total_cost for u in usages]
    return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)


def over_budget(config: LLMConfig, *usages: Usage) -> str | None:
    """Why ``usages`` together pass the run's token or cost limit, or None (an unknown
    price cannot pass a cost limit)."""
    return _over(config.max_tokens_per_run, config.max_cost_per_run, "the run's", usages)


@dataclass
class MorningSpend:
    """What every reader's requests of one morning have spent and hold in flight, against
    the morning's limits (``llm.max_tokens_per_morning``, ``llm.max_cost_per_morning``):
    one object shared by the readers' scorers and their panels."""

    max_tokens: int = 0
    max_cost: float = 0.0
    usage: Usage = field(default_factory=Usage)
    reserved: Usage = field(default_factory=Usage)

    @classmethod
    def of(cls, config: LLMConfig) -> MorningSpend:
        return cls(config.max_tokens_per_morning, config.max_cost_per_morning)

    def over(self, estimate: Usage) -> str | None:
        """Why one more request of ``estimate`` would pass a morning limit, or None."""
        return _over(self.max_tokens, self.max_cost, "the morning's",
                     (self.usage, self.reserved, estimate))

    def share(self, parts: int) -> MorningSpend:
        """One of ``parts`` equal shares of what is left of the morning's limits (for
        readers finished apart, which cannot see each other's spending): together they
        never pass the limits."""
        left_tokens = self.max_tokens - self.usage.total_tokens - self.reserved.total_tokens
        spent = sum_costs(self.usage, self.reserved) or 0.0
        return MorningSpend(
            max(1, left_tokens // parts) if self.max_tokens else 0,
            max(1e-9, (self.max_cost - spent) / parts) if self.max_cost else 0.0)


def _over(max_tokens: int, max_cost: float, whose: str, usages: tuple[Usage, ...]
          ) -> str | None:
    tokens = sum(u.total_tokens for u in usages)
    if max_tokens and tokens > max_tokens:
        return f"{whose} limit of {max_tokens} tokens was reached"
    cost = sum_costs(*usages)
    if max_cost and cost is not None and cost > max_cost:
        return f"{whose} limit of ${max_cost:.2f} was reached"
    return None
