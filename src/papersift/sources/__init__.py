"""Where papers come from: arXiv RSS (today), the arXiv API (any day), or a local file."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from papersift.config import ArxivConfig
from papersift.errors import NoAnnouncements, SourceError
from papersift.http import RetryPolicy, new_client
from papersift.models import FetchedDay
from papersift.progress import NULL_PROGRESS, Progress
from papersift.sources.arxiv_api import fetch_api_day
from papersift.sources.common import keep_announced, merge_listings
from papersift.sources.local import load_file
from papersift.sources.rss import fetch_rss

__all__ = ["fetch_day", "keep_announced"]
log = logging.getLogger(__name__)


def fetch_day(
    config: ArxivConfig,
    day: dt.date | None,
    *,
    file_path: Path | None = None,
    progress: Progress = NULL_PROGRESS,
) -> FetchedDay:
    """Fetch one announcement day (``None``: the latest) from the configured source.

    ``auto`` reads the RSS feeds and uses them when they are for the asked day (or no
    day was asked); for any other day it asks the arXiv API. Raises ``NoAnnouncements``
    when the day has nothing, ``SourceError`` when a source fails.
    """
    if config.source == "file":
        if file_path is None:
            raise SourceError("arxiv.source = 'file' needs arxiv.file = 'PATH'")
        found_day, papers = load_file(file_path, day)
        return _checked(FetchedDay(found_day, tuple(merge_listings([papers])),
                                   f"file {file_path.name}"))
    policy = RetryPolicy(config.request_attempts, config.backoff_seconds)
    with new_client(config.timeout_seconds) as client:
        if config.source in ("auto", "rss"):
            feeds = fetch_rss(client, config.rss_url, config.categories, progress, policy)
            feed_days = {d for d, _ in feeds if d is not None}
            feed_day = max(feed_days) if feed_days else None
            if day is None or day == feed_day or config.source == "rss":
                if day is not None and feed_day not in (None, day):
                    raise SourceError(
                        f"the RSS feed is for {feed_day}, not {day}; "
                        "set arxiv.source = 'api' (or 'auto') for past days"
                    )
                papers = merge_listings(listing for _, listing in feeds)
                found = feed_day or day or dt.date.today()
                if not papers:
                    raise NoAnnouncements(f"no arXiv announcements for {found} "
                                          "(weekend, holiday or empty feed); nothing written")
                return FetchedDay(found, tuple(papers), "arXiv RSS")
            log.info("RSS feed is for %s; asking the arXiv API for %s", feed_day, day)
        if day is None:
            raise SourceError("arxiv.source = 'api' needs a day: pass --date YYYY-MM-DD")
        listings = fetch_api_day(
            client, config.api_url, config.categories, day,
            page_size=config.api_page_size,
            delay_seconds=config.api_delay_seconds,
            include_replacements=bool({"replace", "replace-cross"} & set(config.announce_types)),
            progress=progress,
            policy=policy,
        )
        return _checked(FetchedDay(day, tuple(merge_listings(listings)), "arXiv API"))


def _checked(fetched: FetchedDay) -> FetchedDay:
    if not fetched.papers:
        raise NoAnnouncements(f"no arXiv announcements for {fetched.day} "
                              "(weekend, holiday or empty listing); nothing written")
    return fetched
