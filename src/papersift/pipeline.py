"""The daily job as a library call: ``run(config)`` is what ``papersift run`` does.

checks → lock → fetch → store → announce-type filter → authors (+ h-index gate) → score
→ select → publish. Every fetched paper ends in exactly one place: filtered (with the
reason), scored, or not scored (with the reason); the run's outcomes are recorded in the
store. Everything that can be checked without the network is checked first, so a broken
setup fails in seconds, before a model loads or a token is paid for.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
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
from papersift.progress import NULL_PROGRESS, Progress
from papersift.publish import publish, site_options
from papersift.redact import Redactor
from papersift.scoring import Scorer
from papersift.scoring.chat import check_endpoint
from papersift.scoring.encoders import PACKAGED_MODEL, Encoder
from papersift.scoring.hybrid import HybridScorer
from papersift.scoring.interests import parse_interests, usable
from papersift.scoring.llm import LLMScorer, make_async_client
from papersift.scoring.local import LocalScorer, LocalSettings, make_encoder
from papersift.scoring.pricing import PriceTable
from papersift.scoring.prompts import PromptSet
from papersift.scoring.relevance import paper_text
from papersift.scoring.topics import tag_topics
from papersift.selection import author_matched, select, spotlight
from papersift.site import build_readers_index
from papersift.sources import check_day, fetch_day, keep_announced, latest_possible_day
from papersift.store import Store, run_lock
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


def run(
    config: Config,
    *,
    day: dt.date | None = None,
    secrets: Secrets | None = None,
    progress: Progress = NULL_PROGRESS,
    scorer_factory: ScorerFactory | None = None,
    today: dt.date | None = None,
) -> RunResult:
    """Build one day's digest (``day=None``: the latest announcement day) and write it:
    the configuration's one reader (``config.for_profile``), or its first profile."""
    results = run_all(config, day=day, secrets=secrets, progress=progress,
                      scorer_factory=scorer_factory, today=today)
    return next(iter(results.values()))


def run_all(
    config: Config,
    *,
    day: dt.date | None = None,
    secrets: Secrets | None = None,
    progress: Progress = NULL_PROGRESS,
    scorer_factory: ScorerFactory | None = None,
    today: dt.date | None = None,
) -> dict[str, RunResult]:
    """The day's digest of every reader of ``config`` (its ``[profiles]``, else its one
    reader), by profile name. The day is fetched once, kept once in the one store and
    each paper embedded once; each reader is scored, selected and published on its own
    (``OUT/profiles/NAME``) and learns from its own verdicts."""
    secrets = secrets or Secrets.from_env()
    redact = Redactor.from_environment(secrets.values())
    today = today or latest_possible_day()
    readers = [config.for_profile(name) for name in config.profile_names]
    # a bad interests file fails before any fetch
    prompts = {r.profile: PromptSet.from_config(r) for r in readers}
    for reader in readers:
        preflight(reader, secrets, day, today, prompts[reader.profile])
    with run_lock(config.store_path, config.output.lock_timeout_seconds):
        # Fetching first: a source that fails (offline, a bad file) fails in seconds,
        # and a day without announcements never loads a model.
        file_path = config.resolve(config.arxiv.file) if config.arxiv.file else None
        fetched = fetch_day(config.arxiv, day, file_path=file_path, progress=progress,
                            today=today)
        log.info("%s: %d papers for %s", fetched.source, len(fetched.papers), fetched.day)
        encoder = None
        if scorer_factory is None and any(
                chosen_scorer(r, secrets) in ("local", "hybrid") for r in readers):
            encoder = make_encoder(_local_settings(config))  # loaded once for every reader
        results: dict[str, RunResult] = {}
        with Store(config.store_path, redact=redact) as store:
            store.save_day(fetched.day, fetched.papers)
            for reader in readers:
                results[reader.profile] = _run_reader(
                    reader, secrets, fetched, store.for_profile(reader.profile),
                    scorer_factory or scorer_factory_for(
                        reader, secrets, prompts[reader.profile], progress, encoder),
                    prompts[reader.profile], redact, progress)
            if len(readers) > 1 and "site" in config.output.formats:
                build_readers_index(config.site_dir, config.profile_names)
            _compact(store, fetched.day, readers)
        return results


