"""The ``papersift`` command: argument parsing and printing over the library."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from papersift import __version__
from papersift.cli.output import (
    RichProgress,
    exit_on_error,
    fail,
    out,
    print_summary,
    progress_bars,
    report_unscored,
    setup_logging,
)
from papersift.config import CONFIG_FILENAME, Config, Secrets, load_config
from papersift.demo import run_demo
from papersift.errors import NoAnnouncements
from papersift.library import read_library
from papersift.monthly import overview_of, summarise, write_overview
from papersift.pipeline import chosen_scorer, run
from papersift.redact import Redactor
from papersift.render import money
from papersift.scoring.learn import MIN_NEGATIVES, MIN_POSITIVES
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

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Configuration file.", show_default=True)
]
OutOption = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Output folder (overrides output.dir).")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show what happens.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")]


def _load(config: Path, out_dir: Path | None) -> Config:
    """The configuration file, with ``--out`` applied."""
    cfg = load_config(config)
    return cfg if out_dir is None else cfg.with_out_dir(out_dir)


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
        fail(f"{', '.join(existing)} already exist(s); nothing written", 1)
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
    setup_logging(verbose, quiet, secrets)
    day = _parse_day(date)
    with exit_on_error(verbose):
        cfg = _load(config, out_dir)
        try:
            with progress_bars(quiet) as progress:
                result = run(cfg, day=day, secrets=secrets, progress=RichProgress(progress))
        except NoAnnouncements as exc:  # not an error: exit 0, nothing written
            if not quiet:
                out.print(str(exc))
            raise typer.Exit(0) from None
    if not quiet:
        print_summary(result)
    report_unscored(result)


site_app = typer.Typer(help="The static archive web site.", no_args_is_help=True)
app.add_typer(site_app, name="site")


@site_app.command("build")
def site_build(
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
) -> None:
    """Rebuild the whole site in OUT/site from the JSON digests."""
    with exit_on_error():
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
    setup_logging(verbose, quiet, secrets)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        fail(f"{month!r}: expected YYYY-MM", 2)
    with exit_on_error(verbose):
        cfg = _load(config, out_dir)
        overview = overview_of(cfg.out_dir, month)
        redact = Redactor.from_environment(secrets.values())
        if chosen_scorer(cfg, secrets) in ("llm", "hybrid"):
            with Store(cfg.store_path, redact=redact) as store:
                overview = summarise(overview, cfg.llm, secrets, PriceTable(cfg.pricing),
                                     store)
        written = write_overview(redact.apply(overview), cfg.out_dir)
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
    setup_logging(verbose, quiet, Secrets(None, None, None))
    with exit_on_error(verbose), progress_bars(quiet) as progress:
        results = run_demo(out_dir, RichProgress(progress))
    if not quiet:
        for result in results:
            print_summary(result)
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
        fail("say --like or --dislike", 2)
    paper_id = normalize_arxiv_id(arxiv_id)
    if paper_id is None:
        fail(f"{arxiv_id!r} is not an arXiv id", 2)
    with exit_on_error():
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
    with exit_on_error():
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
        fail(f"--date {value!r}: expected YYYY-MM-DD", 2)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
