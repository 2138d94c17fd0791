"""`papersift init --github`: the workflow it writes is valid for GitHub (its published
schema, offline; actionlint where installed) and has what unattended runs need."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from test_cli import papersift

WORKFLOW = Path(".github/workflows/papersift.yml")


def load_workflow(folder: Path) -> dict:
    workflow = yaml.safe_load((folder / WORKFLOW).read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true
    return workflow


@pytest.fixture
def initialised(tmp_path) -> Path:
    result = papersift("init", "--github", cwd=tmp_path)
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
    assert workflow["permissions"] == {"contents": "write", "pages": "write",
                                       "id-token": "write", "actions": "write"}
    digest = workflow["jobs"]["digest"]["steps"]
    uses = [s["uses"].split("@")[0] for s in digest if "uses" in s]
    assert "actions/configure-pages" in uses and "actions/upload-pages-artifact" in uses
    deploy = workflow["jobs"]["deploy"]
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert deploy["environment"]["name"] == "github-pages"
    run_env = next(s for s in digest if s.get("id") == "run")["env"]
    for secret in ("OPENAI_API_KEY", "PAPERSIFT_SMTP_PASSWORD", "PAPERSIFT_SLACK_WEBHOOK_URL"):
        assert run_env[secret] == f"${{{{ secrets.{secret} }}}}"
    keepalive = next(s for s in digest if s.get("name") == "Keep the schedule alive")
    assert "actions/workflows/papersift.yml/enable" in keepalive["run"]
    # No expression is pasted into a script (a dispatch input could inject shell code).
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")


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
    again = papersift("init", "--github", cwd=tmp_path)
    assert again.returncode == 0
    assert re.search(r"kept \.github/workflows/papersift\.yml", again.stdout.replace("\n", ""))
    assert (tmp_path / ".gitignore").read_text().count("/out/") == 1
