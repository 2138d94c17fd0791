"""Whole mornings as GitHub Actions plays them: the workflow `papersift init --github`
writes is read, and its shell steps run in order (restore the store from the data
branch, run the day, save it back, report) in a clone of a real git repository, against
the loopback arXiv, LLM, SMTP, Slack and webhook servers; the published site is then
opened in Chromium under a sub-path, as GitHub Pages serves it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import PICKS, SECRET_KEY, serve_under, write_project
from test_cli import papersift
from workflow_runner import Actions, Job, checkout, git, load_workflow

PACKAGE = "papersift @ git+https://github.com/ada/papersift@0123456789abcdef"


def repository(tmp_path: Path, arxiv, llm, extra: str) -> Path:
    """A GitHub-like remote holding what `papersift init --github` wrote (its config
    pointed at the loopback servers), and returns the remote's path."""
    source = tmp_path / "source"
    source.mkdir(exist_ok=True)
    assert papersift("init", "--github", "--package", PACKAGE, cwd=source).returncode == 0
    write_project(source, arxiv=arxiv, llm=llm, extra=extra)  # replaces the starter config
    origin = tmp_path / "origin.git"
    git("init", "--bare", "-q", str(origin), cwd=tmp_path)
    for setting in ("uploadpack.allowFilter", "uploadpack.allowAnySHA1InWant"):
        git("config", setting, "true", cwd=origin)  # as GitHub serves partial clones
    git("init", "-q", cwd=source)
    git("add", "-A", cwd=source)
    git("commit", "-q", "-m", "papersift", cwd=source)
    git("push", "-q", str(origin), "HEAD:refs/heads/main", cwd=source)
    return origin


def data_branch_files(origin: Path) -> set[str]:
    return set(git("ls-tree", "-r", "--name-only", "papersift-data", cwd=origin).split())


def runner(origin: Path, tmp_path: Path, name: str, secrets: dict[str, str],
           env: dict[str, str], **options) -> Actions:
    workflow = load_workflow(checkout(origin, tmp_path / f"{name}-look"))
    root = tmp_path / name
    root.mkdir()
    return Actions(workflow, origin, root, secrets, runner_env=env, **options)


def said(job, step: str) -> str:
    return job.steps[step]["stdout"] + job.steps[step]["stderr"]


