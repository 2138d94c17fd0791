"""The deployment's commands: the data branch (``papersift data restore|save``) and the
morning's recorded status (``papersift status``). The generated GitHub workflow is made
of these, so what it does is tested code, not shell pasted into YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from papersift import CONFIG_FILENAME
from papersift.cli.options import ConfigOption, OutOption, load_or_folder
from papersift.cli.output import exit_on_error, fail, out
from papersift.deploy.branch import DataBranch, DataBranchError, report_to_workflow
from papersift.redact import Redactor

data_app = typer.Typer(help="The data branch that keeps the store and archive of an "
                            "unattended deployment (GitHub Actions).", no_args_is_help=True)

BranchOption = Annotated[str, typer.Option("--branch", help="The data branch.")]
DataOutOption = Annotated[Path, typer.Option("--out", "-o", help="Where it is checked out.")]
RepositoryOption = Annotated[Path, typer.Option(
    "--repository", help="The git checkout whose remote holds the branch.")]


@data_app.command("restore")
def data_restore(branch: BranchOption = "papersift-data",
                 out_dir: DataOutOption = Path("papersift-data"),
                 repository: RepositoryOption = Path(".")) -> None:
    """Check out the data branch's newest store and archive (a first run starts it)."""
    with exit_on_error():
        out.print(DataBranch(repository, branch, out_dir).restore())


@data_app.command("site")
def data_site(branch: BranchOption = "papersift-data",
              out_dir: DataOutOption = Path("papersift-data"),
              repository: RepositoryOption = Path(".")) -> None:
    """Check out the whole site (a restore leaves older days' pages out) for an upload."""
    with exit_on_error():
        out.print(DataBranch(repository, branch, out_dir).add_site())


@data_app.command("save")
def data_save(branch: BranchOption = "papersift-data",
              out_dir: DataOutOption = Path("papersift-data"),
              repository: RepositoryOption = Path(".")) -> None:
    """Commit the store and archive to the data branch and push it."""
    try:
        said = DataBranch(repository, branch, out_dir).save()
    except DataBranchError as exc:
        why = Redactor.from_environment()(str(exc))
        report_to_workflow("error", why)
        fail(why, exc.exit_code)
    out.print(said)


def status(
    config: ConfigOption = Path(CONFIG_FILENAME),
    out_dir: OutOption = None,
    failed: Annotated[list[str] | None, typer.Option(
        "--failed", help="A step after the run that failed, \"what: why\" (repeatable); "
                         "added to status.json and the site's banner.")] = None,
    export: Annotated[Path | None, typer.Option(
        "--export", help="Copy status.json and the day's JSON digest into this folder "
                         "(what `notify --morning` needs in a later job).")] = None,
) -> None:
    """Show (and amend) how the latest morning went: OUT/status.json (every reader's)."""
    from papersift.health import export_morning, note_failed_steps, read_status

    records = []
    with exit_on_error():
        whole = load_or_folder(config, out_dir)
        for name in whole.profile_names:
            reader = whole.for_profile(name)
            if failed:
                note_failed_steps(reader.out_dir, failed, site_dir=reader.site_dir)
            if export is not None:
                place = export / reader.out_dir.relative_to(whole.out_dir)
                for path in export_morning(reader.out_dir, place):
                    out.print(f"wrote {path}")
            records.append((name, reader.out_dir, read_status(reader.out_dir)))
    several = len(records) > 1
    for name, folder, record in records:
        if record is None:
            fail(f"{folder / 'status.json'}: no morning recorded there", 2)
        out.print(f"{name + ': ' if several else ''}{record.get('outcome')}: "
                  f"{record.get('message')}")

