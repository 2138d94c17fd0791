"""What the reader sees: escaping, money, and the digest without any selected paper."""

from __future__ import annotations

import datetime as dt

from papersift.models import (
    Candidate,
    Digest,
    NotScored,
    Paper,
    Prompts,
    Scored,
    Selected,
    Usage,
)
from papersift.publish import publish
from papersift.render import money, render_json, render_markdown


def digest(selected=(), not_scored=(), usage=None) -> Digest:
    return Digest(
        day=dt.date(2026, 4, 14), model="gpt-5", total=10, scanned=8,
        selected=tuple(selected), not_scored=tuple(not_scored), filtered_counts={},
        usage=usage or Usage(), prompts=Prompts("SYSTEM TEXT", "Score these N papers.\n\n[X]"),
        relevance_cutoff=8, novelty_cutoff=7, source="arXiv RSS",
        generated_at=dt.datetime(2026, 4, 14, 12, tzinfo=dt.UTC),
    )


def hostile_paper() -> Paper:
    return Paper("2604.00001", "Attack <script>alert(1)</script> [click](http://evil) *bold*",
                 "Abstract with <img src=x onerror=alert(1)> and `code`.",
                 ("Mallory <b>",), ("cs.LG",))


def test_text_from_arxiv_and_the_llm_is_inert_in_markdown():
    scored = Scored(Candidate(hostile_paper()), 9, 8, "Comment </a><script>x</script>", "gpt-5")
    text = render_markdown(digest([Selected(scored, 17)]))
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\\[click\\](http://evil)" in text
    assert "\\*bold\\*" in text


def test_json_keeps_text_as_is():
    scored = Scored(Candidate(hostile_paper()), 9, 8, "ok", "gpt-5")
    record = render_json(digest([Selected(scored, 17)]))
    assert "Attack <script>alert(1)</script>" in record


def test_money_never_shows_unknown_as_zero():
    assert money(None) == "unknown"
    assert money(0.0) == "$0.00"
    assert money(0.534) == "$0.53"
    assert money(0.0012) == "$0.0012"


def test_a_day_without_selected_papers_says_so_and_lists_not_scored(tmp_path):
    failed = NotScored(Candidate(hostile_paper()), "request failed: HTTP 500")
    text = render_markdown(digest(not_scored=[failed]))
    assert "No paper passed the cutoffs today (relevance ≥ 8 and novelty ≥ 7)." in text
    assert "## Not scored (1)" in text
    assert "(2604.00001): request failed: HTTP 500" in text
    written = publish(digest(not_scored=[failed]), tmp_path, ["md", "json"])
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "md/2026-04/2026-04-14.md", "latest.md", "json/2026-04/2026-04-14.json"]
    assert not list(tmp_path.rglob("*.tmp"))
