"""Each reader's day finished here or on a real Ray cluster (a head on 127.0.0.1): the
same bytes either way, and whatever the process's hash seed."""

from __future__ import annotations

import datetime as dt
import filecmp
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import write_project
from papersift.config import Secrets, load_config
from papersift.pipeline import run_all

APRIL_14 = dt.date(2026, 4, 14)
READERS = """
[profiles.ada]
interests = "interests.md"
[profiles.ben]
interests = "ben.md"
relevance_cutoff = 7
[profiles.cy]
interests = "cy.md"
"""
BEN = """# Robots
1. Robot learning
   - Relevant: robot manipulation, sim-to-real transfer, legged locomotion, grasping.
"""
CY = """I work on graph neural networks and message passing, and on mechanistic
interpretability (sparse autoencoders, circuits). I skip medical applications.
"""
EPOCH = "1776200000"  # what every output says it was made at


def project(folder: Path, arxiv, store: Path, extra: str = "") -> Path:
    (folder / "out").mkdir(parents=True)
    shutil.copy(store, folder / "out" / "papersift.sqlite")
    (folder / "ben.md").write_text(BEN)
    (folder / "cy.md").write_text(CY)
    return write_project(folder, arxiv=arxiv, extra=READERS + extra)


def outputs(folder: Path) -> dict[str, Path]:
    """Every file a reader sees (not the store)."""
    out = folder / "out"
    return {str(p.relative_to(out)): p for p in sorted(out.rglob("*"))
            if p.is_file() and "sqlite" not in p.name and not p.name.endswith(".lock")}


def assert_same_bytes(first: Path, second: Path) -> None:
    one, two = outputs(first), outputs(second)
    assert one.keys() == two.keys()
    differing = [name for name in one if not filecmp.cmp(one[name], two[name], shallow=False)]
    assert not differing, differing[:5]
    assert any(name.endswith("2026-04-14.json") for name in one)


def test_the_same_day_writes_the_same_bytes_whatever_the_hash_seed(
        tmp_path, arxiv, embedded_store):
    """Two processes with different hash seeds (as two mornings, or two Ray workers):
    once a comment listed a phrase's words in the order of a set."""
    for seed in ("1", "2"):
        config = project(tmp_path / seed, arxiv, embedded_store,
                         '[scoring]\nscorer = "local"\n')
        done = subprocess.run(
            [sys.executable, "-m", "papersift", "run", "-q", "--no-push", "--config",
             str(config), "--date", "2026-04-14"],
            env={**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": EPOCH},
            capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    assert_same_bytes(tmp_path / "1", tmp_path / "2")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def ray_head(tmp_path_factory, monkeypatch):
    """A real Ray head on 127.0.0.1 (two CPUs) with Ray's token authentication (a
    cluster without it runs anyone's code), stopped after the test; the driver (this
    process) holds the same token, as a deployment's would."""
    home = tmp_path_factory.mktemp("home")  # Ray keeps a token in ~/.ray: not the user's
    auth = {"HOME": str(home), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": os.urandom(16).hex(),
            "RAY_USAGE_STATS_ENABLED": "0"}
    for name, value in auth.items():
        monkeypatch.setenv(name, value)
    pytest.importorskip("ray")
    port = free_port()
    head = subprocess.Popen(
        [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block",
         f"--port={port}", "--node-ip-address=127.0.0.1", "--include-dashboard=false",
         "--num-cpus=2", "--disable-usage-stats",
         f"--temp-dir={tmp_path_factory.mktemp('ray')}"],
        env={**os.environ, **auth}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.5)
    else:
        head.kill()
        pytest.fail("the Ray head did not start")
    yield f"127.0.0.1:{port}"
    head.terminate()
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        head.kill()


def test_readers_finished_on_ray_get_the_same_digests_as_here(
        tmp_path, arxiv, embedded_store, ray_head, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    local = project(tmp_path / "local", arxiv, embedded_store, '[scoring]\nscorer = "local"\n')
    here = run_all(load_config(local), day=APRIL_14, secrets=Secrets(None, None, None))
    cluster = project(tmp_path / "ray", arxiv, embedded_store,
                      f'[scoring]\nscorer = "local"\n[cluster]\nengine = "ray"\n'
                      f'address = "{ray_head}"\nworkers = 2\n')
    there = run_all(load_config(cluster), day=APRIL_14, secrets=Secrets(None, None, None))
    assert list(there) == list(here) == ["ada", "ben", "cy"]
    assert all(result.digest.selected for result in there.values())
    assert_same_bytes(tmp_path / "local", tmp_path / "ray")


def test_a_day_scores_the_same_on_the_morning_it_is_embedded_as_later(
        tmp_path, arxiv, embedded_store, monkeypatch):
    """A fresh store embeds the day; another already holds its embeddings (kept as
    int8): once the morning that embedded a paper scored it with the unrounded vector,
    and the two disagreed at the cutoffs."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    # a reader who sees every paper: each paper's scores are in the digest
    everything = ('[profiles.all]\ninterests = "cy.md"\nrelevance_cutoff = 1\n'
                  'novelty_cutoff = 1\n[scoring]\nscorer = "local"\n')
    for name in ("fresh", "embedded"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "ben.md").write_text(BEN)
        (folder / "cy.md").write_text(CY)
        if name == "embedded":
            (folder / "out").mkdir()
            shutil.copy(embedded_store, folder / "out" / "papersift.sqlite")
        config = write_project(folder, arxiv=arxiv, extra=READERS + everything)
        run_all(load_config(config), day=APRIL_14, secrets=Secrets(None, None, None))
    assert_same_bytes(tmp_path / "fresh", tmp_path / "embedded")
