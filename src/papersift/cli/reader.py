"""The reader's commands: feedback (one paper or an exported file), the site served with
its Like / Dislike buttons, and the move from the reference system. Registered on the
app by ``papersift.cli``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from papersift import CONFIG_FILENAME
from papersift.cli.options import (
    ConfigOption,
    OutOption,
    ProfileOption,
    VerboseOption,
    load,
    load_reader,
)
from papersift.cli.output import (
    EXIT_INTERRUPTED,
    exit_on_error,
    fail,
    out,
    say,
    setup_logging,
)

if TYPE_CHECKING:  # the commands import what they use: the CLI starts fast
    from papersift.config import Config, Secrets


def feedback(
    arxiv_ids: Annotated[list[str] | None, typer.Argument(
        help="The papers, e.g. 2604.01234 2604.05678.")] = None,
    like: Annotated[bool | None, typer.Option(
        "--like/--dislike", help="Whether you wanted to read them.")] = None,
    import_file: Annotated[Path | None, typer.Option(
        "--import", help="A papersift-feedback.json the site exported (its Like / Dislike "
                         "clicks on a static host).")] = None,
    from_github: Annotated[bool, typer.Option(
        "--from-github", help="Import the feedback issues the site opened on GitHub "
                              "(GITHUB_REPOSITORY, GH_TOKEN) and close them.")] = False,
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
    profile: ProfileOption = None,
) -> None:
    """Tell papersift whether papers were worth reading; the local scorer learns from it."""
    from papersift.feedback import Verdict, read_feedback_file, unknown_readers
    from papersift.feedback import record as record_verdicts
    from papersift.sources.common import normalize_arxiv_id
    from papersift.store import Store

    sources = sum([bool(arxiv_ids), import_file is not None, from_github])
    if sources > 1:
        fail("give papers, --import FILE or --from-github, one of them", 2)
    if import_file is not None or from_github:
        if like is not None:
            fail("--import and --from-github read every verdict; give no --like", 2)
        with exit_on_error():
            whole = load(config, out_dir)
            names = whole.profile_names
            default = profile or (names[0] if len(names) == 1 else None)
            cfg = whole.for_profile(default or names[0])
            if from_github:
                _from_github(cfg, names, default)
                return
            verdicts = read_feedback_file(import_file)  # type: ignore[arg-type]
            problem = unknown_readers(verdicts, names, default)
            if problem:
                fail(f"{import_file}: {problem}", 2)
            with Store(cfg.store_path, profile=cfg.profile) as store:
                record_verdicts(store, verdicts)
        liked = sum(v.like for v in verdicts)
        out.print(f"imported {len(verdicts)} verdicts from {import_file}: {liked} liked, "
                  f"{len(verdicts) - liked} disliked; the next run learns from them")
        return
    if not arxiv_ids:
        fail("name a paper (papersift feedback 2604.01234 --like) or --import FILE", 2)
    if like is None:
        fail("say --like or --dislike", 2)
    paper_ids = []
    for arxiv_id in arxiv_ids:
        paper_id = normalize_arxiv_id(arxiv_id)
        if paper_id is None:
            fail(f"{arxiv_id!r} is not an arXiv id; nothing recorded", 2)
        paper_ids.append(paper_id)
    with exit_on_error():
        cfg = load_reader(config, out_dir, profile)
        with Store(cfg.store_path, profile=cfg.profile) as store:
            record_verdicts(store, [Verdict(paper_id, like) for paper_id in paper_ids])
            unknown = [p for p in paper_ids if store.paper(p) is None]
    verdict = "liked" if like else "disliked"
    out.print(f"{', '.join(paper_ids)}: {verdict} (in {cfg.store_path}).")
    if unknown:
        out.print(f"{', '.join(unknown)}: not in the store yet; counted once a run has "
                  "seen {}.".format("it" if len(unknown) == 1 else "them"))


def _from_github(cfg: Config, profiles: list[str], default: str | None) -> None:
    """The site's feedback issues into the store; each imported issue is closed."""
    from papersift.deploy.issues import GitHubIssues
    from papersift.feedback import record as record_verdicts
    from papersift.feedback import unknown_readers
    from papersift.store import Store

    repository = os.environ.get("GITHUB_REPOSITORY", "")
    token = os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")
    if not repository or not token:
        fail("--from-github needs GITHUB_REPOSITORY and GH_TOKEN (as GitHub Actions sets "
             "them); nothing imported", 2)
    api = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    with GitHubIssues(api, repository, token) as issues:
        found = issues.collect()
        problem = unknown_readers(found.verdicts, profiles, default)
        if problem:
            fail(f"GitHub feedback issues: {problem}", 2)
        if found.verdicts:
            with Store(cfg.store_path, profile=cfg.profile) as store:
                record_verdicts(store, found.verdicts)
        for number in found.imported:
            issues.close(number, "papersift took these verdicts into its store; the next "
                                 "morning's ranking learns from them.")
    for why in found.skipped:
        say("warning", f"feedback issue {why}")
    liked = sum(v.like for v in found.verdicts)
    out.print(f"GitHub: {len(found.imported)} feedback issues imported ({liked} liked, "
              f"{len(found.verdicts) - liked} disliked) into {cfg.store_path}")


