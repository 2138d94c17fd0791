"""Profiles: several readers served by one morning run, each with their own interests,
cutoffs, outputs and verdicts, from one fetch and one store."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3

import httpx
import pytest
from typer.testing import CliRunner

from conftest import serve_under, serving, write_project
from papersift.cli import app
from papersift.config import Secrets, load_config
from papersift.demo import bundled_days
from papersift.errors import ConfigError
from papersift.pipeline import run_all
from papersift.serve import make_server
from papersift.store import CachedScore, Store
from papersift.store.migrations import MIGRATIONS

APRIL_14 = dt.date(2026, 4, 14)
ROBOTICS = """# What I want to read

1. Robot learning
   - Relevant: robot manipulation, sim-to-real transfer, legged locomotion, grasping,
     vision-language-action models for robots.
"""
TWO_READERS = """
[profiles.ada]
interests = "interests.md"
[profiles.ben]
interests = "ben.md"
relevance_cutoff = 7
spotlight = 1
"""


def two_readers(tmp_path, arxiv, embedded_store):
    (tmp_path / "out").mkdir(parents=True, exist_ok=True)
    shutil.copy(embedded_store, tmp_path / "out" / "papersift.sqlite")
    config = write_project(tmp_path, arxiv=arxiv, extra=TWO_READERS)
    (tmp_path / "ben.md").write_text(ROBOTICS)
    return config


def picks(out, reader):
    record = json.loads((out / "profiles" / reader / "json" / "2026-04" /
                         "2026-04-14.json").read_text())
    return record


def test_one_run_serves_every_reader_from_one_fetch_and_one_store(
        tmp_path, arxiv, embedded_store):
    config = two_readers(tmp_path, arxiv, embedded_store)
    results = run_all(load_config(config), day=APRIL_14, secrets=Secrets(None, None, None))
    assert list(results) == ["ada", "ben"]
    out = tmp_path / "out"
    ada, ben = picks(out, "ada"), picks(out, "ben")
    # each reader's own interests and settings
    assert ada["papers"] and ben["papers"]
    assert set(ada["papers"]).isdisjoint(ben["papers"]) or \
        len(set(ada["papers"]) & set(ben["papers"])) < len(ben["papers"]) / 2
    top = list(ben["papers"].values())[:6]
    robots = [p for p in top if re.search(r"robot|manipulat|locomot|grasp|embodied",
                                          p["title"] + p["abstract"], re.I)]
    assert len(robots) >= 4, [p["title"] for p in top]
    assert ben["run"]["relevance_cutoff"] == 7 and ada["run"]["relevance_cutoff"] == 8
    assert len(ben["spotlight"]) <= 1
    # each reader's Markdown, JSON and site; one site with a page naming every reader
    for reader in ("ada", "ben"):
        assert (out / "profiles" / reader / "latest.md").is_file()
        page = (out / "site" / reader / "2026-04" / "2026-04-14.html").read_text()
        assert f'data-profile="{reader}"' in page
        assert 'href="../../ada/index.html"' in page and 'href="../../ben/index.html"' in page
    index = (out / "site" / "index.html").read_text()
    assert 'href="ada/index.html"' in index and 'href="ben/index.html"' in index
    assert not (out / "json").exists() and not (out / "md").exists()
    # one fetch (each page of arXiv's answer asked for once), one copy of each paper,
    # each embedded once
    assert arxiv.requests and len(set(arxiv.requests)) == len(arxiv.requests)
    with Store(out / "papersift.sqlite") as store:
        announced = store.db.execute("SELECT count(*) FROM announcements WHERE day = ?",
                                     (APRIL_14.isoformat(),)).fetchone()[0]
        unembedded = store.db.execute(
            "SELECT count(*) FROM announcements a LEFT JOIN embeddings e USING (arxiv_id)"
            " WHERE a.day = ? AND e.arxiv_id IS NULL", (APRIL_14.isoformat(),)).fetchone()[0]
        runs = store.runs(APRIL_14)
    assert announced == results["ada"].digest.total == results["ben"].digest.total
    assert unembedded == 0
    assert sorted(r["profile"] for r in runs) == ["ada", "ben"]


def test_a_profile_inherits_what_it_does_not_set(tmp_path, arxiv):
    config = write_project(tmp_path, arxiv=arxiv, extra=TWO_READERS +
                           "[selection]\nnovelty_cutoff = 5\n[summary]\nlanguage = \"German\"\n")
    whole = load_config(config)
    ben = whole.for_profile("ben")
    assert (ben.selection.relevance_cutoff, ben.selection.novelty_cutoff) == (7, 5)
    assert ben.selection.spotlight == 1 and ben.summary.language == "German"
    assert ben.prompts.interests.name == "ben.md"
    assert ben.out_dir == tmp_path / "out" / "profiles" / "ben"
    assert ben.store_path == whole.store_path and ben.site_dir == tmp_path / "out" / "site" / "ben"
    with pytest.raises(ConfigError, match="no profile 'zed' \\(profiles: ada, ben\\)"):
        whole.for_profile("zed")


def test_a_file_without_profiles_is_one_reader_as_before(tmp_path, arxiv):
    config = load_config(write_project(tmp_path, arxiv=arxiv))
    assert config.profile_names == ["default"]
    assert config.for_profile("default") is config
    assert config.site_dir == tmp_path / "out" / "site"


@pytest.mark.parametrize("name", ["Ada", "a b", "-ada", "x" * 41, "../up"])
def test_a_bad_profile_name_is_one_line_naming_it(tmp_path, arxiv, name):
    config = write_project(tmp_path, arxiv=arxiv)
    config.write_text(config.read_text() + f'\n[profiles."{name}"]\ninterests = "i.md"\n')
    with pytest.raises(ConfigError, match="is not a profile name"):
        load_config(config)


def test_verdicts_are_the_readers_own(tmp_path, arxiv):
    config = write_project(tmp_path, arxiv=arxiv, extra=TWO_READERS)
    runner = CliRunner()
    args = ["feedback", "2604.11111", "--like", "--config", str(config)]
    anyone = runner.invoke(app, args)
    assert anyone.exit_code == 2
    assert "2 profiles (ada, ben); say whose with --profile NAME" in anyone.output
    assert runner.invoke(app, [*args, "--profile", "ada"]).exit_code == 0
    assert runner.invoke(app, [*args[:2], "--dislike", *args[3:], "--profile", "ben"]
                         ).exit_code == 0
    store_path = tmp_path / "out" / "papersift.sqlite"
    with Store(store_path, profile="ada") as ada:
        assert ada.feedback_labels() == {"2604.11111": True}
        assert ada.for_profile("ben").feedback_labels() == {"2604.11111": False}
    # a file exported from the site names the reader of each click
    exported = tmp_path / "clicks.json"
    exported.write_text(json.dumps({"format": "papersift-feedback", "version": 1, "labels": [
        {"arxiv_id": "2604.22222", "like": True, "profile": "ben"},
        {"arxiv_id": "2604.33333", "like": True, "profile": "zed"}]}))
    refused = runner.invoke(app, ["feedback", "--import", str(exported), "--config",
                                  str(config)])
    assert refused.exit_code == 2
    assert "profile(s) zed, which the configuration does not have" in refused.output
    with Store(store_path, profile="ben") as ben:
        assert "2604.22222" not in ben.feedback_labels()  # nothing of the file imported


def test_each_reader_learns_from_the_llm_judgments_of_its_own_interests(tmp_path):
    with Store(tmp_path / "papersift.sqlite", profile="ada") as ada:
        ada.save_scores("m", "ada-interests", {"2604.00001": CachedScore(9, 8, "yes")})
        ben = ada.for_profile("ben")
        ben.save_scores("m", "ben-interests", {"2604.00002": CachedScore(3, 8, "no")})
        assert [r.key for r in ada.label_index(relevance_cutoff=8, novelty_cutoff=7)] == \
            ["2604.00001"]
        assert [r.key for r in ben.label_index(relevance_cutoff=8, novelty_cutoff=7)] == \
            ["2604.00002"]
        ben.learn_from("ada-interests")  # the same interests: ada's cache is ben's too
        assert {r.key for r in ben.label_index(relevance_cutoff=8, novelty_cutoff=7)} == \
            {"2604.00001", "2604.00002"}


def test_a_store_from_before_profiles_is_the_default_readers(tmp_path):
    path = tmp_path / "papersift.sqlite"
    with Store(path) as store:
        store.save_scores("m", "fp", {"2604.00001": CachedScore(9, 8, "yes")})
        store.add_label("2604.00002", "feedback", False)
        store.db.execute("DROP TABLE profile_fingerprints")  # as schema 6 had it
        store.db.execute("DROP TABLE learner_predictions")  # (schema 8's)
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE labels RENAME TO labels_old")
        db.execute("CREATE TABLE labels (key TEXT NOT NULL, source TEXT NOT NULL, label "
                   "INTEGER NOT NULL, title TEXT NOT NULL DEFAULT '', abstract TEXT NOT NULL "
                   "DEFAULT '', created_at TEXT NOT NULL, PRIMARY KEY (key, source))")
        db.execute("INSERT INTO labels SELECT key, source, label, title, abstract, created_at"
                   " FROM labels_old")
        db.execute("DROP TABLE labels_old")
        db.execute("ALTER TABLE runs DROP COLUMN profile")
        db.execute("PRAGMA user_version = 6")
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.feedback_labels() == {"2604.00002": False}
        assert {r.key: r.wanted for r in store.label_index(
            relevance_cutoff=8, novelty_cutoff=7)} == {"2604.00002": False, "2604.00001": True}


def test_init_profile_makes_the_one_reader_a_profile_and_keeps_its_archive(
        tmp_path, arxiv, embedded_store):
    (tmp_path / "out").mkdir(parents=True, exist_ok=True)
    shutil.copy(embedded_store, tmp_path / "out" / "papersift.sqlite")
    config = write_project(tmp_path, arxiv=arxiv)
    run_all(load_config(config), day=APRIL_14, secrets=Secrets(None, None, None))
    before = (tmp_path / "out" / "json" / "2026-04" / "2026-04-14.json").read_text()
    runner = CliRunner()
    added = runner.invoke(app, ["init", str(tmp_path), "--profile", "ben"])
    assert added.exit_code == 0, added.output
    assert (tmp_path / "interests-ben.md").is_file()
    whole = load_config(config)
    assert whole.profile_names == ["default", "ben"]
    assert whole.for_profile("default").prompts.interests.name == "interests.md"
    moved = tmp_path / "out" / "profiles" / "default" / "json" / "2026-04" / "2026-04-14.json"
    assert moved.read_text() == before and not (tmp_path / "out" / "json").exists()
    assert (tmp_path / "out" / "site" / "default" / "2026-04" / "2026-04-14.html").is_file()
    again = runner.invoke(app, ["init", str(tmp_path), "--profile", "ben"])
    assert again.exit_code == 2 and "profile 'ben' exists already" in again.output


def demo_readers(folder):
    """Two local-scorer readers of one bundled real day (the demo's 2026-04-20)."""
    folder.mkdir(exist_ok=True)
    (folder / "ada.md").write_text("1. Efficient inference\n   - Relevant: quantization, "
                                   "KV-cache, sparsity, pruning, kernels.\n")
    (folder / "ben.md").write_text("1. Agents\n   - Relevant: LLM agents, tool use, "
                                   "multi-agent systems.\n")
    path = next(p for p in bundled_days() if p.stem == "2026-04-20")
    (folder / "papersift.toml").write_text(
        f'[arxiv]\nsource = "file"\nfile = "{path}"\n[scoring]\nscorer = "local"\n'
        '[profiles.ada]\ninterests = "ada.md"\n[profiles.ben]\ninterests = "ben.md"\n')
    config = load_config(folder / "papersift.toml")
    run_all(config, secrets=Secrets(None, None, None))
    return config


def test_a_click_on_a_served_page_is_its_readers(tmp_path, page):
    config = demo_readers(tmp_path)
    ben_day = json.loads((tmp_path / "out/profiles/ben/json/2026-04/2026-04-20.json"
                          ).read_text())
    paper = next(iter(ben_day["papers"]))
    server = make_server(config.site_dir, config.store_path, port=0, readers=("ada", "ben"))
    with serving(server) as url:
        page.goto(url)  # the readers' index, then ben's site through it
        page.get_by_role("link", name="ben", exact=True).click()
        page.goto(url + "ben/2026-04/2026-04-20.html")
        group = page.locator(f'.verdict[data-id="{paper}"]')
        group.get_by_role("button", name="Like", exact=True).click()
        page.wait_for_function("el => el.textContent === 'saved'",
                               arg=group.locator(".saved").element_handle())
        # the other reader's page is one click away, and shows none of ben's verdicts
        page.locator("nav.readers").get_by_role("link", name="ada").click()
        # ada's index opens ada's latest digest (a meta refresh): wait for where it lands,
        # not for the index, which is gone as soon as the refresh runs
        page.wait_for_url(re.compile(r"/ada/\d{4}-\d{2}/\d{4}-\d{2}-\d{2}\.html$"))
        wrong = httpx.post(url + "zed/api/feedback", json={"arxiv_id": paper, "like": True})
        assert wrong.status_code == 404
    with Store(config.store_path, profile="ben") as ben:
        assert ben.feedback_labels() == {paper: True}
        assert ben.for_profile("ada").feedback_labels() == {}


def test_clicks_exported_from_a_static_site_name_their_reader(tmp_path, page):
    config = demo_readers(tmp_path)
    ada_day = json.loads((tmp_path / "out/profiles/ada/json/2026-04/2026-04-20.json"
                          ).read_text())
    paper = next(iter(ada_day["papers"]))
    with serve_under(config.site_dir, "/digest/") as url:  # a static host
        page.goto(url + "ada/2026-04/2026-04-20.html")
        page.locator(f'.verdict[data-id="{paper}"]').get_by_role(
            "button", name="Dislike", exact=True).click()
        bar = page.get_by_role("region", name="Your feedback")
        bar.wait_for()
        page.goto(url + "ben/2026-04/2026-04-20.html")  # ben's clicks are kept apart
        assert page.get_by_role("region", name="Your feedback").is_hidden()
        page.goto(url + "ada/2026-04/2026-04-20.html")
        with page.expect_download() as download:
            page.get_by_role("button", name="Export feedback").click()
        exported = tmp_path / "papersift-feedback.json"
        download.value.save_as(exported)
    assert json.loads(exported.read_text())["labels"][0]["profile"] == "ada"
    result = CliRunner().invoke(app, ["feedback", "--import", str(exported),
                                      "-c", str(tmp_path / "papersift.toml")])
    assert result.exit_code == 0, result.output
    with Store(config.store_path, profile="ada") as ada:
        assert ada.feedback_labels() == {paper: False}


def test_a_readers_digest_is_the_same_alone_and_beside_other_readers(
        tmp_path, arxiv, embedded_store):
    """The morning's work is shared between readers (the day read, embedded and matched
    once); what a reader gets must not depend on who else is configured."""
    together = two_readers(tmp_path / "together", arxiv, embedded_store)
    run_all(load_config(together), day=APRIL_14, secrets=Secrets(None, None, None))
    alone = tmp_path / "alone"
    (alone / "out").mkdir(parents=True)
    shutil.copy(embedded_store, alone / "out" / "papersift.sqlite")
    (alone / "ben.md").write_text(ROBOTICS)
    config = write_project(alone, arxiv=arxiv, extra=TWO_READERS.split("[profiles.ada]")[0]
                           + "[profiles.ben]" + TWO_READERS.split("[profiles.ben]")[1])
    run_all(load_config(config), day=APRIL_14, secrets=Secrets(None, None, None))
    beside, by_itself = picks(together.parent / "out", "ben"), picks(alone / "out", "ben")
    assert by_itself["papers"] and beside["papers"] == by_itself["papers"]
    assert beside["spotlight"] == by_itself["spotlight"]
