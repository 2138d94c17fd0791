"""Plays the workflow `papersift init --github` writes the way a GitHub runner does: each
job's shell steps in order (``bash -eo pipefail``, ``env`` from the workflow, the job and
the step, ``$GITHUB_OUTPUT``), ``if:`` conditions and ``${{ }}`` expressions, job outputs
and ``needs``, with the few third-party actions it uses stood in for by what they do
(the artifact actions copy a folder; the Pages actions succeed, or fail when told to).
Used by tests/test_morning.py and benchmarks/year.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

WORKFLOW = Path(".github/workflows/papersift.yml")
SKIPPED = {"Install papersift"}  # the environment has papersift installed
GITHUB_ONLY = {"Keep the schedule alive"}  # talks to api.github.com


def load_workflow(folder: Path) -> dict:
    workflow = yaml.safe_load((folder / WORKFLOW).read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true
    return workflow


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                           "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false",
                           *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def checkout(origin: Path, folder: Path) -> Path:
    """What actions/checkout leaves: a fresh clone of the default branch."""
    if folder.exists():
        shutil.rmtree(folder)
    git("clone", "-q", "--depth=1", origin.as_uri(), str(folder), cwd=origin.parent)
    return folder


@dataclass
class Job:
    """One job's step results: ``steps[id or name]`` holds outputs and ``outcome``."""

    name: str
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: bool = False
    outputs: dict[str, str] = field(default_factory=dict)
    skipped: bool = False
    next_step: int = 0  # where resume_job goes on

    @property
    def result(self) -> str:
        return "skipped" if self.skipped else "failure" if self.failed else "success"


