"""The ``papersift`` command: argument parsing and printing over the library."""

from __future__ import annotations

import datetime as dt
import os
import re
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from papersift import CONFIG_FILENAME, __version__
from papersift.cli import deploy, reader
from papersift.cli.options import (
    ConfigOption,
    OutOption,
    ProfileOption,
    QuietOption,
    VerboseOption,
    load,
    load_or_folder,
    load_reader,
)
from papersift.cli.output import (
    EXIT_PUSH_FAILED,
    RichProgress,
    exit_on_error,
    fail,
    out,
    print_summary,
    progress_bars,
    report_pushes,
    report_unscored,
    setup_logging,
)
from papersift.deploy import GITIGNORE_LINES, WORKFLOW_PATH, github_workflow
from papersift.redact import Redactor

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="A short, personalised daily digest of new arXiv papers.",
    rich_markup_mode=None,
)

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
    github: Annotated[bool, typer.Option(
        "--github", help="Also write a GitHub Actions workflow that runs papersift every "
                         "morning and publishes the site to GitHub Pages.")] = False,
    package: Annotated[str | None, typer.Option(
        "--package", help="What the workflow pip-installs (default: where this papersift "
                          "was installed from, as pip recorded it; a local folder cannot "
                          "be, so then this is needed).")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Add a reader to the folder's papersift.toml: "
                                "[profiles.NAME] and a starter interests-NAME.md.")] = None,
) -> None:
    """Write a commented papersift.toml and a starter interests.md (never overwrites)."""
    if profile is not None:
        _add_profile(directory / CONFIG_FILENAME, profile)
        return
    starters = {name: directory / name for name in (CONFIG_FILENAME, "interests.md")}
    existing = [str(p) for p in starters.values() if p.exists()]
    if existing and not github:
        fail(f"{', '.join(existing)} already exist(s); nothing written", 1)
    files = {path: resources.files("papersift.starter").joinpath(name).read_text("utf-8")
             for name, path in starters.items()}
    if github:
        with exit_on_error():
            files[directory / WORKFLOW_PATH] = github_workflow(package)
    with exit_on_error():
        for path, text in files.items():
            if path.exists():
                out.print(f"kept {path} (exists)")
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            out.print(f"wrote {path}")
        if github:
            _ignore_outputs(directory / ".gitignore")
    out.print("Next: describe what you want to read in interests.md, set OPENAI_API_KEY, "
              "then run `papersift run`.")
    if github:
        out.print("For GitHub: commit these files and push; in the repository's Settings set "
                  "Pages > Source to \"GitHub Actions\" and add the secrets the workflow "
                  "names (OPENAI_API_KEY, ...); then run the workflow once from the Actions "
                  "tab. It runs every weekday morning after that.")


def _add_profile(config: Path, name: str) -> None:
    from papersift.profiles import add_profile

    with exit_on_error():
        added = add_profile(config, name)
    for path in added.written:
        out.print(f"wrote {path}")
    for source, target in added.moved:
        out.print(f"moved {source} to {target} (the reader of the file is now profile "
                  "'default')")
    out.print(f"Next: describe what {name} wants to read in "
              f"{config.parent / f'interests-{name}.md'}; the next `papersift run` writes "
              "every reader's digest.")


def _ignore_outputs(gitignore: Path) -> None:
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    missing = [line for line in GITIGNORE_LINES if line not in lines]
    if missing:
        gitignore.write_text("\n".join([*lines, *missing]) + "\n", encoding="utf-8")
        out.print(f"wrote {gitignore}")


@app.command("run")
def run_command(
    config: ConfigOption = Path(CONFIG_FILENAME),
    date: Annotated[str | None, typer.Option(
        "--date", "-d", help="Announcement day YYYY-MM-DD (default: the latest).")] = None,
    out_dir: OutOption = None,
    push: Annotated[bool, typer.Option(
        "--push/--no-push", help="Send the pushes now (--no-push: later, with "
                                 "`papersift notify --morning`).")] = True,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Run for this reader only (default: every [profiles] "
                                "reader, or the configuration's one).")] = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Build one day's digest, write it (Markdown, JSON, site) and send the pushes."""
    from papersift.config import Secrets
    from papersift.morning import run_mornings

    secrets = Secrets.from_env()
    setup_logging(verbose, quiet, secrets)
    day = _parse_day(date)
    with exit_on_error(verbose):
        cfg = load(config, out_dir)
        if profile is not None:
            cfg = cfg.for_profile(profile)
        with progress_bars(quiet) as progress:
            mornings = run_mornings(cfg, day=day, secrets=secrets,
                                    progress=RichProgress(progress), push=push)
    several = len(mornings) > 1
    for name, morning in mornings.items():
        if morning.result is None and morning.error is None and not quiet:
            out.print(morning.status.message)  # no announcements: not an error
            break  # the same day for every reader
        if morning.result is not None and not quiet:
            print_summary(morning.result, name if several else None)
    for morning in mornings.values():
        report_pushes(morning.pushes, morning.status.day, quiet)
    first = next(iter(mornings.values()))
    if first.error is not None:  # the day's source: the same for every reader
        fail(str(first.error), first.error.exit_code)
    for morning in mornings.values():
        if morning.result is not None:
            report_unscored(morning.result)
    if any(m.failed_pushes for m in mornings.values()):
        raise typer.Exit(EXIT_PUSH_FAILED)


