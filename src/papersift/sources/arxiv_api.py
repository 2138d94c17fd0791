"""arXiv's query API (export.arxiv.org/api/query) for any past announcement day.

arXiv announces, on day D, what was submitted between 14:00 US Eastern on the two
weekdays before D. The API is asked for that submission window per category, page by
page, with a pause between requests as arXiv's terms of use ask.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import feedparser
import httpx

from papersift.errors import SourceError
from papersift.http import HTTPFailure, Pacer, RetryPolicy, request
from papersift.models import Paper
from papersift.progress import NULL_PROGRESS, Progress
from papersift.sources.common import clean_text, split_arxiv_id

log = logging.getLogger(__name__)
EASTERN = ZoneInfo("America/New_York")
CUTOFF = dt.time(14, 0)


def previous_weekday(day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def submission_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC submission window whose papers arXiv announces on ``day``.

    Holidays are not modelled: after a holiday the window is one weekday short.
    """
    end_day = previous_weekday(day)
    start_day = previous_weekday(end_day)
    start = dt.datetime.combine(start_day, CUTOFF, EASTERN).astimezone(dt.UTC)
    end = dt.datetime.combine(end_day, CUTOFF, EASTERN).astimezone(dt.UTC)
    return start, end


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d%H%M")


def fetch_api_day(
    client: httpx.Client,
    base_url: str,
    categories: Sequence[str],
    day: dt.date,
    *,
    page_size: int = 200,
    delay_seconds: float = 3.0,
    include_replacements: bool = False,
    progress: Progress = NULL_PROGRESS,
    policy: RetryPolicy | None = None,
) -> list[list[Paper]]:
    """Every paper announced on ``day`` in each category, as one listing per category."""
    start, end = submission_window(day)
    window = f"[{_stamp(start)} TO {_stamp(end)}]"
    pacer = Pacer(delay_seconds)
    task = progress.start(f"Fetching arXiv API for {day}", total=None)

    def query(search: str) -> list[Paper]:
        return _query_all(client, base_url, search, page_size, pacer, progress, task, policy)

    listings = []
    for category in categories:
        papers = [_with_type(p, category, replaced=False)
                  for p in query(f"cat:{category} AND submittedDate:{window}")]
        if include_replacements:
            papers += [_with_type(p, category, replaced=True)
                       for p in query(f"cat:{category} AND lastUpdatedDate:{window}")
                       if p.version > 1]
        listings.append(papers)
    return listings


def _with_type(paper: Paper, category: str, *, replaced: bool) -> Paper:
    own = paper.primary_category == category
    kind = ("replace" if own else "replace-cross") if replaced else ("new" if own else "cross")
    return dataclasses.replace(paper, announce_type=kind)


def _query_all(
    client: httpx.Client,
    base_url: str,
    query: str,
    page_size: int,
    pacer: Pacer,
    progress: Progress,
    task: int,
    policy: RetryPolicy | None,
) -> list[Paper]:
    papers: list[Paper] = []
    start = 0
    while True:
        params = {
            "search_query": query,
            "start": str(start),
            "max_results": str(page_size),
            "sortBy": "submittedDate",
            "sortOrder": "ascending",
        }
        pacer.wait()
        url = str(httpx.URL(base_url, params=params))
        try:
            response = request(client, "GET", base_url, params=params, policy=policy)
        except HTTPFailure as exc:
            raise SourceError(f"arXiv API request failed: {exc}") from None
        total, page = parse_atom(response.content, url)
        papers.extend(page)
        progress.advance(task, len(page))
        start += len(page)
        if not page or start >= total:
            return papers


def parse_atom(document: bytes | str, url: str) -> tuple[int, list[Paper]]:
    """One API answer: the total result count and this page's papers."""
    feed = feedparser.parse(document)
    if feed.bozo and not isinstance(feed.bozo_exception, feedparser.CharacterEncodingOverride):
        raise SourceError(f"{url}: not a valid arXiv API answer ({feed.bozo_exception})")
    if feed.get("version", "") != "atom10":
        raise SourceError(f"{url}: not an Atom document")
    entries = feed.entries
    if len(entries) == 1 and entries[0].get("title") == "Error":
        raise SourceError(f"{url}: arXiv API error: {clean_text(entries[0].get('summary', ''))}")
    try:
        total = int(feed.feed.get("opensearch_totalresults", len(entries)))
    except ValueError:
        raise SourceError(f"{url}: opensearch:totalResults is not a number") from None
    papers = []
    for entry in entries:
        try:
            arxiv_id, version = split_arxiv_id(entry.get("id", ""))
        except ValueError as exc:
            raise SourceError(f"{url}: {exc}") from None
        tags = [t["term"] for t in entry.get("tags", []) if t.get("term")]
        primary = entry.get("arxiv_primary_category", {}).get("term") or (tags[0] if tags else "")
        categories = [primary, *[t for t in tags if t != primary]] if primary else tags
        papers.append(Paper(
            arxiv_id=arxiv_id,
            version=version,
            title=clean_text(entry.get("title", "")),
            abstract=clean_text(entry.get("summary", "")),
            authors=tuple(clean_text(a["name"]) for a in entry.get("authors", []) if a.get("name")),
            categories=tuple(categories),
            comment=clean_text(entry.get("arxiv_comment", "")),
        ))
    return total, papers
