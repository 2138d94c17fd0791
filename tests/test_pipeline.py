"""The daily job end to end over loopback: real arXiv data in, the digest a user reads out."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import pytest

from conftest import PICKS, write_project
from papersift.config import Secrets, load_config
from papersift.errors import ConfigError, NoAnnouncements
from papersift.pipeline import run
from papersift.store import Store

APRIL_14 = dt.date(2026, 4, 14)
SECRETS = Secrets(openai_api_key="sk-test", openai_base_url=None, s2_api_key=None)


def run_day(config_path, day=None):
    """The latest day (the loopback RSS feeds are for 2026-04-14)."""
    return run(load_config(config_path), day=day, secrets=SECRETS)


def digest_text(tmp_path) -> str:
    return (tmp_path / "out" / "md" / "2026-04" / "2026-04-14.md").read_text()


def toc_titles(markdown: str) -> list[str]:
    return re.findall(r"^\d+\. \[(.+?)\]\(#paper-\d+\)$", markdown, flags=re.MULTILINE)


def expected_order() -> list[str]:
    """The reference picks, ranked as papersift ranks: relevance + novelty, then relevance."""
    def key(item):
        arxiv_id, s = item
        return (-(s["relevance"] + s["novelty"]), -s["relevance"],
                tuple(-int(p) for p in arxiv_id.split(".")))
    return [arxiv_id for arxiv_id, _ in sorted(PICKS.items(), key=key)]


def test_digest_of_a_real_day_has_the_picks_in_rank_order(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    result = run_day(config)

    digest = result.digest
    assert digest.total == 675  # 663 new/cross + 12 replace-cross, each listed once
    assert digest.scanned == 663  # replacements are left out by default
    assert [s.paper.arxiv_id for s in digest.selected] == expected_order()

    data = json.loads((tmp_path / "out" / "json" / "2026-04" / "2026-04-14.json").read_text())
    assert list(data["papers"]) == expected_order()
    first = data["papers"][expected_order()[0]]
    assert set(first) >= {"SCORE", "RELEVANCE", "NOVELTY", "COMMENT", "title", "authors",
                          "abstract", "arxiv_id"}
    assert data["run"]["total"] == 675 and data["run"]["relevant"] == len(PICKS)


def test_digest_markdown_follows_the_sample_layout(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    result = run_day(config)
    text = digest_text(tmp_path)
    usage = result.digest.usage

    # The sample opens with Previous Day / Monthly Overview / Next Day, then the title.
    assert text.startswith("<!-- navigation -->\nMonthly Overview [2026-04]")
    assert "\n<!-- /navigation -->\n\n# Personalized Daily arXiv Papers 2026-04-14\n" in text
    assert "| [gpt-4.1-mini] | Prompt | Completion | Total |" in text
    assert (f"| Token | {usage.prompt_tokens} | {usage.completion_tokens} | "
            f"{usage.total_tokens} |") in text
    assert re.search(r"\| Cost \| \$\d+\.\d\d \| \$\d+\.\d\d \| \$\d+\.\d\d \|", text)
    assert "Total arXiv papers: 675" in text
    assert "Total scanned papers: 663" in text
    assert f"Total relevant papers: {len(PICKS)}" in text
    assert "Table of contents with paper titles:" in text
    assert len(toc_titles(text)) == len(PICKS)
    first_id = expected_order()[0]
    section = text.split('<a id="paper-1"></a>')[1].split("---")[0]
    assert f"**ArXiv ID:** [{first_id}](https://arxiv.org/abs/{first_id})" in section
    for label in ("**Authors:**", "**Abstract:**", "**Comment:**", "**Relevance:**",
                  "**Novelty:**"):
        assert label in section
    assert "## Paper selection prompt" in text and "### System prompt" in text
    assert "### User prompt" in text and "[PAPER LIST]" in text
    # latest.md is the same digest; only its navigation links start from OUT/.
    latest = (tmp_path / "out" / "latest.md").read_text()
    assert latest.split("<!-- /navigation -->")[1] == text.split("<!-- /navigation -->")[1]
    assert "Monthly Overview [2026-04](md/2026-04/overview.md)" in latest


def test_every_fetched_paper_is_accounted_for(tmp_path, arxiv, llm):
    llm.omit = {expected_order()[0]}  # the model never answers for this paper
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra="[llm]\nretries = 2\n")
    result = run_day(config)
    with Store(result.store_path) as store:
        run_id = store.runs(APRIL_14)[-1]["id"]
        outcomes = store.outcomes(run_id)
    assert len(outcomes) == result.digest.total
    counts = {kind: sum(1 for o, _ in outcomes.values() if o == kind)
              for kind in ("filtered", "scored", "selected", "not_scored")}
    assert counts["not_scored"] == 1
    assert counts["selected"] == len(PICKS) - 1
    reasons = {r for o, r in outcomes.values() if o == "filtered"}
    assert reasons == {"announce type replace-cross", "title pass: certainly irrelevant"}

    text = digest_text(tmp_path)
    assert "## Not scored (1)" in text
    line = next(ln for ln in text.splitlines() if f"({expected_order()[0]}):" in ln)
    assert line.endswith("unscored after 3 rounds")
    assert "the model's answer" in line
    asked = [r for r in llm.stage_requests("abstract") if expected_order()[0] in r.ids]
    assert len(asked) == 3  # the first round and two retries


def test_rerun_of_the_same_day_sends_nothing_to_the_llm(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    first = run_day(config)
    sent = len(llm.requests)
    assert sent > 0
    second = run_day(config)
    assert len(llm.requests) == sent
    assert second.run_usage.requests == 0
    assert [s.paper.arxiv_id for s in second.digest.selected] == \
        [s.paper.arxiv_id for s in first.digest.selected]
    # The digest still shows what the day's digest cost, not a misleading zero.
    assert second.digest.usage.total_tokens == first.digest.usage.total_tokens > 0


def test_changing_the_interests_scores_afresh(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    run_day(config)
    sent = len(llm.requests)
    (tmp_path / "interests.md").write_text("I only read about sparse autoencoders.\n")
    run_day(config)
    assert len(llm.requests) > sent


def test_structured_output_limits_ids_to_the_batch_and_gives_the_same_digest(
        tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra="[llm]\nstructured_output = \"json_schema\"\n")
    result = run_day(config)

    assert [s.paper.arxiv_id for s in result.digest.selected] == expected_order()
    assert not result.digest.not_scored
    for request in llm.requests:
        schema = request.body["response_format"]["json_schema"]["schema"]
        if request.stage == "title":
            allowed = schema["properties"]["irrelevant"]["items"]["enum"]
        else:
            paper = schema["properties"]["papers"]["items"]["properties"]
            allowed = paper["ARXIVID"]["enum"]
            assert paper["RELEVANCE"]["enum"] == list(range(1, 11))
        assert allowed == request.ids


def test_a_day_is_split_into_even_batches_of_at_most_the_batch_size(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra="[llm]\ntitle_pass = false\nabstract_batch_size = 48\n")
    run_day(config)
    sizes = [len(r.ids) for r in llm.stage_requests("abstract")]
    assert sum(sizes) == 663 and len(sizes) == 14  # ceil(663 / 48) requests
    assert max(sizes) <= 48 and max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("include_authors", [False, True])
def test_author_names_reach_the_llm_only_when_asked(tmp_path, arxiv, llm, include_authors):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        f"[llm]\ntitle_pass = false\ninclude_authors = {str(include_authors).lower()}\n"))
    run_day(config)
    prompts = [r.body["messages"][-1]["content"] for r in llm.stage_requests("abstract")]
    assert all(("\nAuthors: " in prompt) == include_authors for prompt in prompts)
    assert all("\nAbstract: " in prompt for prompt in prompts)


def test_rate_limits_and_server_errors_are_retried(tmp_path, arxiv, llm):
    llm.faults.extend(["429", "500", "502", "503", "fenced", "chatty", "no_choices"])
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra="[llm]\ntitle_pass = false\n")
    result = run_day(config)
    assert [s.paper.arxiv_id for s in result.digest.selected] == expected_order()
    assert not result.digest.not_scored


def test_a_batch_that_keeps_failing_is_listed_not_lost(tmp_path, arxiv, llm):
    poison = expected_order()[0]
    llm.fail_ids = {poison}  # any request holding this paper gets HTTP 500
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        "[llm]\ntitle_pass = false\nretries = 1\nrequest_attempts = 2\n"
        "abstract_batch_size = 16\n"))
    result = run_day(config)
    not_scored = result.digest.not_scored
    # Round 1 fails its batch of 16; round 2 halves it, and only the half with it fails.
    assert len(not_scored) == 8
    assert poison in {n.paper.arxiv_id for n in not_scored}
    assert {n.reason for n in not_scored} == {
        "request failed: HTTP 500 after 2 attempts; unscored after 2 rounds"}
    assert "request failed: HTTP 500 after 2 attempts" in digest_text(tmp_path)
    # The next run of the day retries exactly those papers.
    llm.fail_ids = set()
    sent = len(llm.requests)
    again = run_day(config)
    assert not again.digest.not_scored
    retried = {i for r in llm.requests[sent:] for i in r.ids}
    assert retried == {n.paper.arxiv_id for n in not_scored}


def test_followed_author_ranks_first_without_being_sent_to_the_llm(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra='[authors]\nfollow = ["yaxin yu"]\n')
    result = run_day(config)
    top = result.digest.selected[0]
    assert top.paper.arxiv_id == "2603.09355"
    assert top.score == 20
    assert top.scored.comment == "Author match: yaxin yu"
    assert all("2603.09355" not in r.ids for r in llm.requests)
    assert "**Comment:** Author match: yaxin yu" in digest_text(tmp_path)


def test_weekend_writes_nothing(tmp_path, arxiv, llm):
    arxiv.rss_day = "2026-04-18"
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    with pytest.raises(NoAnnouncements):
        run(load_config(config), secrets=SECRETS)
    assert not (tmp_path / "out" / "md").exists()
    assert not llm.requests


def test_unknown_model_price_shows_unknown_cost(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra='[llm]\nmodel = "my-local-model"\n')
    result = run_day(config)
    assert result.digest.usage.total_cost is None
    assert "| Cost | unknown | unknown | unknown |" in digest_text(tmp_path)


def test_configured_price_and_cached_tokens_are_used(tmp_path, arxiv, llm):
    llm.cached_tokens = 100
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        '[llm]\nmodel = "my-local-model"\n'
        '[pricing."my-local-model"]\nprompt = 1.0\ncached = 0.1\ncompletion = 2.0\n'))
    usage = run_day(config).digest.usage
    expected_prompt = ((usage.prompt_tokens - usage.cached_tokens) * 1.0
                       + usage.cached_tokens * 0.1) / 1e6
    assert usage.cached_tokens == 100 * usage.requests
    assert usage.prompt_cost == pytest.approx(expected_prompt)
    assert f"Prompt tokens include {usage.cached_tokens} cached tokens." in digest_text(tmp_path)


def test_asking_for_the_llm_without_one_configured_stops_before_fetching(tmp_path, arxiv):
    config = write_project(tmp_path, arxiv=arxiv, extra='[scoring]\nscorer = "llm"\n')
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        run(load_config(config), day=APRIL_14, secrets=Secrets(None, None, None))
    assert not arxiv.requests


def test_backfilling_an_older_day_keeps_latest_md(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    newer = tmp_path / "out" / "md" / "2026-05" / "2026-05-01.md"
    newer.parent.mkdir(parents=True)
    newer.write_text("a newer digest")
    (tmp_path / "out" / "latest.md").write_text("a newer digest")
    run_day(config)
    latest = (tmp_path / "out" / "latest.md").read_text()
    # Still the newer digest; its navigation now leads back to the backfilled day.
    assert latest.endswith("a newer digest")
    assert "Previous Day [2026-04-14](md/2026-04/2026-04-14.md)" in latest


def test_prompt_texts_can_be_replaced_by_files(tmp_path, arxiv, llm):
    (tmp_path / "my-system.md").write_text("You are my careful reading assistant.")
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra='[prompts]\nsystem = "my-system.md"\n')
    run_day(config)
    assert all(r.body["messages"][0]["content"].startswith(
        "You are my careful reading assistant.") for r in llm.requests)
    assert "You are my careful reading assistant." in digest_text(tmp_path)


def test_a_missing_prompt_file_is_a_config_error_naming_the_key(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra='[prompts]\nrubric = "nope.md"\n')
    with pytest.raises(ConfigError, match=r"prompts\.rubric = '.*nope\.md': file not found"):
        run_day(config)
    assert not arxiv.requests


def with_embeddings(tmp_path, embedded_store) -> None:
    """Start from a store that already holds the day's embeddings (computed once)."""
    (tmp_path / "out").mkdir(parents=True, exist_ok=True)
    shutil.copy(embedded_store, tmp_path / "out" / "papersift.sqlite")


