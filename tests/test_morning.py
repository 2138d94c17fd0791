"""Whole mornings as GitHub Actions plays them: the workflow `papersift init --github`
writes is read, and its shell steps run in order (restore the store from the data
branch, run the day, save it back, report) in a clone of a real git repository, against
the loopback arXiv, LLM, SMTP, Slack and webhook servers; the published site is then
opened in Chromium under a sub-path, as GitHub Pages serves it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import PICKS, SECRET_KEY, serve_under, write_project
from test_cli import papersift
from test_deploy import load_workflow

SKIPPED = {"Install papersift"}  # the test's environment has papersift installed
GITHUB_ONLY = {"Keep the schedule alive"}  # talks to api.github.com


@dataclass
class Actions:
    """Runs a workflow's shell steps the way a GitHub runner does (bash -eo pipefail,
    ``env`` from the workflow, the job and the step, ``$GITHUB_OUTPUT``)."""

    workflow: dict
    workspace: Path
    secrets: dict[str, str]
    site_url: str = "https://ada.github.io/digest/"
    runner_env: dict[str, str] = field(default_factory=dict)  # the runner's own settings
    log: list[str] = field(default_factory=list)

    def expression(self, text: str, day: str, outputs: dict[str, dict[str, str]]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("secrets."):
                return self.secrets.get(name.removeprefix("secrets."), "")
            if name.startswith("vars.") or name == "github.token":
                return ""
            if name == "inputs.date":
                return day
            if name == "steps.pages.outputs.base_url":
                return self.site_url.rstrip("/")
            if name.startswith("steps."):
                step, _, key = name.removeprefix("steps.").partition(".outputs.")
                return outputs.get(step, {}).get(key, "")
            if name.startswith("needs."):
                return outputs["needs"].get(name, "")
            raise AssertionError(f"the test does not know ${{{{ {name} }}}}")
        return re.sub(r"\$\{\{(.+?)\}\}", value, str(text))

    def job(self, name: str, day: str = "", needs: dict[str, str] | None = None
            ) -> dict[str, dict[str, str]]:
        """Run the job's shell steps; return each step's outputs and ``outcome``."""
        job = self.workflow["jobs"][name]
        outputs: dict[str, dict[str, str]] = {"needs": needs or {}}
        for step in job["steps"]:
            if "run" not in step or step.get("name") in SKIPPED | GITHUB_ONLY:
                continue
            if not self.should_run(str(step.get("if", "")), outputs):
                continue
            env = {**os.environ, **self.runner_env, **self.workflow.get("env", {}),
                   **job.get("env", {}), **{k: self.expression(v, day, outputs) for k, v in
                      step.get("env", {}).items()}}
            env = {k: str(v) for k, v in env.items()}
            output_file = self.workspace / f".output-{len(self.log)}"
            output_file.write_text("")
            env.update(GITHUB_OUTPUT=str(output_file), GITHUB_REPOSITORY="ada/digest",
                       GITHUB_WORKSPACE=str(self.workspace), COLUMNS="200")
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                   step["run"]], cwd=self.workspace, env=env,
                                  capture_output=True, text=True, timeout=300)
            self.log.append(f"== {step.get('name')} ({done.returncode})\n"
                            f"{done.stdout}{done.stderr}")
            found = dict(line.split("=", 1) for line in
                         output_file.read_text().splitlines() if "=" in line)
            found["outcome"] = "success" if done.returncode == 0 else "failure"
            found["stdout"], found["stderr"] = done.stdout, done.stderr
            if "id" in step:
                outputs[step["id"]] = found
            outputs[step.get("name", "")] = found
            if done.returncode != 0 and not step.get("continue-on-error"):
                outputs["failed"] = found
        return outputs

    @staticmethod
    def should_run(condition: str, outputs: dict[str, dict[str, str]]) -> bool:
        """The ``if:`` forms the workflow uses; after a failed step only ``always()``."""
        condition = condition.removeprefix("${{").removesuffix("}}").strip()
        if "failed" in outputs and "always()" not in condition:
            return False
        if "steps.restore.outcome == 'success'" in condition:
            return outputs.get("restore", {}).get("outcome") == "success"
        assert condition in ("", "always()"), f"the test does not know if: {condition}"
        return True

    def morning(self, day: str = "") -> tuple[dict, dict]:
        """The digest job, then the report job with what the digest job gave it."""
        digest = self.job("digest", day)
        code = digest.get("run", {}).get("code", "")
        report = self.job("report", needs={
            "needs.digest.outputs.code": code,
            "needs.digest.result": "failure" if "failed" in digest else "success",
            "needs.deploy.result": "success" if digest.get("run", {}).get("site") else
            "skipped"})
        return digest, report


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                           "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false",
                           *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def repository(tmp_path: Path, arxiv, llm, extra: str) -> Path:
    """A GitHub-like remote holding what `papersift init --github` wrote (its config
    pointed at the loopback servers), and returns the remote's path."""
    source = tmp_path / "source"
    source.mkdir()
    assert papersift("init", "--github", cwd=source).returncode == 0
    write_project(source, arxiv=arxiv, llm=llm, extra=extra)  # replaces the starter config
    origin = tmp_path / "origin.git"
    git("init", "--bare", "-q", str(origin), cwd=tmp_path)
    git("init", "-q", cwd=source)
    git("add", "-A", cwd=source)
    git("commit", "-q", "-m", "papersift", cwd=source)
    git("push", "-q", str(origin), "HEAD:refs/heads/main", cwd=source)
    return origin


