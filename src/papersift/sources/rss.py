"""arXiv's daily RSS feeds (rss.arxiv.org/rss/CATEGORY): today's announcements."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from xml.etree.ElementTree import Element

from papersift.errors import SourceError
from papersift.http import HttpClient, HTTPFailure, RetryPolicy, request
from papersift.models import ANNOUNCE_TYPES, Paper
from papersift.progress import NULL_PROGRESS, Progress
from papersift.sources.common import split_arxiv_id, split_authors
from papersift.sources.xmldoc import day_of, parse_xml, text_at

log = logging.getLogger(__name__)
_HEADER = "arXiv:"  # a description starts "arXiv:ID vN Announce Type: T" then "Abstract: ..."


def feed_url(base_url: str, category: str) -> str:
    return f"{base_url.rstrip('/')}/{category}"


def fetch_rss(
    client: HttpClient,
    base_url: str,
    categories: Sequence[str],
    progress: Progress = NULL_PROGRESS,
    policy: RetryPolicy | None = None,
) -> list[tuple[str, dt.date | None, list[Paper]]]:
    """One request per category: each feed's URL, announcement date and papers."""
    task = progress.start("Fetching arXiv RSS", total=len(categories))
    results = []
    for category in categories:
        url = feed_url(base_url, category)
        try:
            response = request(client, "GET", url, policy=policy)
        except HTTPFailure as exc:
            raise SourceError(f"cannot fetch the arXiv feed {exc}") from None
        day, papers = parse_rss(response.content, url)
        results.append((url, day, papers))
        progress.advance(task)
    return results


def parse_rss(document: bytes | str, url: str) -> tuple[dt.date | None, list[Paper]]:
    """Parse one category feed; raise ``SourceError`` naming ``url`` if it is not one.

    Every item must carry the feed's own date: a feed that mixes days is refused.
    """
    root = parse_xml(document, url)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise SourceError(f"{url}: not an RSS feed (the document is <{_local(root.tag)}>)")
    day = day_of(channel.findtext("pubDate"))
    papers = []
    for number, item in enumerate(channel.findall("item"), start=1):
        try:
            paper = _paper(item)
        except ValueError as exc:
            title = text_at(item, "title")[:80] or "?"
            raise SourceError(f"{url}: item {number} ({title!r}): {exc}") from None
        item_day = day_of(item.findtext("pubDate"))
        if day is not None and item_day is not None and item_day != day:
            raise SourceError(f"{url}: item {paper.arxiv_id} is dated {item_day} in a feed "
                              f"dated {day}; refusing to mix days")
        papers.append(paper)
    return day, papers


def _paper(item: Element) -> Paper:
    description = text_at(item, "description")
    if description.startswith(_HEADER):
        head, marker, abstract = description.partition("Abstract:")
        abstract = abstract.strip() if marker else ""  # an empty abstract stays empty
    else:
        head, abstract = "", description
    raw_id = text_at(item, "guid") or head or text_at(item, "link")
    arxiv_id, version = split_arxiv_id(raw_id)
    announce_type = text_at(item, "arxiv:announce_type") or "new"
    if announce_type not in ANNOUNCE_TYPES:
        raise ValueError(f"unknown announce type {announce_type!r}")
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=text_at(item, "title"),
        abstract=abstract,
        authors=split_authors(text_at(item, "dc:creator")),
        categories=tuple(c for c in (text_at(e, ".") for e in item.findall("category")) if c),
        announce_type=announce_type,  # type: ignore[arg-type]
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
