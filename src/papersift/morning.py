"""A whole morning: run the day, record how it went, push the result.

``papersift run`` is this. Whatever happens upstream, the morning ends with a status
(``OUT/status.json``, the site's banner) and, when configured, a push that says it: a
weekend says "no announcements" (pushed only if ``notify.on_no_announcements``), an
unreachable arXiv says so (``notify.on_failure``). Pushes come after the digest is
published, so a failed push never costs the digest.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from papersift.atomic import write_atomic
from papersift.config import Config, Secrets, site_address
from papersift.errors import NoAnnouncements, PapersiftError, SourceError
from papersift.health import (
    STATUS_FILE,
    no_announcements_status,
    note_failed_steps,
    run_failure_status,
    status_record,
    upstream_failure_status,
    write_status,
)
from papersift.models import RunStatus
from papersift.notify import send_all, should_push
from papersift.notify.push import NoStoredDigest, Push, PushResult, digest_push, status_push
from papersift.pipeline import RunResult, run_all
from papersift.progress import NULL_PROGRESS, Progress
from papersift.redact import Redactor
from papersift.render import digest_record
from papersift.text import load_json


@dataclass(frozen=True)
class Morning:
    """How the morning went: its status, the run (when a digest was written), the pushes,
    and the upstream error (arXiv unreachable) the command reports."""

    status: RunStatus
    result: RunResult | None = None
    pushes: list[PushResult] = field(default_factory=list)
    error: PapersiftError | None = None

    @property
    def failed_pushes(self) -> list[PushResult]:
        return [p for p in self.pushes if not p.ok]


def run_morning(config: Config, *, day: dt.date | None = None, secrets: Secrets | None = None,
                progress: Progress = NULL_PROGRESS, push: bool = True) -> Morning:
    """The morning of the configuration's one reader (or its first profile):
    ``run_mornings``."""
    return next(iter(run_mornings(config, day=day, secrets=secrets, progress=progress,
                                  push=push).values()))


def run_mornings(config: Config, *, day: dt.date | None = None,
                 secrets: Secrets | None = None, progress: Progress = NULL_PROGRESS,
                 push: bool = True) -> dict[str, Morning]:
    """Run the day for every reader (one fetch, one store: ``pipeline.run_all``), write
    each reader's status and send each reader's pushes (``push=False``: later, by
    ``send_morning``, once the deployment's own steps are done). Raises what a run
    raises, except the two outcomes that are news rather than errors: no announcements,
    and a source that cannot be read (returned in ``Morning.error`` after each status is
    out)."""
    secrets = secrets or Secrets.from_env()
    readers = {name: config.for_profile(name) for name in config.profile_names}

    def ended(status: RunStatus, error: PapersiftError | None = None) -> dict[str, Morning]:
        redact = Redactor.from_environment(secrets.values())
        status = redact.apply(status)
        found = {}
        for name, reader in readers.items():
            write_status(reader.out_dir, status, site_dir=reader.site_dir
                         if "site" in reader.output.formats else None)
            found[name] = Morning(status, pushes=pushes(reader, status, None), error=error)
        return found

    def pushes(reader: Config, status: RunStatus, record: dict | None) -> list[PushResult]:
        return _push(reader, secrets, status, record) if push else []

    now = dt.datetime.now(dt.UTC)
    try:
        results = run_all(config, day=day, secrets=secrets, progress=progress)
    except NoAnnouncements as exc:
        return ended(no_announcements_status(exc.day or day, now))
    except SourceError as exc:
        return ended(upstream_failure_status(day, str(exc), now), exc)
    except PapersiftError as exc:
        if exc.exit_code == 1:  # not a usage error: a morning that failed, said so
            return ended(run_failure_status(day, str(exc), now), exc)
        raise
    mornings = {}
    for name, result in results.items():
        status = result.digest.status
        assert status is not None  # the pipeline always sets it
        mornings[name] = Morning(status, result, pushes(readers[name], status,
                                                        digest_record(result.digest)))
    return mornings


def send_morning(config: Config, secrets: Secrets, failed: list[str]) -> Morning:
    """Send the pushes of the morning ``OUT/status.json`` records, after adding the
    deployment steps that ``failed`` ("what: why") to it (and to the site's banner)."""
    status = note_failed_steps(config.out_dir, failed, site_dir=config.site_dir
                               if "site" in config.output.formats else None)
    digest = None
    if status.day is not None and status.total:
        try:
            digest = digest_push(config.out_dir, status.day, None).record
        except NoStoredDigest:
            digest = None
    if digest is not None:
        digest = {**digest, "run": {**digest.get("run", {}), "status": status_record(status)}}
    return Morning(status, pushes=_push(config, secrets, status, digest))


def _push(config: Config, secrets: Secrets, status: RunStatus,
          record: dict | None) -> list[PushResult]:
    if not (should_push(status, config) or status.failed_steps):
        return []
    site_url = site_address(config, secrets)
    push = Push(record, site_url) if record is not None else status_push(status, site_url)
    results = send_all(config, secrets, push)
    if results:
        record_pushes(config, results)
    return results


def record_pushes(config: Config, results: list[PushResult]) -> None:
    """Add the pushes' outcome to ``OUT/status.json`` (what the morning delivered)."""
    path = config.out_dir / STATUS_FILE
    try:
        record = load_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    record["pushes"] = [{"channel": r.channel, "ok": r.ok, "detail": r.detail}
                        for r in results]
    write_atomic(path, json.dumps(record, indent=2) + "\n")
