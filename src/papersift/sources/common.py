"""Id handling, cross-category de-duplication and announce-type filtering."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from papersift.models import AnnounceType, Filtered, Paper
from papersift.text import clean_text

_ID = re.compile(
    r"(?P<id>(?:\d{4}\.\d{4,5})|(?:[a-z][a-z.-]*/\d{7}))(?:v(?P<version>\d+))?",
    re.IGNORECASE,
)

# When a paper is listed under several categories, the strongest listing wins:
# a paper that is "new" in one feed and "cross" in another is new to this user.
_PRECEDENCE: dict[str, int] = {"new": 0, "replace": 1, "cross": 2, "replace-cross": 3}


def split_arxiv_id(raw: str) -> tuple[str, int]:
    """``'oai:arXiv.org:2604.01234v2'`` → ``('2604.01234', 2)``; raises ValueError."""
    match = _ID.search(raw.strip())
    if not match:
        raise ValueError(f"no arXiv id in {raw!r}")
    version = int(match.group("version")) if match.group("version") else 1
    return match.group("id"), version


def id_month(arxiv_id: str) -> dt.date | None:
    """The month an id was assigned (its first day): ``2604.01234`` → 2026-04-01.

    arXiv assigns ids at submission, so a paper is never announced before its id's month,
    and a *new* paper is announced in that month or the next.
    """
    match = re.match(r"^(?:[a-z][a-z.-]*/)?(\d{2})(\d{2})", arxiv_id, re.IGNORECASE)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    return dt.date(2000 + year if year < 91 else 1900 + year, month, 1)


def normalize_arxiv_id(raw: str) -> str | None:
    """The version-free id in ``raw``, or None when there is none."""
    try:
        return split_arxiv_id(raw)[0]
    except ValueError:
        return None


def merge_listings(listings: Iterable[Sequence[Paper]]) -> list[Paper]:
    """One paper per id across category listings, first-seen order kept."""
    merged: dict[str, Paper] = {}
    for listing in listings:
        for paper in listing:
            held = merged.get(paper.arxiv_id)
            if held is None or _PRECEDENCE[paper.announce_type] < _PRECEDENCE[held.announce_type]:
                merged[paper.arxiv_id] = paper
    return list(merged.values())


def keep_announced(
    papers: Sequence[Paper],
    announce_types: Sequence[AnnounceType],
    categories: Sequence[str],
    force_primary: bool,
) -> tuple[list[Paper], list[Filtered]]:
    """Split papers into those of the wanted announce types and those left out, with why."""
    kept: list[Paper] = []
    filtered: list[Filtered] = []
    for paper in papers:
        if paper.announce_type not in announce_types:
            filtered.append(Filtered(paper, f"announce type {paper.announce_type}"))
        elif force_primary and paper.primary_category not in categories:
            filtered.append(Filtered(paper, f"primary category {paper.primary_category}"))
        else:
            kept.append(paper)
    return kept, filtered


def split_authors(creator: str) -> tuple[str, ...]:
    """``'A, B and C'`` → ``('A', 'B', 'C')``."""
    parts = re.split(r",\s*|\s+and\s+", clean_text(creator))
    return tuple(p.strip() for p in parts if p.strip())
