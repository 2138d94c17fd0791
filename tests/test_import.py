"""`papersift import PATH`: a ChatGPT-ArXiv-Paper-Assistant folder (the layout and keys its
README and config template document; the texts here are ours) becomes papersift.toml +
interests.md, and its archived digests become papersift days, site pages and labels."""

from __future__ import annotations

import json
import tomllib

from typer.testing import CliRunner

from papersift.cli import app
from papersift.config import load_config
from papersift.store import Store
from test_site import real_papers

CONFIG_INI = """[SELECTION]
run_author_match = true
author_match_score = 18
run_openai = true
run_title_filter = true
run_abstract_filter = true
model = gpt-4.1-mini
limit_per_minute = 30
title_batch_size = 24
abstract_batch_size = 12
adaptive_batch_size = false
adaptive_threshold = 40
title_retry = 2
abstract_retry = 4

[FILTERING]
arxiv_category = cs.LG,cs.CL
announce_type = new,cross
force_primary = true
h_cutoff = 12
relevance_cutoff = 7
novelty_cutoff = 5
num_samples = 1

[OUTPUT]
debug_messages = false
output_path = out/
dump_debug_file = false
dump_json = true
dump_md = true
push_to_slack = true

[HOTSPOTS]
enabled = true
"""
TOPICS = """ 1. Ways to make attention cheaper at long context, e.g. sparse or linear attention.
    - Relevant: kernels, KV-cache compression, sub-quadratic mixers that keep quality.
    - Not relevant: applying long-context models to a new domain.
 2. How agents built on language models plan and use tools.
    - Relevant: planning, tool calls, evaluations of agents.

In suggesting papers, remember I like surprising empirical results.
"""
AUTHORS = """# name, Semantic Scholar id
Ada Lovelace, 1741101
Grace Hopper
"""
CRITERIA = "Relevance 10: exactly one of my topics. Novelty 10: a new direction.\n"


def reference_folder(root):
    """A reference checkout: configs/, prompts/ and two archived days in out/json."""
    (root / "configs").mkdir(parents=True)
    (root / "prompts").mkdir()
    (root / "configs" / "config.ini").write_text(CONFIG_INI)
    (root / "configs" / "authors.txt").write_text(AUTHORS)
    (root / "prompts" / "paper_topics.txt").write_text(TOPICS)
    (root / "prompts" / "score_criteria.txt").write_text(CRITERIA)
    (root / "prompts" / "postfix_prompt_abstract.txt").write_text("Answer as JSON lines.\n")
    papers = real_papers()
    month = root / "out" / "json" / "2026-04"
    month.mkdir(parents=True)

    def entry(paper, relevance, novelty):
        return {"ARXIVID": paper.arxiv_id, "COMMENT": f"About {paper.title[:20]}",
                "RELEVANCE": relevance, "NOVELTY": novelty, "SCORE": relevance + novelty,
                "title": paper.title, "abstract": paper.abstract,
                "authors": list(paper.authors), "arxiv_id": paper.arxiv_id,
                "PRIMARY_TOPIC_LABEL": "Long context"}

    # 04-13: every scored paper (output.json); 04-14: the day's digest too (daily-papers)
    scored = [entry(p, 8 if i < 4 else 3, 7 if i < 4 else 4) for i, p in enumerate(papers[:30])]
    (month / "2026-04-13-output.json").write_text(json.dumps(
        {e["ARXIVID"]: e for e in scored}))
    day = [entry(p, 9, 8) for p in papers[30:33]]
    (month / "2026-04-14-daily-papers.json").write_text(json.dumps({
        "schema_version": 2,
        "meta": {"date": "2026-04-14", "usage": {"model": "gpt-5.4", "prompt_tokens": 79255,
                                                   "completion_tokens": 11806,
                                                   "prompt_cost": 0.19, "completion_cost": 0.17}},
        "papers": {e["ARXIVID"]: e for e in day}}))
    (month / "2026-04-14-hotspot-papers.json").write_text("{}")
    return papers


