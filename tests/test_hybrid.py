"""The hybrid scorer's cut: calibrated on the store's labelled days, not a fixed share."""

from __future__ import annotations

import datetime as dt
import json
import shutil

from conftest import DATA, DAY, PICKS, write_project
from papersift.config import load_config
from papersift.pipeline import run
from papersift.sources.rss import parse_rss
from papersift.store import Store
from test_pipeline import SECRETS


def april_14_papers() -> list:
    papers = {}
    for category in ("cs.LG", "cs.AI"):
        feed = (DATA / "arxiv" / f"rss-{category}-{DAY}.xml").read_bytes()
        papers.update((p.arxiv_id, p) for p in parse_rss(feed, category)[1])
    return sorted((p for p in papers.values() if p.announce_type != "replace-cross"),
                  key=lambda p: p.arxiv_id)


def day_file(folder, day: dt.date, papers) -> None:
    lines = [json.dumps({"arxiv_id": p.arxiv_id, "title": p.title, "abstract": p.abstract,
                         "authors": list(p.authors), "categories": list(p.categories)})
             for p in papers]
    (folder / f"{day}.jsonl").write_text("\n".join(lines) + "\n")


def test_the_cut_is_calibrated_on_labelled_days_and_sends_more_on_a_rich_day(
        tmp_path, arxiv, llm, embedded_store):
    papers = april_14_papers()
    earlier, later = papers[0::2], papers[1::2]
    (tmp_path / "out").mkdir()
    shutil.copy(embedded_store, tmp_path / "out" / "papersift.sqlite")
    with Store(tmp_path / "out" / "papersift.sqlite") as store:  # six judged days
        for index in range(6):
            chunk = earlier[index::6]
            store.save_day(dt.date(2026, 4, 6 + index), chunk)
            for paper in chunk:
                store.add_label(paper.arxiv_id, "llm-history", paper.arxiv_id in PICKS)
    picks = [p for p in later if p.arxiv_id in PICKS]
    others = [p for p in later if p.arxiv_id not in PICKS]
    rich, thin = dt.date(2026, 4, 20), dt.date(2026, 4, 21)
    day_file(tmp_path, rich, picks + others[:120])
    day_file(tmp_path, thin, others[120:120 + len(picks) + 120])

    sent = {}
    for day in (rich, thin):
        config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
            f'[arxiv]\nsource = "file"\nfile = "{day}.jsonl"\n'
            '[scoring]\nscorer = "hybrid"\nhybrid_recall = 0.9\n'))
        before = len(llm.requests)
        result = run(load_config(config), day=day, secrets=SECRETS)
        sent[day] = {i for r in llm.requests[before:] for i in r.ids}
        with Store(result.store_path) as store:
            outcomes = store.outcomes(store.runs(day)[-1]["id"])
        below = {reason for outcome, reason in outcomes.values() if outcome == "filtered"}
        assert len(outcomes) == result.digest.total
        assert below and all(r.startswith("local prefilter: below the cut calibrated to "
                                          "keep 90% of the LLM's picks") for r in below)

    total = len(picks) + 120
    # Not a fixed share: the day with the picks sends more (most of its extra papers are
    # the picks), the day without them leaves most of its papers out.
    assert len(sent[rich]) - len(sent[thin]) >= 0.5 * len(picks)
    assert len(sent[thin]) <= 0.55 * total
    assert len(set(p.arxiv_id for p in picks) & sent[rich]) >= 0.8 * len(picks)


def test_the_local_learner_weighs_its_signals_on_earlier_days(tmp_path, embedded_store):
    """Six labelled days: the signals' weights are stacked on them (the appendix says so)
    and the learned ranking puts the held-out picks higher than the zero-shot one."""
    from conftest import INTERESTS
    from papersift.models import Candidate
    from papersift.scoring.encoders import OnnxEncoder
    from papersift.scoring.interests import parse_interests
    from papersift.scoring.local import LocalScorer, LocalSettings

    papers = april_14_papers()
    earlier, later = papers[0::2], papers[1::2]
    shutil.copy(embedded_store, tmp_path / "store.sqlite")
    encoder = OnnxEncoder()

    def mean_pick_rank(store, learn: bool) -> tuple[float, LocalScorer]:
        scorer = LocalScorer(parse_interests(INTERESTS), encoder, store,
                             LocalSettings(learn=learn), day=dt.date(2026, 4, 20))
        ranked = scorer.ranked([Candidate(p) for p in later])
        order = sorted(range(len(later)), key=lambda i: -ranked[i][1])
        ranks = [position for position, i in enumerate(order) if later[i].arxiv_id in PICKS]
        return sum(ranks) / len(ranks), scorer

    with Store(tmp_path / "store.sqlite") as store:
        for index in range(6):
            chunk = earlier[index::6]
            store.save_day(dt.date(2026, 4, 6 + index), chunk)
            for paper in chunk:
                store.add_label(paper.arxiv_id, "llm-history", paper.arxiv_id in PICKS)
        zero_shot_rank, _ = mean_pick_rank(store, learn=False)
        learned_rank, scorer = mean_pick_rank(store, learn=True)
    assert learned_rank < zero_shot_rank
    settings = "\n".join(scorer.settings_lines())
    assert "(stacked on earlier days)" in settings, settings


def test_an_honest_answer_on_the_prefiltered_papers_is_not_asked_again(
        tmp_path, arxiv, llm, embedded_store):
    """The prefilter sends the day's best-ranked papers, so an honest model calls many of
    them relevant: that is not a prompt injection moving its batch, and no paper is paid
    for twice."""
    papers = april_14_papers()
    earlier, later = papers[0::2], papers[1::2]
    (tmp_path / "out").mkdir()
    shutil.copy(embedded_store, tmp_path / "out" / "papersift.sqlite")
    with Store(tmp_path / "out" / "papersift.sqlite") as store:
        for index in range(6):
            chunk = earlier[index::6]
            store.save_day(dt.date(2026, 4, 6 + index), chunk)
            for paper in chunk:
                store.add_label(paper.arxiv_id, "llm-history", paper.arxiv_id in PICKS)
    day = dt.date(2026, 4, 20)
    picks = [p for p in later if p.arxiv_id in PICKS]
    day_file(tmp_path, day, picks + [p for p in later if p.arxiv_id not in PICKS][:40])
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        f'[arxiv]\nsource = "file"\nfile = "{day}.jsonl"\n'
        '[scoring]\nscorer = "hybrid"\n'))
    run(load_config(config), day=day, secrets=SECRETS)

    asked = [i for r in llm.stage_requests("abstract") for i in r.ids]
    sent_picks = set(asked) & {p.arxiv_id for p in picks}
    assert len(sent_picks) >= 0.5 * len(set(asked))  # the answers call many papers relevant
    assert len(asked) == len(set(asked))  # and none was asked twice
