"""The daily job as a library call: ``run(config)`` is what ``papersift run`` does.

checks → lock → fetch → store → for every reader: announce-type filter → authors
(+ h-index gate) → [the readers' LLM work shared in panels] → score → select → publish
(``reader_day``) → compaction. Every fetched paper ends in exactly one place for each
reader: filtered (with the reason), scored, or not scored (with the reason). Everything
that can be checked without the network is checked first, so a broken setup fails in
seconds, before a model loads or a token is paid for.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import os
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path

from papersift.cluster import finish_readers
from papersift.config import Config, Secrets
from papersift.errors import ConfigError
from papersift.progress import NULL_PROGRESS, Progress
from papersift.reader_day import (
    ReaderDay,
    RunResult,
    ScorerFactory,
    chosen_scorer,
    prepare,
)
from papersift.redact import Redactor
from papersift.scorers import local_part, local_settings, scorer_factory_for
from papersift.scoring.chat import check_endpoint
from papersift.scoring.encoders import PACKAGED_MODEL
from papersift.scoring.interests import parse_interests, usable
from papersift.scoring.limits import MorningSpend
from papersift.scoring.local import make_encoder, rank_together
from papersift.scoring.panel_scorer import judge_in_panels, panel_member
from papersift.scoring.prompts import PromptSet
from papersift.scoring.shared_day import SharedDay
from papersift.site import build_readers_index
from papersift.sources import check_day, fetch_day, latest_possible_day
from papersift.store import Store, run_lock

__all__ = ["RunResult", "chosen_scorer", "preflight", "run", "run_all"]

log = logging.getLogger(__name__)

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
            encoder = make_encoder(local_settings(config))  # loaded once for every reader
        morning = MorningSpend.of(config.llm)
        shared = SharedDay()  # every local reader's day: read, embedded, matched once
        with Store(config.store_path, redact=redact) as store:
            store.save_day(fetched.day, fetched.papers)
            days: list[ReaderDay] = []
            results: dict[str, RunResult] = {}
            try:
                for reader in readers:
                    days.append(prepare(
                        reader, secrets, fetched, store.for_profile(reader.profile),
                        scorer_factory or scorer_factory_for(
                            reader, secrets, prompts[reader.profile], progress, encoder,
                            morning, shared),
                        prompts[reader.profile], redact, progress))
                # the day's vectors read (or embedded) once; here, every reader's words
                # matched at once too
                rank_together([(local, one.to_score) for one in days
                               if (local := local_part(one.scorer)) is not None],
                              words=config.cluster.engine == "local")
                if len(days) > 1:  # several readers' LLM work, shared
                    judge_in_panels([member for one in days if (
                        member := panel_member(one.scorer, one.to_score)) is not None])
                finish_readers(days, config.cluster, results, morning)
            except BaseException:
                for one in days:
                    if one.config.profile not in results:
                        one.abandon()
                raise
            if len(readers) > 1 and "site" in config.output.formats:
                build_readers_index(config.site_dir, config.profile_names)
            _compact(store, fetched.day, readers)
        return results


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
    model = local_settings(config).model
    if kind in ("local", "hybrid") and model != PACKAGED_MODEL:
        if not Path(model).is_dir():
            raise ConfigError(f"local.model = '{config.local.model}': no such model folder")
        if not (Path(model) / "model.onnx").is_file():
            raise ConfigError(f"local.model = '{config.local.model}': the folder has no "
                              "model.onnx (an ONNX sentence-embedding model and tokenizer.json)")
    if config.cluster.engine == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError('cluster.engine = "ray": Ray is not installed here (pip install '
                          '"papersift[cluster]")')
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


def _compact(store: Store, day: dt.date, readers: Sequence[Config]) -> None:
    """Keep the store bounded once the day is published (``store.retention``), keeping
    what every reader's learner samples; a failure here costs nothing published, so it
    is said and the morning goes on."""
    try:
        done = store.compact(day, cutoffs={
            r.profile: (r.selection.relevance_cutoff, r.selection.novelty_cutoff)
            for r in readers}, novelty_days=local_settings(readers[0]).novelty_days)
    except sqlite3.Error as exc:
        log.warning("%s: could not compact the store (%s); it is whole, only larger",
                    store.path, exc)
        return
    log.info("store kept bounded: %d texts and %d embeddings dropped, %d papers archived%s",
             done.texts_dropped, done.embeddings_dropped, done.archived,
             f" in {done.shard}" if done.shard else "")