def _run_reader(config: Config, secrets: Secrets, fetched: FetchedDay, store: Store,
                scorer_factory: ScorerFactory, prompts: PromptSet, redact: Redactor,
                progress: Progress) -> RunResult:
    run_id = store.start_run(fetched.day)
    try:
        scorer = scorer_factory(store, run_id, fetched.day)
        store.set_run_model(run_id, scorer.model)
        return _run_day(config, secrets, fetched, store, run_id, scorer, prompts, redact,
                        progress)
    except BaseException:
        with contextlib.suppress(Exception):
            store.finish_run(run_id, status="failed")
        raise


def preflight(config: Config, secrets: Secrets, day: dt.date | None, today: dt.date,
              prompts: PromptSet) -> None:
    """Every check that needs no network, before a model loads or anything is fetched."""
    check_day(day, today)
    if chosen_scorer(config, secrets) in ("local", "hybrid") and not usable(
            parse_interests(prompts.interests)):
        raise ConfigError(
            f"{config.resolve(config.prompts.interests)}: nothing to look for in it; write "
            "what you want to read as sentences (\"I work on …; I skip …\"), bullets or "
            "numbered topics (`papersift init` writes an example)")
    if config.arxiv.source == "file" and config.arxiv.file is not None:
        path = config.resolve(config.arxiv.file)
        if not path.is_file():
            raise ConfigError(f"arxiv.file = '{path}': no such file")
        if not os.access(path, os.R_OK):
            raise ConfigError(f"arxiv.file = '{path}': cannot read it")
    kind = chosen_scorer(config, secrets)
    if kind in ("llm", "hybrid"):
        check_endpoint(config.llm, secrets)
    model = _local_settings(config).model
    if kind in ("local", "hybrid") and model != PACKAGED_MODEL:
        if not Path(model).is_dir():
            raise ConfigError(f"local.model = '{config.local.model}': no such model folder")
        if not (Path(model) / "model.onnx").is_file():
            raise ConfigError(f"local.model = '{config.local.model}': the folder has no "
                              "model.onnx (an ONNX sentence-embedding model and tokenizer.json)")
    if config.output.formats:
        _check_writable(config.out_dir, "output.dir")
    _check_writable(config.store_path.parent, "output.store")


