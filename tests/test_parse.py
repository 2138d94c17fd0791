"""Reading scores out of imperfect LLM answers."""

from __future__ import annotations

import pytest

from papersift.scoring.parse import parse_id_list, parse_scores, to_score

BATCH = ["2604.00001", "2604.00002"]


def test_plain_json_lines():
    text = ('{"ARXIVID": "2604.00001", "COMMENT": "MoE routing.", "RELEVANCE": 9, "NOVELTY": 7}\n'
            '{"ARXIVID": "2604.00002", "COMMENT": "Off topic.", "RELEVANCE": 2, "NOVELTY": 3}')
    scores = parse_scores(text, BATCH)
    assert (scores["2604.00001"].relevance, scores["2604.00001"].novelty) == (9, 7)
    assert scores["2604.00002"].comment == "Off topic."


def test_fences_prose_trailing_commas_versions_and_arrays():
    text = """Sure! Here you go:
```json
[
  {"ARXIVID": "arXiv:2604.00001v3", "COMMENT": "Good {fit}.", "RELEVANCE": "8/10", "NOVELTY": 7.0,},
  {'ARXIVID': '2604.00002', 'COMMENT': "It's fine", 'RELEVANCE': 5, 'NOVELTY': 5},
]
```
Hope this helps."""
    scores = parse_scores(text, BATCH)
    assert scores["2604.00001"].relevance == 8 and scores["2604.00001"].novelty == 7
    assert scores["2604.00001"].comment == "Good {fit}."
    assert scores["2604.00002"].relevance == 5


def test_foreign_ids_duplicates_and_invalid_scores_are_ignored():
    text = "\n".join([
        '{"ARXIVID": "2699.99999", "RELEVANCE": 10, "NOVELTY": 10}',
        '{"ARXIVID": "2604.00001", "RELEVANCE": 6, "NOVELTY": 6, "COMMENT": "first"}',
        '{"ARXIVID": "2604.00001", "RELEVANCE": 10, "NOVELTY": 10, "COMMENT": "second"}',
        '{"ARXIVID": "2604.00002", "RELEVANCE": 11, "NOVELTY": 5}',
    ])
    scores = parse_scores(text, BATCH)
    assert list(scores) == ["2604.00001"]
    assert scores["2604.00001"].comment == "first"


@pytest.mark.parametrize("value, expected", [
    (8, 8), ("8", 8), ("8/10", 8), (7.0, 7), (" 10 ", 10),
    (0, None), (11, None), (7.5, None), ("high", None), (None, None), (True, None),
])
def test_to_score(value, expected):
    assert to_score(value) == expected


def test_title_pass_id_list():
    assert parse_id_list('```json\n["2604.00002v1", "2699.1"]\n```', BATCH) == {"2604.00002"}
    assert parse_id_list("[]", BATCH) == set()
    assert parse_id_list("None of these are irrelevant.", BATCH) is None


def test_a_pathological_answer_is_read_in_linear_time():
    """Megabytes of brackets that never close: read within a bounded effort, not
    rescanned from every bracket (which took quadratic time: hours for 16 MB)."""
    import time
    started = time.monotonic()
    assert parse_scores("{" * 2_000_000, BATCH) == {}
    assert time.monotonic() - started < 60  # a hang guard, not a speed target


def test_a_deeply_nested_answer_is_no_answer_and_no_crash():
    assert parse_scores('{"x": ' * 100_000 + "1" + "}" * 100_000, BATCH) == {}
    assert parse_id_list("[" * 100_000 + "]" * 100_000, BATCH) is None
    wrapped = '{"papers": ' + "[" * 900 + '{"ARXIVID": "2604.00001", "COMMENT": "ok", ' \
        '"RELEVANCE": 9, "NOVELTY": 8}' + "]" * 900 + "}"
    assert parse_scores(wrapped, BATCH)["2604.00001"].relevance == 9
