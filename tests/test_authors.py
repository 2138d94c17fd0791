"""Followed authors and the h-index gate, against a loopback Semantic Scholar."""

from __future__ import annotations

import json

import pytest

from conftest import DATA
from papersift.authors import AuthorMatcher, SemanticScholar, attach_authors, plain_name
from papersift.config import AuthorsConfig
from papersift.http import HttpClient, RetryPolicy
from papersift.models import Paper
from papersift.store import Store


def paper(*authors: str, arxiv_id: str = "2604.00001") -> Paper:
    return Paper(arxiv_id, "A title", "An abstract.", tuple(authors), ("cs.LG",))


@pytest.mark.parametrize("followed, author", [
    ("Marcel Rød", "Marcel R{\\o}d"),  # LaTeX escape, as in the sample digest
    ("Jürgen Schmidhuber", "J\\\"urgen Schmidhuber"),
    ("Jose M. F. Moura", "Jos\\'e M. F. Moura"),
    ("Louis Béthune", "Louis B\\'ethune"),
    ("yoshua bengio", "Yoshua Bengio"),  # case
])
def test_name_matching_is_tolerant(followed, author):
    matcher = AuthorMatcher([followed])
    assert matcher.matches(paper("Someone Else", author)) == (followed,)


def test_a_different_first_name_is_a_different_person():
    assert AuthorMatcher(["Samuel Castro"]).matches(paper("Pablo Samuel Castro")) == ()


def test_middle_initials_and_initials_match_but_other_first_names_do_not():
    matcher = AuthorMatcher(["Siddhartha Dalal", "Bengio, Yoshua"])
    assert matcher.matches(paper("Siddhartha R. Dalal")) == ("Siddhartha Dalal",)
    assert matcher.matches(paper("Y. Bengio")) == ("Bengio, Yoshua",)
    assert matcher.matches(paper("Samy Bengio")) == ()


def test_plain_name_removes_latex_and_accents():
    assert plain_name("Marcel R{\\o}d") == "Marcel Rod"
    assert plain_name("Łukasz Kaiser") == "Lukasz Kaiser"


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "store.sqlite") as opened:
        yield opened


def client_for(s2, store, http) -> SemanticScholar:
    return SemanticScholar(http, s2.url, store, api_key="s2-secret", delay_seconds=0,
                           policy=RetryPolicy(3, 0))


def test_followed_ids_resolve_to_names_and_unknown_ids_are_skipped(s2, store):
    recorded = json.loads((DATA / "s2" / "author-batch-unknown-id-null.json").read_text())
    s2.authors = {r["authorId"]: r for r in recorded if r}
    config = AuthorsConfig(follow=["0", "3234559"], s2_url=s2.url)
    with HttpClient(10) as http:
        candidates, _ = attach_authors([paper("Edsger W. Dijkstra"), paper("Ada Lovelace")],
                                       config, client_for(s2, store, http))
    assert [c.matched_authors for c in candidates] == [("E. Dijkstra",), ()]
    assert s2.requests[0]["json"] == {"ids": ["0", "3234559"]}
    assert s2.requests[0]["headers"]["X-Api-Key"] == "s2-secret"


def test_h_index_gate_drops_papers_without_an_established_author(s2, store):
    recorded = json.loads((DATA / "s2" / "paper-authors-with-hindex.json").read_text())["data"]
    s2.papers = {
        "2604.00001": recorded,  # h-index up to 91
        "2604.00002": [{"authorId": "1", "name": "New Student", "hIndex": 2}],
        # 2604.00003 is not indexed yet: kept, never lost
    }
    config = AuthorsConfig(h_index_gate=True, h_index_cutoff=10, s2_url=s2.url)
    papers = [paper("E. Duflo", arxiv_id="2604.00001"),
              paper("New Student", arxiv_id="2604.00002"),
              paper("Fresh Face", arxiv_id="2604.00003")]
    with HttpClient(10) as http:
        kept, filtered = attach_authors(papers, config, client_for(s2, store, http))
    assert [c.paper.arxiv_id for c in kept] == ["2604.00001", "2604.00003"]
    assert [(f.paper.arxiv_id, f.reason) for f in filtered] == [
        ("2604.00002", "h-index gate: highest author h-index 2 < 10")]


def test_rate_limit_is_honoured_and_answers_are_cached(s2, store):
    s2.papers = {"2604.00001": [{"authorId": "1", "name": "A B", "hIndex": 50}]}
    s2.fail_next.append((429, {"Retry-After": "0"}))
    with HttpClient(10) as http:
        client = client_for(s2, store, http)
        assert client.paper_authors(["2604.00001"])["2604.00001"][0]["hIndex"] == 50
        assert len(s2.requests) == 2  # the 429, then the answer
        assert client.paper_authors(["2604.00001"])["2604.00001"][0]["hIndex"] == 50
        assert len(s2.requests) == 2  # served from the store's cache


def test_an_author_exactly_at_the_h_index_cutoff_passes_the_gate(s2, store):
    s2.papers = {"2604.00001": [{"authorId": "1", "name": "At Cutoff", "hIndex": 10}],
                 "2604.00002": [{"authorId": "2", "name": "Just Below", "hIndex": 9}]}
    config = AuthorsConfig(h_index_gate=True, h_index_cutoff=10, s2_url=s2.url)
    papers = [paper("At Cutoff", arxiv_id="2604.00001"),
              paper("Just Below", arxiv_id="2604.00002")]
    with HttpClient(10) as http:
        kept, filtered = attach_authors(papers, config, client_for(s2, store, http))
    assert [c.paper.arxiv_id for c in kept] == ["2604.00001"]
    assert [f.paper.arxiv_id for f in filtered] == ["2604.00002"]


def test_malformed_semantic_scholar_answers_change_nothing(s2, store):
    """Records that are not objects, an h-index that is not a number: ignored, not a crash."""
    s2.papers = {"2604.00001": [{"authorId": "1", "name": "A B", "hIndex": "91"}, "junk"]}
    config = AuthorsConfig(h_index_gate=True, h_index_cutoff=10, s2_url=s2.url)
    with HttpClient(10) as http:
        kept, filtered = attach_authors([paper("A B", arxiv_id="2604.00001")], config,
                                        client_for(s2, store, http))
    assert [c.paper.arxiv_id for c in kept] == ["2604.00001"] and not filtered
