"""The ``papersift`` command: argument parsing and printing over the library."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, NoReturn

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

from papersift import __version__
from papersift.config import CONFIG_FILENAME, Secrets, load_config
from papersift.demo import run_demo
from papersift.errors import NoAnnouncements, PapersiftError
from papersift.library import read_library
from papersift.monthly import overview_of, summarise, write_overview
from papersift.pipeline import RunResult, chosen_scorer, run
from papersift.render import money
from papersift.scoring.learn import MIN_NEGATIVES, MIN_POSITIVES
from papersift.scoring.llm import Chat, make_client
from papersift.scoring.pricing import PriceTable
from papersift.site import build_site
from papersift.sources.common import normalize_arxiv_id
from papersift.store import Store

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="A short, personalised daily digest of new arXiv papers.",
    rich_markup_mode=None,
)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Configuration file.", show_default=True)
]
OutOption = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Output folder (overrides output.dir).")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show what happens.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")]


def _fail(message: str, code: int) -> NoReturn:
    """End the command with a one-line error (the message is shown as is, not as markup)."""
    err.print(f"[red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def _exit_on_error() -> Iterator[None]:
    """A papersift error ends the command with its message and its exit code."""
    try:
        yield
    except PapersiftError as exc:
        _fail(str(exc), exc.exit_code)


def _version(value: bool) -> None:
    if value:
        out.print(f"papersift {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool | None, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = None,
) -> None:
    """papersift turns the day's new arXiv papers into a short digest you will read."""


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to write into.")] = Path("."),
) -> None:
    """Write a commented papersift.toml and a starter interests.md (never overwrites)."""
    targets = {name: directory / name for name in (CONFIG_FILENAME, "interests.md")}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing:
        _fail(f"{', '.join(existing)} already exist(s); nothing written", 1)
    directory.mkdir(parents=True, exist_ok=True)
    for name, path in targets.items():
        path.write_text(resources.files("papersift.starter").joinpath(name).read_text("utf-8"),
                        encoding="utf-8")
        out.print(f"wrote {path}")
    out.print("Next: describe what you want to read in interests.md, set OPENAI_API_KEY, "
              "then run `papersift run`.")


