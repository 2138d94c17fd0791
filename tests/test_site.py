"""The archive site, read as a browser would get it: pages, links, escaping, feeds."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import feedparser

from conftest import DATA
from papersift.models import Candidate, Digest, Prompts, Scored, Selected, Usage
from papersift.publish import publish
from papersift.site import SiteOptions, build_site
from papersift.sources.rss import parse_rss

DAYS = [dt.date(2026, 4, 13), dt.date(2026, 4, 14), dt.date(2026, 4, 16)]  # 15th: no digest


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self._href, self._text = attrs.get("href"), []
        if tag == "script":
            self.scripts.append(attrs.get("src") or "inline")

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((" ".join("".join(self._text).split()), self._href))
            self._href = None


def links_of(path: Path) -> dict[str, str]:
    parser = Links()
    parser.feed(path.read_text())
    return dict(parser.links)


def search_entries(site: Path) -> list[dict]:
    """Every entry of the site's search index (a script per month)."""
    entries = []
    for script in sorted((site / "assets" / "search").glob("*.js")):
        text = script.read_text().removeprefix(
            "window.PAPERSIFT_INDEX = (window.PAPERSIFT_INDEX || []).concat(")
        entries += json.loads(text.rstrip(";\n").removesuffix(")"))
    return entries


def real_papers():
    return parse_rss((DATA / "arxiv" / "rss-cs.LG-2026-04-14.xml").read_bytes(), "x")[1]


def digest_for(day: dt.date, papers, topic="Efficiency") -> Digest:
    selected = [Selected(Scored(Candidate(p), 9, 8, f"Matches {topic}.", "gpt-test", topic), 17)
                for p in papers]
    return Digest(day=day, model="gpt-test", total=100, scanned=90, selected=tuple(selected),
                  not_scored=(), filtered_counts={}, usage=Usage(3, 1000, 0, 200, 0.01, 0.02),
                  prompts=Prompts("SYSTEM", "USER [PAPER LIST]"), relevance_cutoff=8,
                  novelty_cutoff=7, source="test", generated_at=dt.datetime.now(dt.UTC))


def build_archive(out: Path) -> None:
    papers = real_papers()
    for index, day in enumerate(DAYS):
        chosen = papers[index * 3:index * 3 + 3]
        publish(digest_for(day, chosen, topic="Efficiency" if index != 1 else "World models"),
                out, ["md", "json", "site"])


def test_day_pages_link_across_a_gap_day(tmp_path):
    build_archive(tmp_path)
    site = tmp_path / "site"
    middle = links_of(site / "2026-04" / "2026-04-14.html")
    assert middle["← Previous Day 2026-04-13"] == "../2026-04/2026-04-13.html"
    assert middle["Next Day 2026-04-16 →"] == "../2026-04/2026-04-16.html"
    assert middle["Monthly Overview 2026-04"] == "../2026-04/index.html"
    last = links_of(site / "2026-04" / "2026-04-16.html")
    assert last["← Previous Day 2026-04-14"] == "../2026-04/2026-04-14.html"
    index = (site / "index.html").read_text()
    assert 'url=2026-04/2026-04-16.html' in index


def test_month_page_has_a_calendar_and_the_best_papers(tmp_path):
    build_archive(tmp_path)
    month = links_of(tmp_path / "site" / "2026-04" / "index.html")
    assert month["14 · 3"] == "../2026-04/2026-04-14.html"
    assert "15 · 0" not in month
    first = real_papers()[0]
    assert month[first.title].startswith("../2026-04/2026-04-13.html#arxiv-")


def test_every_relative_link_resolves(tmp_path):
    build_archive(tmp_path)
    site = tmp_path / "site"
    for page in site.rglob("*.html"):
        for _, href in links_of(page).items():
            if href.startswith(("http://", "https://", "urn:")):
                continue
            target = (page.parent / href.split("#")[0].split("?")[0]).resolve()
            assert target.exists(), f"{page.relative_to(site)} links to missing {href}"


def test_text_from_arxiv_and_llms_is_escaped(tmp_path):
    paper = real_papers()[0]
    hostile = type(paper)(**{**paper.__dict__,
                             "title": "Evil <script>alert('x')</script> title"})
    publish(digest_for(DAYS[0], [hostile]), tmp_path, ["json", "site"])
    html = (tmp_path / "site" / "2026-04" / "2026-04-13.html").read_text()
    assert "<script>alert" not in html
    assert "Evil &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; title" in html
    index = (tmp_path / "site" / "assets" / "search" / "2026-04.js").read_text()
    assert "<script>" not in index and "\\u003cscript\\u003e" in index


def test_search_index_covers_the_archive(tmp_path):
    build_archive(tmp_path)
    entries = search_entries(tmp_path / "site")
    assert len(entries) == 9
    first = real_papers()[0]
    hit = next(e for e in entries if e["id"] == first.arxiv_id)
    assert hit["a"] == ", ".join(first.authors)
    assert hit["u"] == f"2026-04/2026-04-13.html#arxiv-{first.arxiv_id}"
    scripts = Links()
    scripts.feed((tmp_path / "site" / "search.html").read_text())
    assert scripts.scripts == ["assets/status.js", "assets/banner.js",
                               "assets/search/2026-04.js", "assets/search.js"]