def test_without_a_key_the_local_scorer_makes_the_digest(tmp_path, arxiv, embedded_store):
    with_embeddings(tmp_path, embedded_store)
    config = write_project(tmp_path, arxiv=arxiv)
    result = run(load_config(config), day=APRIL_14, secrets=Secrets(None, None, None))
    assert result.digest.model == "local (all-MiniLM-L6-v2-int8)"
    assert 0.05 * 663 <= len(result.digest.selected) <= 0.13 * 663
    text = digest_text(tmp_path)
    assert "| Cost | $0.00 | $0.00 | $0.00 |" in text
    # No prompt was sent: the appendix shows the interests and the scorer's settings.
    appendix = text.split("## What the local scorer used")[1]
    assert "Paper selection prompt" not in text and "System prompt" not in text
    assert "### Your interests" in appendix and "### Scorer settings" in appendix
    assert "Embedding model: all-MiniLM-L6-v2-int8" in appendix
    data = json.loads((tmp_path / "out" / "json" / "2026-04" / "2026-04-14.json").read_text())
    assert "prompts" not in data and data["scorer_inputs"]["settings"]


def test_hybrid_sends_only_the_local_top_share_to_the_llm(tmp_path, arxiv, llm, embedded_store):
    with_embeddings(tmp_path, embedded_store)
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra='[scoring]\nscorer = "hybrid"\nhybrid_share = 0.4\n')
    result = run_day(config)
    sent = {i for r in llm.requests for i in r.ids}
    assert not llm.stage_requests("title")  # the local ranking replaces the title pass
    assert len(sent) == round(0.4 * 663 + 0.5)
    with Store(result.store_path) as store:
        outcomes = store.outcomes(store.runs(APRIL_14)[-1]["id"])
    below = [i for i, (o, r) in outcomes.items() if r.startswith("local prefilter")]
    assert len(below) == 663 - len(sent)
    assert len(outcomes) == result.digest.total
    picks_reaching = len(set(PICKS) & sent) / len(PICKS)
    assert picks_reaching >= 0.6  # the interests here are not the reference's own