def test_three_mornings_as_github_actions_runs_them(tmp_path, arxiv, llm, mailbox, slack,
                                                     webhook, github, page):
    extra = (mailbox.config() + f'\n[notify.webhook]\nurl = "{webhook.url}"\n'
             "[notify]\nbackoff_seconds = 0\n[arxiv]\nbackoff_seconds = 0")
    origin = repository(tmp_path, arxiv, llm, extra)
    secrets = {"OPENAI_API_KEY": SECRET_KEY, "PAPERSIFT_SLACK_WEBHOOK_URL": slack.url,
               "PAPERSIFT_SMTP_PASSWORD": mailbox.env["PAPERSIFT_SMTP_PASSWORD"]}
    env = {"SSL_CERT_FILE": mailbox.env["SSL_CERT_FILE"],  # the test SMTP server's cert
           "GITHUB_API_URL": github.url}

    # Morning 1, a weekday: scheduled (no date), a store that does not exist yet.
    first = runner(origin, tmp_path, "run1", secrets, env)
    digest, deploy, report = first.morning()
    assert digest.steps["run"]["code"] == "0", first.output
    assert report.steps["Say how the morning went"]["outcome"] == "success", first.output
    assert deploy.result == "success" and "github-pages" in first.artifacts
    assert "first run: branch papersift-data starts now" in said(digest, "restore")
    stored = data_branch_files(origin)
    assert {"papersift.sqlite", "status.json", "json/2026-04/2026-04-14.json",
            "md/2026-04/2026-04-14.md", "site/index.html", "site/assets/status.js"} <= stored
    assert not [name for name in stored if name.endswith(".lock")]
    workspace = first.workspaces["digest"]
    record = json.loads((workspace / "papersift-data/json/2026-04/2026-04-14.json")
                        .read_text())
    assert len(record["papers"]) == len(PICKS)
    # The pushes come from the report job, after the store is saved and the site is up.
    [message] = mailbox.messages
    assert message["Subject"] == f"papersift: {len(PICKS)} papers for 2026-04-14"
    assert "https://ada.github.io/digest/2026-04/2026-04-14.html" in \
        message.get_body(("plain",)).get_content()
    assert slack.posts[0]["text"] == f"papersift: {len(PICKS)} papers for 2026-04-14"
    assert webhook.posts == [record]
    paid = len(llm.requests)

    site = workspace / "papersift-data" / "site"
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
    second = runner(origin, tmp_path, "run2", secrets, env, event="workflow_dispatch")
    digest, _, report = second.morning("2026-04-14")
    assert digest.steps["run"]["code"] == "0", second.output
    assert "restored the store and archive" in said(digest, "restore")
    assert len(llm.requests) == paid
    assert "This run" in said(digest, "run") and "0 requests" in said(digest, "run")

    # Morning 3, a Saturday: no announcements, said so, nothing pushed (the default).
    arxiv.rss_day = "2026-04-18"
    third = runner(origin, tmp_path, "run3", secrets, env)
    digest, _, report = third.morning()
    assert digest.steps["run"]["code"] == "0", third.output
    assert "No arXiv announcements for 2026-04-18 (Saturday)" in said(digest, "run")
    assert report.steps["Say how the morning went"]["outcome"] == "success"
    assert len(mailbox.messages) == 2 and len(webhook.posts) == 2  # mornings 1 and 2 only
    status = json.loads(git("show", "papersift-data:status.json", cwd=origin))
    assert status["outcome"] == "no_announcements"

    # Morning 4, arXiv unreachable: the run fails in one line, says so on the site and in
    # a push, keeps the store and archive, and the workflow run turns red.
    before = git("rev-parse", "papersift-data:papersift.sqlite", cwd=origin)
    source = checkout(origin, tmp_path / "edit")
    config = source / "papersift.toml"
    config.write_text(config.read_text().replace(arxiv.rss_url, "http://127.0.0.1:9/rss"))
    git("commit", "-q", "-am", "arXiv moved", cwd=source)
    git("push", "-q", "origin", "HEAD:main", cwd=source)
    fourth = runner(origin, tmp_path, "run4", secrets, env)
    digest, _, report = fourth.morning()
    assert digest.steps["run"]["code"] == "1"
    assert digest.steps["run"]["stderr"].strip().startswith(
        "error: cannot fetch the arXiv feed")
    assert report.steps["Say how the morning went"]["outcome"] == "failure"
    assert "::error::papersift run exited 1" in said(report, "Say how the morning went")
    status = json.loads(git("show", "papersift-data:status.json", cwd=origin))
    assert status["outcome"] == "upstream_failure"
    assert status["message"].startswith("arXiv could not be read: cannot fetch the arXiv feed")
    assert git("rev-parse", "papersift-data:papersift.sqlite", cwd=origin) == before
    assert "arXiv could not be read" in webhook.posts[-1]["run"]["status"]["message"]
    with serve_under(fourth.workspaces["digest"] / "papersift-data" / "site",
                     "/digest/") as url:
        page.goto(url + "2026-04/2026-04-14.html")
        assert page.locator("#run-status").inner_text().startswith(
            "Latest run: failed upstream · ")

    for secret in (SECRET_KEY, mailbox.env["PAPERSIFT_SMTP_PASSWORD"], slack.url):
        for run in (first, second, third, fourth):
            assert secret not in run.output
        assert secret not in git("log", "-p", "--all", cwd=origin)


SIZE_LIMIT_HOOK = """#!/bin/sh
# GitHub's rule, scaled down: no file above LIMIT bytes.
while read old new ref; do
  for object in $(git rev-list --objects "$new" --not --all | cut -d' ' -f1); do
    if [ "$(git cat-file -t "$object")" = blob ] && \
       [ "$(git cat-file -s "$object")" -gt LIMIT ]; then
      echo "error: GH001: Large files detected. File $object exceeds the limit of LIMIT bytes" >&2
      exit 1
    fi
  done
done
"""


