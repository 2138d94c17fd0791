"""Where each reader's day is finished once the morning's shared work is done.

The shared work (fetch, store, embeddings, the readers' LLM panels) runs here, once.
Each reader's own stage (learn, score, select, render, publish) then runs either here,
one reader after another (``[cluster] engine = "local"``), or on a Ray cluster
(``engine = "ray"``): one actor per worker holds the embedding model and the day's shared
work, and finishes readers' days as the driver hands them out. Both give the same digests.

What travels to a worker is the reader's configuration, the day's papers and its run:
never a key. A worker reads its keys from its own environment (start the Ray nodes with
the same ``OPENAI_API_KEY`` …), and the store and output folder must be the same files
on every node (one machine, or a shared file system). Each reader's LLM spending on a
worker is held to an equal share of what the morning's limits had left.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass

from papersift.config import ClusterConfig, Config, Secrets
from papersift.errors import ConfigError, PapersiftError
from papersift.models import Candidate, FetchedDay, Filtered
from papersift.progress import NULL_PROGRESS
from papersift.reader_day import ReaderDay, RunResult, chosen_scorer, finish
from papersift.redact import RedactingFilter, Redactor
from papersift.scorers import local_settings, scorer_factory_for
from papersift.scoring.encoders import Encoder
from papersift.scoring.limits import MorningSpend
from papersift.scoring.local import make_encoder
from papersift.scoring.prompts import PromptSet
from papersift.scoring.shared_day import SharedDay
from papersift.store import Store

log = logging.getLogger(__name__)


def finish_readers(days: Sequence[ReaderDay], cluster: ClusterConfig,
                   results: MutableMapping[str, RunResult],
                   morning: MorningSpend | None = None) -> None:
    """Finish every reader's day, here or on the cluster, into ``results`` (by profile).
    A reader that fails has its run marked failed; the others still finish, and the
    first failure is raised once all are done."""
    if cluster.engine == "ray" and days:
        _on_ray(days, cluster, results, morning)
        return
    for one in days:
        results[one.config.profile] = finish(one)


@dataclass(frozen=True)
class ReaderJob:
    """What a worker needs to finish one reader's day (picklable; no keys, no handles)."""

    config: Config
    fetched: FetchedDay
    run_id: int
    prompts: PromptSet
    candidates: list[Candidate]
    left_out: list[Filtered]
    made_at: dt.datetime | None
    morning: MorningSpend | None

    @classmethod
    def of(cls, day: ReaderDay, morning: MorningSpend | None) -> ReaderJob:
        return cls(day.config, day.fetched, day.run_id, day.prompts, day.candidates,
                   day.left_out, day.made_at, morning)


class ReaderWorker:
    """Finishes readers' days on a worker (a Ray actor): the embedding model is loaded
    once and the day's shared work kept between the readers it is handed."""

    def __init__(self) -> None:
        self.encoders: dict[tuple[str, int], Encoder] = {}
        self.shared: tuple[dt.date | None, SharedDay] = (None, SharedDay())
        self.secrets = Secrets.from_env()
        self.redact = Redactor.from_environment(self.secrets.values())
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingFilter(self.redact))

    def finish(self, job: ReaderJob) -> RunResult:
        """The reader's digest, written; its run marked failed if it fails."""
        config, day = job.config, job.fetched.day
        if self.shared[0] != day:
            self.shared = (day, SharedDay())
        with Store(config.store_path, redact=self.redact) as store:
            view = store.for_profile(config.profile)
            try:
                factory = scorer_factory_for(config, self.secrets, job.prompts, NULL_PROGRESS,
                                             self._encoder(config), job.morning,
                                             self.shared[1])
                scorer = factory(view, job.run_id, day)
            except BaseException:
                view.finish_run(job.run_id, status="failed")
                raise
            return finish(ReaderDay(config, self.secrets, job.fetched, view, job.run_id,
                                    scorer, job.prompts, self.redact, NULL_PROGRESS,
                                    job.candidates, job.left_out, job.made_at))

    def _encoder(self, config: Config) -> Encoder | None:
        if chosen_scorer(config, self.secrets) not in ("local", "hybrid"):
            return None
        settings = local_settings(config)
        slot = (settings.model, settings.max_seq_length)
        if slot not in self.encoders:
            self.encoders[slot] = make_encoder(settings)
        return self.encoders[slot]


def _on_ray(days: Sequence[ReaderDay], cluster: ClusterConfig,
            results: MutableMapping[str, RunResult], morning: MorningSpend | None) -> None:
    try:
        import ray
        from ray.exceptions import RayActorError, RayTaskError
    except ImportError:
        raise ConfigError('cluster.engine = "ray": Ray is not installed here (pip install '
                          '"papersift[cluster]")') from None
    share = morning.share(len(days)) if morning is not None else None
    jobs = [ReaderJob.of(one, share) for one in days]
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=cluster.address or "local", include_dashboard=False,
                     logging_level=logging.WARNING, log_to_driver=True,
                     configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = cluster.address or "a Ray on this machine"
            raise PapersiftError(f"cluster.address = '{where}': cannot reach the Ray "
                                 f"cluster ({str(error).splitlines()[0][:200]})") from None
    try:
        count = cluster.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        worker = ray.remote(num_cpus=1)(ReaderWorker)
        actors = [worker.remote() for _ in range(min(count, len(jobs)))]
        handed = [actors[i % len(actors)].finish.remote(job) for i, job in enumerate(jobs)]
        failure: BaseException | None = None
        for one, ref in zip(days, handed, strict=True):
            try:
                results[one.config.profile] = ray.get(ref)
            except RayTaskError as error:  # the reader's own failure, as raised there
                failure = failure or _cause(error, one.config.profile)
            except RayActorError as error:  # the worker died (memory, a lost node)
                one.abandon()
                failure = failure or PapersiftError(
                    f"profile {one.config.profile!r}: its Ray worker was lost "
                    f"({str(error).splitlines()[0][:200]})")
        for actor in actors:
            ray.kill(actor)
        if failure is not None:
            raise failure
    finally:
        if started:
            ray.shutdown()


def _cause(error: BaseException, profile: str) -> BaseException:
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        return cause
    return PapersiftError(f"profile {profile!r}: {str(error).splitlines()[0][:300]}")

