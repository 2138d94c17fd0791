"""Feedback that shows: the reader's verdicts in what is published (issue 22)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from papersift.models import NotScored, Prompts, Spotlight, Summary
from papersift.publish import publish
from papersift.render import digest_record, render_markdown
from papersift.render.record import digest_from_record
from test_site import DAYS, build_archive, digest_for, real_papers, search_entries


def rich_digest():
    """A digest with every part the Markdown shows."""
    papers = real_papers()
    digest = digest_for(dt.date(2026, 4, 14), papers[:4])
    selected = list(digest.selected)
    selected[0] = dataclasses.replace(selected[0], summary=Summary(
        "One sentence, as written.", "English", extractive=True))
    selected[1] = dataclasses.replace(selected[1], summary=Summary("A TL;DR.", "English",
                                                                   "gpt-test"), liked=True)
    selected[2] = dataclasses.replace(selected[2], scored=dataclasses.replace(
        selected[2].scored, candidate=dataclasses.replace(
            selected[2].scored.candidate, matched_authors=("Ada Lovelace",))))
    return dataclasses.replace(
        digest, selected=tuple(selected),
        spotlight=(Spotlight(selected[1], 2, "The day's top score."),),
        not_scored=(NotScored(selected[3].scored.candidate, "request failed: HTTP 500"),
                    NotScored(digest_for(dt.date(2026, 4, 14), papers[5:6]).selected[0]
                              .scored.candidate, "budget: the run's limit of $0.10")),
        filtered_counts={"replacement": 12},
        prompts=Prompts("1. Efficiency\n   - Keep: pruning", "Model: x\nCutoffs: 8, 7",
                        local=True))


def test_a_published_day_reads_back_into_the_same_markdown():
    digest = rich_digest()
    assert render_markdown(digest_from_record(digest_record(digest))) == \
        render_markdown(digest)


def test_a_disliked_paper_leaves_its_day_everywhere_and_a_like_brings_it_back(tmp_path):
    build_archive(tmp_path)  # three days of three papers: 13, 14, 16 April
    papers = real_papers()
    gone, liked = papers[0], papers[1]  # both of 13 April
    verdicts = {DAYS[0]: {gone.arxiv_id: False, liked.arxiv_id: True}}
    publish(digest_for(dt.date(2026, 4, 17), papers[20:22]), tmp_path, ["md", "json", "site"],
            verdicts=verdicts)

    markdown = (tmp_path / "md/2026-04/2026-04-13.md").read_text()
    page = (tmp_path / "site/2026-04/2026-04-13.html").read_text()
    feed = (tmp_path / "site/feed.xml").read_text()
    overview = (tmp_path / "md/2026-04/overview.md").read_text()
    for text in (markdown, page, feed, overview):
        assert gone.arxiv_id not in text
    assert gone.arxiv_id not in {e["id"] for e in search_entries(tmp_path / "site")}
    assert "**You liked this paper.**" in markdown and "You liked this" in page
    assert "Total relevant papers: 2" in markdown
    record = json.loads((tmp_path / "json/2026-04/2026-04-13.json").read_text())
    assert list(record["removed_by_reader"]) == [gone.arxiv_id]  # kept, not lost
    assert record["papers"][liked.arxiv_id]["reader"] == "liked"

    # The reader changes their mind: the paper is back, in its place.
    publish(digest_for(dt.date(2026, 4, 20), papers[22:23]), tmp_path, ["md", "json", "site"],
            verdicts={DAYS[0]: {gone.arxiv_id: True, liked.arxiv_id: True}})
    markdown = (tmp_path / "md/2026-04/2026-04-13.md").read_text()
    assert markdown.index(gone.title) < markdown.index(liked.title)
    assert "removed_by_reader" not in json.loads(
        (tmp_path / "json/2026-04/2026-04-13.json").read_text())


def test_verdicts_that_change_nothing_rewrite_nothing(tmp_path):
    build_archive(tmp_path)
    day_page = tmp_path / "site/2026-04/2026-04-13.html"
    markdown = tmp_path / "md/2026-04/2026-04-13.md"
    before = day_page.stat().st_mtime_ns, markdown.stat().st_mtime_ns
    publish(digest_for(dt.date(2026, 4, 17), real_papers()[20:22]), tmp_path,
            ["md", "json", "site"], verdicts={DAYS[0]: {"2604.99999": False}})
    assert (day_page.stat().st_mtime_ns, markdown.stat().st_mtime_ns) == before


def test_a_day_edited_by_hand_is_published_as_it_was(tmp_path, capfd):
    build_archive(tmp_path)
    path = tmp_path / "json/2026-04/2026-04-13.json"
    record = json.loads(path.read_text())
    first, second = list(record["papers"])[:2]
    record["papers"][first] = "not an object"
    record["papers"][second]["version"] = None
    path.write_text(json.dumps(record))
    publish(digest_for(dt.date(2026, 4, 17), real_papers()[20:22]), tmp_path,
            ["md", "json", "site"], verdicts={DAYS[0]: {first: False}})
    publish(digest_for(dt.date(2026, 4, 20), real_papers()[22:23]), tmp_path,
            ["md", "json", "site"], verdicts={DAYS[0]: {second: True}})
    assert (tmp_path / "md/2026-04/2026-04-20.md").is_file()
    assert "2026-04-13.json: the reader's verdicts were not applied" in capfd.readouterr().err