@app.command("run")
def run_command(
    config: ConfigOption = Path(CONFIG_FILENAME),
    date: Annotated[str | None, typer.Option(
        "--date", "-d", help="Announcement day YYYY-MM-DD (default: the latest).")] = None,
    out_dir: OutOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Build one day's digest and write it as Markdown and JSON."""
    secrets = Secrets.from_env()
    _setup_logging(verbose, quiet, secrets)
    day = _parse_day(date)
    with _exit_on_error():
        cfg = load_config(config)
        if out_dir is not None:
            cfg = cfg.with_out_dir(out_dir)
        try:
            with _progress(quiet) as progress:
                result = run(cfg, day=day, secrets=secrets, progress=_RichProgress(progress))
        except NoAnnouncements as exc:  # not an error: exit 0, nothing written
            if not quiet:
                out.print(str(exc))
            raise typer.Exit(0) from None
    if not quiet:
        _print_summary(result)


site_app = typer.Typer(help="The static archive web site.", no_args_is_help=True)
app.add_typer(site_app, name="site")


@site_app.command("build")
def site_build(
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
) -> None:
    """Rebuild the whole site in OUT/site from the JSON digests."""
    with _exit_on_error():
        folder = out_dir if out_dir is not None else load_config(config).out_dir
        built = build_site(folder)
    out.print(f"site of {built.days} days in {built.site_dir} "
              f"({len(built.written)} files written); open {built.site_dir / 'index.html'}")


@app.command()
def monthly(
    month: Annotated[str, typer.Argument(help="The month, YYYY-MM.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write the month's overview of selected papers by topic (LLM-written when one is set)."""
    secrets = Secrets.from_env()
    _setup_logging(verbose, quiet, secrets)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        _fail(f"{month!r}: expected YYYY-MM", 2)
    with _exit_on_error():
        cfg = load_config(config)
        if out_dir is not None:
            cfg = cfg.with_out_dir(out_dir)
        overview = overview_of(cfg.out_dir, month)
        if chosen_scorer(cfg, secrets) in ("llm", "hybrid"):
            chat = Chat(cfg.llm, make_client(cfg.llm, secrets), PriceTable(cfg.pricing))
            with Store(cfg.store_path) as store:
                overview = summarise(overview, chat, store)
        written = write_overview(overview, cfg.out_dir)
    if not quiet:
        how = (f"summarised by {overview.model}, {overview.usage.total_tokens} tokens, "
               f"{money(overview.usage.total_cost)}") if overview.model else "no LLM"
        out.print(f"{month}: {overview.paper_count} papers in {len(overview.topics)} topics "
                  f"({how})")
        for path in written:
            out.print(f"wrote {path}")


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option(
        "--out", "-o", help="Output folder.")] = Path("papersift-demo"),
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Build digests of bundled real arXiv days offline, with the local scorer."""
    _setup_logging(verbose, quiet, Secrets(None, None, None))
    with _exit_on_error(), _progress(quiet) as progress:
        results = run_demo(out_dir, _RichProgress(progress))
    if not quiet:
        for result in results:
            _print_summary(result)
        out.print(f"Open {results[-1].written[0]} to read the digest; "
                  f"{out_dir / 'interests.md'} is what it was scored against.")


@app.command()
def feedback(
    arxiv_id: Annotated[str, typer.Argument(help="The paper, e.g. 2604.01234.")],
    like: Annotated[bool | None, typer.Option(
        "--like/--dislike", help="Whether you wanted to read it.")] = None,
    config: ConfigOption = Path(CONFIG_FILENAME),
) -> None:
    """Tell papersift whether a paper was worth reading; the local scorer learns from it."""
    if like is None:
        _fail("say --like or --dislike", 2)
    paper_id = normalize_arxiv_id(arxiv_id)
    if paper_id is None:
        _fail(f"{arxiv_id!r} is not an arXiv id", 2)
    with _exit_on_error():
        cfg = load_config(config)
        with Store(cfg.store_path) as store:
            store.add_label(paper_id, "feedback", like)
            known = store.paper(paper_id) is not None
    verdict = "liked" if like else "disliked"
    out.print(f"{paper_id}: {verdict}."
              + ("" if known else " It is not in the store yet; it counts once a run has seen it."))


@app.command()
def learn(
    library: Annotated[Path | None, typer.Option(
        "--library", help="A BibTeX file or Zotero CSV/RDF export: its papers count as liked."
    )] = None,
    config: ConfigOption = Path(CONFIG_FILENAME),
) -> None:
    """Import a library and show what the local scorer learns from (it retrains every run)."""
    with _exit_on_error():
        cfg = load_config(config)
        with Store(cfg.store_path) as store:
            if library is not None:
                items = read_library(library)
                for item in items:
                    store.add_label(item.key, "library", True, title=item.title,
                                    abstract=item.abstract)
                out.print(f"imported {len(items)} papers from {library} as liked")
            examples = store.labelled_papers(relevance_cutoff=cfg.selection.relevance_cutoff,
                                             novelty_cutoff=cfg.selection.novelty_cutoff)
    wanted = sum(e.wanted for e in examples)
    out.print(f"labels in the store: {wanted} wanted, {len(examples) - wanted} not wanted "
              "(your feedback, your library, and earlier LLM judgments)")
    if wanted < MIN_POSITIVES or len(examples) - wanted < MIN_NEGATIVES:
        out.print(f"the local scorer learns once it has {MIN_POSITIVES} of each; "
                  "until then it ranks by your interests alone")
    else:
        out.print("the next run ranks with a model trained on these labels")


def _parse_day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"--date {value!r}: expected YYYY-MM-DD", 2)


def _progress(quiet: bool) -> Progress:
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


class _RichProgress:
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


def _print_summary(result: RunResult) -> None:
    digest = result.digest
    usage = result.run_usage
    table = Table(title=f"papersift digest for {digest.day}", show_header=False,
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


class _Redact(logging.Filter):
    """Belt and braces: no secret value ever reaches a log line."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, ()
        return True


def _setup_logging(verbose: bool, quiet: bool, secrets: Secrets) -> None:
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    handler = RichHandler(console=err, show_path=False, show_time=verbose, markup=False)
    handler.addFilter(_Redact(secrets.values()))
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    # The HTTP libraries log request details at INFO/DEBUG; keep them out of the way.
    for noisy in ("httpx", "httpcore", "openai", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