def test_feeds_read_cleanly_overall_and_per_topic(tmp_path):
    build_archive(tmp_path)
    feed = feedparser.parse((tmp_path / "site" / "feed.xml").read_bytes())
    assert not feed.bozo
    assert len(feed.entries) == 9
    assert feed.entries[0].link.startswith("https://arxiv.org/abs/")
    topic = feedparser.parse((tmp_path / "site" / "feeds" / "world-models.xml").read_bytes())
    assert not topic.bozo and len(topic.entries) == 3
    assert {e.tags[0].term for e in topic.entries} == {"World models"}


def test_a_new_day_rewrites_only_the_pages_it_touches(tmp_path):
    build_archive(tmp_path)
    site = tmp_path / "site"
    old_day = site / "2026-04" / "2026-04-13.html"
    before = old_day.stat().st_mtime_ns
    publish(digest_for(dt.date(2026, 4, 17), real_papers()[20:22]), tmp_path, ["json", "site"])
    assert old_day.stat().st_mtime_ns == before
    previous = links_of(site / "2026-04" / "2026-04-16.html")
    assert previous["Next Day 2026-04-17 →"] == "../2026-04/2026-04-17.html"
    assert re.search(r'url=2026-04/2026-04-17\.html', (site / "index.html").read_text())
    full = build_site(tmp_path)
    assert full.days == 4 and full.written == []  # nothing changed: nothing rewritten


def test_topic_feeds_link_themselves_and_every_page_links_them(tmp_path):
    papers = real_papers()
    publish(digest_for(DAYS[0], papers[:3], topic="Efficiency"), tmp_path, ["json", "site"],
            SiteOptions(site_url="https://ada.github.io/digest/"))
    site = tmp_path / "site"
    feed = feedparser.parse((site / "feeds" / "efficiency.xml").read_text())
    [self_link] = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_link == "https://ada.github.io/digest/feeds/efficiency.xml"
    for page in (site / "index.html", site / "2026-04" / "2026-04-13.html"):
        assert re.search(r'<link rel="alternate" type="application/atom\+xml" '
                         r'title="papersift: Efficiency" href="(\.\./)?feeds/efficiency\.xml">',
                         page.read_text())
    # Without the site's address the self link still resolves to the feed itself.
    build_site(tmp_path)
    feed = feedparser.parse((site / "feeds" / "efficiency.xml").read_text())
    [relative] = [link.href for link in feed.feed.links if link.rel == "self"]
    assert relative == "efficiency.xml"


def test_the_markdowns_monthly_overview_link_leads_somewhere(tmp_path):
    publish(digest_for(DAYS[0], real_papers()[:3]), tmp_path, ["md", "json", "site"])
    markdown = (tmp_path / "md" / "2026-04" / "2026-04-13.md").read_text()
    target = re.search(r"Monthly Overview \[2026-04\]\(([^)]+)\)", markdown).group(1)
    overview = (tmp_path / "md" / "2026-04" / target).resolve()
    assert overview.is_file() and "2026-04" in overview.read_text()
    assert (tmp_path / "site" / "2026-04" / "overview.html").is_file()
    month_page = links_of(tmp_path / "site" / "2026-04" / "index.html")
    assert "../2026-04/overview.html" in month_page.values()


def test_days_whose_json_is_not_checked_out_stay_in_the_site(tmp_path):
    """The data branch checks out only the recent days' JSON: a morning's site still
    lists every day (archive, month pages, search), and leaves old day pages alone."""
    build_archive(tmp_path)
    site = tmp_path / "site"
    old_page = (site / "2026-04" / "2026-04-13.html").read_text()
    for day in ("2026-04-13", "2026-04-14"):
        (tmp_path / "json" / "2026-04" / f"{day}.json").unlink()  # not checked out
    publish(digest_for(dt.date(2026, 4, 17), real_papers()[20:22]), tmp_path, ["json", "site"])
    entries = search_entries(site)
    assert len(entries) == 11
    first = real_papers()[0]
    assert any(e["id"] == first.arxiv_id and e["d"] == "2026-04-13" for e in entries)
    month = links_of(site / "2026-04" / "index.html")
    assert month["13 · 3"] == "../2026-04/2026-04-13.html"
    assert month["14 · 3"] == "../2026-04/2026-04-14.html"
    assert month[first.title].startswith("../2026-04/2026-04-13.html#arxiv-")
    assert "4 digests, 11 papers" in " ".join((site / "archive.html").read_text().split())
    assert (site / "2026-04" / "2026-04-13.html").read_text() == old_page
    assert links_of(site / "2026-04" / "2026-04-16.html")["Next Day 2026-04-17 →"]
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 5  # the days whose JSON is at hand


def test_feeds_hold_the_newest_two_weeks_not_the_whole_month(tmp_path):
    """A feed reader fetches the whole feed each time: it holds the newest ten digests
    (two weeks of weekdays); older papers are in the archive."""
    papers = real_papers()
    days = [dt.date(2026, 4, 1) + dt.timedelta(days=i) for i in range(14)]
    for number, day in enumerate(days):
        publish(digest_for(day, papers[number:number + 1]), tmp_path, ["json", "site"])
    feed = feedparser.parse((tmp_path / "site" / "feed.xml").read_bytes())
    assert not feed.bozo
    assert [e.link for e in feed.entries] == [
        f"https://arxiv.org/abs/{p.arxiv_id}" for p in reversed(papers[4:14])]
