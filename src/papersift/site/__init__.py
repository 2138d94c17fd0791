"""The archive web site: static pages built from the JSON digests in ``OUT/json``.

``OUT/site/`` holds a page per day (Previous Day / Monthly Overview / Next Day, skipping
days without a digest), a page per month (calendar and best papers) and per year, an
archive, a search page over the whole archive (its index is a script, so it works from
any static host and from ``file://``), and Atom feeds of the selected papers, overall
and per topic. Every link is relative. Text from arXiv or an LLM is HTML-escaped by the
templates (Jinja2 autoescape); nothing is loaded from another site.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from papersift import __version__
from papersift.atomic import Staging
from papersift.health import read_status
from papersift.render import money, spotlight_entries, summary_label, when
from papersift.render.latex import latex_html, latex_text
from papersift.site.catalogue import catalogue_file, catalogue_text, read_catalogue
from papersift.site.feeds import atom_feed, slug
from papersift.text import load_json, script_assignment

log = logging.getLogger(__name__)

FEED_DAYS = 10  # two weeks of weekdays: a reader fetches the whole feed each time
BEST_OF_MONTH = 12


@dataclass(frozen=True)
class DayEntry:
    date: dt.date
    record: dict[str, Any]
    complete: bool = True  # False: the catalogue's brief entry (no day page from it)

    @property
    def path(self) -> str:
        return f"{self.date:%Y-%m}/{self.date.isoformat()}.html"

    @property
    def month(self) -> str:
        return f"{self.date:%Y-%m}"

    @property
    def month_path(self) -> str:
        return f"{self.month}/index.html"

    @property
    def papers(self) -> list[dict[str, Any]]:
        """The day's papers (an entry that is not one, edited in by hand, is passed over)."""
        return [p for p in self.record.get("papers", {}).values() if isinstance(p, dict)]

    @property
    def count(self) -> int:
        return len(self.papers)


@dataclass
class MonthEntry:
    year: int
    number: int
    days: list[DayEntry] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.number:02d}"

    @property
    def label(self) -> str:
        return f"{calendar.month_name[self.number]} {self.year}"

    @property
    def path(self) -> str:
        return f"{self.key}/index.html"

    @property
    def year_path(self) -> str:
        return f"{self.year:04d}/index.html"

    @property
    def paper_count(self) -> int:
        return sum(d.count for d in self.days)


@dataclass
class YearEntry:
    year: int
    months: list[MonthEntry] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{self.year:04d}/index.html"

    @property
    def day_count(self) -> int:
        return sum(len(m.days) for m in self.months)

    @property
    def paper_count(self) -> int:
        return sum(m.paper_count for m in self.months)


@dataclass(frozen=True)
class SiteOptions:
    """Where the site goes and what its pages link to."""

    site_dir: Path | None = None  # default: OUT/site
    site_url: str | None = None  # where it is served: the feeds' absolute self links
    github_repository: str | None = None  # OWNER/REPO: the pages' "Send to GitHub"
    reader: str | None = None  # the profile it is for, when the site serves several
    readers: tuple[str, ...] = ()  # every profile of the site: the pages' switcher


@dataclass(frozen=True)
class SiteBuild:
    site_dir: Path
    written: list[Path]
    days: int


def load_days(out_dir: Path, pending: Mapping[dt.date, dict[str, Any]] | None = None,
              month: str = "*", catalogue: bool = False,
              full: Callable[[list[dt.date]], set[dt.date]] | None = None) -> list[DayEntry]:
    """Every day's digest record under ``OUT/json`` (of ``month``, YYYY-MM, if given;
    and ``pending`` ones not yet written), oldest first; with ``catalogue``, the days
    whose digest is not on disk from ``json/catalogue.json`` (brief entries), and with
    ``full`` (given every day, oldest first: the days whose whole record is needed) the
    other days' brief entries too, unread. A damaged file is skipped with a warning: one
    bad day must not stop every later day from being published."""
    found: dict[dt.date, DayEntry] = {}
    if catalogue:
        found = {day: DayEntry(day, entry, complete=False)
                 for day, entry in read_catalogue(out_dir).items()
                 if month == "*" or f"{day:%Y-%m}" == month}
    paths = [(_named_day(path), path)
             for path in sorted((out_dir / "json").glob(f"{month}/????-??-??.json"))]
    named = {day for day, _ in paths if day is not None}
    wanted = (full(sorted(set(found) | named | set(pending or {}))) if full is not None
              else named)
    for named_day, path in paths:
        if named_day in found and named_day not in wanted:
            continue  # its catalogue entry says all that is needed of it
        try:
            record = load_json(path.read_text(encoding="utf-8"))
            day = dt.date.fromisoformat(record["date"])
            if not isinstance(record.get("papers", {}), dict):
                raise TypeError("'papers' is not an object")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: not a papersift digest (%s); left out of the site", path, exc)
            continue
        found[day] = DayEntry(day, record)
    for day, record in (pending or {}).items():
        if month == "*" or f"{day:%Y-%m}" == month:
            found[day] = DayEntry(day, record)
    return sorted(found.values(), key=lambda d: d.date)


