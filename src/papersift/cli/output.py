"""What the ``papersift`` command prints and how it ends: one line per problem (even
with ``-q``), an exit code that says what happened, progress bars on a terminal, the
run's summary table, and log lines that pass the redaction step."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sqlite3
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from papersift.errors import PapersiftError
from papersift.redact import RedactingFilter, Redactor

if TYPE_CHECKING:  # imported by the commands that use them (the CLI starts fast)
    from papersift.config import Secrets
    from papersift.notify.push import PushResult
    from papersift.pipeline import RunResult

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

# Exit codes (also in the README): 0 done (or no announcements that day), 1 the run
# failed and published nothing, 2 configuration or usage error, 3 the digest was
# published but its scorer could score none of the papers it had to, 4 the digest was
# published but a push failed, 130 interrupted.
EXIT_SCORING_FAILED = 3
EXIT_PUSH_FAILED = 4
EXIT_INTERRUPTED = 130


def fail(message: str, code: int, level: str = "error") -> NoReturn:
    """End the command with a one-line error (the message is shown as is, not as markup);
    ``level="stopped"`` prints the line alone (a stop that is no error)."""
    say(level, message)
    raise typer.Exit(code)


def say(level: str, message: str) -> None:
    """One line on stderr, whatever -q says; secrets masked, newlines folded."""
    text = " ".join(Redactor.from_environment()(message).split())
    if level == "stopped":
        err.print(escape(text), highlight=False)
        return
    colour = "red" if level == "error" else "yellow"
    err.print(f"[{colour}]{level}:[/] {escape(text)}", highlight=False)


def _interrupt(signum: int, frame: object) -> None:
    """^C, or SIGTERM from a service manager or a cancelled CI job: stop as for ^C.

    From this moment, requests cut off mid-flight leave coroutines that are never awaited;
    their warnings come while the stack unwinds (before any ``except`` runs) and would bury
    the one line that matters, so they are silenced here, not later."""
    warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited",
                            category=RuntimeWarning)
    logging.getLogger("asyncio").disabled = True
    raise KeyboardInterrupt


@contextmanager
def exit_on_error(verbose: bool = False) -> Iterator[None]:
    """Any failure ends the command with one line and its exit code, never a traceback
    (``-v`` adds the traceback of an unexpected one). Once a stop has been asked for,
    whatever failure ends the command is the stop's: a library may catch the
    KeyboardInterrupt and raise an error of its own (pydantic's "SchemaError: …
    KeyboardInterrupt"), which would otherwise read as a bug."""
    stops: list[int] = []  # the signals that asked this command to stop

    def interrupt(signum: int, frame: object) -> None:
        stops.append(signum)
        _interrupt(signum, frame)

    def unraisable(info: sys.UnraisableHookArgs) -> None:
        # The stop was raised where Python cannot raise (a weakref callback, a __del__)
        # and would be dropped: send it again from outside, once this hook has returned,
        # to land in the code that runs next.
        if stops and isinstance(info.exc_value, KeyboardInterrupt):
            resend = threading.Timer(0.05, os.kill, (os.getpid(), stops[-1]))
            resend.daemon = True
            resend.start()
        else:
            previous_hook(info)

    previous_hook = sys.unraisablehook
    sys.unraisablehook = unraisable
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    except typer.Exit:
        raise
    except (Exception, KeyboardInterrupt, BaseExceptionGroup) as exc:
        _fail_for(KeyboardInterrupt() if stops else _cause(exc), verbose)
    finally:
        sys.unraisablehook = previous_hook


def _cause(exc: BaseException) -> BaseException:
    """What to report of ``exc``: the HTTP stack connects inside anyio task groups, which
    wrap what reaches them (a stop's KeyboardInterrupt too) in exception groups; a stop
    anywhere in one is the stop, otherwise its first failure speaks for it."""
    if not isinstance(exc, BaseExceptionGroup):
        return exc
    if exc.subgroup(KeyboardInterrupt) is not None:
        return KeyboardInterrupt()
    return _cause(exc.exceptions[0])


def _fail_for(exc: BaseException, verbose: bool) -> NoReturn:
    if isinstance(exc, PapersiftError):
        fail(str(exc), exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        # Requests cut off mid-flight leave coroutines that were never awaited; their
        # warnings at exit would bury the one line that matters.
        warnings.simplefilter("ignore", RuntimeWarning)
        logging.getLogger("asyncio").disabled = True
        fail("interrupted; what was already scored is kept in the store", EXIT_INTERRUPTED)
    if isinstance(exc, sqlite3.Error):
        fail(f"store error: {exc}", 1)
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", 1)
    # A bug: still one line, and how to see more.
    if verbose:
        err.print(Redactor.from_environment()("".join(traceback.format_exception(exc))),
                  highlight=False, markup=False)
    fail(f"unexpected {type(exc).__name__}: {exc} (please report it; -v shows where)", 1)


def report_unscored(result: RunResult) -> None:
    """Papers left unscored are said even under -q; none scored at all is exit code 3."""
    not_scored = result.digest.not_scored
    if not not_scored:
        return
    why = not_scored[0].reason
    if result.scoring_failed:
        fail(f"the scorer could score none of the {result.asked} papers it had to "
              f"({why}); the digest lists them under Not scored; run again to retry them",
              EXIT_SCORING_FAILED)
    say("warning", f"{len(not_scored)} papers were not scored ({why}); the digest lists "
                    "them; run again to retry them")


def report_pushes(results: list[PushResult], day: dt.date | None, quiet: bool) -> None:
    """One line per push: sent (unless -q), or failed (always, with how to resend)."""
    for result in results:
        if result.ok:
            if not quiet:
                out.print(f"{result.channel}: sent")
            continue
        resend = f"papersift notify --date {day}" if day else "papersift notify --date DAY"
        say("error", f"{result.detail}; the digest is kept; resend it with `{resend}`")


def progress_bars(quiet: bool) -> Progress:
    """Rich progress bars on stderr, shown on a terminal only (never in cron or CI logs)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,  # no bars in cron or CI logs
        transient=False,
    )


class RichProgress:
    """Adapts Rich's progress bars to papersift's ``Progress`` protocol."""

    def __init__(self, progress: Progress):
        self.progress = progress

    def start(self, description: str, total: int | None = None) -> int:
        return int(self.progress.add_task(description, total=total))

    def advance(self, task: int, n: int = 1, *, total: int | None = None,
                description: str | None = None) -> None:
        changes: dict[str, object] = {"advance": n}
        if total is not None:
            changes["total"] = total
        if description is not None:
            changes["description"] = description
        self.progress.update(task, **changes)  # type: ignore[arg-type]


def print_summary(result: RunResult, reader: str | None = None) -> None:
    """The one-screen summary of a run: papers, what was left out, spend, files written
    (``reader``: whose digest, when the run served several)."""
    from papersift.render import money

    digest = result.digest
    usage = result.run_usage
    whose = f" ({reader})" if reader else ""
    table = Table(title=f"papersift digest for {digest.day}{whose}", show_header=False,
                  title_justify="left")
    matched = sum(1 for s in digest.selected if s.scored.candidate.author_match)
    table.add_row("Papers", f"{digest.total} fetched ({digest.source}), "
                            f"{digest.scanned} scanned, {len(digest.selected)} selected"
                            + (f" ({matched} by followed authors)" if matched else ""))
    left_out = sum(digest.filtered_counts.values())
    if left_out:
        table.add_row("Left out", ", ".join(f"{n} {why}" for why, n in
                                            digest.filtered_counts.items()))
    if digest.not_scored:
        table.add_row("Not scored", f"[yellow]{len(digest.not_scored)}[/] (listed in the "
                                    "digest; rerun to retry)")
    table.add_row("Model", digest.model)
    table.add_row("This run", f"{usage.requests} requests, {usage.prompt_tokens} prompt + "
                              f"{usage.completion_tokens} completion tokens, "
                              f"{money(usage.total_cost)}")
    day_usage = digest.usage
    table.add_row("Whole day", f"{day_usage.total_tokens} tokens, {money(day_usage.total_cost)}")
    for path in result.written:
        table.add_row("Wrote", str(path))
    out.print(table)


def setup_logging(verbose: bool, quiet: bool, secrets: Secrets) -> None:
    """Log lines on stderr at the chosen level, every one through the redaction step."""
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    handler = RichHandler(console=err, show_path=False, show_time=verbose, markup=False)
    handler.addFilter(RedactingFilter(Redactor.from_environment(secrets.values())))
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    # The HTTP libraries log request details at INFO/DEBUG; keep them out of the way.
    for noisy in ("httpx", "httpcore", "openai", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
