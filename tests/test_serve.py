"""Feedback from the page, in Chromium: with `papersift serve` a click is a label in the
store and the next run ranks with it; on a static host clicks are kept in the browser,
exported as a file, and `papersift feedback --import FILE` reads it."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from conftest import CHROMIUM, serve_under, serving
from papersift.cli import app
from papersift.config import Secrets, load_config
from papersift.demo import bundled_days
from papersift.deploy.issues import verdicts_in
from papersift.pipeline import run
from papersift.serve import make_server
from papersift.store import Store

if not CHROMIUM and not os.environ.get("PAPERSIFT_REQUIRE_BROWSER"):
    pytest.skip("no Chromium here (apt-get install chromium); .ci/run installs it",
                allow_module_level=True)

DAY_ONE, DAY_TWO = dt.date(2026, 4, 20), dt.date(2026, 4, 27)
INTERESTS = """# What I want to read

1. Efficient training and inference
   - Relevant: quantization, sparsity, pruning, KV-cache, mixture of experts, kernels.

2. Agents
   - Relevant: LLM agents, tool use, multi-agent systems, planning with language models.
"""


def project(folder, day: dt.date):
    """A local-scorer project reading one bundled real day (the demo's days)."""
    folder.mkdir(exist_ok=True)
    (folder / "interests.md").write_text(INTERESTS)
    path = next(p for p in bundled_days() if p.stem == day.isoformat())
    (folder / "papersift.toml").write_text(
        f'[arxiv]\nsource = "file"\nfile = "{path}"\n[scoring]\nscorer = "local"\n')
    return load_config(folder / "papersift.toml")


def run_day(folder, day):
    return run(project(folder, day), secrets=Secrets(None, None, None))


@contextmanager
def served(folder):
    config = load_config(folder / "papersift.toml")
    with serving(make_server(config.out_dir / "site", config.store_path, port=0)) as url:
        yield url


def ranking(result) -> list[str]:
    return [s.paper.arxiv_id for s in result.digest.selected]


def test_a_click_on_the_served_page_is_a_label_and_the_next_run_ranks_with_it(tmp_path, page):
    run_day(tmp_path, DAY_ONE)
    before = run_day(tmp_path, DAY_TWO)
    assert not any("kept" in s.scored.comment for s in before.digest.selected)
    day_one = json.loads((tmp_path / "out/json/2026-04/2026-04-20.json").read_text())
    papers = list(day_one["papers"].values())
    liked = [p["arxiv_id"] for p in papers if "agent" in (p["title"] + p["abstract"]).lower()]
    disliked = [p["arxiv_id"] for p in papers if p["arxiv_id"] not in liked]
    assert len(liked) >= 5 and len(disliked) >= 5

    with served(tmp_path) as url:
        page.goto(url + "2026-04/2026-04-20.html")
        for arxiv_id in liked[:5] + disliked[:5]:
            group = page.locator(f'.verdict[data-id="{arxiv_id}"]')
            verdict = "Like" if arxiv_id in liked else "Dislike"
            group.get_by_role("button", name=verdict, exact=True).click()
            page.wait_for_function(
                "el => el.textContent === 'saved'",
                arg=group.locator(".saved").element_handle())
            assert group.get_by_role("button", name=verdict, exact=True).get_attribute(
                "aria-pressed") == "true"
            article = page.locator(f'article[id="arxiv-{arxiv_id}"]')
            # A dislike folds the paper away at once; its abstract is no longer shown.
            assert ("disliked" in article.get_attribute("class")) is (verdict == "Dislike")
            assert article.locator("details").is_visible() is (verdict == "Like")
        assert page.locator("#feedback-bar").is_hidden()  # nothing left to export
        page.reload()  # the page shows what the store holds
        first = page.locator(f'.verdict[data-id="{liked[0]}"]')
        first.get_by_role("button", name="Like", exact=True).wait_for()
        page.wait_for_function(
            "el => el.getAttribute('aria-pressed') === 'true'",
            arg=first.get_by_role("button", name="Like", exact=True).element_handle())

    with Store(tmp_path / "out/papersift.sqlite") as store:
        labels = store.feedback_labels()
    assert labels == {**dict.fromkeys(liked[:5], True), **dict.fromkeys(disliked[:5], False)}

    after = run_day(tmp_path, DAY_TWO)
    assert ranking(after) != ranking(before)
    # The next publish leaves the disliked papers out of their day and marks the liked.
    out = tmp_path / "out"
    page_html = (out / "site/2026-04/2026-04-20.html").read_text()
    markdown = (out / "md/2026-04/2026-04-20.md").read_text()
    feed = (out / "site/feed.xml").read_text()
    titles = {p["arxiv_id"]: p["title"] for p in papers}
    for arxiv_id in disliked[:5]:
        assert f'id="arxiv-{arxiv_id}"' not in page_html and arxiv_id not in markdown
        assert f"abs/{arxiv_id}" not in feed
    for arxiv_id in liked[:5]:
        assert f'id="arxiv-{arxiv_id}"' in page_html and titles[arxiv_id] in markdown
    assert page_html.count("You liked this") == 5
    assert markdown.count("**You liked this paper.**") == 5
    kept = json.loads((out / "json/2026-04/2026-04-20.json").read_text())
    assert set(kept["removed_by_reader"]) == set(disliked[:5])  # the record keeps them
    comments = [s.scored.comment for s in after.digest.selected]
    assert comments and all("ranked by what you kept (5) and skipped (5)" in c for c in comments)


def test_on_a_static_host_clicks_are_exported_and_imported(tmp_path, page):
    run_day(tmp_path, DAY_ONE)
    day_one = json.loads((tmp_path / "out/json/2026-04/2026-04-20.json").read_text())
    first, second = list(day_one["papers"])[:2]
    with serve_under(tmp_path / "out/site", "/digest/") as url:  # no /api: a static host
        page.goto(url + "2026-04/2026-04-20.html")
        page.locator(f'.verdict[data-id="{first}"]').get_by_role(
            "button", name="Like", exact=True).click()
        page.locator(f'.verdict[data-id="{second}"]').get_by_role(
            "button", name="Dislike", exact=True).click()
        bar = page.get_by_role("region", name="Your feedback")
        bar.wait_for()
        assert bar.inner_text().startswith("2 verdicts kept in this browser")
        page.reload()  # kept across visits
        assert page.locator(f'.verdict[data-id="{first}"]').get_by_role(
            "button", name="Like", exact=True).get_attribute("aria-pressed") == "true"
        with page.expect_download() as download:
            bar.get_by_role("button", name="Export feedback").click()
        exported = tmp_path / "papersift-feedback.json"
        download.value.save_as(exported)

    result = CliRunner().invoke(app, ["feedback", "--import", str(exported),
                                      "-c", str(tmp_path / "papersift.toml")])
    assert result.exit_code == 0, result.output
    assert "imported 2 verdicts" in result.output and "1 liked, 1 disliked" in result.output
    with Store(tmp_path / "out/papersift.sqlite") as store:
        assert store.feedback_labels() == {first: True, second: False}


def test_a_bad_feedback_file_imports_nothing_and_names_the_entry(tmp_path):
    (tmp_path / "papersift.toml").write_text("")
    bad = tmp_path / "feedback.json"
    bad.write_text(json.dumps({"format": "papersift-feedback", "version": 1, "labels": [
        {"arxiv_id": "2604.01234", "like": True}, {"arxiv_id": "2604.05678", "like": "yes"}]}))
    result = CliRunner().invoke(app, ["feedback", "--import", str(bad),
                                      "-c", str(tmp_path / "papersift.toml")])
    assert result.exit_code == 2
    assert f"{bad}: labels[2]: 2604.05678: like must be true or false" in result.output
    assert not (tmp_path / "out" / "papersift.sqlite").exists()


def test_serve_takes_clicks_from_its_own_pages_only(tmp_path):
    run_day(tmp_path, DAY_ONE)
    process = subprocess.Popen([sys.executable, "-m", "papersift", "serve", "-p", "0"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("serving "), line + process.stderr.read()
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        paper = "2604.16301"
        foreign = httpx.post(url + "api/feedback", json={"arxiv_id": paper, "like": True},
                             headers={"Origin": "https://evil.example"})
        form = httpx.post(url + "api/feedback", data={"arxiv_id": paper, "like": "true"})
        garbage = httpx.post(url + "api/feedback", content=b"{not json",
                             headers={"Content-Type": "application/json"})
        assert (foreign.status_code, form.status_code, garbage.status_code) == (403, 415, 400)
        own = httpx.post(url + "api/feedback", json={"arxiv_id": f"arXiv:{paper}v2",
                                                     "like": False},
                         headers={"Origin": url.rstrip("/")})
        assert own.status_code == 200 and own.json() == {"arxiv_id": paper, "like": False}
        assert httpx.get(url + "api/feedback").json() == {"labels": {paper: False}}
        assert httpx.get(url + "index.html").status_code == 200
        process.send_signal(signal.SIGINT)  # Ctrl-C: serve's own words, not a run's
        _, stderr = process.communicate(timeout=10)
        assert process.returncode == 130
        assert stderr.strip().splitlines() == [
            f"stopped serving {url}; every click it answered is in "
            f"{tmp_path / 'out' / 'papersift.sqlite'}"]
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_on_github_pages_send_to_github_opens_an_issue_the_next_morning_reads(tmp_path, page):
    """The site built by the workflow knows its repository: the bar's "Send to GitHub"
    opens a new issue prefilled with the clicks, in the form `feedback --from-github`
    reads (GitHub itself is stood in for: nothing leaves this machine)."""
    run(project(tmp_path, DAY_ONE), secrets=Secrets(github_repository="ada/digest"))
    day_one = json.loads((tmp_path / "out/json/2026-04/2026-04-20.json").read_text())
    first = next(iter(day_one["papers"]))
    opened: list[str] = []

    def github(route):
        opened.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>new issue</p>")

    page.context.route("https://github.com/**", github)
    with serve_under(tmp_path / "out/site", "/digest/") as url:
        page.goto(url + "2026-04/2026-04-20.html")
        page.locator(f'.verdict[data-id="{first}"]').get_by_role(
            "button", name="Like", exact=True).click()
        bar = page.get_by_role("region", name="Your feedback")
        assert "Send them to GitHub" in bar.inner_text()
        with page.context.expect_page() as popup:
            bar.get_by_role("button", name="Send to GitHub").click()
        popup.value.wait_for_load_state()
    [address] = opened
    assert address.startswith("https://github.com/ada/digest/issues/new?title=papersift%20feedback")
    body = parse_qs(urlsplit(address).query)["body"][0]
    assert [(v.arxiv_id, v.like) for v in verdicts_in(body)] == [(first, True)]
