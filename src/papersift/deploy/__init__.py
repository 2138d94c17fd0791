"""Deployment recipes: the GitHub Actions workflow that runs papersift every morning.

``papersift init --github`` writes ``.github/workflows/papersift.yml`` from the template
here. The workflow restores the store from a data branch, runs the day, saves the store
back, publishes the site with the official Pages actions and fails the run (after
everything is saved) when papersift says something went wrong.
"""

from __future__ import annotations

from importlib import resources

from papersift import __version__

WORKFLOW_PATH = ".github/workflows/papersift.yml"
# Ignored in the repository's main branch: the data branch's checkout and local outputs.
GITIGNORE_LINES = ("/papersift-data/", "/out/")


def default_package() -> str:
    """What the workflow installs: this version of papersift (the local scorer included)."""
    return f"papersift=={__version__}"


def github_workflow(package: str | None = None) -> str:
    """The workflow's text; ``package`` is the pip requirement it installs."""
    template = resources.files("papersift.deploy").joinpath("templates/papersift.yml")
    text = template.read_text(encoding="utf-8")
    requirement = package or default_package()
    if '"' in requirement or "\n" in requirement:
        raise ValueError(f"{requirement!r}: not a pip requirement")
    return text.replace("__VERSION__", __version__).replace("__PACKAGE__", requirement)