def test_selected_papers_are_tagged_with_the_readers_topics(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    run_day(config)
    data = json.loads((tmp_path / "out" / "json" / "2026-04" / "2026-04-14.json").read_text())
    topics = {p["title"]: p["topic"] for p in data["papers"].values()}
    assert topics["Quantization Dominates Rank Reduction for KV-Cache Compression"] == \
        "Efficient training and inference"
    assert topics["Zero-shot World Models Are Developmentally Efficient Learners"] == \
        "World models and exploration"
    assert "**Topic:** World models and exploration" in digest_text(tmp_path)


def test_a_token_budget_stops_sending_and_lists_the_rest(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        "[llm]\ntitle_pass = false\nmax_tokens_per_run = 20000\nabstract_batch_size = 16\n"))
    result = run_day(config)
    usage = result.run_usage
    # Requests stop before the limit would be passed (in-flight ones count by estimate).
    assert 20000 - 2 * usage.total_tokens / usage.requests < usage.total_tokens <= 20000
    budget = [n for n in result.digest.not_scored if n.reason.startswith("budget:")]
    scored_ids = {s.paper.arxiv_id for s in result.digest.selected}
    assert budget and len(budget) + usage.requests * 16 >= 663
    assert not scored_ids & {n.paper.arxiv_id for n in budget}
    text = digest_text(tmp_path)
    assert f"## Not scored (budget) ({len(budget)})" in text
    assert "the run's limit of 20000 tokens was reached" in text
    # Raising the limit and running again scores exactly the papers left over.
    sent = {i for r in llm.requests for i in r.ids}
    config.write_text(config.read_text().replace("max_tokens_per_run = 20000",
                                                 "max_tokens_per_run = 0"))
    again = run_day(config)
    assert not again.digest.not_scored
    resent = {i for r in llm.requests[len(llm.requests) - again.run_usage.requests:]
              for i in r.ids}
    assert resent == {n.paper.arxiv_id for n in budget}
    assert not resent & sent