@app.command()
def notify(
    date: Annotated[str | None, typer.Option(
        "--date", "-d", help="The day whose stored digest to send, YYYY-MM-DD.")] = None,
    morning: Annotated[bool, typer.Option(
        "--morning", help="Send the pushes of the morning OUT/status.json records (after "
                          "`run --no-push`), whatever its outcome.")] = False,
    failed: Annotated[list[str] | None, typer.Option(
        "--failed", help="With --morning: a step after the run that failed, \"what: why\" "
                         "(repeatable); the pushes and status.json say it.")] = None,
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
    profile: ProfileOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Send a day's stored digest (again) to every configured channel ([notify])."""
    from papersift.config import Secrets, site_address
    from papersift.morning import send_morning
    from papersift.notify import channels, send_all
    from papersift.notify.push import digest_push

    secrets = Secrets.from_env()
    setup_logging(verbose, quiet, secrets)
    if morning == (date is not None):
        fail("say which: --date DAY (a stored digest) or --morning (the latest morning)", 2)
    if failed and not morning:
        fail("--failed goes with --morning", 2)
    day = _parse_day(date)
    with exit_on_error(verbose):
        if morning:  # every reader's, unless one is named
            whole = load(config, out_dir)
            names = [profile] if profile else whole.profile_names
            results, day = [], None
            for name in names:
                sent = send_morning(whole.for_profile(name), secrets, failed or [])
                results += sent.pushes
                day = day or sent.status.day
        else:
            cfg = load_reader(config, out_dir, profile)
            assert day is not None
            if not channels(cfg, secrets):
                fail(f"{config}: no push is configured ([notify.email], [notify.slack] or "
                     "[notify.webhook]); nothing sent", 2)
            push = digest_push(cfg.out_dir, day, site_address(cfg, secrets))
            results = send_all(cfg, secrets, push)
    report_pushes(results, day, quiet)
    if any(not r.ok for r in results):
        raise typer.Exit(EXIT_PUSH_FAILED)


app.command()(reader.feedback)
app.command("import")(reader.import_command)
app.command()(reader.serve)
app.command()(deploy.status)
app.add_typer(deploy.data_app, name="data")

site_app = typer.Typer(help="The static archive web site.", no_args_is_help=True)
app.add_typer(site_app, name="site")


@site_app.command("build")
def site_build(
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
) -> None:
    """Rebuild the whole site in OUT/site from the JSON digests (every reader's)."""
    from papersift.config import Secrets
    from papersift.site import build_readers_index

    with exit_on_error():
        cfg = load_or_folder(config, out_dir)
        days = reader.build_sites(cfg, Secrets.from_env())
        if cfg.profiles:
            build_readers_index(cfg.site_dir, cfg.profile_names)
    out.print(f"site of {days} days in {cfg.site_dir}; open {cfg.site_dir / 'index.html'}")


@app.command()
def monthly(
    month: Annotated[str, typer.Argument(help="The month, YYYY-MM.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
    profile: ProfileOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write the month's overview of selected papers by topic (LLM-written when one is set)."""
    from papersift.config import Secrets
    from papersift.monthly import overview_of, summarise, write_overview
    from papersift.pipeline import chosen_scorer
    from papersift.render import money
    from papersift.scoring.pricing import PriceTable
    from papersift.store import Store

    secrets = Secrets.from_env()
    setup_logging(verbose, quiet, secrets)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        fail(f"{month!r}: expected YYYY-MM", 2)
    with exit_on_error(verbose):
        cfg = load_reader(config, out_dir, profile)
        overview = overview_of(cfg.out_dir, month)
        redact = Redactor.from_environment(secrets.values())
        if chosen_scorer(cfg, secrets) in ("llm", "hybrid"):
            with Store(cfg.store_path, redact=redact, profile=cfg.profile) as store:
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
    from papersift.config import Secrets
    from papersift.demo import run_demo

    setup_logging(verbose, quiet, Secrets(None, None, None))
    with exit_on_error(verbose), progress_bars(quiet) as progress:
        results = run_demo(out_dir, RichProgress(progress))
    if not quiet:
        for result in results:
            print_summary(result)
        out.print(f"Open {results[-1].written[0]} to read the digest; "
                  f"{out_dir / 'interests.md'} is what it was scored against.")


@app.command()
def learn(
    library: Annotated[Path | None, typer.Option(
        "--library", help="A BibTeX file or Zotero CSV/RDF export: its papers count as liked."
    )] = None,
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
    profile: ProfileOption = None,
) -> None:
    """Import a library and show what the local scorer learns from (it retrains every run)."""
    from papersift.library import read_library
    from papersift.scoring.learn import MIN_NEGATIVES, MIN_POSITIVES
    from papersift.store import Store

    with exit_on_error():
        cfg = load_reader(config, out_dir, profile)
        with Store(cfg.store_path, profile=cfg.profile) as store:
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
    # numpy's BLAS on one thread unless the environment says otherwise (set before numpy
    # loads): its products here are small (a solver step's 384-wide product, a day's
    # similarities), and OpenBLAS's idle threads spin between them. On two cores a year
    # benchmark morning took 7.0 s and 8.7 s of CPU with them, 6.0 s and 6.1 s without.
    if "OMP_NUM_THREADS" not in os.environ:
        for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
    app()


if __name__ == "__main__":
    main()