def test_a_refused_push_turns_the_morning_red_and_says_why(tmp_path, arxiv, llm, webhook,
                                                          github):
    """GitHub refuses a push with a file over its limit (a pre-receive hook here): the
    save fails, the site and the push say which step failed and why, the run is red, and
    the next morning starts from the last good store."""
    extra = f'[notify.webhook]\nurl = "{webhook.url}"\n[notify]\nbackoff_seconds = 0'
    origin = repository(tmp_path, arxiv, llm, extra)
    secrets = {"OPENAI_API_KEY": SECRET_KEY}
    env = {"GITHUB_API_URL": github.url}
    first = runner(origin, tmp_path, "run1", secrets, env)
    digest, _, report = first.morning()
    assert report.steps["Say how the morning went"]["outcome"] == "success", first.output
    good = git("rev-parse", "papersift-data", cwd=origin)

    hook = origin / "hooks" / "pre-receive"
    hook.write_text(SIZE_LIMIT_HOOK.replace("LIMIT", "100000"))
    hook.chmod(0o755)
    second = runner(origin, tmp_path, "run2", secrets, env, event="workflow_dispatch")
    digest, _, report = second.morning("2026-04-14")
    assert digest.steps["run"]["code"] == "0", second.output
    assert digest.steps["save"]["outcome"] == "failure"
    assert "GH001: Large files detected" in digest.steps["save"]["error"]
    verdict = report.steps["Say how the morning went"]
    assert verdict["outcome"] == "failure", second.output
    assert "::error::saving the store and archive failed: pushing branch papersift-data " \
           "failed: remote: error: GH001: Large files detected" in verdict["stdout"]
    status = webhook.posts[-1]["run"]["status"]
    assert status["failed_steps"][0].startswith(
        "saving the store and archive: pushing branch papersift-data failed")
    assert "Failed after the run: saving the store and archive" in status["message"]
    banner = (second.workspaces["digest"] / "papersift-data/site/assets/status.js").read_text()
    assert "GH001: Large files detected" in banner
    assert git("rev-parse", "papersift-data", cwd=origin) == good  # nothing half-pushed

    hook.unlink()
    third = runner(origin, tmp_path, "run3", secrets, env, event="workflow_dispatch")
    digest, _, report = third.morning("2026-04-14")
    assert "restored the store and archive" in said(digest, "restore")
    assert report.steps["Say how the morning went"]["outcome"] == "success", third.output


def test_a_failed_deploy_is_said_by_the_pushes_and_turns_the_run_red(tmp_path, arxiv, llm,
                                                                     webhook, github):
    extra = f'[notify.webhook]\nurl = "{webhook.url}"\n[notify]\nbackoff_seconds = 0'
    origin = repository(tmp_path, arxiv, llm, extra)
    actions = runner(origin, tmp_path, "run1", {"OPENAI_API_KEY": SECRET_KEY},
                     {"GITHUB_API_URL": github.url}, fail_actions={"actions/deploy-pages"})
    _, deploy, report = actions.morning()
    assert deploy.result == "failure"
    verdict = report.steps["Say how the morning went"]
    assert verdict["outcome"] == "failure"
    assert "publishing the site failed" in verdict["stdout"]
    assert webhook.posts[-1]["run"]["status"]["failed_steps"] == [
        "publishing the site failed: is Settings → Pages → Source set to GitHub Actions?"]


def test_a_like_on_the_pages_site_reaches_the_store_through_an_issue(tmp_path, arxiv, llm,
                                                                     github):
    """The loop on GitHub: the site's "Send to GitHub" opens an issue with the clicks; the
    next morning imports those of the repository's owner, closes the issue and learns."""
    origin = repository(tmp_path, arxiv, llm, "")
    env = {"GITHUB_API_URL": github.url}
    secrets = {"OPENAI_API_KEY": SECRET_KEY}
    runner(origin, tmp_path, "run1", secrets, env).morning()
    liked, disliked = next(iter(PICKS)), "2604.09999"
    clicks = json.dumps({"format": "papersift-feedback", "version": 1, "labels": [
        {"arxiv_id": liked, "like": True}, {"arxiv_id": disliked, "like": False}]})
    mine = github.open_issue(f"Clicks from the site:\n\n```json\n{clicks}\n```\n")
    stranger = github.open_issue(f"```json\n{clicks}\n```", who="NONE")
    broken = github.open_issue("```json\n{not json\n```")

    second = runner(origin, tmp_path, "run2", secrets, env, event="workflow_dispatch")
    digest, _, report = second.morning("2026-04-14")
    step = digest.steps["Take in the site's Like / Dislike"]
    assert step["outcome"] == "success", second.output
    assert "1 feedback issues imported (1 liked, 1 disliked)" in step["stdout"]
    assert f"#{stranger}: opened by someone without write access" in step["stderr"]
    assert f"#{broken}: no feedback JSON" in step["stderr"]
    assert github.closed == [mine] and "took these verdicts" in github.comments[mine][0]
    assert all(token == "Bearer ghs_runnertoken0123456789" for token in github.tokens)
    store = checkout(origin, tmp_path / "data")
    git("fetch", "-q", "origin", "papersift-data", cwd=store)
    git("checkout", "-q", "FETCH_HEAD", cwd=store)
    labels = dict(sqlite3.connect(store / "papersift.sqlite").execute(
        "SELECT key, label FROM labels WHERE source = 'feedback'").fetchall())
    assert labels == {liked: 1, disliked: 0}
    assert report.steps["Say how the morning went"]["outcome"] == "success"