def _check_writable(folder: Path, key: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ConfigError(f"{key} = '{folder}': cannot write there "
                          f"({exc.strerror or exc})") from None


def chosen_scorer(config: Config, secrets: Secrets) -> str:
    """``llm``, ``local`` or ``hybrid``: ``auto`` means the LLM when one is configured."""
    if config.scoring.scorer != "auto":
        return config.scoring.scorer
    has_llm = secrets.openai_api_key or secrets.openai_base_url or config.llm.base_url
    return "llm" if has_llm else "local"


def scorer_factory_for(config: Config, secrets: Secrets, prompts: PromptSet,
                       progress: Progress, encoder: Encoder | None = None) -> ScorerFactory:
    """The scorer for the configuration; loads the local model when one is used (unless
    ``encoder`` is the one loaded already)."""
    kind = chosen_scorer(config, secrets)
    use_llm = kind in ("llm", "hybrid")
    if kind in ("local", "hybrid"):
        encoder = encoder or make_encoder(_local_settings(config))
    else:
        encoder = None  # an LLM reader beside local ones: no local scorer of its own
    interests = parse_interests(prompts.interests)
    prices = PriceTable(config.pricing)

    def factory(store: Store, run_id: int, day: dt.date) -> Scorer:
        local = llm = None
        if encoder is not None:
            settings = _local_settings(config)
            if kind == "hybrid":
                settings = replace(settings, prefilter_recall=config.scoring.hybrid_recall)
            local = LocalScorer(interests, encoder, store, settings, day=day,
                                progress=progress)
        if use_llm:
            llm_config = config.llm
            if kind == "hybrid":  # the local ranking replaces the title pass
                llm_config = llm_config.model_copy(update={"title_pass": False})
            llm = LLMScorer(llm_config, prompts,
                            lambda: make_async_client(config.llm, secrets),
                            store, run_id, prices, progress=progress,
                            relevance_cutoff=config.selection.relevance_cutoff)
        if local is not None and llm is not None:
            return HybridScorer(local, llm, config.scoring.hybrid_share)
        return local or llm  # type: ignore[return-value]

    return factory


def _local_settings(config: Config) -> LocalSettings:
    model = config.local.model
    return LocalSettings(
        model=model if model == PACKAGED_MODEL else str(config.resolve(Path(model))),
        max_seq_length=config.local.max_seq_length,
        novelty_days=config.local.novelty_days,
        learn=config.local.learn,
        relevance_cutoff=config.selection.relevance_cutoff,
        novelty_cutoff=config.selection.novelty_cutoff,
    )


def _run_day(
    config: Config,
    secrets: Secrets,
    fetched: FetchedDay,
    store: Store,
    run_id: int,
    scorer: Scorer,
    prompts: PromptSet,
    redact: Redactor,
    progress: Progress,
) -> RunResult:
    kept, filtered = keep_announced(fetched.papers, config.arxiv.announce_types,
                                    config.arxiv.categories, config.arxiv.force_primary)
    candidates, gated = _authors(config, secrets, kept, store, progress)
    matched = [author_matched(c) for c in candidates if c.author_match]
    outcome = scorer.score([c for c in candidates if not c.author_match])
    scored = [*matched, *outcome.scored]
    left_out = [*filtered, *gated, *outcome.filtered]
    not_scored = _account_for_all(fetched, left_out, scored, outcome)

    selected = select(
        scored,
        relevance_cutoff=config.selection.relevance_cutoff,
        novelty_cutoff=config.selection.novelty_cutoff,
        author_match_score=config.authors.match_score,
    )
    context = [paper_text(c.paper.title, c.paper.abstract) for c in candidates]
    selected = _with_topics(selected, prompts, context)
    run_usage = outcome.usage
    if config.summary.enabled:
        llm = _summary_llm(config, secrets, store, run_id, outcome.usage)
        selected, summary_usage = summarise(selected, config.summary.language, context, llm)
        run_usage = Usage()
        run_usage.add(outcome.usage)
        run_usage.add(summary_usage)
    finished_at = dt.datetime.now(dt.UTC)
    status = digest_status(fetched.day, scorer.model, selected=len(selected),
                           total=len(fetched.papers), not_scored=not_scored,
                           scoring_failed=outcome.asked > 0 and outcome.fresh == 0,
                           finished_at=finished_at)
    digest = redact.apply(Digest(
        day=fetched.day,
        model=scorer.model,
        total=len(fetched.papers),
        scanned=len(candidates),
        selected=tuple(selected),
        not_scored=tuple(not_scored),
        filtered_counts=dict(Counter(_reason_group(f.reason) for f in left_out)),
        usage=store.day_usage(fetched.day, scorer.model),
        prompts=(Prompts(prompts.interests, "\n".join(scorer.settings_lines()), local=True)
                 if isinstance(scorer, LocalScorer) else prompts.shown()),
        relevance_cutoff=config.selection.relevance_cutoff,
        novelty_cutoff=config.selection.novelty_cutoff,
        source=fetched.source,
        generated_at=finished_at,
        status=status,
        spotlight=spotlight(selected, config.selection.spotlight),
    ))
    chosen = {s.paper.arxiv_id for s in selected}
    store.record_outcomes(run_id, [
        *((f.paper.arxiv_id, "filtered", f.reason) for f in left_out),
        *((s.paper.arxiv_id, "selected" if s.paper.arxiv_id in chosen else "scored", "")
          for s in scored),
        *((n.paper.arxiv_id, "not_scored", n.reason) for n in not_scored),
    ])
    written = publish(digest, config.out_dir, list(config.output.formats),
                      site_options(config, secrets), verdicts=store.feedback_by_day())
    store.finish_run(run_id, status="done", total=digest.total, scanned=digest.scanned,
                     relevant=len(selected), not_scored=len(not_scored))
    return RunResult(digest, written, run_usage, store.path,
                     asked=outcome.asked, fresh=outcome.fresh)


def _compact(store: Store, day: dt.date, readers: Sequence[Config]) -> None:
    """Keep the store bounded once the day is published (``store.retention``), keeping
    what every reader's learner samples; a failure here costs nothing published, so it
    is said and the morning goes on."""
    try:
        done = store.compact(day, cutoffs={
            r.profile: (r.selection.relevance_cutoff, r.selection.novelty_cutoff)
            for r in readers}, novelty_days=_local_settings(readers[0]).novelty_days)
    except sqlite3.Error as exc:
        log.warning("%s: could not compact the store (%s); it is whole, only larger",
                    store.path, exc)
        return
    log.info("store kept bounded: %d texts and %d embeddings dropped, %d papers archived%s",
             done.texts_dropped, done.embeddings_dropped, done.archived,
             f" in {done.shard}" if done.shard else "")


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
