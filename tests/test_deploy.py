"""`papersift init --github`: the workflow it writes is valid for GitHub (its published
schema, offline; actionlint where installed) and has what unattended runs need."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from test_cli import papersift
from workflow_runner import WORKFLOW, load_workflow

PACKAGE = "papersift @ git+https://github.com/ada/papersift@0123456789abcdef"


@pytest.fixture
def initialised(tmp_path) -> Path:
    result = papersift("init", "--github", "--package", PACKAGE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("papersift.toml", "interests.md", str(WORKFLOW), ".gitignore"):
        assert f"wrote {name}" in result.stdout.replace("\n", " ")
    return tmp_path


def test_workflow_is_valid_against_githubs_schema(initialised):
    check = subprocess.run([Path(sys.executable).parent / "check-jsonschema",
                            "--builtin-schema", "vendor.github-workflows",
                            str(initialised / WORKFLOW)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_broken_workflow_fails_the_schema_check(initialised):
    """The check above can fail: a misspelt key is caught."""
    path = initialised / WORKFLOW
    path.write_text(path.read_text().replace("runs-on:", "run-on:", 1))
    check = subprocess.run([Path(sys.executable).parent / "check-jsonschema",
                            "--builtin-schema", "vendor.github-workflows", str(path)],
                           capture_output=True, text=True)
    assert check.returncode == 1


@pytest.mark.skipif(not shutil.which("actionlint"), reason="actionlint is not installed")
def test_actionlint_finds_nothing(initialised):
    lint = subprocess.run(["actionlint", str(initialised / WORKFLOW)], capture_output=True,
                          text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_workflow_has_what_unattended_runs_need(initialised):
    workflow = load_workflow(initialised)
    triggers = workflow["on"]
    [schedule] = triggers["schedule"]
    _, hour, _, _, weekdays = schedule["cron"].split()
    assert weekdays == "1-5" and int(hour) >= 2  # after arXiv's 00:00/01:00 UTC announcement
    assert triggers["workflow_dispatch"]["inputs"]["date"]["required"] is False
    assert workflow["concurrency"] == {"group": "papersift", "cancel-in-progress": False}
    # Least privilege, per job: only the deploy job may publish Pages.
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["digest"]["permissions"] == {"contents": "write", "issues": "write",
                                             "actions": "write"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["report"]["permissions"] == {"contents": "read"}
    assert "PIP_EXTRA_INDEX_URL" not in json.dumps(workflow)
    text = (initialised / WORKFLOW).read_text()
    for line in text.splitlines():  # third-party code pinned by commit, its tag beside it
        if "uses:" in line:
            assert re.search(r"uses: [\w./-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+$", line), line
    digest = workflow["jobs"]["digest"]["steps"]
    uses = [s["uses"].split("@")[0] for s in digest if "uses" in s]
    assert "actions/configure-pages" in uses and "actions/upload-pages-artifact" in uses
    deploy = workflow["jobs"]["deploy"]
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert deploy["environment"]["name"] == "github-pages"
    # Each secret only where it is used: the LLM's key in the run, the pushes' in the
    # report job that sends them last.
    run_env = next(s for s in digest if s.get("id") == "run")["env"]
    assert run_env["OPENAI_API_KEY"] == "${{ secrets.OPENAI_API_KEY }}"
    push_env = next(s for s in jobs["report"]["steps"] if s.get("id") == "pushes")["env"]
    for secret in ("PAPERSIFT_SMTP_PASSWORD", "PAPERSIFT_SLACK_WEBHOOK_URL"):
        assert push_env[secret] == f"${{{{ secrets.{secret} }}}}"
        assert secret not in json.dumps(jobs["digest"])
    keepalive = next(s for s in digest if s.get("name") == "Keep the schedule alive")
    assert "actions/workflows/papersift.yml/enable" in keepalive["run"]
    # No expression is pasted into a script (a dispatch input could inject shell code).
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")


def installed_as(tmp_path: Path, direct_url: dict | None) -> metadata.Distribution:
    """A papersift installation record as pip writes it (PEP 610's direct_url.json)."""
    info = tmp_path / "papersift-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: papersift\nVersion: 0.1.0\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return metadata.Distribution.at(info)


@pytest.mark.parametrize("direct_url, requirement", [
    (None, "papersift==0.1.0"),  # from a package index: that release
    ({"url": "https://github.com/ada/papersift", "vcs_info": {
        "vcs": "git", "commit_id": "0123456789abcdef0123456789abcdef01234567",
        "requested_revision": "main"}},
     "papersift @ git+https://github.com/ada/papersift@0123456789abcdef0123456789abcdef01234567"),
    ({"url": "https://example.org/papersift-0.1.0-py3-none-any.whl",
      "archive_info": {"hashes": {"sha256": "ab" * 32}}},
     "papersift @ https://example.org/papersift-0.1.0-py3-none-any.whl#sha256=" + "ab" * 32),
])
def test_the_workflow_installs_what_pip_recorded(tmp_path, direct_url, requirement):
    from papersift.deploy import github_workflow, recorded_requirement

    assert recorded_requirement(installed_as(tmp_path, direct_url)) == requirement
    assert f"PAPERSIFT_PACKAGE: {json.dumps(requirement)}" in github_workflow(requirement)


@pytest.mark.parametrize("direct_url, says", [
    ({"url": "file:///home/ada/papersift", "dir_info": {"editable": True}}, "a local folder"),
    ({"url": "file:///tmp/papersift-0.1.0.tar.gz", "archive_info": {}}, "a local file"),
])
def test_a_local_install_is_never_written_into_the_workflow(tmp_path, direct_url, says):
    from papersift.deploy import UnvouchedPackage, recorded_requirement

    with pytest.raises(UnvouchedPackage, match=f"installed from {says}.*pass --package"):
        recorded_requirement(installed_as(tmp_path, direct_url))


def test_init_github_from_a_clone_asks_for_package_and_writes_nothing(tmp_path):
    """This suite runs papersift installed from its folder (pip install -e .): no runner
    can install that, so `init --github` says what to pass instead, exit 2."""
    result = papersift("init", "--github", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "was installed from a local folder" in line and "--package" in line
    assert not list(tmp_path.iterdir())


def test_init_github_keeps_existing_files_and_pins_the_package(tmp_path):
    (tmp_path / "papersift.toml").write_text("# mine\n")
    (tmp_path / ".gitignore").write_text("*.pyc\n")
    result = papersift("init", "--github", "--package", "papersift[local]==9.9", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "kept papersift.toml (exists)" in result.stdout
    assert (tmp_path / "papersift.toml").read_text() == "# mine\n"
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n/papersift-data/\n/out/\n"
    workflow = load_workflow(tmp_path)
    assert workflow["env"]["PAPERSIFT_PACKAGE"] == "papersift[local]==9.9"
    again = papersift("init", "--github", "--package", PACKAGE, cwd=tmp_path)
    assert again.returncode == 0
    assert re.search(r"kept \.github/workflows/papersift\.yml", again.stdout.replace("\n", ""))
    assert (tmp_path / ".gitignore").read_text().count("/out/") == 1
