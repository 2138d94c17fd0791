"""`papersift run` as a user runs it: a subprocess against the loopback servers."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PICKS, SECRET_KEY, write_project
from test_faults import picks_in_rank_order

PICKS_IN_ORDER = picks_in_rank_order()


def papersift(*args: str, cwd: Path, env_extra: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "S2_API_KEY")}
    env.update({"COLUMNS": "200", **(env_extra or {})})
    return subprocess.run([sys.executable, "-m", "papersift", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def run_in_background(tmp_path: Path, llm, *, until_requests: int = 0,
                      quiet: bool = True) -> subprocess.Popen[str]:
    """``papersift run`` as a separate process (its output captured), returned once the
    LLM server has seen ``until_requests`` requests."""
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_BASE_URL"}
    env.update({"OPENAI_API_KEY": SECRET_KEY, "COLUMNS": "200"})
    process = subprocess.Popen([sys.executable, "-m", "papersift", "run", *(["-q"] * quiet)],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(llm.requests) < until_requests and time.monotonic() < deadline:
        time.sleep(0.02)
    return process


def all_output_text(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*")
                     if p.is_file() and p.suffix in (".md", ".json"))


def test_run_for_a_past_day_prints_a_summary_and_never_leaks_the_key(tmp_path, arxiv, llm):
    arxiv.rss_day = "2026-04-18"  # the live feed is for a later day: the API is used
    write_project(tmp_path, arxiv=arxiv, llm=llm)
    result = papersift("run", "--date", "2026-04-14", "-v", cwd=tmp_path,
                       env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 0, result.stderr
    assert "663 fetched (arXiv API), 663 scanned" in result.stdout
    assert f"{len(PICKS)} selected" in result.stdout
    assert str(tmp_path / "out" / "md" / "2026-04" / "2026-04-14.md") in result.stdout
    assert llm.requests[0].headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert SECRET_KEY not in result.stdout + result.stderr
    assert SECRET_KEY not in all_output_text(tmp_path / "out")
    assert SECRET_KEY.encode() not in (tmp_path / "out" / "papersift.sqlite").read_bytes()

    sent = len(llm.requests)
    again = papersift("run", "--date", "2026-04-14", cwd=tmp_path,
                      env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert again.returncode == 0, again.stderr
    assert len(llm.requests) == sent  # the rerun sends nothing to the LLM
    assert re.search(r"This run\s+│?\s*0 requests", again.stdout)


def test_weekend_says_so_in_one_line_and_exits_0(tmp_path, arxiv, llm):
    arxiv.rss_day = "2026-04-18"
    write_project(tmp_path, arxiv=arxiv, llm=llm)
    result = papersift("run", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 0
    assert result.stdout.strip().splitlines() == [
        "No arXiv announcements for 2026-04-18 (Saturday): a weekend, a holiday or an empty "
        "feed. Nothing to read today."]
    assert not (tmp_path / "out" / "md").exists()
    status = json.loads((tmp_path / "out" / "status.json").read_text())
    assert (status["outcome"], status["day"]) == ("no_announcements", "2026-04-18")


def test_source_failure_is_one_line_and_keeps_the_previous_digest(tmp_path, arxiv, llm):
    config = write_project(tmp_path, arxiv=arxiv, llm=llm)
    first = papersift("run", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert first.returncode == 0, first.stderr
    digest = tmp_path / "out" / "md" / "2026-04" / "2026-04-14.md"
    before = digest.read_text()
    broken = config.read_text().replace(arxiv.rss_url, "http://127.0.0.1:9/rss")
    config.write_text(broken.replace("[arxiv]", "[arxiv]\nbackoff_seconds = 0"))
    failed = papersift("run", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot fetch the arXiv feed")
    assert "http://127.0.0.1:9/rss/cs.LG" in lines[0]
    assert digest.read_text() == before


def test_version_and_help(tmp_path):
    version = papersift("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("papersift ")
    helped = papersift("run", "--help", cwd=tmp_path)
    for option in ("--config", "--date", "--out", "--verbose", "--quiet"):
        assert option in helped.stdout


def test_a_killed_run_resumes_without_paying_twice(tmp_path, arxiv, llm):
    """SIGKILL mid-run: what was scored stays scored, the rerun sends only the rest."""
    llm.latency = 0.1
    write_project(tmp_path, arxiv=arxiv, llm=llm,
                  extra="[llm]\ntitle_pass = false\nconcurrency = 4\n")
    process = run_in_background(tmp_path, llm, until_requests=10)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert 10 <= len(llm.requests) < 42  # killed mid-run (663 papers need 42 batches)

    with sqlite3.connect(tmp_path / "out" / "papersift.sqlite") as db:
        saved = {row[0] for row in db.execute("SELECT arxiv_id FROM scores")}
    # Every batch answered before the kill was committed (up to 4 were still in flight).
    assert len(saved) >= (10 - 4) * 16
    before = len(llm.requests)
    llm.latency = 0.0
    again = papersift("run", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert again.returncode == 0, again.stderr
    resent = {i for r in llm.requests[before:] for i in r.ids}
    assert not resent & saved
    assert len(resent) + len(saved) == 663
    digest = (tmp_path / "out" / "md" / "2026-04" / "2026-04-14.md").read_text()
    assert f"Total relevant papers: {len(PICKS)}" in digest
    assert "Not scored" not in digest


# -- trust: secrets, visible failures, one line, one run at a time ----------------------

def everything_written(tmp_path: Path) -> bytes:
    """Every byte the run left behind: outputs, site, the store and its journals."""
    return b"\n".join(p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file())


def test_a_key_echoed_by_the_llm_endpoint_is_never_written_anywhere(tmp_path, arxiv, llm):
    llm.faults.extend(["echo_key"] * 10_000)  # "Invalid request for key sk-..."
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        "[llm]\ntitle_pass = false\nretries = 0\nabstract_batch_size = 200\n"))
    result = papersift("run", "-v", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 3, result.stderr
    assert llm.requests and SECRET_KEY in json.dumps(llm.requests[0].headers)
    record = json.loads((tmp_path / "out" / "json" / "2026-04" / "2026-04-14.json").read_text())
    reasons = {n["reason"] for n in record["not_scored"]}
    assert reasons == {"request failed: HTTP 400: Invalid request for key ***.; "
                       "unscored after 1 round"}  # the reason is kept, the key is not
    assert SECRET_KEY not in result.stdout + result.stderr
    assert SECRET_KEY.encode() not in everything_written(tmp_path)


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_a_rejected_key_is_one_line_and_the_morning_says_so(tmp_path, arxiv, llm, quiet):
    """A revoked key: one line (no traceback of the requests still in flight, even with
    -q, where cron mails all of stderr), exit 1, and status.json says what happened."""
    llm.reject_key = True
    write_project(tmp_path, arxiv=arxiv, llm=llm)
    result = papersift("run", *quiet, cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 1
    lines = [line for line in result.stderr.strip().splitlines()
             if "the RSS feed is dated" not in line]  # the fixture's feed is months old
    assert lines == ["error: the LLM API rejected the API key (HTTP 401)"]
    status = json.loads((tmp_path / "out" / "status.json").read_text())
    assert status["outcome"] == "upstream_failure"
    assert "rejected the API key (HTTP 401)" in status["message"]
    assert len(llm.requests) <= 32  # those in flight (llm.concurrency); none is retried


def test_an_endpoint_that_refuses_connections_fails_fast_naming_it(tmp_path, arxiv):
    """With the default retries: the first request's retries are the run's, every other
    request fails at once (it took 246 s when each request retried on its own)."""
    write_project(tmp_path, arxiv=arxiv)
    started = time.monotonic()
    result = papersift("run", "-q", cwd=tmp_path, env_extra={
        "OPENAI_API_KEY": SECRET_KEY, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert time.monotonic() - started < 30  # a loose bound: the issue's, not a benchmark
    assert result.returncode == 3
    [line] = result.stderr.strip().splitlines()
    assert "cannot connect to http://127.0.0.1:9/v1" in line


def test_a_token_in_the_endpoint_is_never_shown():
    from papersift.scoring.chat import shown_endpoint

    assert shown_endpoint("https://llm.example.org/v1/") == "https://llm.example.org/v1"
    assert shown_endpoint("https://u:pw@llm.example.org/v1") == "https://llm.example.org"
    assert shown_endpoint("https://gw.example.org/k/3f9a8b7c6d5e4f3a2b1c0d9e/v1") == \
        "https://gw.example.org"
    assert shown_endpoint("http://127.0.0.1:8080/v1?key=abc") == "http://127.0.0.1:8080"


@pytest.mark.parametrize("setting, date, says", [
    ('[scoring]\nscorer = "llm"\n', None, "no LLM configured: set OPENAI_API_KEY"),
    ('[arxiv]\nsource = "file"\nfile = "2026-04-20.jsonl"\n', "2026-04-21",
     "2026-04-20.jsonl: the file is for 2026-04-20 (its name), not 2026-04-21"),
])
def test_usage_errors_exit_2(tmp_path, arxiv, setting, date, says):
    shutil.copy(Path(papersift_package_folder()) / "demo" / "2026-04-20.jsonl", tmp_path)
    write_project(tmp_path, arxiv=arxiv, extra=setting)
    result = papersift("run", *(["--date", date] if date else []), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert says in line
    assert not (tmp_path / "out" / "status.json").exists()  # no morning was run


def papersift_package_folder() -> str:
    import papersift

    return str(Path(papersift.__file__).parent)


def test_a_run_that_scores_nothing_exits_3_and_says_so_even_when_quiet(tmp_path, arxiv):
    config = write_project(tmp_path, arxiv=arxiv, extra=(
        '[llm]\nbase_url = "http://127.0.0.1:9/v1"\ntitle_pass = false\nretries = 0\n'
        "request_attempts = 1\n"))
    assert "127.0.0.1:9" in config.read_text()
    result = papersift("run", "-q", cwd=tmp_path)
    assert result.returncode == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: the scorer could score none of the 663 papers it had to (request failed: "
        "cannot connect to http://127.0.0.1:9/v1 after 1 attempts")
    digest = (tmp_path / "out" / "md" / "2026-04" / "2026-04-14.md").read_text()
    assert "## Not scored (663)" in digest


def test_a_partly_scored_run_warns_even_when_quiet(tmp_path, arxiv, llm):
    llm.fail_ids = {PICKS_IN_ORDER[0]}
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        "[llm]\ntitle_pass = false\nretries = 0\nrequest_attempts = 1\n"))
    result = papersift("run", "-q", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 0
    assert result.stderr.startswith("warning: ") and "were not scored" in result.stderr


@pytest.mark.parametrize(("setting", "message"), [
    ('[arxiv]\nsource = "file"\n', "arxiv: source = 'file' needs file = 'PATH'"),
    ('[arxiv]\nsource = "file"\nfile = "nope.jsonl"\n', "nope.jsonl': no such file"),
    ("[llm]\nabstract_batch_size = true\n",
     "llm.abstract_batch_size = True: Input should be a valid integer"),
    ("[llm]\ntimeout_seconds = inf\n", "llm.timeout_seconds = inf: Input should be a finite"),
    ('[llm]\nbase_url = "not a url"\n', "llm.base_url = 'not a url': not an http(s) URL"),
    ('[arxiv]\nrss_url = "rss.arxiv.org/rss"\n', "arxiv.rss_url = 'rss.arxiv.org/rss': not"),
])
def test_configuration_errors_stop_before_the_model_loads(tmp_path, arxiv, setting, message):
    """The local model path is broken too: an error about it would mean it was loaded
    before the configuration was checked."""
    write_project(tmp_path, arxiv=arxiv, extra='[local]\nmodel = "/no/such/model"\n' + setting)
    result = papersift("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert not arxiv.requests


def test_a_future_date_is_refused_with_exit_code_2(tmp_path, arxiv):
    write_project(tmp_path, arxiv=arxiv)
    result = papersift("run", "--date", "2099-01-05", cwd=tmp_path)
    assert result.returncode == 2
    assert "2099-01-05: that day is in the future" in result.stderr
    assert not arxiv.requests and not (tmp_path / "out" / "md").exists()


def test_an_output_folder_that_cannot_be_written_is_one_line_before_anything_runs(
        tmp_path, arxiv, llm):
    (tmp_path / "blocked").write_text("a file where the output folder should be")
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        '[output]\ndir = "blocked/out"\nstore = "elsewhere/papersift.sqlite"\n'))
    result = papersift("run", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "output.dir = " in result.stderr
    assert "cannot write there" in result.stderr
    assert not llm.requests  # nothing paid for that could not be published


def test_a_damaged_store_is_one_line_naming_it(tmp_path, arxiv, llm):
    """Damaged data pages (the schema intact): the store opens, a query fails mid-run."""
    write_project(tmp_path, arxiv=arxiv, llm=llm)
    assert papersift("run", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY}
                     ).returncode == 0
    store = tmp_path / "out" / "papersift.sqlite"
    data = bytearray(store.read_bytes())
    middle = slice(len(data) // 4, 3 * len(data) // 4)
    data[middle] = b"\xff" * (middle.stop - middle.start)
    store.write_bytes(bytes(data))
    result = papersift("run", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if not line.startswith("WARNING")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {store}: "), errors
    assert "the store is damaged" in errors[0].removeprefix(f"error: {store}: ")


def test_two_runs_at_once_never_pay_for_a_paper_twice(tmp_path, arxiv, llm):
    """Both start on a brand-new store: one waits for the other, then finds every paper
    scored (no 'table already exists', no paper sent twice)."""
    llm.latency = 0.05
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra="[llm]\ntitle_pass = false\n")
    runs = [run_in_background(tmp_path, llm, quiet=False) for _ in range(2)]
    finished = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], finished
    sent = [i for r in llm.requests for i in r.ids]
    assert len(sent) == len(set(sent)) == 663
    for stdout, _ in finished:
        assert f"{len(PICKS)} selected" in stdout


def test_the_summary_shows_an_unknown_price_as_unknown(tmp_path, arxiv, llm):
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra='[llm]\nmodel = "my-local-model"\n')
    result = papersift("run", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 0, result.stderr
    this_run = next(line for line in result.stdout.splitlines() if "This run" in line)
    whole_day = next(line for line in result.stdout.splitlines() if "Whole day" in line)
    assert "unknown" in this_run and "unknown" in whole_day and "$0" not in this_run


def test_a_hundred_thousand_deep_json_source_is_one_line(tmp_path, arxiv):
    (tmp_path / "2026-04-14.json").write_text("[" * 100_000 + "]" * 100_000)
    write_project(tmp_path, arxiv=arxiv, extra=(
        '[arxiv]\nsource = "file"\nfile = "2026-04-14.json"\n[scoring]\nscorer = "local"\n'))
    result = papersift("run", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / '2026-04-14.json'}: not paper records: nested deeper than 64 "
        "levels"]


STOPPED = "error: interrupted; what was already scored is kept in the store"


def ended(setup: str, body: str) -> tuple[int, str, list[str]]:
    """How a Python process ends that runs ``body`` (after ``setup``) inside the CLI's
    ``exit_on_error``, as the CLI's app does: exit code, stdout, stderr's lines."""
    program = ("import os, signal, sys, time, typer, weakref\n"
               "from papersift.cli.output import exit_on_error\n"
               "from papersift.config import ConfigError\n"
               f"{setup}\n"
               "try:\n"
               "    with exit_on_error():\n"
               + "".join(f"        {line}\n" for line in body.splitlines()) +
               "except typer.Exit as stop:\n"
               "    sys.exit(stop.exit_code)\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            timeout=60)
    return result.returncode, result.stdout, result.stderr.strip().splitlines()


@pytest.mark.parametrize(("raised", "code", "line"), [
    ("BaseExceptionGroup('connecting', [KeyboardInterrupt()])", 130, STOPPED),
    ("ExceptionGroup('tasks', [ExceptionGroup('inner', [ConfigError('papersift.toml: bad')])])",
     2, "error: papersift.toml: bad"),
    ("ExceptionGroup('tasks', [ValueError('odd')])", 1,
     "error: unexpected ValueError: odd (please report it; -v shows where)"),
])
def test_a_failure_inside_a_task_group_ends_with_its_own_line(raised, code, line):
    """The HTTP stack connects inside an anyio task group, which wraps what arrives there
    (a stop's KeyboardInterrupt included) in an exception group: a stop at that moment
    printed a 90-line traceback and exited 1 instead of 130 (seen in CI)."""
    assert ended("", f"raise {raised}") == (code, "", [line])


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT])
def test_requests_cut_off_by_a_stop_leave_no_warning_before_the_one_line(sent):
    """A request in flight when the stop arrives is a coroutine never awaited; it is
    dropped while the stack unwinds, before the error line is written. Its warning must
    not reach the terminal (it did, once, in the stopped-run test below)."""
    setup = ("async def request(): pass\n"
             "def run():\n"
             "    in_flight = request()\n"
             "    try:\n"
             f"        os.kill(os.getpid(), {int(sent)}); time.sleep(30)\n"
             "    finally:\n"
             "        del in_flight  # dropped during the unwinding, as asyncio does")
    assert ended(setup, "run()") == (130, "", [STOPPED])


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_that_a_library_turns_into_its_own_error_is_still_a_stop(sent):
    """A stop that lands while pydantic builds a model's validator comes out as
    "SchemaError: … KeyboardInterrupt", with nothing chained: the run said "unexpected
    SchemaError" and exited 1 (seen in a full test run). Any library may do the same."""
    setup = ("def build_validator():\n"
             "    try:\n"
             f"        os.kill(os.getpid(), {int(sent)}); time.sleep(30)\n"
             "    except KeyboardInterrupt as stop:\n"
             "        raise RuntimeError(f'Error building validator: {stop!r}') from None")
    assert ended(setup, "build_validator()") == (130, "", [STOPPED])


def test_a_stop_that_lands_where_python_cannot_raise_is_not_lost():
    """A stop that arrives while the garbage collector runs a weakref callback raises
    there, where Python prints "Exception ignored" and goes on: the stopped run carried
    on to the end and exited 0 (seen in a full test run)."""
    setup = ("class Request: pass\n"
             "def collected(ref):\n"
             f"    os.kill(os.getpid(), {int(signal.SIGTERM)})\n"
             "    sum(range(1000))  # the handler runs here, inside the callback")
    body = ("request = Request(); ref = weakref.ref(request, collected)\n"
            "del request\n"
            "time.sleep(5)\n"
            "print('carried on')")
    assert ended(setup, body) == (130, "", [STOPPED])


def test_a_stopped_run_says_so_in_one_line_and_keeps_what_was_scored(tmp_path, arxiv, llm):
    """SIGTERM (systemd stop, a cancelled CI job) ends the run like ^C: one line, 130."""
    llm.latency = 0.2
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra="[llm]\ntitle_pass = false\n")
    process = run_in_background(tmp_path, llm, until_requests=4)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == [STOPPED]
    with sqlite3.connect(tmp_path / "out" / "papersift.sqlite") as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("failed",)]