def _named_day(path: Path) -> dt.date | None:
    try:
        return dt.date.fromisoformat(path.stem)
    except ValueError:
        return None  # read, and named as damaged, all the same


def build_site(out_dir: Path, *, touched: Iterable[dt.date] | None = None,
               pending: Mapping[dt.date, dict[str, Any]] | None = None,
               staging: Staging | None = None,
               options: SiteOptions = SiteOptions()) -> SiteBuild:
    """Write the site (``options.site_dir``, default ``OUT/site``) of the digests in
    ``OUT/json``. With ``touched`` days, rewrite only the pages they affect.

    ``pending`` holds digest records not yet on disk; with ``staging`` the pages are only
    staged (the caller commits them together with its own files).
    """
    if staging is None:
        with Staging() as own:
            built = build_site(out_dir, touched=touched, pending=pending, staging=own,
                               options=options)
            own.commit()
            return built
    site = options.site_dir or out_dir / "site"
    site_url, github_repository = options.site_url, options.github_repository
    touched_days = set(touched) if touched is not None else None

    def needed(every: list[dt.date]) -> set[dt.date]:
        """The feeds' days and the pages rewritten (a touched day's and its neighbours')."""
        if touched_days is None:
            return set(every)
        at = {day: i for i, day in enumerate(every)}
        near = {every[p] for t in touched_days if t in at
                for p in (at[t] - 1, at[t], at[t] + 1) if 0 <= p < len(every)}
        return near | set(every[-FEED_DAYS:])

    days = load_days(out_dir, pending, catalogue=True, full=needed)
    months = _months(days)
    years = _years(months)
    env = site_environment()
    recent = [d for d in days[-FEED_DAYS:] if d.complete]
    topics = sorted({p.get("topic") for d in recent for p in d.papers if p.get("topic")})
    repository = github_repository if github_repository and re.fullmatch(
        r"[\w.-]+/[\w.-]+", github_repository) else None
    context = {"version": __version__, "github_repository": repository,
               "topic_feeds": [(topic, f"feeds/{slug(topic)}.xml") for topic in topics],
               "reader": options.reader, "readers": options.readers}
    writer = _Writer(site, staging)

    touched_days = touched_days if touched_days is not None else {d.date for d in days}
    index = {d.date: i for i, d in enumerate(days)}
    for position in sorted({p for t in touched_days if t in index
                            for p in (index[t] - 1, index[t], index[t] + 1)
                            if 0 <= p < len(days)}):
        day = days[position]
        if not day.complete:  # its page was written when it was published
            continue
        writer.write(day.path, env.get_template("day.html.j2").render(
            root="../", day=day, run=day.record.get("run", {}),
            usage=day.record.get("run", {}).get("usage", {}),
            papers=day.papers, not_scored=day.record.get("not_scored", []),
            prompts=day.record.get("prompts"),
            scorer_inputs=day.record.get("scorer_inputs"),
            spotlight=spotlight_entries(day.record),
            prev=days[position - 1] if position > 0 else None,
            next=days[position + 1] if position + 1 < len(days) else None, **context))

    month_list = list(months.values())
    touched_months = {f"{t:%Y-%m}" for t in touched_days}
    for position, month in enumerate(month_list):
        neighbours = {m.key for m in month_list[max(0, position - 1):position + 2]}
        if touched is not None and not (neighbours & touched_months):
            continue
        overview = f"{month.key}/overview.html"
        writer.write(month.path, env.get_template("month.html.j2").render(
            root="../", month=month, calendar=_calendar(month), best=_best(month),
            overview=overview if staging.will_exist(site / overview) else None,
            prev=month_list[position - 1] if position > 0 else None,
            next=month_list[position + 1] if position + 1 < len(month_list) else None,
            **context))
    for year in years:
        writer.write(year.path, env.get_template("year.html.j2").render(
            root="../", year=year, **context))
    writer.write("archive.html", env.get_template("archive.html.j2").render(
        root="", years=list(reversed(years)), **context))
    writer.write("index.html", env.get_template("index.html.j2").render(
        root="", latest=days[-1] if days else None, **context))
    writer.write("search.html", env.get_template("search.html.j2").render(
        root="", indexes=[f"assets/search/{m.key}.js" for m in month_list], **context))
    beside = _Writer(out_dir, staging)
    for month in month_list:  # a month's files change only while it is published
        index = f"assets/search/{month.key}.js"
        if touched is None or month.key in touched_months or not (site / index).exists():
            writer.write(index, _search_index(month.days))
            beside.write(catalogue_file(month.key).as_posix(),
                         catalogue_text(d.record for d in month.days))
    writer.written += beside.written
    status = read_status(out_dir)
    writer.write("assets/status.js", script_assignment(
        "PAPERSIFT_STATUS", json.dumps(status, ensure_ascii=False) if status else "null"))
    writer.write("assets/live.js", script_assignment("PAPERSIFT_LIVE", "false"))
    for name in ("style.css", "search.js", "banner.js", "feedback.js"):
        asset = resources.files("papersift.site").joinpath(f"assets/{name}")
        writer.write(f"assets/{name}", asset.read_text(encoding="utf-8"))
    writer.write("feed.xml", atom_feed(recent, "papersift: selected papers", "feed.xml",
                                       site_url=site_url))
    for topic, path in context["topic_feeds"]:
        writer.write(path, atom_feed(recent, f"papersift: {topic}", path, topic=topic,
                                     site_url=site_url))
    return SiteBuild(site, writer.written, len(days))


