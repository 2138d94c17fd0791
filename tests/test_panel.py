"""A panel request: one batch of papers judged for several readers at once."""

from __future__ import annotations

import json
import shutil

from conftest import INTERESTS, write_project
from papersift.config import load_config
from papersift.pipeline import run_all
from papersift.scoring.panel import labels, panel_system, panels, parse_panel_scores
from papersift.store import Store
from test_pipeline import SECRETS
from test_profiles import APRIL_14, ROBOTICS

IDS = ["2604.00001", "2604.00002", "2604.00003"]


def line(arxiv_id, novelty, relevance, comment="Adds a new cache eviction rule."):
    return json.dumps({"ARXIVID": arxiv_id, "COMMENT": comment, "NOVELTY": novelty,
                       "RELEVANCE": relevance})


def test_each_reader_is_named_once_with_their_own_words():
    system = panel_system("You help researchers.", "10 is a must-read.",
                          ["KV-cache compression.", "Robot manipulation; not LLMs."])
    assert system.index("### R1\n\nKV-cache compression.") < \
        system.index("### R2\n\nRobot manipulation; not LLMs.")
    assert '"RELEVANCE": {"R1": 3, "R2": 3}' in system
    assert system.count("10 is a must-read.") == 1


def test_an_answer_gives_each_reader_their_relevance_and_one_novelty():
    answer = "\n".join([line(IDS[0], 7, {"R1": 9, "R2": 2}),
                        line("arXiv:2604.00002v2", "8/10", {"r1": "3", "R2": 8.0})])
    found = parse_panel_scores(answer, IDS, labels(2))
    assert found[IDS[0]].relevance == {"R1": 9, "R2": 2} and found[IDS[0]].novelty == 7
    assert found[IDS[1]].relevance == {"R1": 3, "R2": 8} and found[IDS[1]].novelty == 8
    assert IDS[2] not in found  # not answered: asked again, never guessed


def test_a_paper_missing_a_reader_or_out_of_range_is_not_taken():
    answer = "\n".join([line(IDS[0], 7, {"R1": 9}), line(IDS[1], 7, {"R1": 9, "R2": 11}),
                        line(IDS[2], 0, {"R1": 9, "R2": 2}),
                        line("2604.99999", 7, {"R1": 9, "R2": 2})])
    assert parse_panel_scores(answer, IDS, labels(2)) == {}


def test_readers_are_grouped_in_panels_of_at_most_the_size():
    readers = [f"p{n}" for n in range(45)]
    grouped = panels(readers, 20)
    assert [len(g) for g in grouped] == [20, 20, 5]
    assert [r for g in grouped for r in g] == readers


# -- readers judged together, over a loopback LLM ----------------------------------------

def hybrid_readers(tmp_path, arxiv, llm, embedded_store, readers: dict[str, str],
                   extra: str = ""):
    (tmp_path / "out").mkdir(parents=True, exist_ok=True)
    shutil.copy(embedded_store, tmp_path / "out" / "papersift.sqlite")
    profiles = "".join(f'[profiles.{name}]\ninterests = "{name}.md"\n' for name in readers)
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        f'[scoring]\nscorer = "hybrid"\nhybrid_share = 0.3\n{extra}{profiles}'))
    for name, interests in readers.items():
        (tmp_path / f"{name}.md").write_text(interests)
    return load_config(config)


def test_two_readers_are_judged_in_shared_requests_and_each_gets_its_own_scores(
        tmp_path, arxiv, llm, embedded_store):
    config = hybrid_readers(tmp_path, arxiv, llm, embedded_store,
                            {"ada": INTERESTS, "ben": ROBOTICS})
    results = run_all(config, day=APRIL_14, secrets=SECRETS)

    asked = llm.stage_requests("abstract")
    shared = [r for r in asked if "### R2" in r.body["messages"][0]["content"]]
    assert shared, "no request judged both readers"
    system = shared[0].body["messages"][0]["content"]
    assert "Robot learning" in system and "Efficient training and inference" in system
    ids = [i for r in asked for i in r.ids]
    assert len(ids) == len(set(ids))  # each paper asked once, for both readers
    for name, result in results.items():
        digest = result.digest
        assert digest.selected and not digest.not_scored, name
        assert result.run_usage.requests >= len(shared)  # each run shows its share
        with Store(result.store_path) as store:
            outcomes = store.outcomes(store.runs(APRIL_14)[-1]["id"])
        assert sum(outcome in ("scored", "selected") for outcome, _ in outcomes.values()) \
            >= 20
    # the day's JSON shows each reader's share of the shared requests' tokens, which sum
    # to what the provider counted
    counted = sum(json.loads((tmp_path / "out" / "profiles" / name / "json" / "2026-04" /
                              "2026-04-14.json").read_text())["run"]["usage"]
                  ["prompt_tokens"] for name in ("ada", "ben"))
    assert counted == sum((len(r.body["messages"][0]["content"]) +
                           len(r.body["messages"][-1]["content"])) // 4 for r in asked)

    before = len(llm.requests)
    run_all(config, day=APRIL_14, secrets=SECRETS)  # the morning again: nothing is paid twice
    assert len(llm.requests) == before


def test_readers_with_the_same_interests_share_one_judgment(
        tmp_path, arxiv, llm, embedded_store):
    config = hybrid_readers(tmp_path, arxiv, llm, embedded_store,
                            {"ada": INTERESTS, "cy": INTERESTS})
    results = run_all(config, day=APRIL_14, secrets=SECRETS)
    ids = [i for r in llm.stage_requests("abstract") for i in r.ids]
    assert len(ids) == len(set(ids))
    assert not any("### R1" in r.body["messages"][0]["content"] for r in llm.requests)
    assert [s.paper.arxiv_id for s in results["ada"].digest.selected] == \
        [s.paper.arxiv_id for s in results["cy"].digest.selected]


def test_the_mornings_budget_holds_for_every_reader_together(
        tmp_path, arxiv, llm, embedded_store):
    config = hybrid_readers(tmp_path, arxiv, llm, embedded_store,
                            {"ada": INTERESTS, "ben": ROBOTICS},
                            extra="[llm]\nmax_tokens_per_morning = 12000\n")
    results = run_all(config, day=APRIL_14, secrets=SECRETS)
    spent = sum(r.run_usage.total_tokens for r in results.values())
    assert spent <= 12000
    reasons = {n.reason for r in results.values() for n in r.digest.not_scored}
    assert reasons == {"budget: the morning's limit of 12000 tokens was reached"}
