"""arXiv's query API (export.arxiv.org/api/query) for any past announcement day.

arXiv announces, on day D, what was submitted between 14:00 US Eastern on the two
weekdays before D. The API is asked for that submission window per category, page by
page, with a pause between requests as arXiv's terms of use ask. The API sometimes
answers a page with nothing although results remain: such a page is asked again, and a
listing that still cannot be completed fails the run instead of shrinking the day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx

from papersift.errors import SourceError
from papersift.http import HttpClient, HTTPFailure, Pacer, RetryPolicy, request
from papersift.models import Paper
from papersift.progress import NULL_PROGRESS, Progress
from papersift.sources.common import split_arxiv_id
from papersift.sources.xmldoc import NS, parse_xml, text_at

log = logging.getLogger(__name__)
EASTERN = ZoneInfo("America/New_York")
CUTOFF = dt.time(14, 0)
# No category announces more than a few thousand papers a day; a listing that claims
# more is not one day's (and arXiv serves at most 30,000 results a query anyway).
MAX_DAY_RESULTS = 10_000
SHORTEST_PAGE = 50


def previous_weekday(day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def next_weekday(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
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


def announcement_day(submitted: dt.datetime) -> dt.date:
    """The day arXiv announces a paper submitted at ``submitted`` (holidays aside)."""
    local = submitted.astimezone(EASTERN)
    closing = local.date()
    if local.time() >= CUTOFF or closing.weekday() >= 5:
        closing = next_weekday(closing)
    return next_weekday(closing)


@dataclass(frozen=True)
class AtomPage:
    """One API answer: the total result count, the papers and their submission times."""

    total: int
    papers: list[Paper]
    submitted: dict[str, dt.datetime]


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d%H%M")


def fetch_api_day(
    client: HttpClient,
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
    pager = _Pager(client, base_url, page_size, Pacer(delay_seconds), policy or RetryPolicy(),
                   progress, progress.start(f"Fetching arXiv API for {day}", total=None))
    listings = []
    for category in categories:
        papers = [_with_type(p, category, replaced=False)
                  for p in pager.all(f"cat:{category} AND submittedDate:{window}")]
        if include_replacements:
            papers += [_with_type(p, category, replaced=True)
                       for p in pager.all(f"cat:{category} AND lastUpdatedDate:{window}")
                       if p.version > 1]
        listings.append(papers)
    return listings


def _with_type(paper: Paper, category: str, *, replaced: bool) -> Paper:
    own = paper.primary_category == category
    kind = ("replace" if own else "replace-cross") if replaced else ("new" if own else "cross")
    return dataclasses.replace(paper, announce_type=kind)


@dataclass
class _Pager:
    client: HttpClient
    base_url: str
    page_size: int
    pacer: Pacer
    policy: RetryPolicy
    progress: Progress
    task: int

    def all(self, query: str) -> list[Paper]:
        """Every result of ``query``, page by page; a page that brings nothing new is
        asked again (``policy.attempts`` times), and the listing must end."""
        papers: dict[str, Paper] = {}
        start, total, stalled, pages = 0, None, 0, 0
        while total is None or start < total:
            url = self._url(query, start)
            if pages >= self._max_pages(total):
                raise SourceError(f"{url}: the listing does not end after {pages} pages "
                                  f"(got {len(papers)} of {total} papers); refusing")
            pages += 1
            page = self._page(query, start, url)
            if page.total > MAX_DAY_RESULTS:
                raise SourceError(f"{url}: the arXiv API reports {page.total} results for "
                                  f"one day, more than any day has; refusing")
            total = page.total
            new = [p for p in page.papers if p.arxiv_id not in papers]
            if not new and start < total:
                stalled += 1
                what = "an empty page" if not page.papers else "only papers it sent before"
                if stalled >= self.policy.attempts:
                    raise SourceError(
                        f"{url}: the arXiv API sent {what} {stalled} times; got "
                        f"{len(papers)} of {total} papers, so the day is incomplete")
                log.info("%s: %s at %d of %d; asking again", url, what, start, total)
                time.sleep(min(self.policy.backoff_seconds * 2 ** (stalled - 1),
                               self.policy.max_backoff_seconds))
                continue
            stalled = 0
            papers.update((p.arxiv_id, p) for p in new)
            start += len(page.papers)
            self.progress.advance(self.task, len(new))
        return list(papers.values())

    def _max_pages(self, total: int | None) -> int:
        # The API may answer with shorter pages than asked for (50 is common); a listing
        # needing more pages than that is not making progress.
        per_page = min(self.page_size, SHORTEST_PAGE)
        expected = math.ceil(min(total or 0, MAX_DAY_RESULTS) / per_page)
        return max(1, expected) + self.policy.attempts

    def _page(self, query: str, start: int, url: str) -> AtomPage:
        self.pacer.wait()
        try:
            response = request(self.client, "GET", self.base_url,
                               params=self._params(query, start), policy=self.policy)
        except HTTPFailure as exc:
            raise SourceError(f"arXiv API request failed: {exc}") from None
        return parse_atom(response.content, url)

    def _params(self, query: str, start: int) -> dict[str, str]:
        return {"search_query": query, "start": str(start),
                "max_results": str(self.page_size),
                "sortBy": "submittedDate", "sortOrder": "ascending"}

    def _url(self, query: str, start: int) -> str:
        return str(httpx.URL(self.base_url, params=self._params(query, start)))


def parse_atom(document: bytes | str, url: str) -> AtomPage:
    """One API answer (or a saved one): total result count, papers, submission times."""
    root = parse_xml(document, url)
    if root.tag != f"{{{NS['atom']}}}feed":
        raise SourceError(f"{url}: not an Atom document")
    entries = root.findall("atom:entry", NS)
    if len(entries) == 1 and text_at(entries[0], "atom:title") == "Error":
        raise SourceError(f"{url}: arXiv API error: {text_at(entries[0], 'atom:summary')}")
    total_text = text_at(root, "opensearch:totalResults")
    try:
        total = int(total_text) if total_text else len(entries)
    except ValueError:
        raise SourceError(f"{url}: opensearch:totalResults is not a number") from None
    papers, submitted = [], {}
    for entry in entries:
        try:
            arxiv_id, version = split_arxiv_id(text_at(entry, "atom:id"))
        except ValueError as exc:
            raise SourceError(f"{url}: {exc}") from None
        tags = [t for t in (e.get("term", "").strip()
                            for e in entry.findall("atom:category", NS)) if t]
        primary_element = entry.find("arxiv:primary_category", NS)
        primary = (primary_element.get("term", "").strip() if primary_element is not None
                   else "") or (tags[0] if tags else "")
        papers.append(Paper(
            arxiv_id=arxiv_id,
            version=version,
            title=text_at(entry, "atom:title"),
            abstract=text_at(entry, "atom:summary"),
            authors=tuple(name for name in (text_at(a, "atom:name")
                                            for a in entry.findall("atom:author", NS)) if name),
            categories=tuple([primary, *[t for t in tags if t != primary]] if primary else tags),
            comment=text_at(entry, "arxiv:comment"),
        ))
        if when := _timestamp(text_at(entry, "atom:published")):
            submitted[arxiv_id] = when
    return AtomPage(total, papers, submitted)


def _timestamp(value: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