def checkout(origin: Path, folder: Path) -> Path:
    """What actions/checkout leaves: a fresh clone of the default branch."""
    git("clone", "-q", "--depth=1", origin.as_uri(), str(folder), cwd=origin.parent)
    return folder


def data_branch_files(origin: Path) -> set[str]:
    return set(git("ls-tree", "-r", "--name-only", "papersift-data", cwd=origin).split())


def test_three_mornings_as_github_actions_runs_them(tmp_path, arxiv, llm, mailbox, slack,
                                                     webhook, page):
    extra = (mailbox.config() + f'\n[notify.webhook]\nurl = "{webhook.url}"\n'
             "[notify]\nbackoff_seconds = 0\n[arxiv]\nbackoff_seconds = 0")
    origin = repository(tmp_path, arxiv, llm, extra)
    secrets = {"OPENAI_API_KEY": SECRET_KEY, "PAPERSIFT_SLACK_WEBHOOK_URL": slack.url,
               "PAPERSIFT_SMTP_PASSWORD": mailbox.env["PAPERSIFT_SMTP_PASSWORD"]}
    trust = {"SSL_CERT_FILE": mailbox.env["SSL_CERT_FILE"]}  # the test SMTP server's cert
    workflow = load_workflow(checkout(origin, tmp_path / "look"))

    # Morning 1, a weekday: scheduled (no date), a store that does not exist yet.
    first = Actions(workflow, checkout(origin, tmp_path / "run1"), secrets, runner_env=trust)
    digest, report = first.morning()
    assert digest["run"]["code"] == "0", "\n".join(first.log)
    assert report["Say how the morning went"]["outcome"] == "success"
    assert "first run: branch papersift-data starts now" in digest["restore"]["stdout"]
    stored = data_branch_files(origin)
    assert {"papersift.sqlite", "status.json", "json/2026-04/2026-04-14.json",
            "md/2026-04/2026-04-14.md", "site/index.html", "site/assets/status.js"} <= stored
    assert not [name for name in stored if name.endswith(".lock")]
    record = json.loads((first.workspace / "papersift-data/json/2026-04/2026-04-14.json")
                        .read_text())
    assert len(record["papers"]) == len(PICKS)
    [message] = mailbox.messages
    assert message["Subject"] == f"papersift: {len(PICKS)} papers for 2026-04-14"
    assert "https://ada.github.io/digest/2026-04/2026-04-14.html" in \
        message.get_body(("plain",)).get_content()
    assert slack.posts[0]["text"] == f"papersift: {len(PICKS)} papers for 2026-04-14"
    assert webhook.posts == [record]
    paid = len(llm.requests)

    site = first.workspace / "papersift-data" / "site"
    with serve_under(site, "/digest/") as url:
        page.goto(url)
        page.wait_for_url("**/digest/2026-04/2026-04-14.html")
        banner = page.locator("#run-status")
        assert banner.inner_text().startswith("Latest run · 2026-")
        assert f"Digest for 2026-04-14: {len(PICKS)} of 675 papers selected" in \
            banner.inner_text()
        assert "by gpt-4.1-mini from arXiv" in page.locator("p.made").inner_text()
        page.get_by_role("link", name="Archive").click()
        assert page.url == url + "archive.html"
        assert page.locator("#run-status").is_visible()

    # Morning 2, re-run by date from the Actions page, on a fresh runner: the store comes
    # back from the data branch, so nothing is paid for twice.
    second = Actions(workflow, checkout(origin, tmp_path / "run2"), secrets, runner_env=trust)
    digest, report = second.morning("2026-04-14")
    assert digest["run"]["code"] == "0", "\n".join(second.log)
    assert "restored the store and archive" in digest["restore"]["stdout"]
    assert len(llm.requests) == paid
    assert "This run" in digest["run"]["stdout"] and "0 requests" in digest["run"]["stdout"]

    # Morning 3, a Saturday: no announcements, said so, nothing pushed (the default).
    arxiv.rss_day = "2026-04-18"
    third = Actions(workflow, checkout(origin, tmp_path / "run3"), secrets, runner_env=trust)
    digest, report = third.morning()
    assert digest["run"]["code"] == "0", "\n".join(third.log)
    assert "No arXiv announcements for 2026-04-18 (Saturday)" in digest["run"]["stdout"]
    assert report["Say how the morning went"]["outcome"] == "success"
    assert len(mailbox.messages) == 2 and len(webhook.posts) == 2  # mornings 1 and 2 only
    status = json.loads(git("show", "papersift-data:status.json", cwd=origin))
    assert status["outcome"] == "no_announcements"

    # Morning 4, arXiv unreachable: the run fails in one line, says so on the site and in
    # a push, keeps the store and archive, and the workflow run turns red.
    before = git("rev-parse", "papersift-data:papersift.sqlite", cwd=origin)
    fourth = Actions(workflow, checkout(origin, tmp_path / "run4"), secrets,
                     runner_env=trust)
    config = fourth.workspace / "papersift.toml"
    config.write_text(config.read_text().replace(arxiv.rss_url, "http://127.0.0.1:9/rss"))
    digest, report = fourth.morning()
    assert digest["run"]["code"] == "1"
    assert digest["run"]["stderr"].strip().startswith("error: cannot fetch the arXiv feed")
    assert report["Say how the morning went"]["outcome"] == "failure"
    assert "::error::papersift run exited 1" in report["Say how the morning went"]["stdout"]
    status = json.loads(git("show", "papersift-data:status.json", cwd=origin))
    assert status["outcome"] == "upstream_failure"
    assert status["message"].startswith("arXiv could not be read: cannot fetch the arXiv feed")
    assert git("rev-parse", "papersift-data:papersift.sqlite", cwd=origin) == before
    assert "arXiv could not be read" in webhook.posts[-1]["run"]["status"]["message"]
    with serve_under(fourth.workspace / "papersift-data" / "site", "/digest/") as url:
        page.goto(url + "2026-04/2026-04-14.html")
        assert page.locator("#run-status").inner_text().startswith(
            "Latest run: failed upstream · ")

    for secret in (SECRET_KEY, mailbox.env["PAPERSIFT_SMTP_PASSWORD"], slack.url):
        for run in (first, second, third, fourth):
            assert secret not in "\n".join(run.log)
        assert secret not in git("log", "-p", "--all", cwd=origin)


@pytest.mark.parametrize("code, says", [
    ("3", "the scorer could score none"), ("4", "a push failed"), ("", "did not finish")])
def test_the_report_job_turns_the_run_red_for_each_failure(tmp_path, code, says):
    assert papersift("init", "--github", cwd=tmp_path).returncode == 0
    actions = Actions(load_workflow(tmp_path), tmp_path, {})
    report = actions.job("report", needs={"needs.digest.outputs.code": code,
                                          "needs.digest.result": "failure",
                                          "needs.deploy.result": "skipped"})
    step = report["Say how the morning went"]
    assert step["outcome"] == "failure" and says in step["stdout"]
