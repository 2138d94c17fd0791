"""Typed records that flow one way through the pipeline.

``Paper`` (sources) → ``Candidate`` (authors) → ``Scored`` / ``NotScored`` (scoring)
→ ``Digest`` (selection) → rendered files (render, publish).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["digest", "partial", "no_announcements", "upstream_failure"]
AnnounceType = Literal["new", "cross", "replace", "replace-cross"]
ANNOUNCE_TYPES: tuple[AnnounceType, ...] = ("new", "cross", "replace", "replace-cross")


@dataclass(frozen=True)
class Paper:
    """One arXiv paper as announced on a day (version-free id)."""

    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]  # primary first
    announce_type: AnnounceType = "new"
    version: int = 1
    comment: str = ""

    @property
    def primary_category(self) -> str:
        return self.categories[0] if self.categories else ""

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.arxiv_id}"


@dataclass(frozen=True)
class FetchedDay:
    """Everything a source found for one announcement day, before any filtering."""

    day: dt.date
    papers: tuple[Paper, ...]
    source: str  # a short description: "arXiv RSS", "arXiv API", "file x.jsonl"


@dataclass(frozen=True)
class Filtered:
    """A fetched paper that was left out before scoring, with the reason."""

    paper: Paper
    reason: str


@dataclass(frozen=True)
class Candidate:
    """A paper that goes on to scoring, with the followed authors it matched."""

    paper: Paper
    matched_authors: tuple[str, ...] = ()

    @property
    def author_match(self) -> bool:
        return bool(self.matched_authors)


@dataclass(frozen=True)
class Scored:
    """A candidate with its scores (1–10) and the scorer's one-line reason."""

    candidate: Candidate
    relevance: int | None
    novelty: int | None
    comment: str
    scorer: str  # model name, or "author match"
    topic: str = ""  # the reader's topic it belongs to, when known

    @property
    def paper(self) -> Paper:
        return self.candidate.paper


@dataclass(frozen=True)
class NotScored:
    """A candidate the scorer could not score; it is listed in the digest, never dropped."""

    candidate: Candidate
    reason: str

    @property
    def paper(self) -> Paper:
        return self.candidate.paper


@dataclass
class Usage:
    """Token use of LLM requests; cost is None when the model's price is unknown."""

    requests: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    prompt_cost: float | None = 0.0
    completion_cost: float | None = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def total_cost(self) -> float | None:
        if self.prompt_cost is None or self.completion_cost is None:
            return None
        return self.prompt_cost + self.completion_cost

    def subtract(self, other: Usage) -> None:
        """Take back an ``add`` (an estimate replaced by real usage)."""
        self.requests -= other.requests
        self.prompt_tokens -= other.prompt_tokens
        self.cached_tokens -= other.cached_tokens
        self.completion_tokens -= other.completion_tokens
        self.prompt_cost = _add_cost(self.prompt_cost, _negate(other.prompt_cost))
        self.completion_cost = _add_cost(self.completion_cost, _negate(other.completion_cost))

    def split(self, parts: int) -> list[Usage]:
        """This usage in ``parts`` shares (one request shared by several readers): the
        tokens as evenly as whole tokens go, each share one request."""
        def shares(total: int) -> list[int]:
            return [total // parts + (index < total % parts) for index in range(parts)]

        def cost(value: float | None) -> float | None:
            return None if value is None else value / parts

        return [Usage(1, prompt, cached, completion, cost(self.prompt_cost),
                      cost(self.completion_cost))
                for prompt, cached, completion in zip(
                    shares(self.prompt_tokens), shares(self.cached_tokens),
                    shares(self.completion_tokens), strict=True)]

    def add(self, other: Usage) -> None:
        """Accumulate another usage into this one (unknown cost stays unknown)."""
        self.requests += other.requests
        self.prompt_tokens += other.prompt_tokens
        self.cached_tokens += other.cached_tokens
        self.completion_tokens += other.completion_tokens
        self.prompt_cost = _add_cost(self.prompt_cost, other.prompt_cost)
        self.completion_cost = _add_cost(self.completion_cost, other.completion_cost)


def _negate(cost: float | None) -> float | None:
    return None if cost is None else -cost


def _add_cost(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


@dataclass(frozen=True)
class ScoringOutcome:
    """What a scorer returns for a list of candidates: every candidate lands in one list.

    ``asked`` counts the candidates it had to judge (not already in the store), ``fresh``
    those it judged this time: asked > 0 with fresh == 0 means the scorer failed.
    """

    scored: tuple[Scored, ...]
    not_scored: tuple[NotScored, ...]
    filtered: tuple[Filtered, ...] = ()
    usage: Usage = field(default_factory=Usage)
    asked: int = 0
    fresh: int = 0


@dataclass(frozen=True)
class Summary:
    """A paper's TL;DR: written by an LLM (``model``) in ``language``, or, with
    ``extractive``, the abstract's most informative sentence as arXiv wrote it."""

    text: str
    language: str
    model: str = ""
    extractive: bool = False


@dataclass(frozen=True)
class Selected:
    """A paper chosen for the digest, with its rank score (and summary, when asked for)."""

    scored: Scored
    score: int
    summary: Summary | None = None
    liked: bool = False  # the reader liked it (marked where it is published)

    @property
    def paper(self) -> Paper:
        return self.scored.paper


@dataclass(frozen=True)
class Spotlight:
    """One of the day's best papers, shown on top, and why it stands out."""

    item: Selected
    rank: int  # its place in the digest
    why: str


@dataclass(frozen=True)
class Prompts:
    """What the digest's appendix shows: the LLM's prompts, or, for the local scorer
    (``local``), the interests it read and its settings (no prompt was sent)."""

    system: str  # local: the interests file
    user_template: str  # local: the scorer's settings, one per line
    local: bool = False


@dataclass(frozen=True)
class RunStatus:
    """How a morning's run ended, in one word (``outcome``) and one line (``message``)."""

    outcome: Outcome
    day: dt.date | None  # None when not even the day is known (arXiv unreachable)
    finished_at: dt.datetime
    message: str
    model: str = ""
    selected: int = 0
    total: int = 0
    not_scored: int = 0
    # Steps of the deployment after the run that failed (saving the store, publishing
    # the site), each "what: why"; the morning is a failure while any is listed.
    failed_steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Digest:
    """One day's digest: what the renderers need, and nothing they must recompute."""

    day: dt.date
    model: str
    total: int
    scanned: int
    selected: tuple[Selected, ...]
    not_scored: tuple[NotScored, ...]
    filtered_counts: dict[str, int]
    usage: Usage
    prompts: Prompts
    relevance_cutoff: int
    novelty_cutoff: int
    source: str
    generated_at: dt.datetime
    status: RunStatus | None = None
    spotlight: tuple[Spotlight, ...] = ()
