"""Deployment recipes: the GitHub Actions workflow that runs papersift every morning.

``papersift init --github`` writes ``.github/workflows/papersift.yml`` from the template
here. The workflow restores the store from a data branch, runs the day, saves the store
back, publishes the site with the official Pages actions, sends the pushes last (so they
can say what failed) and fails the run when any step went wrong.

What the workflow installs must exist wherever GitHub runs it: the requirement comes from
what pip recorded when this papersift was installed (PEP 610's ``direct_url.json``), or
from ``--package``; a local folder or file cannot be installed on a runner, so for those
``init --github`` refuses and says what to pass instead.
"""

from __future__ import annotations

import json
from importlib import metadata, resources
from urllib.parse import urlsplit

from papersift import __version__
from papersift.errors import ConfigError

WORKFLOW_PATH = ".github/workflows/papersift.yml"
# Ignored in the repository's main branch: the data branch's checkout and local outputs.
GITIGNORE_LINES = ("/papersift-data/", "/out/")
PACKAGE_HINT = ("pass --package with a requirement a GitHub runner can install, e.g. "
                "--package 'papersift @ git+https://github.com/OWNER/papersift@COMMIT' "
                "(a fork of yours) or the URL of a papersift wheel")


class UnvouchedPackage(ConfigError):
    """papersift was installed from somewhere a GitHub runner cannot install from."""


def recorded_requirement(distribution: metadata.Distribution) -> str:
    """The pip requirement that installs this same papersift elsewhere, from what the
    installer recorded; ``UnvouchedPackage`` when no runner could install it."""
    name = distribution.metadata["Name"] or "papersift"
    recorded = distribution.read_text("direct_url.json")
    if recorded is None:  # installed from a package index: the same release from one
        return f"{name}=={distribution.version}"
    try:
        direct = json.loads(recorded)
        url = str(direct["url"])
    except (ValueError, KeyError, TypeError):
        raise UnvouchedPackage(f"{name} {distribution.version}: its install record "
                               f"(direct_url.json) cannot be read; {PACKAGE_HINT}") from None
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https") and not (scheme.startswith("git") or scheme == "ssh"):
        where = "a local folder" if "dir_info" in direct else "a local file"
        raise UnvouchedPackage(f"{name} was installed from {where} ({url}), which a GitHub "
                               f"runner cannot install; {PACKAGE_HINT}")
    if "vcs_info" in direct:
        vcs = direct["vcs_info"]
        commit = vcs.get("commit_id") or vcs.get("requested_revision")
        requirement = f"{name} @ {vcs.get('vcs', 'git')}+{url}" + (f"@{commit}" if commit
                                                                   else "")
    else:
        requirement = f"{name} @ {url}"
        archive = direct.get("archive_info") or {}
        hashes = archive.get("hashes") or {}
        digest = archive.get("hash") or next((f"{k}={v}" for k, v in hashes.items()), None)
        if digest and "#" not in url:
            requirement += f"#{digest}"
    subdirectory = direct.get("subdirectory")
    if subdirectory:
        requirement += ("&" if "#" in requirement else "#") + f"subdirectory={subdirectory}"
    return requirement


def default_package() -> str:
    """What the workflow installs: this papersift, as pip recorded where it came from."""
    try:
        distribution = metadata.distribution("papersift")
    except metadata.PackageNotFoundError:
        raise UnvouchedPackage(f"papersift {__version__} is not installed as a package "
                               f"(run from a source tree); {PACKAGE_HINT}") from None
    return recorded_requirement(distribution)


def check_package(requirement: str) -> str:
    """A requirement fit to stand in the workflow (a YAML string GitHub does not expand)."""
    if not requirement.strip() or any(c in requirement for c in "\"'\n\r`") or \
            "${{" in requirement:
        raise UnvouchedPackage(f"--package {requirement!r}: not a pip requirement")
    return requirement.strip()


def github_workflow(package: str | None = None) -> str:
    """The workflow's text; ``package`` is the pip requirement it installs (default:
    ``default_package()``)."""
    template = resources.files("papersift.deploy").joinpath("templates/papersift.yml")
    text = template.read_text(encoding="utf-8")
    requirement = check_package(package if package is not None else default_package())
    return (text.replace("__VERSION__", __version__)
            .replace("__PACKAGE__", json.dumps(requirement)))
