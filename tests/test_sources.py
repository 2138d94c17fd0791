"""Fetching real arXiv documents over loopback: RSS, the query API, and local files."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from pytest_httpserver import HTTPServer

from conftest import DATA, ArxivServer
from papersift.config import ArxivConfig
from papersift.errors import DateError, NoAnnouncements, SourceError
from papersift.sources import fetch_day, keep_announced
from papersift.sources.arxiv_api import parse_atom, submission_window
from papersift.sources.common import split_arxiv_id
from papersift.sources.rss import parse_rss

APRIL_14 = dt.date(2026, 4, 14)


def config_for(arxiv: ArxivServer, **overrides) -> ArxivConfig:
    return ArxivConfig(rss_url=arxiv.rss_url, api_url=arxiv.api_url, api_delay_seconds=0,
                       **overrides)


def test_rss_feed_fields_are_read_from_a_real_feed():
    day, papers = parse_rss((DATA / "arxiv" / "rss-cs.LG-2026-04-14.xml").read_bytes(), "x")
    assert day == APRIL_14
    assert len(papers) == 297
    first = papers[0]
    assert first.arxiv_id == "2603.09355" and first.version == 1
    assert first.title == "SHANG++: Robust Stochastic Acceleration under Multiplicative Noise"
    assert first.authors == ("Yaxin Yu", "Long Chen", "Minfu Feng")
    assert first.categories == ("math.OC", "cs.LG")
    assert first.announce_type == "cross"
    assert first.abstract.startswith("Under the multiplicative noise scaling (MNS) condition")
    assert "Announce Type" not in first.abstract


def test_latest_day_from_rss_lists_each_paper_once(arxiv):
    fetched = fetch_day(config_for(arxiv), None)
    assert fetched.day == APRIL_14
    assert fetched.source == "arXiv RSS"
    ids = [p.arxiv_id for p in fetched.papers]
    assert len(ids) == len(set(ids))
    # 663 papers announced that day (new or cross) in cs.LG or cs.AI, plus 12 replacements.
    types = [p.announce_type for p in fetched.papers]
    assert types.count("new") + types.count("cross") == 663
    assert types.count("replace-cross") == 12
    assert arxiv.requests == [f"{arxiv.rss_url}/cs.LG", f"{arxiv.rss_url}/cs.AI"]


def test_paper_listed_in_both_feeds_keeps_its_new_listing(arxiv):
    fetched = fetch_day(config_for(arxiv), None)
    by_id = {p.arxiv_id: p for p in fetched.papers}
    lg_new = {p.arxiv_id for p in parse_rss(
        (DATA / "arxiv" / "rss-cs.LG-2026-04-14.xml").read_bytes(), "x")[1]
        if p.announce_type == "new"}
    ai_cross = {p.arxiv_id for p in parse_rss(
        (DATA / "arxiv" / "rss-cs.AI-2026-04-14.xml").read_bytes(), "x")[1]
        if p.announce_type == "cross"}
    both = lg_new & ai_cross
    assert both, "the real feeds share papers"
    assert all(by_id[i].announce_type == "new" for i in both)


def test_announce_types_and_force_primary_filter_with_reasons(arxiv):
    fetched = fetch_day(config_for(arxiv), None)
    kept, filtered = keep_announced(fetched.papers, ["new"], ["cs.LG", "cs.AI"], False)
    assert {p.announce_type for p in kept} == {"new"}
    assert {f.reason for f in filtered} == {"announce type cross", "announce type replace-cross"}
    assert len(kept) + len(filtered) == len(fetched.papers)
    kept, filtered = keep_announced(fetched.papers, ["new", "cross"], ["cs.LG", "cs.AI"], True)
    assert all(p.primary_category in ("cs.LG", "cs.AI") for p in kept)
    assert any(f.reason.startswith("primary category ") for f in filtered)


def test_weekend_feed_says_no_announcements(arxiv):
    arxiv.rss_day = "2026-04-18"
    with pytest.raises(NoAnnouncements, match="no arXiv announcements for 2026-04-18"):
        fetch_day(config_for(arxiv), None)


def test_past_day_comes_from_the_api_with_paging(arxiv):
    arxiv.rss_day = "2026-04-18"  # today's feed is for another day
    fetched = fetch_day(config_for(arxiv, api_page_size=50), APRIL_14)
    assert fetched.source == "arXiv API"
    assert fetched.day == APRIL_14
    assert len(fetched.papers) == 663
    api_calls = [u for u in arxiv.requests if "/api/query" in u]
    assert len(api_calls) == 6 + 10  # cs.LG: 290 papers, cs.AI: 500, 50 a page
    assert "submittedDate" in api_calls[0] and "202604101800" in api_calls[0]
    shang = next(p for p in fetched.papers if p.arxiv_id == "2603.09355")
    assert shang.announce_type == "cross" and shang.primary_category == "math.OC"


def test_submission_window_spans_the_weekend_for_a_tuesday():
    start, end = submission_window(APRIL_14)
    assert start == dt.datetime(2026, 4, 10, 18, 0, tzinfo=dt.UTC)  # Fri 14:00 EDT
    assert end == dt.datetime(2026, 4, 13, 18, 0, tzinfo=dt.UTC)  # Mon 14:00 EDT


def test_api_error_document_is_reported_with_its_url(httpserver: HTTPServer):
    httpserver.expect_request("/api/query").respond_with_data(
        (DATA / "arxiv" / "idlist-abc-error-400.xml").read_bytes(),
        content_type="application/atom+xml")
    config = ArxivConfig(source="api", api_url=httpserver.url_for("/api/query"),
                         api_delay_seconds=0)
    with pytest.raises(SourceError, match=r"arXiv API error: incorrect id format for abc"):
        fetch_day(config, APRIL_14)


def test_malformed_feed_names_the_url(httpserver: HTTPServer):
    httpserver.expect_request("/rss/cs.LG").respond_with_data(
        "<rss><channel><item><title>broken", content_type="application/rss+xml")
    config = ArxivConfig(categories=["cs.LG"], rss_url=httpserver.url_for("/rss"))
    with pytest.raises(SourceError) as error:
        fetch_day(config, None)
    assert httpserver.url_for("/rss/cs.LG") in str(error.value)
    assert "\n" not in str(error.value)


def test_http_error_names_the_url(httpserver: HTTPServer):
    httpserver.expect_request("/rss/cs.LG").respond_with_data("gone", status=404)
    config = ArxivConfig(categories=["cs.LG"], rss_url=httpserver.url_for("/rss"))
    with pytest.raises(SourceError, match=r"/rss/cs.LG: HTTP 404"):
        fetch_day(config, None)


def test_transient_server_error_is_retried(httpserver: HTTPServer):
    feed = (DATA / "arxiv" / "rss-cs.LG-2026-04-14.xml").read_bytes()
    httpserver.expect_ordered_request("/rss/cs.LG").respond_with_data(
        "busy", status=503, headers={"Retry-After": "0"})
    httpserver.expect_ordered_request("/rss/cs.LG").respond_with_data(
        feed, content_type="application/rss+xml")
    config = ArxivConfig(categories=["cs.LG"], rss_url=httpserver.url_for("/rss"))
    fetched = fetch_day(config, None)
    assert len(fetched.papers) == 297


def test_local_jsonl_file(tmp_path):
    rows = [{"arxiv_id": "2604.00001v2", "title": "A  title", "abstract": "Text.",
             "authors": ["Ada Lovelace"], "categories": ["cs.LG", "stat.ML"],
             "announce_type": "new"}]
    path = tmp_path / "2026-04-14.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    fetched = fetch_day(ArxivConfig(source="file", file=path), None, file_path=path)
    assert fetched.day == APRIL_14
    paper = fetched.papers[0]
    assert (paper.arxiv_id, paper.version, paper.title) == ("2604.00001", 2, "A title")


def test_local_file_with_a_bad_record_names_file_and_record(tmp_path):
    path = tmp_path / "2026-04-14.jsonl"
    path.write_text('{"arxiv_id": "2604.00001", "title": "ok"}\n{"title": "no id"}\n')
    with pytest.raises(SourceError, match=r"2026-04-14.jsonl: line 2: missing .arxiv_id."):
        fetch_day(ArxivConfig(source="file", file=path), None, file_path=path)


def test_local_saved_rss_file(tmp_path):
    fetched = fetch_day(ArxivConfig(source="file", file=DATA), None,
                        file_path=DATA / "arxiv" / "rss-cs.AI-2026-04-14.xml")
    assert fetched.day == APRIL_14 and len(fetched.papers) == 506


@pytest.mark.parametrize("raw, expected", [
    ("oai:arXiv.org:2603.09355v1", ("2603.09355", 1)),
    ("http://arxiv.org/abs/2104.12255v3", ("2104.12255", 3)),
    ("arXiv:2604.01234", ("2604.01234", 1)),
    ("http://arxiv.org/abs/astro-ph/0601001v1", ("astro-ph/0601001", 1)),
])
def test_arxiv_ids_lose_prefixes_and_versions(raw, expected):
    assert split_arxiv_id(raw) == expected


def test_unreachable_host_is_a_source_error():
    config = ArxivConfig(categories=["cs.LG"], rss_url="http://127.0.0.1:9/rss",
                         timeout_seconds=2, backoff_seconds=0)
    with pytest.raises(SourceError, match=r"127\.0\.0\.1:9/rss/cs\.LG"):
        fetch_day(config, None)


# -- nothing lost, nothing altered, nothing misdated ------------------------------------

def api_papers() -> dict[str, object]:
    papers = {}
    for page in sorted((DATA / "arxiv").glob("api-*-2026-04-14-page*.xml")):
        papers.update((p.arxiv_id, p) for p in parse_atom(page.read_bytes(), "x").papers)
    return papers


def test_rss_and_api_give_arxivs_text_exactly():
    """The same real day read through both formats: every title and abstract identical
    (the RSS reader once dropped "<EOS>" and showed "Q&A" as "Q&amp;A")."""
    rss = {}
    for category in ("cs.LG", "cs.AI"):
        rss.update((p.arxiv_id, p) for p in parse_rss(
            (DATA / "arxiv" / f"rss-{category}-2026-04-14.xml").read_bytes(), "x")[1])
    api = api_papers()
    assert len(api) == 663 and set(api) <= set(rss)
    for arxiv_id, paper in api.items():
        assert (rss[arxiv_id].title, rss[arxiv_id].abstract, rss[arxiv_id].authors) == \
            (paper.title, paper.abstract, paper.authors), arxiv_id
    assert "(e.g., <EOS>)" in rss["2604.11095"].abstract
    assert "grounded Q&A," in rss["2604.09572"].abstract


def rss_item(arxiv_id: str, description: str, title: str = "A title") -> str:
    return (f"<item><title>{title}</title><link>https://arxiv.org/abs/{arxiv_id}</link>"
            f"<description>{description}</description>"
            f"<guid isPermaLink=\"false\">oai:arXiv.org:{arxiv_id}v1</guid>"
            "<category>cs.LG</category><pubDate>Tue, 14 Apr 2026 00:00:00 -0400</pubDate>"
            "<arxiv:announce_type>new</arxiv:announce_type>"
            "<dc:creator>Ada Lovelace</dc:creator></item>")


def rss_feed(items: str, date: str = "Tue, 14 Apr 2026 00:00:00 -0400") -> str:
    return ('<?xml version="1.0"?><rss version="2.0" xmlns:arxiv="http://arxiv.org/schemas/'
            'atom" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>'
            f"<pubDate>{date}</pubDate>{items}</channel></rss>")


def test_an_rss_item_without_an_abstract_has_an_empty_abstract():
    feed = rss_feed(rss_item("2604.00001", "arXiv:2604.00001v1 Announce Type: new \nAbstract: ")
                    + rss_item("2604.00002", "arXiv:2604.00002v1 Announce Type: new"))
    _, papers = parse_rss(feed.encode(), "x")
    assert [p.abstract for p in papers] == ["", ""]


def test_control_characters_never_reach_a_paper(tmp_path):
    """XML cannot carry them, JSON can: a bell, an escape, a lone surrogate, a NEL."""
    path = tmp_path / "2026-04-14.jsonl"
    path.write_text(json.dumps({"arxiv_id": "2604.00001", "title": "Bell\u0007 title\u001b",
                                "abstract": "Clean\u0085text\ud800 here.",
                                "authors": ["Ada\u0000 Lovelace"]}))
    paper = fetch_day(ArxivConfig(source="file", file=path), None, file_path=path).papers[0]
    assert (paper.title, paper.abstract, paper.authors) == (
        "Bell title", "Clean text here.", ("Ada Lovelace",))


def test_feeds_of_different_days_are_never_merged(httpserver: HTTPServer):
    httpserver.expect_request("/rss/cs.LG").respond_with_data(
        (DATA / "arxiv" / "rss-cs.LG-2026-04-14.xml").read_bytes())
    next_day = (DATA / "arxiv" / "rss-cs.AI-2026-04-14.xml").read_text().replace(
        "Tue, 14 Apr 2026", "Wed, 15 Apr 2026")
    httpserver.expect_request("/rss/cs.AI").respond_with_data(next_day)
    config = ArxivConfig(rss_url=httpserver.url_for("/rss"))
    with pytest.raises(SourceError, match="different days") as error:
        fetch_day(config, None)
    assert "cs.LG is for 2026-04-14" in str(error.value)
    assert "cs.AI is for 2026-04-15" in str(error.value)


def test_a_future_day_is_refused_before_anything_is_fetched(arxiv):
    with pytest.raises(DateError, match="2027-01-05: that day is in the future"):
        fetch_day(config_for(arxiv), dt.date(2027, 1, 5), today=dt.date(2026, 11, 24))
    assert not arxiv.requests


def test_auto_asks_the_api_for_a_past_day_even_when_a_stale_feed_shows_it(arxiv):
    fetched = fetch_day(config_for(arxiv, api_page_size=50), APRIL_14,
                        today=dt.date(2026, 11, 24))
    assert fetched.source == "arXiv API"
    assert not [u for u in arxiv.requests if "/rss/" in u]


def test_a_file_of_another_day_is_refused(tmp_path):
    day_file = tmp_path / "2026-04-14.jsonl"
    day_file.write_text((DATA.parent.parent / "src" / "papersift" / "demo" /
                         "2026-04-20.jsonl").read_text())
    with pytest.raises(DateError, match=r"2026-04-14.jsonl: the file is for 2026-04-14 "
                                          r"\(its name\), not 2026-04-15"):
        fetch_day(ArxivConfig(source="file", file=day_file), dt.date(2026, 4, 15),
                  file_path=day_file)
    with pytest.raises(DateError, match="announced on 2026-04-14, none on 2026-04-16"):
        feed = DATA / "arxiv" / "rss-cs.LG-2026-04-14.xml"
        fetch_day(ArxivConfig(source="file", file=feed), dt.date(2026, 4, 16),
                  file_path=feed)


def test_papers_that_cannot_belong_to_the_day_are_refused(tmp_path):
    """A file without dates: the ids still tell when its papers were submitted."""
    undated = tmp_path / "papers.jsonl"
    undated.write_text((DATA.parent.parent / "src" / "papersift" / "demo" /
                        "2026-04-20.jsonl").read_text())
    config = ArxivConfig(source="file", file=undated)
    with pytest.raises(SourceError, match="submitted after 2026-03-10"):
        fetch_day(config, dt.date(2026, 3, 10), file_path=undated)
    with pytest.raises(SourceError, match="submitted around 2026-04, so they were not "
                                          "announced on 2026-11-20"):
        fetch_day(config, dt.date(2026, 11, 20), file_path=undated,
                  today=dt.date(2026, 11, 24))
    assert fetch_day(config, dt.date(2026, 4, 20), file_path=undated).day == \
        dt.date(2026, 4, 20)


def test_a_file_holding_several_days_gives_only_the_asked_day(tmp_path):
    rows = [{"arxiv_id": f"2604.0000{n}", "title": f"T{n}", "date": f"2026-04-1{n}"}
            for n in (3, 4, 4)]
    rows[2]["arxiv_id"] = "2604.00005"
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    config = ArxivConfig(source="file", file=path)
    fetched = fetch_day(config, APRIL_14, file_path=path)
    assert [p.arxiv_id for p in fetched.papers] == ["2604.00004", "2604.00005"]
    with pytest.raises(DateError, match="several days"):
        fetch_day(config, None, file_path=path)


def test_jsonl_errors_name_the_real_line_and_categories_may_be_one_string(tmp_path):
    path = tmp_path / "2026-04-14.jsonl"
    path.write_text('{"arxiv_id": "2604.00001", "title": "ok"}\n{"arxiv_id": \n')
    with pytest.raises(SourceError, match=r"2026-04-14.jsonl: line 2: not valid JSON"):
        fetch_day(ArxivConfig(source="file", file=path), None, file_path=path)
    path.write_text('{"arxiv_id": "2604.00001", "title": "A", "categories": "cs.LG"}\n'
                    '{"arxiv_id": "2604.00002", "title": "B", "categories": "cs.LG stat.ML"}\n')
    papers = fetch_day(ArxivConfig(source="file", file=path), None, file_path=path).papers
    assert [p.categories for p in papers] == [("cs.LG",), ("cs.LG", "stat.ML")]


def test_deeply_nested_json_is_one_clear_error(tmp_path):
    path = tmp_path / "2026-04-14.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SourceError, match="nested deeper than"):
        fetch_day(ArxivConfig(source="file", file=path), None, file_path=path)


class FlakyApi:
    """The real API pages of 2026-04-14, with scripted empty or repeated pages."""

    def __init__(self, server: HTTPServer, empty: dict[int, int] | None = None,
                 repeat_forever: bool = False):
        self.empty = dict(empty or {})  # start -> how many times that page comes back empty
        self.repeat_forever = repeat_forever
        self.starts: list[int] = []
        server.expect_request("/api/query").respond_with_handler(self.handle)
        self.url = server.url_for("/api/query")

    def handle(self, request):
        from werkzeug import Response
        start = int(request.args["start"])
        self.starts.append(start)
        category = "cs.LG" if "cs.LG" in request.args["search_query"] else "cs.AI"
        page = DATA / "arxiv" / f"api-{category}-2026-04-14-page{start // 50}.xml"
        text = (DATA / "arxiv" / f"api-{category}-2026-04-14-page0.xml").read_text() \
            if self.repeat_forever or not page.exists() else page.read_text()
        if self.repeat_forever:
            text = re.sub(r"<opensearch:totalResults>\d+", "<opensearch:totalResults>9000", text)
        if self.empty.get(start, 0) > 0:
            self.empty[start] -= 1
            text = re.sub(r"<entry>.*?</entry>", "", text, flags=re.DOTALL)
        return Response(text, content_type="application/atom+xml")


def api_config(url: str, **overrides) -> ArxivConfig:
    return ArxivConfig(source="api", categories=["cs.LG"], api_url=url, api_page_size=50,
                       api_delay_seconds=0, backoff_seconds=0, **overrides)


def test_an_empty_api_page_before_the_end_is_asked_again(httpserver: HTTPServer):
    api = FlakyApi(httpserver, empty={100: 2})
    fetched = fetch_day(api_config(api.url), APRIL_14)
    assert len(fetched.papers) == 290  # every paper of the day, none lost
    assert api.starts.count(100) == 3


def test_an_api_listing_that_cannot_be_completed_fails_the_run(httpserver: HTTPServer):
    api = FlakyApi(httpserver, empty={100: 99})
    with pytest.raises(SourceError) as error:
        fetch_day(api_config(api.url, request_attempts=3), APRIL_14)
    message = str(error.value)
    assert "got 100 of 290 papers" in message and "start=100" in message
    assert api.starts.count(100) == 3


def test_a_listing_that_never_ends_stops_after_a_bounded_number_of_pages(
        httpserver: HTTPServer):
    api = FlakyApi(httpserver, repeat_forever=True)
    with pytest.raises(SourceError, match="only papers it sent before"):
        fetch_day(api_config(api.url, request_attempts=3), APRIL_14)
    assert len(api.starts) <= 4


def test_a_day_before_arxiv_is_refused():
    with pytest.raises(DateError, match="first papers in August 1991"):
        fetch_day(ArxivConfig(source="api"), dt.date(1, 1, 3))


def test_an_xml_entity_bomb_is_refused_not_expanded():
    bomb = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            '<rss version="2.0"><channel><title>&c;</title></channel></rss>')
    with pytest.raises(SourceError, match="refused: the document declares a DTD"):
        parse_rss(bomb.encode(), "x")