def test_several_batches_are_in_flight_within_the_concurrency_limit(tmp_path, arxiv, llm):
    llm.latency = 0.2
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra="[llm]\ntitle_pass = false\nconcurrency = 3\n")
    result = run_day(config)
    assert llm.most_in_flight == 3
    assert [s.paper.arxiv_id for s in result.digest.selected] == expected_order()


def test_by_default_all_of_a_days_batches_are_in_flight_at_once(tmp_path, arxiv, llm):
    llm.latency = 0.5  # an answer takes a while: waiting for a slot would show
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra="[llm]\ntitle_pass = false\nabstract_batch_size = 32\n")
    result = run_day(config)
    assert len(llm.requests) == 21  # 663 papers in batches of at most 32
    assert llm.most_in_flight == 21
    assert [s.paper.arxiv_id for s in result.digest.selected] == expected_order()


# -- what a planted bug must not get past -------------------------------------------------

def test_editing_the_interests_scores_every_abstract_again(tmp_path, arxiv, llm):
    """Without the title pass, whose own fingerprint would hide a stale abstract cache."""
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra="[llm]\ntitle_pass = false\n")
    run_day(config)
    before = len(llm.requests)
    (tmp_path / "interests.md").write_text((tmp_path / "interests.md").read_text()
                                           + "\n3. Sparse autoencoders\n")
    run_day(config)
    again = {i for r in llm.requests[before:] for i in r.ids}
    assert len(again) == 663


