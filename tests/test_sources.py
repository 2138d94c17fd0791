"""Fetching real arXiv documents over loopback: RSS, the query API, and local files."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pytest_httpserver import HTTPServer

from conftest import DATA, ArxivServer
from papersift.config import ArxivConfig
from papersift.errors import NoAnnouncements, SourceError
from papersift.sources import fetch_day, keep_announced
from papersift.sources.arxiv_api import submission_window
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
    fetched = fetch_day(ArxivConfig(source="file"), None, file_path=path)
    assert fetched.day == APRIL_14
    paper = fetched.papers[0]
    assert (paper.arxiv_id, paper.version, paper.title) == ("2604.00001", 2, "A title")


def test_local_file_with_a_bad_record_names_file_and_record(tmp_path):
    path = tmp_path / "2026-04-14.jsonl"
    path.write_text('{"arxiv_id": "2604.00001", "title": "ok"}\n{"title": "no id"}\n')
    with pytest.raises(SourceError, match=r"2026-04-14.jsonl: record 2: missing 'arxiv_id'"):
        fetch_day(ArxivConfig(source="file"), None, file_path=path)


def test_local_saved_rss_file(tmp_path):
    fetched = fetch_day(ArxivConfig(source="file"), None,
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
