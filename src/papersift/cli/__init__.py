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
from papersift.config import CONFIG_FILENAME, Config, Secrets, load_config
from papersift.demo import run_demo
from papersift.deploy import GITIGNORE_LINES, WORKFLOW_PATH, github_workflow
from papersift.feedback import Verdict, read_feedback_file
from papersift.feedback import record as record_verdicts
from papersift.importer import read_reference, write_imported
from papersift.importer.archive import import_archive
from papersift.library import read_library
from papersift.monthly import overview_of, summarise, write_overview
from papersift.morning import run_morning
from papersift.notify import channels, send_all, site_address
from papersift.notify.push import digest_push
from papersift.pipeline import chosen_scorer
from papersift.redact import Redactor
from papersift.render import money
from papersift.scoring.learn import MIN_NEGATIVES, MIN_POSITIVES
from papersift.scoring.pricing import PriceTable
from papersift.serve import make_server
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
    github: Annotated[bool, typer.Option(
        "--github", help="Also write a GitHub Actions workflow that runs papersift every "
                         "morning and publishes the site to GitHub Pages.")] = False,
    package: Annotated[str | None, typer.Option(
        "--package", help="What the workflow pip-installs (default: this version of "
                          "papersift with the local scorer).")] = None,
) -> None:
    """Write a commented papersift.toml and a starter interests.md (never overwrites)."""
    starters = {name: directory / name for name in (CONFIG_FILENAME, "interests.md")}
    existing = [str(p) for p in starters.values() if p.exists()]
    if existing and not github:
        fail(f"{', '.join(existing)} already exist(s); nothing written", 1)
    files = {path: resources.files("papersift.starter").joinpath(name).read_text("utf-8")
             for name, path in starters.items()}
    if github:
        try:
            files[directory / WORKFLOW_PATH] = github_workflow(package)
        except ValueError as exc:
            fail(f"--package {exc}", 2)
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
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Build one day's digest, write it (Markdown, JSON, site) and send the pushes."""
    secrets = Secrets.from_env()
    setup_logging(verbose, quiet, secrets)
    day = _parse_day(date)
    with exit_on_error(verbose):
        cfg = _load(config, out_dir)
        with progress_bars(quiet) as progress:
            morning = run_morning(cfg, day=day, secrets=secrets,
                                  progress=RichProgress(progress))
    if morning.result is None and morning.error is None and not quiet:
        out.print(morning.status.message)  # no announcements: not an error
    if morning.result is not None and not quiet:
        print_summary(morning.result)
    report_pushes(morning.pushes, morning.status.day, quiet)
    if morning.error is not None:
        fail(str(morning.error), morning.error.exit_code)
    if morning.result is not None:
        report_unscored(morning.result)
    if morning.failed_pushes:
        raise typer.Exit(EXIT_PUSH_FAILED)


