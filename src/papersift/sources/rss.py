"""arXiv's daily RSS feeds (rss.arxiv.org/rss/CATEGORY): today's announcements."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from collections.abc import Sequence

import feedparser
import httpx

from papersift.errors import SourceError
from papersift.http import HTTPFailure, RetryPolicy, request
from papersift.models import ANNOUNCE_TYPES, Paper
from papersift.progress import NULL_PROGRESS, Progress
from papersift.sources.common import clean_text, split_arxiv_id, split_authors

log = logging.getLogger(__name__)


def feed_url(base_url: str, category: str) -> str:
    return f"{base_url.rstrip('/')}/{category}"


def fetch_rss(
    client: httpx.Client,
    base_url: str,
    categories: Sequence[str],
    progress: Progress = NULL_PROGRESS,
    policy: RetryPolicy | None = None,
) -> list[tuple[dt.date | None, list[Paper]]]:
    """One request per category; each feed's announcement date and papers."""
    task = progress.start("Fetching arXiv RSS", total=len(categories))
    results = []
    for category in categories:
        url = feed_url(base_url, category)
        try:
            response = request(client, "GET", url, policy=policy)
        except HTTPFailure as exc:
            raise SourceError(f"cannot fetch the arXiv feed {exc}") from None
        results.append(parse_rss(response.content, url))
        progress.advance(task)
    return results


def parse_rss(document: bytes | str, url: str) -> tuple[dt.date | None, list[Paper]]:
    """Parse one category feed; raise ``SourceError`` naming ``url`` if it is not one."""
    feed = feedparser.parse(document)
    if feed.bozo and not isinstance(feed.bozo_exception, feedparser.CharacterEncodingOverride):
        raise SourceError(f"{url}: not a valid RSS feed ({_first_line(feed.bozo_exception)})")
    if not str(feed.get("version", "")).startswith("rss"):
        raise SourceError(f"{url}: not an RSS feed (got {feed.get('version') or 'no feed'})")
    day = _feed_date(feed.feed.get("published") or feed.feed.get("updated"))
    papers = []
    for entry in feed.entries:
        try:
            papers.append(_paper(entry))
        except ValueError as exc:
            raise SourceError(f"{url}: item {entry.get('title', '?')!r}: {exc}") from None
    return day, papers


def _paper(entry: feedparser.FeedParserDict) -> Paper:
    description = entry.get("summary", "")
    head, _, abstract = description.partition("Abstract:")
    arxiv_id, version = split_arxiv_id(entry.get("id") or head or entry.get("link", ""))
    announce_type = entry.get("arxiv_announce_type", "new").strip()
    if announce_type not in ANNOUNCE_TYPES:
        raise ValueError(f"unknown announce type {announce_type!r}")
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=clean_text(entry.get("title", "")),
        abstract=clean_text(abstract or description),
        authors=split_authors(entry.get("author", "")),
        categories=tuple(t["term"] for t in entry.get("tags", []) if t.get("term")),
        announce_type=announce_type,  # type: ignore[arg-type]
    )


def _feed_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        # The date as arXiv wrote it (US Eastern), not converted to UTC.
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return None


def _first_line(exc: object) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
