"""One reader's day: from the fetched papers to the reader's published digest.

``prepare`` takes the day's papers as far as the reader's scorer (announce types,
followed authors, the scorer built, the run started); ``finish`` scores, selects and
publishes. A morning (``pipeline.run_all``) prepares every reader first, so that their
LLM work can be shared (``scoring.panel_scorer``) before each one finishes. Every fetched
paper ends in exactly one place: filtered (with the reason), scored, or not scored (with
the reason); the run's outcomes are recorded in the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from papersift.authors import SemanticScholar, attach_authors
from papersift.config import Config, Secrets
from papersift.errors import ConfigError
from papersift.health import digest_status
from papersift.http import HttpClient, RetryPolicy
from papersift.models import (
    Candidate,
    Digest,
    FetchedDay,
    Filtered,
    NotScored,
    Paper,
    Prompts,
    Scored,
    ScoringOutcome,
    Selected,
    Usage,
)
from papersift.progress import Progress
from papersift.publish import publish, site_options
from papersift.redact import Redactor
from papersift.scoring import Scorer
from papersift.scoring.interests import parse_interests
from papersift.scoring.llm import make_async_client
from papersift.scoring.local import LocalScorer
from papersift.scoring.pricing import PriceTable
from papersift.scoring.prompts import PromptSet
from papersift.scoring.relevance import paper_text
from papersift.scoring.topics import tag_topics
from papersift.selection import author_matched, select, spotlight
from papersift.sources import keep_announced
from papersift.store import Store
from papersift.summaries import LLMSummaries, summarise

log = logging.getLogger(__name__)

ScorerFactory = Callable[[Store, int, dt.date], Scorer]


@dataclass(frozen=True)
class RunResult:
    digest: Digest
    written: list[Path]
    run_usage: Usage  # what this run spent (the digest shows the whole day's)
    store_path: Path
    asked: int = 0  # papers the scorer had to judge this run (not already in the store)
    fresh: int = 0  # of those, the ones it judged

    @property
    def scoring_failed(self) -> bool:
        """The scorer judged none of the papers it was asked to (every request failed)."""
        return self.asked > 0 and self.fresh == 0


@dataclass(frozen=True)
class ReaderDay:
    """A reader's day prepared up to scoring: its run, its scorer, its papers."""

    config: Config
    secrets: Secrets
    fetched: FetchedDay
    store: Store  # the reader's view of the morning's store
    run_id: int
    scorer: Scorer
    prompts: PromptSet
    redact: Redactor
    progress: Progress
    candidates: list[Candidate]  # kept by the announce types and the author gate
    left_out: list[Filtered]  # by the announce types and the author gate
    # When the digest says it was made: now, or SOURCE_DATE_EPOCH (reproducible outputs)
    made_at: dt.datetime | None = None

    @property
    def to_score(self) -> list[Candidate]:
        """The candidates the scorer judges (an author match is selected as such)."""
        return [c for c in self.candidates if not c.author_match]

    def abandon(self) -> None:
        """Mark the run failed (the morning stopped before this reader finished)."""
        with contextlib.suppress(Exception):
            self.store.finish_run(self.run_id, status="failed")


def chosen_scorer(config: Config, secrets: Secrets) -> str:
    """``llm``, ``local`` or ``hybrid``: ``auto`` means the LLM when one is configured."""
    if config.scoring.scorer != "auto":
        return config.scoring.scorer
    has_llm = secrets.openai_api_key or secrets.openai_base_url or config.llm.base_url
    return "llm" if has_llm else "local"


def prepare(config: Config, secrets: Secrets, fetched: FetchedDay, store: Store,
            scorer_factory: ScorerFactory, prompts: PromptSet, redact: Redactor,
            progress: Progress) -> ReaderDay:
    """Start the reader's run, build its scorer and find its candidates."""
    run_id = store.start_run(fetched.day)
    try:
        scorer = scorer_factory(store, run_id, fetched.day)
        store.set_run_model(run_id, scorer.model)
        kept, filtered = keep_announced(fetched.papers, config.arxiv.announce_types,
                                        config.arxiv.categories, config.arxiv.force_primary)
        candidates, gated = _authors(config, secrets, kept, store, progress)
    except BaseException:
        with contextlib.suppress(Exception):
            store.finish_run(run_id, status="failed")
        raise
    return ReaderDay(config, secrets, fetched, store, run_id, scorer, prompts, redact,
                     progress, candidates, [*filtered, *gated], source_date())


def source_date(environ: Mapping[str, str] | None = None) -> dt.datetime | None:
    """``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) as the time every
    output says it was made, so that two runs of one day write the same bytes."""
    value = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "")
    if not value.strip():
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(f"SOURCE_DATE_EPOCH = {value[:40]!r}: not a Unix time in "
                          "seconds") from None


def finish(day: ReaderDay) -> RunResult:
    """Score, select and publish the reader's day (its run marked failed if it fails)."""
    try:
        return _finish(day)
    except BaseException:
        day.abandon()
        raise


