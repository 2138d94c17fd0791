"""`papersift monthly`: the month by topic, with and without an LLM."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from conftest import write_project
from papersift.cli import app
from papersift.publish import publish
from papersift.store import Store
from test_site import build_archive, digest_for, real_papers

NO_LLM = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}


def monthly_of_archive(tmp_path, arxiv, llm=None, extra="", env=None):
    """`papersift monthly 2026-04` over a built archive; its output and overview.md."""
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra=extra)
    build_archive(tmp_path / "out")
    result = CliRunner().invoke(app, ["monthly", "2026-04", "-c", str(config)],
                                env=env or {"OPENAI_API_KEY": "sk-test"})
    assert result.exit_code == 0, result.output
    return result.output, (tmp_path / "out" / "md" / "2026-04" / "overview.md").read_text()


def test_without_an_llm_the_overview_counts_and_ranks_by_topic(tmp_path, arxiv):
    output, text = monthly_of_archive(tmp_path, arxiv, env=NO_LLM)
    assert "2026-04: 9 papers in 2 topics (no LLM)" in output
    assert "| Efficiency | 6 |" in text and "| World models | 3 |" in text
    record = json.loads((tmp_path / "out" / "json" / "2026-04" / "overview.json").read_text())
    assert [t["topic"] for t in record["topics"]] == ["Efficiency", "World models"]
    month_page = (tmp_path / "out" / "site" / "2026-04" / "index.html").read_text()
    assert 'href="../2026-04/overview.html">Summary of the month' in month_page


def test_with_an_llm_each_topic_gets_a_text_and_the_tokens_are_recorded(tmp_path, arxiv, llm):
    _, text = monthly_of_archive(tmp_path, arxiv, llm)
    assert [r.stage for r in llm.requests] == ["monthly"]
    assert "This month in World models: see \\[" in text
    assert "| [gpt-4.1-mini] | Prompt | Completion | Total |" in text
    with Store(tmp_path / "out" / "papersift.sqlite") as store:
        runs = store.db.execute("SELECT kind, status FROM runs").fetchall()
        assert runs == [("monthly", "done")]
        tokens = store.db.execute("SELECT sum(prompt_tokens) FROM llm_requests").fetchone()[0]
    assert tokens > 0


def test_a_month_without_digests_is_a_clear_error(tmp_path, arxiv):
    config = write_project(tmp_path, arxiv=arxiv)
    result = CliRunner().invoke(app, ["monthly", "2026-05", "-c", str(config)])
    assert result.exit_code == 1
    assert "no digests for 2026-05" in result.output
    bad = CliRunner().invoke(app, ["monthly", "May", "-c", str(config)])
    assert bad.exit_code == 2 and "expected YYYY-MM" in bad.output


def test_an_unknown_price_is_shown_as_unknown_never_as_zero(tmp_path, arxiv, llm):
    output, text = monthly_of_archive(tmp_path, arxiv, llm, '[llm]\nmodel = "my-local-model"\n')
    assert "tokens, unknown)" in output
    assert "| Cost | unknown | unknown | unknown |" in text


def test_latest_md_keeps_following_new_days_after_a_monthly_overview(tmp_path, arxiv):
    """The overview's own Markdown file lives beside the days' digests; it is not a day."""
    monthly_of_archive(tmp_path, arxiv, env=NO_LLM)
    publish(digest_for(dt.date(2026, 4, 17), real_papers()[40:42]), tmp_path / "out",
            ["md", "json", "site"])
    assert "\n# Personalized Daily arXiv Papers 2026-04-17\n" in (
        tmp_path / "out" / "latest.md").read_text()