@pytest.mark.parametrize("code, says", [
    ("3", "the scorer could score none"), ("1", "papersift run exited 1"),
    ("", "did not finish")])
def test_the_report_job_turns_the_run_red_for_each_failure(tmp_path, code, says):
    assert papersift("init", "--github", "--package", PACKAGE, cwd=tmp_path).returncode == 0
    workflow = load_workflow(tmp_path)
    actions = Actions(workflow, tmp_path, tmp_path, {})
    step = workflow["jobs"]["report"]["steps"][-1]
    actions.jobs = {"digest": Job("digest", outputs={"code": code, "save": "success"},
                                  failed=code == ""),
                    "deploy": Job("deploy", skipped=True)}
    result = actions.shell(step, workflow["jobs"]["report"], tmp_path, Job("report"), "", 0)
    assert result["outcome"] == "failure" and says in result["stdout"]


def test_two_readers_on_github_each_get_their_digest_site_and_pushes(tmp_path, arxiv, llm,
                                                                     webhook, github):
    """A [profiles] configuration through the workflow: one morning for both readers,
    each with their own digest on the data branch, site section and push; the clicks of
    an issue go to the reader whose page they came from."""
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "ben.md").write_text(
        "1. Robot learning\n   - Relevant: robot manipulation, sim-to-real, locomotion.\n")
    extra = ('[profiles.ada]\ninterests = "interests.md"\n'
             '[profiles.ben]\ninterests = "ben.md"\n[profiles.ben.notify.webhook]\n'
             f'url = "{webhook.url}"\n[notify]\nbackoff_seconds = 0\n')
    origin = repository(tmp_path, arxiv, llm, extra)
    env = {"GITHUB_API_URL": github.url}
    secrets = {"OPENAI_API_KEY": SECRET_KEY}
    first = runner(origin, tmp_path, "run1", secrets, env)
    digest, deploy, report = first.morning()
    assert digest.steps["run"]["code"] == "0", first.output
    assert report.steps["Say how the morning went"]["outcome"] == "success", first.output
    assert deploy.result == "success" and "github-pages" in first.artifacts
    stored = data_branch_files(origin)
    assert {f"profiles/{r}/json/2026-04/2026-04-14.json" for r in ("ada", "ben")} <= stored
    assert {"profiles/ada/status.json", "site/index.html", "site/ada/index.html",
            "site/ben/2026-04/2026-04-14.html"} <= stored
    ben = json.loads(git("show", "papersift-data:profiles/ben/json/2026-04/2026-04-14.json",
                         cwd=origin))
    assert webhook.posts == [ben]  # ben's channel got ben's digest, and only that
    paid = len(llm.requests)
    clicks = json.dumps({"format": "papersift-feedback", "version": 1, "labels": [
        {"arxiv_id": next(iter(ben["papers"])), "like": True, "profile": "ben"}]})
    github.open_issue(f"```json\n{clicks}\n```")

    second = runner(origin, tmp_path, "run2", secrets, env, event="workflow_dispatch")
    digest, _, report = second.morning("2026-04-14")
    assert digest.steps["run"]["code"] == "0", second.output
    assert len(llm.requests) == paid  # both readers' judgments came back with the store
    assert report.steps["Say how the morning went"]["outcome"] == "success", second.output
    store = checkout(origin, tmp_path / "data")
    git("fetch", "-q", "origin", "papersift-data", cwd=store)
    git("checkout", "-q", "FETCH_HEAD", cwd=store)
    labels = sqlite3.connect(store / "papersift.sqlite").execute(
        "SELECT profile, label FROM labels WHERE source = 'feedback'").fetchall()
    assert labels == [("ben", 1)]
