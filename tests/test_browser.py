"""The archive site in a real browser: Chromium from Debian, driven by Playwright,
against the built site served on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import pytest

from conftest import CHROMIUM, serve_under
from papersift.publish import publish
from test_site import build_archive, digest_for, real_papers

if not CHROMIUM and not os.environ.get("PAPERSIFT_REQUIRE_BROWSER"):
    pytest.skip("no Chromium here (apt-get install chromium); .ci/run installs it",
                allow_module_level=True)

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
HOSTILE = "Hostile <img src=x onerror=\"window.pwned=1\"> <script>window.pwned=2</script>"


@pytest.fixture
def site(tmp_path):
    """The archive served as GitHub Pages serves a project site: under /REPO/ only."""
    build_archive(tmp_path)
    paper = real_papers()[30]
    hostile = type(paper)(**{**paper.__dict__, "title": HOSTILE})
    publish(digest_for(dt.date(2026, 4, 17), [hostile]), tmp_path, ["json", "site"])
    with serve_under(tmp_path / "site", "/digest/") as url:
        yield url


def test_navigate_days_across_a_gap_month_and_search(site, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(site + "index.html")
    page.wait_for_url("**/2026-04-17.html")
    assert page.locator("h1").inner_text() == "Personalized Daily arXiv Papers 2026-04-17"

    page.get_by_role("link", name="← Previous Day 2026-04-16").click()
    page.get_by_role("link", name="← Previous Day 2026-04-14").click()  # the 15th is skipped
    assert page.url.endswith("/2026-04/2026-04-14.html")
    page.get_by_role("link", name="Next Day 2026-04-16 →").click()
    assert page.url.endswith("/2026-04/2026-04-16.html")

    page.get_by_role("link", name="Monthly Overview 2026-04").click()
    assert page.locator("h1").inner_text() == "Monthly Overview April 2026"
    assert page.get_by_role("link", name="14 · 3").is_visible()

    wanted = real_papers()[4]  # a paper of 2026-04-14
    author = wanted.authors[-1]
    page.get_by_role("searchbox").fill(author)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search.html?q=*")
    page.get_by_role("link", name=wanted.title).first.click()
    assert page.url.endswith(f"/2026-04/2026-04-14.html#arxiv-{wanted.arxiv_id}")
    card = page.locator(f'[id="arxiv-{wanted.arxiv_id}"]')
    assert card.is_visible()
    assert author in card.inner_text()
    assert not dialogs


def test_a_malicious_title_stays_inert_text(site, page):
    page.goto(site + "2026-04/2026-04-17.html")
    heading = page.locator("article h2").first
    assert HOSTILE in heading.inner_text()
    assert page.evaluate("window.pwned") is None
    assert page.locator("article img").count() == 0
    page.goto(site + "search.html?q=hostile")
    assert page.locator("#status").inner_text() == "1 paper for \u201chostile\u201d"
    assert page.evaluate("window.pwned") is None
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(site + "2026-04/2026-04-17.html")
    page.screenshot(path=str(ARTIFACTS / "day-page.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(site + "2026-04/index.html")
    page.screenshot(path=str(ARTIFACTS / "month-page-375px.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_under_a_sub_path_every_link_search_and_feed_resolve(site, page):
    """GitHub Pages serves a project site at /REPO/: nothing may point at the host's root."""
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(site)
    page.wait_for_url("**/digest/2026-04/2026-04-17.html")
    for path in ["archive.html", "search.html?q=efficiency", "2026-04/index.html",
                 "2026/index.html", "2026-04/2026-04-14.html"]:
        page.goto(site + path)
        hrefs = page.eval_on_selector_all(
            "a[href], link[href], script[src]",
            "els => els.map(e => e.href || e.src).filter(u => u.startsWith('http://127'))")
        for url in hrefs:
            assert "/digest/" in url, f"{path}: {url} leaves the sub-path"
            response = page.request.get(url.split("#")[0])
            assert response.ok, f"{path}: {url} answers {response.status}"
    page.goto(site + "search.html?q=efficiency")
    assert page.locator("#results li").count() > 0
    feed = page.request.get(site + "feed.xml")
    assert feed.ok and "<entry>" in feed.text()
    assert not failed


def test_the_spotlight_sits_above_the_list_and_leads_to_its_paper(tmp_path, page):
    from papersift.selection import spotlight

    chosen = real_papers()[10:15]
    digest = digest_for(dt.date(2026, 4, 20), chosen)
    digest = dataclasses.replace(digest, spotlight=spotlight(list(digest.selected), 2))
    publish(digest, tmp_path, ["json", "site"])
    with serve_under(tmp_path / "site", "/digest/") as url:
        page.goto(url + "2026-04/2026-04-20.html")
        box = page.get_by_role("region", name="Spotlight")
        assert box.is_visible()
        items = box.get_by_role("listitem")
        assert items.count() == 2
        assert "The day's top score; relevance 9/10, novelty 8/10; Efficiency." in (
            items.first.inner_text())
        toc = page.get_by_role("heading", name="Table of contents")
        assert box.bounding_box()["y"] < toc.bounding_box()["y"]
        page.screenshot(path=str(ARTIFACTS / "spotlight.png"))  # the README's picture
        box.get_by_role("link", name=chosen[1].title).click()
        assert page.url.endswith(f"#arxiv-{chosen[1].arxiv_id}")


def test_math_reads_as_math_code_links_and_the_tldr_sits_above_the_abstract(tmp_path, page):
    from papersift.models import Summary

    papers = real_papers()
    chosen = [papers[236], papers[66], papers[127]]  # S$^3$, Muon$^2$, math + a GitHub link
    digest = digest_for(dt.date(2026, 4, 20), chosen)
    selected = tuple(dataclasses.replace(item, summary=Summary(
        item.paper.abstract.split(". ")[1] + ".", "English", extractive=True))
        for item in digest.selected)
    publish(dataclasses.replace(digest, selected=selected), tmp_path, ["json", "site"])
    with serve_under(tmp_path / "site", "/digest/") as url:
        requested = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(url + "2026-04/2026-04-20.html")
        first = page.locator("article.paper").first
        heading = first.get_by_role("heading")
        assert heading.inner_text().startswith("1. S3: Structured Sparsity")
        assert heading.locator("sup").inner_text() == "3" and "$" not in heading.inner_text()
        third = page.locator("article.paper").nth(2)
        abstract = third.locator("details p")
        assert "$" not in abstract.inner_text() and "\\" not in abstract.inner_text()
        code = third.get_by_role("link", name="GitHub")
        assert code.get_attribute("href").startswith("https://github.com/")
        tldr = first.locator(".tldr")
        assert tldr.inner_text().startswith(
            "TL;DR (the abstract's most informative sentence):")
        assert not first.locator("details p").is_visible()  # the abstract stays collapsed
        assert tldr.bounding_box()["y"] < first.locator("details").bounding_box()["y"]
        first.screenshot(path=str(ARTIFACTS / "tldr.png"))  # the README's picture
        third.scroll_into_view_if_needed()
        third.locator("details summary").click()
        third.screenshot(path=str(ARTIFACTS / "math-and-code.png"))  # the README's picture
        # nothing is loaded from another site: no CDN for the math
        assert requested and all(r.startswith(url.split("/digest/")[0]) for r in requested)