@dataclass
class Actions:
    """A runner for one morning: ``workspace_for(job)`` gives each job a fresh checkout."""

    workflow: dict
    origin: Path
    root: Path
    secrets: dict[str, str]
    site_url: str = "https://ada.github.io/digest/"
    runner_env: dict[str, str] = field(default_factory=dict)
    event: str = "schedule"
    fail_actions: set[str] = field(default_factory=set)  # e.g. {"actions/deploy-pages"}
    log: list[str] = field(default_factory=list)
    jobs: dict[str, Job] = field(default_factory=dict)
    artifacts: dict[str, Path] = field(default_factory=dict)
    workspaces: dict[str, Path] = field(default_factory=dict)
    before_step: Callable[[str, Path], None] | None = None  # (step id or name, workspace)

    # -- expressions --------------------------------------------------------------------

    def value(self, name: str, job: Job, day: str) -> str:
        name = name.strip()
        if name.startswith("secrets."):
            return self.secrets.get(name.removeprefix("secrets."), "")
        if name.startswith("vars.") or name == "github.token":
            return "" if name.startswith("vars.") else "ghs_runnertoken0123456789"
        if name == "github.event_name":
            return self.event
        if name == "github.repository":
            return "ada/digest"
        if name == "inputs.date":
            return day
        if name.startswith("env."):
            return str(self.workflow.get("env", {}).get(name.removeprefix("env."), ""))
        if name == "steps.pages.outputs.base_url":
            return self.site_url.rstrip("/")
        if name.startswith("steps."):
            step, _, rest = name.removeprefix("steps.").partition(".")
            found = job.steps.get(step, {})
            if rest == "outcome":
                return found.get("outcome", "")
            return found.get(rest.removeprefix("outputs."), "")
        if name.startswith("needs."):
            other, _, rest = name.removeprefix("needs.").partition(".")
            needed = self.jobs[other]
            if rest == "result":
                return needed.result
            return needed.outputs.get(rest.removeprefix("outputs."), "")
        raise AssertionError(f"the runner does not know ${{{{ {name} }}}}")

    def expand(self, text: object, job: Job, day: str) -> str:
        return re.sub(r"\$\{\{(.+?)\}\}", lambda m: self.value(m.group(1), job, day),
                      str(text))

    def should_run(self, condition: str, job: Job, day: str) -> bool:
        """``if:`` as the workflow writes it: ``always()``, ``A == 'x'``, ``A != 'x'``,
        joined by ``&&``; without ``always()`` a failed job runs nothing more."""
        condition = condition.strip().removeprefix("${{").removesuffix("}}").strip()
        terms = [t.strip() for t in condition.split("&&") if t.strip()]
        if "always()" not in terms and job.failed:
            return False
        for term in terms:
            if term == "always()":
                continue
            match = re.fullmatch(r"([\w.-]+)\s*(==|!=)\s*'([^']*)'", term)
            assert match, f"the runner does not know if: {term}"
            left = self.value(match.group(1), job, day)
            if (left == match.group(3)) != (match.group(2) == "=="):
                return False
        return True

    # -- jobs ---------------------------------------------------------------------------

    def run_job(self, name: str, day: str = "", *, until: str | None = None) -> Job:
        """Run job ``name`` on a fresh checkout; with ``until``, stop after the step of
        that id (``resume_job`` runs the rest)."""
        spec = self.workflow["jobs"][name]
        job = self.jobs[name] = Job(name)
        if "if" in spec and not self.should_run(str(spec["if"]), job, day):
            job.skipped = True
            return job
        self.workspaces[name] = checkout(self.origin, self.root / name)
        return self._steps(job, day, until)

    def resume_job(self, name: str, day: str = "") -> Job:
        """The steps of job ``name`` after the one ``run_job`` stopped at."""
        job = self.jobs[name]
        return job if job.skipped else self._steps(job, day, None)

    def _steps(self, job: Job, day: str, until: str | None) -> Job:
        spec = self.workflow["jobs"][job.name]
        workspace = self.workspaces[job.name]
        for number, step in enumerate(spec["steps"]):
            if number < job.next_step:
                continue
            job.next_step = number + 1
            label = step.get("name") or step.get("uses", "").split("@")[0]
            if label in SKIPPED | GITHUB_ONLY:
                continue
            if self.should_run(str(step.get("if", "")), job, day):
                if self.before_step is not None:
                    self.before_step(step.get("id") or label, workspace)
                if "uses" in step:
                    result = self.action(step, workspace, job, day)
                else:
                    result = self.shell(step, spec, workspace, job, day, number)
                if "id" in step:
                    job.steps[step["id"]] = result
                job.steps[label] = result
                if result["outcome"] == "failure" and not step.get("continue-on-error"):
                    job.failed = True
            if until is not None and step.get("id") == until:
                return job
        job.outputs = {key: self.expand(value, job, day)
                       for key, value in spec.get("outputs", {}).items()}
        return job

    def shell(self, step: dict, spec: dict, workspace: Path, job: Job, day: str,
              number: int) -> dict[str, str]:
        env = {**os.environ, **self.runner_env,
               **{k: self.expand(v, job, day) for k, v in self.workflow.get("env", {}).items()},
               **{k: self.expand(v, job, day) for k, v in spec.get("env", {}).items()},
               **{k: self.expand(v, job, day) for k, v in step.get("env", {}).items()}}
        output_file = self.root / f".output-{job.name}-{number}"
        output_file.write_text("")
        env.update(GITHUB_OUTPUT=str(output_file), GITHUB_REPOSITORY="ada/digest",
                   GITHUB_WORKSPACE=str(workspace), RUNNER_TEMP=str(self.root),
                   COLUMNS="200")
        started = time.perf_counter()
        done, cpu = _run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                          step["run"]], workspace, env)
        seconds = time.perf_counter() - started
        self.log.append(f"== {job.name}: {step.get('name')} ({done.returncode})\n"
                        f"{done.stdout}{done.stderr}")
        found = dict(line.split("=", 1) for line in output_file.read_text().splitlines()
                     if "=" in line)
        found["outcome"] = "success" if done.returncode == 0 else "failure"
        found["stdout"], found["stderr"] = done.stdout, done.stderr
        found["seconds"] = f"{seconds:.3f}"
        found["cpu"] = f"{cpu:.3f}"
        return found

    def action(self, step: dict, workspace: Path, job: Job, day: str) -> dict[str, str]:
        """What the third-party actions the workflow uses would do here."""
        uses = step["uses"].split("@")[0]
        options = {k: self.expand(v, job, day) for k, v in step.get("with", {}).items()}
        outcome = "success"
        if uses in self.fail_actions:
            outcome = "failure"
        elif uses == "actions/upload-artifact":
            source = workspace / options["path"]
            if not source.exists():
                outcome = "failure"
            else:
                kept = self.root / "artifacts" / options["name"]
                shutil.rmtree(kept, ignore_errors=True)
                shutil.copytree(source, kept)
                self.artifacts[options["name"]] = kept
        elif uses == "actions/download-artifact":
            kept = self.artifacts.get(options["name"])
            if kept is None:
                outcome = "failure"
            else:
                shutil.copytree(kept, workspace / options["path"], dirs_exist_ok=True)
        elif uses == "actions/upload-pages-artifact":
            site = workspace / options["path"]
            if site.is_dir():
                self.artifacts["github-pages"] = site
            else:
                outcome = "failure"
        self.log.append(f"== {job.name}: {uses} ({outcome})")
        return {"outcome": outcome}

    def morning(self, day: str = "") -> tuple[Job, Job, Job]:
        """The digest job, the deploy job and the report job, as ``needs`` orders them."""
        self.jobs = {}
        self.artifacts = {}
        digest = self.run_job("digest", day)
        deploy = self.run_job("deploy", day)
        report = self.run_job("report", day)
        return digest, deploy, report

    @property
    def output(self) -> str:
        return "\n".join(self.log)


def _run(command: list[str], cwd: Path, env: dict[str, str],
         timeout: float = 900) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``command`` to its end; also the CPU seconds it and its children used (its
    own rusage, not the process-wide one: other jobs may run beside it)."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr,
                                   text=True)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        done = subprocess.CompletedProcess(command, process.returncode, stdout.read(),
                                           stderr.read())
    return done, usage.ru_utime + usage.ru_stime
