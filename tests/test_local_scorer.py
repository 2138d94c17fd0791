"""The local scorer on real papers: offline, deterministic, sensible, and it learns."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA
from papersift.models import Candidate
from papersift.scoring.encoders import OnnxEncoder, TfidfEncoder
from papersift.scoring.interests import parse_interests
from papersift.scoring.local import LocalScorer, LocalSettings
from papersift.scoring.relevance import InterestVectors, zero_shot
from papersift.sources.local import paper_from_record
from papersift.sources.rss import parse_rss
from papersift.store import Store

DEMO_DAY = Path(__file__).parent.parent / "src" / "papersift" / "demo" / "2026-04-30.jsonl"
DAY = dt.date(2026, 4, 30)
INTERESTS = """# Interests

1. Efficiency and compression of large models
   - Keep: quantization of weights and activations, pruning, KV-cache eviction and compression.
   - Filter: applying a standard compression method to a medical or vision application.

2. Representation learning
   - Keep: how neural networks form features, contrastive representation structure.

## Applications to avoid
- medical imaging, autonomous driving, agriculture
"""


def papers():
    return [paper_from_record(json.loads(line)) for line in DEMO_DAY.read_text().splitlines()]


def by_id(outcome):
    return {s.paper.arxiv_id: s for s in outcome.scored}


@pytest.fixture(scope="module")
def encoder():
    return OnnxEncoder()


def score(tmp_path, encoder, settings: LocalSettings | None = None, day=DAY):
    with Store(tmp_path / "store.sqlite") as store:
        scorer = LocalScorer(parse_interests(INTERESTS), encoder, store,
                             settings or LocalSettings(), day=day)
        return by_id(scorer.score([Candidate(p) for p in papers()]))


def title_of(arxiv_id: str) -> str:
    return next(p.title for p in papers() if p.arxiv_id == arxiv_id)


def find(fragment: str) -> str:
    return next(p.arxiv_id for p in papers() if fragment in p.title)


def test_model_loads_offline_from_the_installed_package():
    code = ("import socket, sys\n"
            "def refuse(*a, **k): raise OSError('network is off in this test')\n"
            "socket.socket.connect = refuse\n"
            "from papersift.scoring.encoders import OnnxEncoder\n"
            "v = OnnxEncoder().encode(['sparse mixture of experts'])\n"
            "print(v.shape, 'torch' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(1, 384) False"  # no torch anywhere


def test_a_paper_on_a_topic_outranks_one_from_the_avoid_list(tmp_path, encoder):
    scores = score(tmp_path, encoder)
    on_topic = find("Rethinking KV Cache Eviction")
    avoided = find("Edge AI for Automotive Vulnerable Road User Safety")
    assert scores[on_topic].relevance >= 8
    assert scores[on_topic].relevance > scores[avoided].relevance
    assert "Efficiency and compression" in scores[on_topic].comment


def test_results_are_deterministic_and_cover_every_paper(tmp_path, encoder):
    first = score(tmp_path / "a", encoder)
    second = score(tmp_path / "b", encoder)
    assert len(first) == len(papers())
    assert {k: (v.relevance, v.novelty) for k, v in first.items()} == \
        {k: (v.relevance, v.novelty) for k, v in second.items()}
    relevant = sum(1 for s in first.values() if s.relevance >= 8 and s.novelty >= 7)
    assert 0.05 * len(first) <= relevant <= 0.13 * len(first)  # about an LLM's digest size


def test_embeddings_are_computed_once(tmp_path, encoder):
    score(tmp_path, encoder)
    with Store(tmp_path / "store.sqlite") as store:
        count = store.db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    assert count == len(papers())

    class Counting:
        name = encoder.name
        calls = 0

        def fit(self, documents):
            return None

        def encode(self, texts):
            Counting.calls += len(texts)
            return encoder.encode(texts)

    score(tmp_path, Counting())
    assert Counting.calls < 40  # only the interest phrases, no paper again


def test_learning_moves_the_ranking_towards_the_labels(tmp_path, encoder):
    target = find("PiGGO: Physics-Guided Learnable Graph Kalman Filters")
    before = score(tmp_path / "before", encoder)
    with Store(tmp_path / "after" / "store.sqlite") as store:
        # An earlier day: the reader liked graph-learning papers and disliked the rest.
        earlier = parse_rss((DATA / "arxiv" / "rss-cs.LG-2026-04-14.xml").read_bytes(), "x")[1]
        store.save_day(dt.date(2026, 4, 14), earlier)
        graph = [p for p in earlier if re.search(r"\bgraph", p.title, re.IGNORECASE)]
        assert len(graph) >= 5
        for paper in earlier[:60]:
            store.add_label(paper.arxiv_id, "feedback", paper in graph)
        for paper in graph:
            store.add_label(paper.arxiv_id, "feedback", True)
    after = score(tmp_path / "after", encoder)
    assert after[target].relevance > before[target].relevance
    assert "ranked by what you kept" in after[target].comment


def learned(tmp_path, encoder, labelled, *, announce: dt.date | None, scored) -> bool:
    """Whether scoring ``scored`` learned from 20 likes and 20 dislikes of ``labelled``
    (recorded as announced on ``announce``)."""
    with Store(tmp_path / "store.sqlite") as store:
        if announce is not None:
            store.save_day(announce, labelled)
        for index, paper in enumerate(labelled[:40]):
            store.add_label(paper.arxiv_id, "feedback", index % 2 == 0)
        scorer = LocalScorer(parse_interests(INTERESTS), encoder, store, LocalSettings(),
                             day=DAY)
        scores = scorer.score([Candidate(p) for p in scored])
    return any("ranked by what you kept" in s.comment for s in scores.scored)


def test_the_learner_never_trains_on_the_day_it_scores(tmp_path, encoder):
    """Forty labels, enough to learn from: used when they belong to an earlier day, never
    when they belong to the day being scored (announced on it, or among its papers)."""
    day, earlier = papers()[:60], parse_rss(
        (DATA / "arxiv" / "rss-cs.LG-2026-04-14.xml").read_bytes(), "x")[1][:40]
    assert learned(tmp_path / "control", encoder, earlier, announce=dt.date(2026, 4, 14),
                   scored=day)
    # Announced on the scored day but not among the papers scored now (a second run).
    assert not learned(tmp_path / "same-day", encoder, day[20:], announce=DAY,
                       scored=day[:20])
    # Among the papers scored now, whatever day the store thinks they belong to.
    assert not learned(tmp_path / "scored-now", encoder, day, announce=None, scored=day)


def test_lexical_fallback_ranks_without_the_extra(tmp_path):
    scores = score(tmp_path, TfidfEncoder())
    assert scores[find("Rethinking KV Cache Eviction")].relevance >= 8
    assert all(s.scorer == "local (tfidf)" for s in scores.values())


def test_demo_falls_back_to_tfidf_when_the_model_cannot_load(tmp_path):
    code = ("import sys\n"
            "for name in ('onnxruntime',):\n"
            "    sys.modules[name] = None  # as if they could not be imported\n"
            "from papersift.cli import main\n"
            "sys.argv = ['papersift', 'demo', '--out', sys.argv[1]]\n"
            "main()")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "demo")],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "the embedding scorer cannot load" in result.stderr
    assert "scoring with TF-IDF instead" in result.stderr
    assert "local (tfidf)" in result.stdout
    digest = (tmp_path / "demo" / "md" / "2026-04" / "2026-04-30.md").read_text()
    assert "| [local (tfidf)] | Prompt | Completion | Total |" in digest
    assert "Total arXiv papers: 204" in digest
    # what the demo shows a new user: the spotlight, labelled extracts, math read as math
    assert digest.index("## Spotlight") < digest.index("**Table of contents")
    assert digest.count("**TL;DR (the abstract's most informative sentence):**") == \
        digest.count("**Abstract:**") > 0
    pages = "".join(p.read_text() for p in (tmp_path / "demo" / "site").rglob("2026-04-*.html"))
    assert '<span class="math">' in pages and "$" not in pages.split("<main>")[1].split(
        "Your interests")[0].replace("$0.00", "")


def test_rank_scale_gives_ties_the_better_score():
    from papersift.scoring.relevance import scale_by_rank
    shares = (0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
    assert scale_by_rank([5, 4, 4, 3, 2, 1, 0, 0, 0, 0], shares).tolist() == \
        [10, 9, 9, 8, 8, 7, 6, 6, 6, 6]


OFF_TOPIC_DAY = ["2604.25932", "2604.26233", "2604.26288", "2604.26498", "2604.26637",
                 "2604.26671", "2604.26766", "2604.26880"]  # education, law, clinics, robots


def small_day(tmp_path, encoder, ids):
    chosen = [p for p in papers() if p.arxiv_id in ids]
    with Store(tmp_path / "store.sqlite") as store:
        scorer = LocalScorer(parse_interests(INTERESTS), encoder, store, LocalSettings(),
                             day=DAY)
        return by_id(scorer.score([Candidate(p) for p in chosen]))


def selected(scores) -> set[str]:
    return {k for k, s in scores.items() if s.relevance >= 8 and s.novelty >= 7}


def test_a_small_day_still_surfaces_its_on_topic_paper(tmp_path, encoder):
    """Eight candidates (a small category, a quiet day): ranking within the day alone
    could never give any of them relevance 8."""
    on_topic = find("Rethinking KV Cache Eviction")
    scores = small_day(tmp_path, encoder, [on_topic, *OFF_TOPIC_DAY[:7]])
    assert selected(scores) == {on_topic}


def test_an_off_topic_small_day_selects_nothing(tmp_path, encoder):
    assert selected(small_day(tmp_path, encoder, OFF_TOPIC_DAY)) == set()


STARTER = (Path(__file__).parent.parent / "src" / "papersift" / "starter" / "interests.md")


def test_exception_clauses_and_list_tails_are_not_filter_phrases():
    interests = parse_interests(
        "1. Memory\n"
        "   - Keep: agent memory systems whose core contribution is a new principle for\n"
        "     storing, updating, recalling, or reasoning over memory; memory consolidation.\n"
        "   - Filter: agent products that add memory without a new memory mechanism,\n"
        "     learning principle, or analysis.\n\n"
        "## Applications to avoid\n\n"
        "Medical imaging, remote sensing, chemistry and other\n"
        "domain applications, unless the method itself is a contribution.\n")
    negatives = interests.negative_phrases
    assert negatives == ["agent products that add memory", "Medical imaging",
                         "remote sensing", "chemistry"]
    keep = interests.topics[0].keep_phrases()
    assert "memory consolidation" in keep
    assert "updating" not in keep and "recalling" not in keep  # no fragments of a clause
    assert any(p.endswith("storing, updating, recalling, or reasoning over memory")
               for p in keep)


def test_local_comments_name_this_papers_words_and_only_real_filter_matches(tmp_path,
                                                                             encoder):
    with Store(tmp_path / "store.sqlite") as store:
        scorer = LocalScorer(parse_interests(STARTER.read_text()), encoder, store,
                             LocalSettings(), day=DAY)
        scores = by_id(scorer.score([Candidate(p) for p in papers()]))
    texts = {p.arxiv_id: f"{p.title} {p.abstract}".lower().replace("-", " ")
             for p in papers()}
    picks = [s for s in scores.values() if s.relevance >= 8 and s.novelty >= 7]
    assert picks
    for item in scores.values():
        comment = item.comment
        assert "unless" not in comment and "chemistry and other" not in comment
        mentioned = re.match(r"[^:]+: mentions ((?:“[^”]+”(?:, )?)+)", comment)
        if mentioned:  # the evidence is this paper's own words
            for word in re.findall(r"“([^”]+)”", mentioned.group(1)):
                assert word.lower().replace("-", " ") in texts[item.paper.arxiv_id], comment
        if "which you filter out" in comment:
            phrase = re.search(r"also mentions “([^”]+)”, which you filter out",
                               comment).group(1)
            # every word of it is there (matched by stem: "imaging" for "images")
            assert all(w[:5] in texts[item.paper.arxiv_id] for w in phrase.lower().split())
    # Before any label, a pick is justified by its own words, never by meaning alone.
    assert all(": mentions “" in s.comment or ": shares words with your “" in s.comment
               for s in picks)
    # A filter is named only where it matched, not on a third of the picks as before.
    assert sum("filter out" in s.comment for s in picks) <= 0.1 * len(picks)


def test_the_tfidf_fallback_says_it_scored_on_vocabulary_alone(tmp_path):
    scores = score(tmp_path, TfidfEncoder())
    assert all("scored on vocabulary alone" in s.comment for s in scores.values())


def test_a_corrupt_model_file_falls_back_to_tfidf_with_the_reason(tmp_path):
    import logging

    from papersift.scoring.local import make_encoder

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"not an onnx file")
    (folder / "tokenizer.json").write_text("{}")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("papersift").addHandler(handler)
    try:
        encoder = make_encoder(LocalSettings(model=str(folder)))
    finally:
        logging.getLogger("papersift").removeHandler(handler)
    assert isinstance(encoder, TfidfEncoder)
    messages = " ".join(r.getMessage() for r in records)
    assert f"{folder / 'model.onnx'}: cannot load the embedding model" in messages
    assert "scoring with TF-IDF instead" in messages


def restated(paper, new_id: str):
    """The same work announced again under another id, lightly reworded."""
    return dataclasses.replace(paper, arxiv_id=new_id, title=paper.title + " (extended)")


def test_two_papers_on_the_readers_topic_the_same_morning_do_not_knock_each_other_out(
        tmp_path, encoder):
    kv = next(p for p in papers() if "Rethinking KV Cache Eviction" in p.title)
    day = [*papers(), restated(kv, "2604.99999")]
    with Store(tmp_path / "store.sqlite") as store:
        scorer = LocalScorer(parse_interests(INTERESTS), encoder, store, LocalSettings(),
                             day=DAY)
        scores = by_id(scorer.score([Candidate(p) for p in day]))
    assert {kv.arxiv_id, "2604.99999"} <= selected(scores)


def test_only_a_restatement_of_a_recent_paper_loses_novelty(tmp_path, encoder):
    """With earlier days in the store, novelty is how far a paper is from them: a paper
    announced again under a new id scores low, unless the interests name it squarely."""
    earlier = papers()
    off_topic = next(p for p in earlier if p.arxiv_id == OFF_TOPIC_DAY[0])
    kv = next(p for p in earlier if "Rethinking KV Cache Eviction" in p.title)
    with Store(tmp_path / "store.sqlite") as store:
        store.save_day(DAY, earlier)
        LocalScorer(parse_interests(INTERESTS), encoder, store, LocalSettings(),
                    day=DAY).score([Candidate(p) for p in earlier])
        later = DAY + dt.timedelta(days=1)
        fresh = [p for p in earlier if p.arxiv_id not in (kv.arxiv_id, off_topic.arxiv_id)]
        repeats = [restated(off_topic, "2605.00001"), restated(kv, "2605.00002")]
        day = [dataclasses.replace(p, arxiv_id="2605.1" + p.arxiv_id[-4:])
               for p in fresh[:60]] + repeats
        # The new day's papers are new texts: borrow other days' abstracts for them.
        store.save_day(later, day)
        scores = by_id(LocalScorer(parse_interests(INTERESTS), encoder, store,
                                   LocalSettings(), day=later).score(
            [Candidate(p) for p in day]))
    assert scores["2605.00001"].novelty <= 3
    assert scores["2605.00002"].novelty >= 7 and scores["2605.00002"].relevance >= 8


def test_a_topics_scores_do_not_move_when_another_topic_is_added(encoder):
    """Each phrase is encoded by itself: the int8 model scales activations per batch, so
    phrases encoded together moved when the reader added a topic."""
    texts = [f"{p.title}. {p.abstract}" for p in papers()]
    vectors = encoder.encode(texts)
    more = INTERESTS.replace("## Applications", "3. Robot learning\n   - Keep: grasping, "
                             "legged locomotion, sim-to-real transfer.\n\n## Applications")
    before = zero_shot(vectors, InterestVectors.build(parse_interests(INTERESTS), encoder))
    after = zero_shot(vectors, InterestVectors.build(parse_interests(more), encoder))
    assert after.topic_scores.shape[1] == 3
    assert np.array_equal(before.topic_scores, after.topic_scores[:, :2])


def test_a_morning_fits_the_learner_once_its_fold_of_yesterday_is_what_yesterday_said(
        tmp_path, encoder, monkeypatch):
    """Stacking scores each recent labelled day with a model of the days before it: for
    yesterday that model is yesterday's own, so its ranking of yesterday's papers is kept
    and becomes the fold once they are labelled, instead of fitting the model again."""
    from papersift.scoring import linear

    fits = []
    fit = linear.Logistic.fit
    monkeypatch.setattr(linear.Logistic, "fit",
                        lambda self, *a, **k: fits.append(1) or fit(self, *a, **k))
    earlier = parse_rss((DATA / "arxiv" / "rss-cs.LG-2026-04-14.xml").read_bytes(), "x")[1]
    yesterday, today = papers()[:60], papers()[60:]
    with Store(tmp_path / "store.sqlite") as store:
        store.save_day(dt.date(2026, 4, 14), earlier[:40])
        for index, paper in enumerate(earlier[:40]):
            store.add_label(paper.arxiv_id, "feedback", index % 2 == 0)
        store.save_day(DAY - dt.timedelta(days=1), yesterday)
        ranked = LocalScorer(parse_interests(INTERESTS), encoder, store, LocalSettings(),
                             day=DAY - dt.timedelta(days=1)).ranked(
                                 [Candidate(p) for p in yesterday])
        said = {s.paper.arxiv_id: ranking for s, ranking in ranked}
        for index, paper in enumerate(yesterday[:20]):
            store.add_label(paper.arxiv_id, "feedback", index % 2 == 0)
        fits.clear()
        scorer = LocalScorer(parse_interests(INTERESTS), encoder, store, LocalSettings(),
                             day=DAY)
        scorer.score([Candidate(p) for p in today])
        assert len(fits) == 2  # today's two regressions; yesterday's fold was not refitted
        (fold,) = scorer.learned.folds
        weights = np.array(scorer.learned.weights)
        # The fold holds yesterday's signals of its labelled papers, as it ranked them.
        labelled = sorted(p.arxiv_id for p in yesterday[:20])
        assert (fold.signals @ weights).tolist() == pytest.approx(
            [said[key] for key in labelled], abs=1e-4)


def test_a_filter_that_restates_the_topic_does_not_rank_its_papers_down(encoder):
    """A topic's "not relevant: known quantization and pruning methods applied to a new
    network" reads like the topic itself: its vector is close to every quantization
    paper, so as a penalty it ranked the topic's own papers down. It qualifies the kind of
    contribution, which a vector cannot judge: the ranking by meaning is the one without
    it, while an avoid phrase far from the topics ("medical imaging") still ranks its
    papers down."""
    texts = [f"{p.title}. {p.abstract}" for p in papers()]
    vectors = encoder.encode(texts)
    topic = ("# Interests\n\n1. Quantization and pruning of neural networks\n"
             "   - Keep: low-bit quantization, pruning, mixed precision.\n")
    qualifier = ("   - Not relevant: known quantization and pruning methods applied to a new "
                 "network.\n")
    avoid = "\n## Applications to avoid\n- medical imaging\n"

    def meaning(text: str) -> np.ndarray:  # the vectors' part: no lexical match given
        return zero_shot(vectors, InterestVectors.build(parse_interests(text), encoder)).score

    assert np.allclose(meaning(topic + qualifier), meaning(topic), atol=1e-6)
    medical = [i for i, t in enumerate(texts) if re.search(r"\b(medical|clinical)", t, re.I)]
    assert medical
    plain, avoided = meaning(topic), meaning(topic + avoid)
    rank = lambda scores: np.argsort(np.argsort(-scores))  # noqa: E731
    assert rank(avoided)[medical].mean() > rank(plain)[medical].mean() + 10