def test_one_command_moves_settings_topics_authors_and_the_archive(tmp_path):
    source, target = tmp_path / "reference", tmp_path / "mine"
    papers = reference_folder(source)
    target.mkdir()
    result = CliRunner().invoke(app, ["import", str(source), "--to", str(target)])
    assert result.exit_code == 0, result.output

    raw = tomllib.loads((target / "papersift.toml").read_text())
    config = load_config(target / "papersift.toml")
    assert config.arxiv.categories == ["cs.LG", "cs.CL"]
    assert config.arxiv.announce_types == ["new", "cross"] and config.arxiv.force_primary
    assert (config.selection.relevance_cutoff, config.selection.novelty_cutoff) == (7, 5)
    assert (config.llm.model, config.llm.title_batch_size, config.llm.abstract_batch_size,
            config.llm.adaptive_batch_size, config.llm.adaptive_threshold) == (
        "gpt-4.1-mini", 24, 12, False, 40)
    assert config.llm.requests_per_minute == 30 and config.llm.retries == 4
    assert config.authors.follow == ["1741101", "Grace Hopper"]
    assert config.authors.h_index_gate and config.authors.h_index_cutoff == 12
    assert config.authors.match_score == 18 and raw["scoring"]["scorer"] == "llm"
    assert config.notify.slack is not None
    # the user's own words, as written
    assert TOPICS.strip() in (target / "interests.md").read_text()
    assert (target / "prompts" / "rubric.md").read_text() == CRITERIA
    assert config.prompts.rubric is not None

    unmapped = result.output.split("not imported")[1]
    for what in ("[HOTSPOTS]", "num_samples", "debug_messages", "postfix_prompt_abstract.txt",
                 "PAPERSIFT_SLACK_WEBHOOK_URL", "2026-04-14-hotspot-papers.json"):
        assert what in unmapped, what

    # the archive: two days of digests, the site, and the judgments as labels
    assert "archive: 2 days, 33 scored papers" in result.output
    out = target / "out"
    day_13 = json.loads((out / "json/2026-04/2026-04-13.json").read_text())
    assert sorted(day_13["papers"]) == sorted(p.arxiv_id for p in papers[:4])
    day_14 = json.loads((out / "json/2026-04/2026-04-14.json").read_text())
    assert day_14["run"]["model"] == "gpt-5.4"
    assert day_14["run"]["usage"]["prompt_tokens"] == 79255
    assert len(day_14["papers"]) == 3 and day_14["spotlight"]
    page = (out / "site/2026-04/2026-04-14.html").read_text()
    assert papers[30].arxiv_id in page and "2026-04-13.html" in page  # linked days
    markdown = (out / "md/2026-04/2026-04-14.md").read_text()
    assert "Previous Day [2026-04-13](../2026-04/2026-04-13.md)" in markdown
    assert "scored by the system papersift replaced" in markdown and "User prompt" not in (
        markdown)
    with Store(config.store_path) as store:
        labels = store.labelled_papers(relevance_cutoff=7, novelty_cutoff=5)
    assert sum(e.wanted for e in labels) == 7 and len(labels) == 33

    learned = CliRunner().invoke(app, ["learn", "-c", str(target / "papersift.toml")])
    assert "labels in the store: 7 wanted, 26 not wanted" in learned.output


def test_import_never_overwrites_and_names_what_is_missing(tmp_path):
    source, target = tmp_path / "reference", tmp_path / "mine"
    reference_folder(source)
    target.mkdir()
    (target / "interests.md").write_text("mine")
    result = CliRunner().invoke(app, ["import", str(source), "--to", str(target)])
    assert result.exit_code == 2 and "interests.md: it already exists; nothing written" in (
        result.output)
    assert (target / "interests.md").read_text() == "mine"
    assert not (target / "papersift.toml").exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(app, ["import", str(empty), "--to", str(target)])
    assert result.exit_code == 2 and f"{empty}: no config.ini" in result.output

    (source / "configs" / "config.ini").write_text(
        CONFIG_INI.replace("relevance_cutoff = 7", "relevance_cutoff = 0"))
    result = CliRunner().invoke(app, ["import", str(source), "--to", str(tmp_path / "t2")])
    assert result.exit_code == 2
    assert "config.ini: maps to a setting papersift refuses" in result.output
    assert "relevance_cutoff" in result.output
