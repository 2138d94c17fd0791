"""Choosing and ranking the digest's papers."""

from __future__ import annotations

from collections.abc import Iterable

from papersift.models import Candidate, Scored, Selected, Spotlight


def author_matched(candidate: Candidate) -> Scored:
    """A followed author's paper: kept without asking the scorer, with a comment saying why."""
    names = ", ".join(candidate.matched_authors)
    return Scored(candidate, None, None, f"Author match: {names}", "author match")


def select(
    scored: Iterable[Scored],
    *,
    relevance_cutoff: int,
    novelty_cutoff: int,
    author_match_score: int,
) -> list[Selected]:
    """Papers over both cutoffs, plus author matches, best first.

    Rank: author matches score ``author_match_score``, others relevance + novelty;
    ties go to the higher relevance, then the newer id.
    """
    chosen: list[Selected] = []
    for item in scored:
        if item.candidate.author_match:
            chosen.append(Selected(item, author_match_score))
        elif (item.relevance is not None and item.novelty is not None
              and item.relevance >= relevance_cutoff and item.novelty >= novelty_cutoff):
            chosen.append(Selected(item, item.relevance + item.novelty))
    chosen.sort(key=lambda s: (-s.score, -(s.scored.relevance or 0), _newest_first(s)))
    return chosen


def _newest_first(selected: Selected) -> tuple[int, ...]:
    digits = [int(part) for part in selected.paper.arxiv_id.replace("/", ".").split(".")
              if part.isdigit()]
    return tuple(-d for d in digits)


def spotlight(selected: list[Selected], count: int) -> tuple[Spotlight, ...]:
    """The first ``count`` papers of the digest (followed authors, then the best scores),
    each with one line on why it stands out."""
    chosen = []
    for rank, item in enumerate(selected[:count], start=1):
        scored = item.scored
        if scored.candidate.matched_authors:
            lead = f"By {', '.join(scored.candidate.matched_authors)}, whom you follow"
        elif rank == 1 or item.score == selected[0].score:
            lead = "The day's top score"
        else:
            lead = f"Top {rank} of {len(selected)}"
        details = ([f"relevance {scored.relevance}/10, novelty {scored.novelty}/10"]
                   if scored.relevance is not None and scored.novelty is not None else [])
        if scored.topic:
            details.append(scored.topic)
        chosen.append(Spotlight(item, rank, "; ".join([lead, *details]) + "."))
    return tuple(chosen)