def _finish(day: ReaderDay) -> RunResult:
    config, store, scorer = day.config, day.store, day.scorer
    matched = [author_matched(c) for c in day.candidates if c.author_match]
    outcome = scorer.score(day.to_score)
    candidates = day.candidates
    scored = [*matched, *outcome.scored]
    left_out = [*day.left_out, *outcome.filtered]
    not_scored = _account_for_all(day.fetched, left_out, scored, outcome)

    selected = select(
        scored,
        relevance_cutoff=config.selection.relevance_cutoff,
        novelty_cutoff=config.selection.novelty_cutoff,
        author_match_score=config.authors.match_score,
    )
    context = [paper_text(c.paper.title, c.paper.abstract) for c in candidates]
    selected = _with_topics(selected, day.prompts, context)
    run_usage = outcome.usage
    if config.summary.enabled:
        llm = _summary_llm(config, day.secrets, store, day.run_id, outcome.usage)
        selected, summary_usage = summarise(selected, config.summary.language, context,
                                            llm)
        run_usage = Usage()
        run_usage.add(outcome.usage)
        run_usage.add(summary_usage)
    finished_at = day.made_at or dt.datetime.now(dt.UTC)
    status = digest_status(day.fetched.day, scorer.model, selected=len(selected),
                           total=len(day.fetched.papers), not_scored=not_scored,
                           scoring_failed=outcome.asked > 0 and outcome.fresh == 0,
                           finished_at=finished_at)
    digest = day.redact.apply(Digest(
        day=day.fetched.day,
        model=scorer.model,
        total=len(day.fetched.papers),
        scanned=len(candidates),
        selected=tuple(selected),
        not_scored=tuple(not_scored),
        filtered_counts=dict(Counter(_reason_group(f.reason) for f in left_out)),
        usage=store.day_usage(day.fetched.day, scorer.model),
        prompts=(Prompts(day.prompts.interests, "\n".join(scorer.settings_lines()), local=True)
                 if isinstance(scorer, LocalScorer) else day.prompts.shown()),
        relevance_cutoff=config.selection.relevance_cutoff,
        novelty_cutoff=config.selection.novelty_cutoff,
        source=day.fetched.source,
        generated_at=finished_at,
        status=status,
        spotlight=spotlight(selected, config.selection.spotlight),
    ))
    chosen = {s.paper.arxiv_id for s in selected}
    store.record_outcomes(day.run_id, [
        *((f.paper.arxiv_id, "filtered", f.reason) for f in left_out),
        *((s.paper.arxiv_id, "selected" if s.paper.arxiv_id in chosen else "scored", "")
          for s in scored),
        *((n.paper.arxiv_id, "not_scored", n.reason) for n in not_scored),
    ])
    written = publish(digest, config.out_dir, list(config.output.formats),
                      site_options(config, day.secrets), verdicts=store.feedback_by_day())
    store.finish_run(day.run_id, status="done", total=digest.total, scanned=digest.scanned,
                     relevant=len(selected), not_scored=len(not_scored))
    return RunResult(digest, written, run_usage, store.path,
                     asked=outcome.asked, fresh=outcome.fresh)


def _authors(config: Config, secrets: Secrets, papers: Sequence[Paper], store: Store,
             progress: Progress) -> tuple[list[Candidate], list[Filtered]]:
    needs_s2 = config.authors.h_index_gate or any(
        entry.strip().isdigit() for entry in config.authors.follow)
    if not needs_s2:
        return attach_authors(papers, config.authors, None, progress)
    with HttpClient(config.authors.timeout_seconds) as client:
        s2 = SemanticScholar(client, config.authors.s2_url, store,
                             api_key=secrets.s2_api_key, cache_days=config.authors.cache_days,
                             policy=RetryPolicy(config.authors.request_attempts,
                                                config.authors.backoff_seconds))
        return attach_authors(papers, config.authors, s2, progress)


def _account_for_all(fetched: FetchedDay, left_out: list[Filtered], scored: list[Scored],
                     outcome: ScoringOutcome) -> list[NotScored]:
    """The scorer's not-scored list, plus any paper no stage accounted for (never dropped)."""
    accounted = {f.paper.arxiv_id for f in left_out} | {s.paper.arxiv_id for s in scored}
    accounted |= {n.paper.arxiv_id for n in outcome.not_scored}
    lost = [NotScored(Candidate(p), "no stage recorded an outcome (please report this)")
            for p in fetched.papers if p.arxiv_id not in accounted]
    if lost:
        log.error("%d papers had no outcome; listed as not scored", len(lost))
    return [*outcome.not_scored, *lost]


def _with_topics(selected: list[Selected], prompts: PromptSet,
                 context: Sequence[str]) -> list[Selected]:
    """Selected papers tagged with the reader's topic they belong to."""
    tagged = tag_topics([s.scored for s in selected], parse_interests(prompts.interests),
                        context)
    return [Selected(scored, s.score) for s, scored in zip(selected, tagged, strict=True)]


def _summary_llm(config: Config, secrets: Secrets, store: Store, run_id: int,
                 spent: Usage) -> LLMSummaries | None:
    """The LLM that writes summaries: the scoring one (within what is left of the run's
    budget after ``spent``), or None when the scorer is local."""
    if chosen_scorer(config, secrets) not in ("llm", "hybrid"):
        if config.summary.language.lower() != "english":
            log.info("summary.language = %r needs an LLM; the extracted sentences stay in "
                     "the abstract's language", config.summary.language)
        return None
    return LLMSummaries(config.llm, lambda: make_async_client(config.llm, secrets),
                        PriceTable(config.pricing), store, run_id, spent)


def _reason_group(reason: str) -> str:
    """Group reasons for the digest's one-line summary ("h-index gate: 3 < 10" → "h-index gate")."""
    return reason.split(":", 1)[0]
