"""Run health: every morning ends in one of four outcomes, said in one line.

``digest`` (written), ``partial`` (written, some papers not scored), ``no_announcements``
(weekend or holiday: nothing to read, which is not a failure) and ``upstream_failure``
(arXiv or the LLM unreachable: what failed and what was kept). The latest status is
written to ``OUT/status.json`` and, for the site, ``OUT/site/assets/status.js`` (one
small script every page loads, so a new morning rewrites one file, not every page).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from papersift.atomic import Staging
from papersift.errors import PapersiftError
from papersift.models import NotScored, RunStatus
from papersift.text import load_json, script_assignment

STATUS_FILE = "status.json"
SITE_STATUS_SCRIPT = "assets/status.js"  # in the site


def digest_status(day: dt.date, model: str, *, selected: int, total: int,
                  not_scored: list[NotScored], scoring_failed: bool,
                  finished_at: dt.datetime) -> RunStatus:
    """The status of a run that wrote a digest."""
    common = {"day": day, "finished_at": finished_at, "model": model, "selected": selected,
              "total": total, "not_scored": len(not_scored)}
    if scoring_failed:
        why = not_scored[0].reason if not_scored else "no answer"
        return RunStatus("upstream_failure", message=(
            f"The scorer ({model}) could score none of the papers of {day} ({why}). "
            f"All {total} papers are kept in the store and listed as not scored; "
            "the next run retries them."), **common)
    if not_scored:
        return RunStatus("partial", message=(
            f"Partial digest for {day}: {selected} papers selected; {len(not_scored)} of "
            f"{total} could not be scored ({not_scored[0].reason}) and are listed; "
            "the next run retries them."), **common)
    return RunStatus("digest", message=(
        f"Digest for {day}: {selected} of {total} papers selected by {model}."), **common)


def no_announcements_status(day: dt.date | None, finished_at: dt.datetime) -> RunStatus:
    """A day arXiv announced nothing: said plainly, never mistaken for a failure."""
    when = f"{day} ({day:%A})" if day else "the latest day"
    return RunStatus("no_announcements", day, finished_at,
                     f"No arXiv announcements for {when}: a weekend, a holiday or an empty "
                     "feed. Nothing to read today.")


def upstream_failure_status(day: dt.date | None, error: str,
                            finished_at: dt.datetime) -> RunStatus:
    """arXiv (or another source) could not be read: nothing new was published."""
    return RunStatus("upstream_failure", day, finished_at,
                     f"arXiv could not be read: {error}. Nothing new was published; the "
                     "archive and the store are as they were; the next run tries again.")


def run_failure_status(day: dt.date | None, error: str,
                       finished_at: dt.datetime) -> RunStatus:
    """The run stopped after fetching (the LLM rejected the key, the store could not be
    written): nothing new was published."""
    return RunStatus("upstream_failure", day, finished_at,
                     f"The run failed: {error}. Nothing new was published; what was already "
                     "scored is kept in the store; the next run tries again.")


def status_record(status: RunStatus) -> dict[str, Any]:
    """The status as JSON fields (``status.json``, the digest's ``run.status``, pushes)."""
    record = {
        "outcome": status.outcome,
        "day": status.day.isoformat() if status.day else None,
        "finished_at": status.finished_at.isoformat(timespec="seconds"),
        "message": status.message,
        "model": status.model,
        "selected": status.selected,
        "total": status.total,
        "not_scored": status.not_scored,
    }
    if status.failed_steps:
        record["failed_steps"] = list(status.failed_steps)
    return record


def status_from_record(record: dict[str, Any]) -> RunStatus:
    """The status a ``status.json`` holds (``ValueError`` when it is not one)."""
    try:
        day = record.get("day")
        return RunStatus(
            outcome=record["outcome"], day=dt.date.fromisoformat(day) if day else None,
            finished_at=dt.datetime.fromisoformat(record["finished_at"]),
            message=str(record["message"]), model=str(record.get("model") or ""),
            selected=int(record.get("selected") or 0), total=int(record.get("total") or 0),
            not_scored=int(record.get("not_scored") or 0),
            failed_steps=tuple(str(s) for s in record.get("failed_steps") or ()))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a papersift status ({exc})") from None


def with_failed_step(status: RunStatus, why: str) -> RunStatus:
    """``status`` with one more failed step, said at the end of its message."""
    why = " ".join(why.split())
    if why in status.failed_steps:
        return status
    return replace(status, failed_steps=(*status.failed_steps, why),
                   message=f"{status.message} Failed after the run: {why}.")


def stage_status(staging: Staging, out_dir: Path, status: RunStatus, *,
                 site_dir: Path | None) -> None:
    """Stage ``OUT/status.json`` (and the status script of the site in ``site_dir``)
    with the caller's files."""
    record = status_record(status)
    staging.write(out_dir / STATUS_FILE, json.dumps(record, indent=2) + "\n")
    if site_dir is not None:
        staging.write(site_dir / SITE_STATUS_SCRIPT, script_assignment(
            "PAPERSIFT_STATUS", json.dumps(record, ensure_ascii=False)))


def write_status(out_dir: Path, status: RunStatus, *, site_dir: Path | None) -> None:
    """Write the latest status now (a morning without a digest still says how it went).
    The site's script is only written where a site already exists."""
    with Staging() as staging:
        stage_status(staging, out_dir, status,
                     site_dir=site_dir if site_dir is not None and site_dir.is_dir() else None)
        staging.commit()


def read_status(out_dir: Path) -> dict[str, Any] | None:
    """The latest run's status record, or None when no run wrote one."""
    try:
        record = load_json((out_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


class NoMorning(PapersiftError):
    """``notify --morning`` where no morning's status is recorded."""

    exit_code = 2


def note_failed_steps(out_dir: Path, failed: list[str], *,
                      site_dir: Path | None) -> RunStatus:
    """Add failed deployment steps to the recorded status (``OUT/status.json`` and the
    site's banner); ``NoMorning`` when none is recorded."""
    record = read_status(out_dir)
    if record is None:
        raise NoMorning(f"{out_dir / STATUS_FILE}: no morning recorded there (run "
                        "`papersift run` first)")
    try:
        status = status_from_record(record)
    except ValueError as exc:
        raise NoMorning(f"{out_dir / STATUS_FILE}: {exc}") from None
    for why in failed:
        status = with_failed_step(status, why)
    if failed:
        write_status(out_dir, status, site_dir=site_dir)
    return status


def export_morning(out_dir: Path, target: Path) -> list[Path]:
    """Copy what the morning's pushes need (``status.json`` and the day's JSON digest) to
    ``target``, in the same layout, for a later job that sends them."""
    record = read_status(out_dir)
    if record is None:
        raise NoMorning(f"{out_dir / STATUS_FILE}: no morning recorded there")
    sources = [out_dir / STATUS_FILE]
    day = record.get("day")
    if isinstance(day, str):
        with contextlib.suppress(ValueError):
            on = dt.date.fromisoformat(day)  # the layout of render.output_path
            digest = out_dir / "json" / f"{on:%Y-%m}" / f"{on.isoformat()}.json"
            if digest.is_file():
                sources.append(digest)
    written = []
    for source in sources:
        destination = target / source.relative_to(out_dir)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        written.append(destination)
    return written