def test_selection_needs_the_novelty_cutoff_too(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra="[selection]\nrelevance_cutoff = 8\nnovelty_cutoff = 9\n")
    result = run_day(config)
    novel = {i for i, s in PICKS.items() if s["novelty"] >= 9}
    assert 0 < len(novel) < len(PICKS)
    assert {s.paper.arxiv_id for s in result.digest.selected} == novel


def test_the_site_lists_not_scored_papers_and_tells_total_from_scanned(tmp_path, arxiv, llm):
    missing = expected_order()[0]
    llm.omit = {missing}
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra="[llm]\nretries = 0\n")
    run_day(config)
    record = json.loads((tmp_path / "out" / "json" / "2026-04" / "2026-04-14.json").read_text())
    assert (record["run"]["total"], record["run"]["scanned"]) == (675, 663)
    page = (tmp_path / "out" / "site" / "2026-04" / "2026-04-14.html").read_text()
    assert "Total arXiv papers: <b>675</b>" in page
    assert "Total scanned papers: <b>663</b>" in page
    section = page.split('<h2 id="not-scored">', 1)[1]
    assert section.startswith("Not scored (1)</h2>") and missing in section


def test_control_characters_in_a_comment_never_break_the_feed(tmp_path, arxiv, llm):
    llm.comment_suffix = " \u0007bell\u001b[31m\u0000"
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    result = run_day(config)
    assert result.digest.selected[0].scored.comment == "Matches a core interest. bell[31m"
    import xml.etree.ElementTree as ET
    feed = ET.parse(tmp_path / "out" / "site" / "feed.xml")  # well-formed XML
    assert len(feed.getroot().findall("{http://www.w3.org/2005/Atom}entry")) == len(PICKS)


def test_a_hostile_comment_is_inert_on_the_site_and_in_markdown(tmp_path, arxiv, llm):
    llm.comment_suffix = ' <script>window.pwned=1</script><img src=x onerror="x()">'
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    run_day(config)
    page = (tmp_path / "out" / "site" / "2026-04" / "2026-04-14.html").read_text()
    assert "<script>window.pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    assert "<script>" not in digest_text(tmp_path)


def test_long_abstracts_reach_the_llm_cut_at_a_sentence_end(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra="[llm]\ntitle_pass = false\n")
    run_day(config)
    abstracts = [a for r in llm.requests for a in re.findall(
        r"^Abstract: (.*)$", r.body["messages"][-1]["content"], flags=re.MULTILINE)]
    assert len(abstracts) == 663
    cut = [a for a in abstracts if a.endswith(" …")]
    assert len(cut) > 300  # most arXiv abstracts are longer than 1000 characters
    assert all(len(a) <= 1000 + 2 for a in abstracts)
    assert sum(a.endswith(". …") for a in cut) > 0.9 * len(cut)  # whole sentences


def test_the_days_best_papers_are_spotlighted_on_top_of_markdown_and_json(tmp_path, arxiv,
                                                                          llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    run_day(config)
    text = digest_text(tmp_path)
    data = json.loads((tmp_path / "out" / "json" / "2026-04" / "2026-04-14.json").read_text())
    best = expected_order()[:3]
    assert [s["arxiv_id"] for s in data["spotlight"]] == best
    assert all(s["why"].endswith(".") and "relevance" in s["why"] for s in data["spotlight"])
    assert data["spotlight"][0]["why"].startswith("The day's top score")
    # Above the table of contents, each entry linking to its paper's section.
    spot = text.split("## Spotlight")[1].split("Table of contents")[0]
    assert text.index("## Spotlight") < text.index("Table of contents")
    for index, item in enumerate(data["spotlight"], start=1):
        title = data["papers"][item["arxiv_id"]]["title"]
        assert f"{index}. [{title}](#paper-{item['rank']})" in spot.replace("\\", "")
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra="[selection]\nspotlight = 0\n")
    run_day(config)
    assert "## Spotlight" not in digest_text(tmp_path)
