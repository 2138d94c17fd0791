"""No recursion on outside text: every entry point that walks text or data from arXiv,
an LLM, a user's file or an archive takes 100,000 levels of each nesting construct, and
a 10 kB pathological string, in under a second each, without a recursion error; past
its depth bound the text is shown as written."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from papersift.config import load_config
from papersift.errors import PapersiftError
from papersift.feedback import read_feedback_file
from papersift.publish import publish
from papersift.render.latex import latex_html, latex_text
from papersift.scoring.parse import parse_scores
from papersift.site import load_days
from papersift.sources.local import load_file
from papersift.summaries import parse_summaries
from papersift.text import load_json
from test_site import digest_for, real_papers

LEVELS = 100_000
NESTINGS = {
    "braces": ("{" * LEVELS, "}" * LEVELS),
    "brackets": ("[" * LEVELS, "]" * LEVELS),
    "objects": ('{"a":' * LEVELS, "}" * LEVELS),
    "emph": ("\\emph{" * LEVELS, "}" * LEVELS),
    "accents": ("\\'" * LEVELS, "e"),
    "math spans": ("\\(" * LEVELS, "\\)" * LEVELS),
    "scripts": ("$" + "^{" * LEVELS, "}" * LEVELS + "$"),
    "fractions": ("\\frac{" * LEVELS, "}{2}" * LEVELS),
    "roots": ("\\sqrt" * LEVELS, "x"),
    "em groups": ("{\\em " * LEVELS, "}" * LEVELS),
}
PATHOLOGICAL = {  # 10 kB each
    "dollars": "$" * 10_000,
    "backslashes": "\\" * 10_000,
    "open braces and quotes": '{"' * 5_000,
    "unclosed math": "$\\(" * 3_333,
    "carets": "^_" * 5_000,
}
CASES = {**{f"{k} ({LEVELS:,} levels)": a + b for k, (a, b) in NESTINGS.items()},
         **{f"{k} (10 kB)": v for k, v in PATHOLOGICAL.items()}}


def quick(call: Callable[[], object]) -> object:
    started = time.perf_counter()
    result = call()
    assert time.perf_counter() - started < 1.0
    return result


@pytest.mark.parametrize("text", list(CASES.values()), ids=list(CASES))
def test_latex_shows_what_it_cannot_read_as_written(text):
    html = str(quick(lambda: latex_html(text)))
    plain = quick(lambda: latex_text(text))
    assert isinstance(html, str) and isinstance(plain, str)
    if text.count("{") >= LEVELS:  # past the bound: every character as written
        assert html.count("{") == text.count("{")


@pytest.mark.parametrize("text", list(CASES.values()), ids=list(CASES))
def test_json_and_llm_answers_refuse_it_in_one_piece(text):
    for document in (text, f'{{"id": "2604.00001", "tldr": {json.dumps(text)}}}'):
        try:
            quick(lambda: load_json(document))  # noqa: B023
        except ValueError as exc:
            assert "nested deeper" in str(exc) or "Expecting" in str(exc) or "char" in str(exc)
    answer = f'[{{"id": "2604.00001", "RELEVANCE": 8, "NOVELTY": 7}}] {text}'
    assert set(quick(lambda: parse_scores(answer, {"2604.00001"}))) == {"2604.00001"}
    assert quick(lambda: parse_summaries(text, {"2604.00001"})) == {}


@pytest.mark.parametrize("name", list(NESTINGS)[:3])
def test_files_that_nest_too_deep_are_named_in_one_line(tmp_path, name):
    opening, closing = NESTINGS[name]
    deep = opening + closing
    (tmp_path / "papersift.toml").write_text(f"a = {deep.replace('{', '[').replace('}', ']')}\n"
                                             if name != "objects" else f"a = {deep}\n")
    papers = tmp_path / "2026-04-14.json"
    papers.write_text(deep)
    clicks = tmp_path / "clicks.json"
    clicks.write_text(deep)
    for call, path in ((lambda: load_config(tmp_path / "papersift.toml"),
                        tmp_path / "papersift.toml"),
                       (lambda: load_file(papers, dt.date(2026, 4, 14)), papers),
                       (lambda: read_feedback_file(clicks), clicks)):
        with pytest.raises(PapersiftError) as raised:
            quick(call)
        message = str(raised.value)
        assert str(path) in message and "\n" not in message


def test_a_deep_abstract_and_tldr_are_published_as_written(tmp_path):
    """One paper must never stop the digest: a title, abstract and TL;DR of 100,000
    nested braces are published (Markdown, JSON, site) as written."""
    paper = real_papers()[0]
    deep = "{" * LEVELS + "}" * LEVELS
    hostile = type(paper)(**{**paper.__dict__, "abstract": deep, "title": "\\'" * LEVELS})
    digest = digest_for(dt.date(2026, 4, 14), [hostile, real_papers()[1]])
    selected = digest.selected[0]
    scored = type(selected.scored)(**{**selected.scored.__dict__, "comment": deep})
    digest = type(digest)(**{**digest.__dict__, "selected": (
        type(selected)(**{**selected.__dict__, "scored": scored}), *digest.selected[1:])})
    # Once with plain papers first: the templates' one-time compiling is not the text's.
    publish(digest_for(dt.date(2026, 4, 14), real_papers()[1:2]), tmp_path / "warm",
            ["md", "json", "site"])
    quick(lambda: publish(digest, tmp_path, ["md", "json", "site"]))
    page = (tmp_path / "site" / "2026-04" / "2026-04-14.html").read_text()
    assert "{" * 1000 in page and real_papers()[1].title.split()[0] in page
    assert deep in (tmp_path / "md" / "2026-04" / "2026-04-14.md").read_text()
    (tmp_path / "json" / "2026-04" / "2026-04-13.json").write_text("[" * LEVELS)
    assert [d.date for d in quick(lambda: load_days(tmp_path))] == [dt.date(2026, 4, 14)]


def test_an_archive_day_nested_too_deep_is_named_and_skipped(tmp_path, capfd):
    day = Path(tmp_path / "json" / "2026-04")
    day.mkdir(parents=True)
    (day / "2026-04-13.json").write_text('{"date": "2026-04-13", "papers": ' + "[" * LEVELS)
    assert quick(lambda: load_days(tmp_path)) == []
    said = capfd.readouterr().err
    assert "2026-04-13.json" in said and "nested deeper" in said
