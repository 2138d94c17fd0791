"""Where papers come from: arXiv RSS (today), the arXiv API (any day), or a local file.

Whatever the source, a digest is only ever dated with the day its papers were announced
on: a future day is refused, feeds of different days are never merged, a file that
holds another day is refused, and papers whose ids show they cannot have been announced
on the day (submitted later, or "new" months before) stop the run.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from papersift.config import ArxivConfig
from papersift.errors import DateError, NoAnnouncements, SourceError
from papersift.http import HttpClient, RetryPolicy
from papersift.models import FetchedDay, Paper
from papersift.progress import NULL_PROGRESS, Progress
from papersift.sources.arxiv_api import fetch_api_day
from papersift.sources.common import id_month, keep_announced, merge_listings
from papersift.sources.local import load_file
from papersift.sources.rss import fetch_rss

__all__ = ["check_day", "fetch_day", "keep_announced", "latest_possible_day"]
log = logging.getLogger(__name__)
# The RSS feed always shows the latest announcement day; across a long weekend and a
# holiday that day is at most a few days old. A feed older than this is a stale copy.
RSS_CURRENT_DAYS = 6
ARXIV_BEGAN = dt.date(1991, 8, 14)


def latest_possible_day(now: dt.datetime | None = None) -> dt.date:
    """The latest day arXiv can have announced by now, wherever the reader is: arXiv
    announces day D at 20:00 US Eastern on the evening before, so the UTC date (plus
    one, near midnight) bounds it."""
    now = now or dt.datetime.now(dt.UTC)
    return max((now + dt.timedelta(hours=5)).astimezone(dt.UTC).date(), dt.date.today())


def check_day(day: dt.date | None, today: dt.date) -> None:
    """Refuse a day arXiv cannot have announced (``DateError``, exit code 2)."""
    if day is not None and day > today:
        raise DateError(f"--date {day}: that day is in the future (arXiv has announced "
                        f"nothing for it yet; the latest possible day is {today})")
    if day is not None and day < ARXIV_BEGAN:
        raise DateError(f"--date {day}: arXiv announced its first papers in August 1991")


def fetch_day(
    config: ArxivConfig,
    day: dt.date | None,
    *,
    file_path: Path | None = None,
    progress: Progress = NULL_PROGRESS,
    today: dt.date | None = None,
) -> FetchedDay:
    """Fetch one announcement day (``None``: the latest) from the configured source.

    ``auto`` reads the RSS feeds when no day is asked (or the asked day is the feeds'
    current day) and asks the arXiv API for any other day. Raises ``NoAnnouncements``
    when the day has nothing, ``SourceError`` when a source fails or disagrees.
    """
    today = today or latest_possible_day()
    check_day(day, today)
    if config.source == "file":
        if file_path is None:
            raise SourceError("arxiv.source = 'file' needs arxiv.file = 'PATH'")
        found_day, papers = load_file(file_path, day)
        return _checked(FetchedDay(found_day, tuple(merge_listings([papers])),
                                   f"file {file_path.name}"), today)
    policy = RetryPolicy(config.request_attempts, config.backoff_seconds)
    with HttpClient(config.timeout_seconds) as client:
        recent = day is None or day >= today - dt.timedelta(days=RSS_CURRENT_DAYS)
        if config.source == "rss" or (config.source == "auto" and recent):
            feeds = fetch_rss(client, config.rss_url, config.categories, progress, policy)
            feed_day = _one_day(feeds)
            if day is None or day == feed_day:
                return _from_rss(feeds, feed_day, today)
            if config.source == "rss":
                raise SourceError(f"the RSS feeds are for {feed_day}, not {day}; "
                                  "set arxiv.source = 'api' (or 'auto') for past days")
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
        return _checked(FetchedDay(day, tuple(merge_listings(listings)), "arXiv API"), today)


def _one_day(feeds: list[tuple[str, dt.date | None, list[Paper]]]) -> dt.date:
    """The day all feeds are for; feeds of different days (or of none) are refused."""
    days = {day for _, day, _ in feeds}
    undated = [url for url, day, _ in feeds if day is None]
    if undated:
        raise SourceError(f"{undated[0]}: the feed carries no date (pubDate), so its papers "
                          "cannot be dated; refusing (use arxiv.source = 'api' with --date)")
    if len(days) > 1:
        which = ", ".join(f"{url} is for {day}" for url, day, _ in feeds)
        raise SourceError(f"the arXiv feeds are for different days ({which}); refusing to "
                          "merge them into one digest (run again once they agree, or pass "
                          "--date for the API)")
    return days.pop()  # type: ignore[return-value]


def _from_rss(feeds: list[tuple[str, dt.date | None, list[Paper]]], day: dt.date,
              today: dt.date) -> FetchedDay:
    papers = merge_listings(listing for _, _, listing in feeds)
    if not papers:
        raise NoAnnouncements(f"no arXiv announcements for {day} "
                              "(weekend, holiday or empty feed); nothing written", day)
    if day < today - dt.timedelta(days=RSS_CURRENT_DAYS):
        log.warning("the RSS feed is dated %s, %d days ago: is arxiv.rss_url a stale copy?",
                    day, (today - day).days)
    return _checked(FetchedDay(day, tuple(papers), "arXiv RSS"), today)


def _checked(fetched: FetchedDay, today: dt.date) -> FetchedDay:
    if not fetched.papers:
        raise NoAnnouncements(f"no arXiv announcements for {fetched.day} "
                              "(weekend, holiday or empty listing); nothing written",
                              fetched.day)
    check_day(fetched.day, today)
    _check_ids_fit_the_day(fetched)
    return fetched


def _check_ids_fit_the_day(fetched: FetchedDay) -> None:
    """Ids are assigned at submission: no paper is announced before its id's month, and
    a new paper is announced in that month or the next."""
    month = fetched.day.replace(day=1)
    later = [p for p in fetched.papers if (m := id_month(p.arxiv_id)) and m > month]
    if later:
        raise SourceError(
            f"{fetched.source}: paper {later[0].arxiv_id} was submitted after {fetched.day}, "
            f"so these papers were not announced on {fetched.day} ({len(later)} such papers)")
    new = [m for p in fetched.papers if p.announce_type == "new" and (m := id_month(p.arxiv_id))]
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    stale = [m for m in new if m < previous]
    if new and len(stale) > len(new) // 2:
        newest = max(new)
        raise SourceError(
            f"{fetched.source}: its new papers were submitted around {newest:%Y-%m}, so they "
            f"were not announced on {fetched.day}; refusing to date them {fetched.day}")
