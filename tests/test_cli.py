"""`papersift run` as a user runs it: a subprocess against the loopback servers."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import PICKS, SECRET_KEY, write_project


def papersift(*args: str, cwd: Path, env_extra: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "S2_API_KEY")}
    env.update({"COLUMNS": "200", **(env_extra or {})})
    return subprocess.run([sys.executable, "-m", "papersift", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


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
        "no arXiv announcements for 2026-04-18 (weekend, holiday or empty feed); nothing written"]
    assert not (tmp_path / "out" / "md").exists()


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
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra="[llm]\ntitle_pass = false\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_BASE_URL"}
    env["OPENAI_API_KEY"] = SECRET_KEY
    process = subprocess.Popen([sys.executable, "-m", "papersift", "run", "-q"], cwd=tmp_path,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(llm.requests) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
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