def _search_index(days: list[DayEntry]) -> str:
    entries = [
        {"id": p["arxiv_id"], "t": latex_text(p["title"]), "a": ", ".join(p.get("authors", [])),
         "c": p.get("COMMENT", ""), "g": p.get("topic", ""), "d": day.date.isoformat(),
         "u": f"{day.path}#arxiv-{p['arxiv_id']}"}
        for day in days for p in day.papers
    ]
    listed = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    return script_assignment("PAPERSIFT_INDEX", f"(window.PAPERSIFT_INDEX || []).concat({listed})")


def _months(days: list[DayEntry]) -> dict[str, MonthEntry]:
    months: dict[str, MonthEntry] = {}
    for day in days:
        month = months.setdefault(day.month, MonthEntry(day.date.year, day.date.month))
        month.days.append(day)
    return months


def _years(months: dict[str, MonthEntry]) -> list[YearEntry]:
    years: dict[int, YearEntry] = {}
    for month in months.values():
        years.setdefault(month.year, YearEntry(month.year)).months.append(month)
    return list(years.values())


def _calendar(month: MonthEntry) -> list[dict[str, Any] | None]:
    by_day = {d.date.day: d for d in month.days}
    first_weekday, length = calendar.monthrange(month.year, month.number)
    cells: list[dict[str, Any] | None] = [None] * first_weekday
    cells += [{"number": n, "day": by_day.get(n)} for n in range(1, length + 1)]
    return cells


def _best(month: MonthEntry) -> list[dict[str, Any]]:
    papers = [{**p, "date": d.date.isoformat(), "path": f"{d.path}#arxiv-{p['arxiv_id']}"}
              for d in month.days for p in d.papers]
    papers.sort(key=best_first)
    return papers[:BEST_OF_MONTH]


def best_first(paper: dict[str, Any]) -> tuple[int, int, str]:
    """Sort key over papers of several days: rank score, then relevance, then the day."""
    return (-(paper.get("SCORE") or 0), -(paper.get("RELEVANCE") or 0), paper["date"])


@functools.cache  # compiled once per process: a run of many readers renders many days
def site_environment() -> Environment:
    """The Jinja2 environment of the site's HTML templates (autoescaped)."""
    env = Environment(loader=PackageLoader("papersift.site", "templates"),
                      autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = money
    env.filters["when"] = when
    env.filters["tex"] = latex_html
    env.filters["summary_label"] = summary_label
    return env



class _Writer:
    """Stages pages whose text changed (unchanged pages are not rewritten)."""

    def __init__(self, root: Path, staging: Staging):
        self.root, self.staging = root, staging
        self.written: list[Path] = []

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        try:
            if path.read_text(encoding="utf-8") == text:
                return
        except (OSError, UnicodeDecodeError):
            pass
        self.staging.write(path, text)
        self.written.append(path)


def build_readers_index(site_dir: Path, readers: Iterable[str],
                        staging: Staging | None = None) -> Path:
    """``SITE/index.html`` of a site serving several profiles: a link to each reader's
    own site (``SITE/NAME/``)."""
    page = site_dir / "index.html"
    text = site_environment().get_template("readers.html.j2").render(
        root="", readers=list(readers), version=__version__)
    if staging is not None:
        staging.write(page, text)
        return page
    with Staging() as own:
        own.write(page, text)
        own.commit()
    return page
