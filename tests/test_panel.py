"""A panel request: one batch of papers judged for several readers at once."""

from __future__ import annotations

import json

from papersift.scoring.panel import labels, panel_system, panels, parse_panel_scores

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