def import_command(
    path: Annotated[Path, typer.Argument(help="The ChatGPT-ArXiv-Paper-Assistant or "
                                              "gpt_paper_assistant folder.")],
    to: Annotated[Path, typer.Option("--to", help="Where to write papersift.toml and "
                                                  "interests.md.")] = Path("."),
    archive: Annotated[bool, typer.Option("--archive/--no-archive", help="Also import its "
                                          "archived digests (out/json).")] = True,
) -> None:
    """Move from the reference system: its settings, topics, authors and archive."""
    from papersift.config import load_config
    from papersift.importer import read_reference, write_imported
    from papersift.importer.archive import import_archive
    from papersift.store import Store

    with exit_on_error():
        imported = read_reference(path)
        written = write_imported(imported, to)
        cfg = load_config(to / CONFIG_FILENAME)
        days = None
        fresh = not os.path.lexists(cfg.out_dir)
        try:
            if archive:
                with Store(cfg.store_path) as store:
                    days = import_archive(path, cfg.out_dir, store,
                                          relevance_cutoff=imported.relevance_cutoff,
                                          novelty_cutoff=imported.novelty_cutoff,
                                          model=imported.model,
                                          formats=list(cfg.output.formats),
                                          spotlight_count=cfg.selection.spotlight)
        except BaseException:  # all or nothing: a retry must find the folder as it was
            for file in written:
                file.unlink(missing_ok=True)
                if file.parent != to and not any(file.parent.iterdir()):
                    file.parent.rmdir()  # prompts/, made for the rubric
            if fresh:
                shutil.rmtree(cfg.out_dir, ignore_errors=True)
            raise
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


def serve(
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535,
                                      help="Port on 127.0.0.1 (0: any free one).")] = 8000,
    verbose: VerboseOption = False,
) -> None:
    """Serve the archive site on 127.0.0.1; its Like / Dislike buttons write into the store."""
    from papersift.config import Secrets
    from papersift.serve import make_server
    from papersift.site import build_readers_index

    secrets = Secrets.from_env()
    setup_logging(verbose, False, secrets)
    with exit_on_error(verbose):
        cfg = load(config, out_dir)
        days = build_sites(cfg, secrets)  # an older papersift's pages get the buttons too
        if not days:
            fail(f"{cfg.out_dir / 'json'}: no digests to serve yet (run `papersift run` "
                 "first)", 2)
        if cfg.profiles:
            build_readers_index(cfg.site_dir, cfg.profile_names)
        try:
            server = make_server(cfg.site_dir, cfg.store_path, port, tuple(cfg.profiles))
        except OSError as exc:
            fail(f"127.0.0.1:{port}: cannot serve there ({exc.strerror or exc}); "
                 "choose another --port", 1)
        address = f"http://127.0.0.1:{server.server_address[1]}/"
        out.print(f"serving {cfg.site_dir} at {address} ({days} days); Like and "
                  f"Dislike go into {cfg.store_path}. Ctrl-C stops.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            fail(f"stopped serving {address}; every click it answered is in "
                 f"{cfg.store_path}", EXIT_INTERRUPTED, level="stopped")
        finally:
            server.server_close()


def build_sites(cfg: Config, secrets: Secrets) -> int:
    """Rebuild every reader's site from their JSON digests; the days they hold."""
    from papersift.publish import site_options
    from papersift.site import build_site

    days = 0
    for name in cfg.profile_names:
        reader = cfg.for_profile(name)
        days += build_site(reader.out_dir, options=site_options(reader, secrets)).days
    return days