@app.command()
def notify(
    date: Annotated[str, typer.Option(
        "--date", "-d", help="The day whose stored digest to send, YYYY-MM-DD.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Send a day's stored digest again to every configured channel ([notify])."""
    secrets = Secrets.from_env()
    setup_logging(verbose, quiet, secrets)
    day = _parse_day(date)
    with exit_on_error(verbose):
        cfg = _load(config, out_dir)
        if not channels(cfg, secrets):
            fail(f"{config}: no push is configured ([notify.email], [notify.slack] or "
                 "[notify.webhook]); nothing sent", 2)
        push = digest_push(cfg.out_dir, day, site_address(cfg, secrets))
        results = send_all(cfg, secrets, push)
    report_pushes(results, day, quiet)
    if any(not r.ok for r in results):
        raise typer.Exit(EXIT_PUSH_FAILED)


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
    arxiv_id: Annotated[str | None, typer.Argument(help="The paper, e.g. 2604.01234.")] = None,
    like: Annotated[bool | None, typer.Option(
        "--like/--dislike", help="Whether you wanted to read it.")] = None,
    import_file: Annotated[Path | None, typer.Option(
        "--import", help="A papersift-feedback.json the site exported (its Like / Dislike "
                         "clicks on a static host).")] = None,
    config: ConfigOption = Path(CONFIG_FILENAME),
) -> None:
    """Tell papersift whether a paper was worth reading; the local scorer learns from it."""
    if import_file is not None:
        if arxiv_id is not None or like is not None:
            fail("--import reads every verdict from the file; give no paper or --like", 2)
        with exit_on_error():
            verdicts = read_feedback_file(import_file)
            cfg = load_config(config)
            with Store(cfg.store_path) as store:
                record_verdicts(store, verdicts)
        liked = sum(v.like for v in verdicts)
        out.print(f"imported {len(verdicts)} verdicts from {import_file}: {liked} liked, "
                  f"{len(verdicts) - liked} disliked; the next run learns from them")
        return
    if arxiv_id is None:
        fail("name a paper (papersift feedback 2604.01234 --like) or --import FILE", 2)
    if like is None:
        fail("say --like or --dislike", 2)
    paper_id = normalize_arxiv_id(arxiv_id)
    if paper_id is None:
        fail(f"{arxiv_id!r} is not an arXiv id", 2)
    with exit_on_error():
        cfg = load_config(config)
        with Store(cfg.store_path) as store:
            record_verdicts(store, [Verdict(paper_id, like)])
            known = store.paper(paper_id) is not None
    verdict = "liked" if like else "disliked"
    out.print(f"{paper_id}: {verdict}."
              + ("" if known else " It is not in the store yet; it counts once a run has seen it."))


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="The ChatGPT-ArXiv-Paper-Assistant or "
                                              "gpt_paper_assistant folder.")],
    to: Annotated[Path, typer.Option("--to", help="Where to write papersift.toml and "
                                                  "interests.md.")] = Path("."),
    archive: Annotated[bool, typer.Option("--archive/--no-archive", help="Also import its "
                                          "archived digests (out/json).")] = True,
) -> None:
    """Move from the reference system: its settings, topics, authors and archive."""
    with exit_on_error():
        imported = read_reference(path)
        written = write_imported(imported, to)
        cfg = load_config(to / CONFIG_FILENAME)
        days = None
        if archive:
            with Store(cfg.store_path) as store:
                days = import_archive(path, cfg.out_dir, store,
                                      relevance_cutoff=imported.relevance_cutoff,
                                      novelty_cutoff=imported.novelty_cutoff,
                                      model=imported.model,
                                      formats=list(cfg.output.formats))
    for file in written:
        out.print(f"wrote {file}")
    for line in imported.mapped:
        out.print(f"  {line}")
    if days is not None:
        out.print(f"archive: {len(days.days)} days, {days.papers} scored papers imported into "
                  f"{cfg.out_dir} (the learner's labels)"
                  + (f"; {len(days.kept)} days papersift already had were kept" if days.kept
                     else ""))
    unmapped = imported.unmapped + (days.skipped if days else [])
    if unmapped:
        out.print(f"not imported ({len(unmapped)}):")
        for line in unmapped:
            out.print(f"  {line}")
    out.print(f"Next: read {to / 'interests.md'}, then `papersift run`.")


@app.command()
def serve(
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535,
                                      help="Port on 127.0.0.1 (0: any free one).")] = 8000,
    verbose: VerboseOption = False,
) -> None:
    """Serve the archive site on 127.0.0.1; its Like / Dislike buttons write into the store."""
    setup_logging(verbose, False, Secrets.from_env())
    with exit_on_error(verbose):
        cfg = _load(config, out_dir)
        built = build_site(cfg.out_dir)  # pages of an older papersift get the buttons too
        if not built.days:
            fail(f"{cfg.out_dir / 'json'}: no digests to serve yet (run `papersift run` "
                 "first)", 2)
        try:
            server = make_server(built.site_dir, cfg.store_path, port)
        except OSError as exc:
            fail(f"127.0.0.1:{port}: cannot serve there ({exc.strerror or exc}); "
                 "choose another --port", 1)
        address = f"http://127.0.0.1:{server.server_address[1]}/"
        out.print(f"serving {built.site_dir} at {address} ({built.days} days); Like and "
                  f"Dislike go into {cfg.store_path}. Ctrl-C stops.")
        try:
            server.serve_forever()
        finally:
            server.server_close()


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
