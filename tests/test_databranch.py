"""The data branch over many mornings (real git, a bare remote that serves partial
clones as GitHub does): the last 30 mornings are kept and restorable, archive shards are
added but never fetched again, and no file over the limit is ever pushed."""

from __future__ import annotations

from pathlib import Path

import pytest

from papersift.deploy.branch import KEEP_MORNINGS, RECENT_DAYS, DataBranch, DataBranchError
from workflow_runner import checkout, git


@pytest.fixture
def origin(tmp_path) -> Path:
    origin = tmp_path / "origin.git"
    git("init", "--bare", "-q", str(origin), cwd=tmp_path)
    for setting in ("uploadpack.allowFilter", "uploadpack.allowAnySHA1InWant"):
        git("config", setting, "true", cwd=origin)
    source = tmp_path / "source"
    source.mkdir()
    (source / "papersift.toml").write_text("")
    git("init", "-q", cwd=source)
    git("add", "-A", cwd=source)
    git("commit", "-q", "-m", "config", cwd=source)
    git("push", "-q", str(origin), "HEAD:refs/heads/main", cwd=source)
    return origin


def morning(origin: Path, folder: Path, number: int) -> tuple[str, Path]:
    """A runner's morning: check out main, restore, change the store, add a shard, save."""
    repository = checkout(origin, folder)
    branch = DataBranch(repository, "papersift-data", repository / "papersift-data")
    said = branch.restore()
    out = branch.out
    (out / "papersift.sqlite").write_text(f"store of morning {number}\n" * 100)
    (out / "archive").mkdir(exist_ok=True)
    (out / "archive" / f"day-{number:03d}.sqlite").write_text(f"shard {number}\n" * 100)
    (out / "papersift.sqlite.lock").write_text("")
    return said + "; " + branch.save(), out


def stores(origin: Path, branch: str) -> list[str]:
    """The morning each commit of ``branch`` holds the store of, newest first."""
    return [git("show", f"{commit}:papersift.sqlite", cwd=origin).split("\n")[0]
            for commit in git("rev-list", branch, cwd=origin).split()]


def test_the_branch_keeps_thirty_mornings_and_never_fetches_the_archive(origin, tmp_path):
    for number in range(1, 36):
        said, out = morning(origin, tmp_path / f"m{number}", number)
        assert said.endswith("saved to branch papersift-data"), said
    assert not (out / "archive" / "day-001.sqlite").exists()  # not checked out
    tip = set(git("ls-tree", "-r", "--name-only", "papersift-data", cwd=origin).split())
    assert {f"archive/day-{n:03d}.sqlite" for n in range(1, 36)} <= tip  # none lost
    assert "papersift.sqlite.lock" not in tip
    # Two chains of at most 30 mornings: any of the last 30 mornings can be restored,
    # and history older than two chains is not kept.
    current, previous = stores(origin, "papersift-data"), stores(origin,
                                                                 "papersift-data-previous")
    assert len(current) <= KEEP_MORNINGS and len(previous) == KEEP_MORNINGS
    kept = current + previous
    assert kept[:KEEP_MORNINGS] == [f"store of morning {n}" for n in range(35, 5, -1)]
    assert "store of morning 1" not in current
    # A morning's restore fetched only what it checks out: no archive shard's blob.
    runner = tmp_path / "m35"
    shard = git("rev-parse", "papersift-data:archive/day-001.sqlite", cwd=origin).strip()
    missing = git("rev-list", "--objects", "--missing=print", "HEAD",
                  cwd=runner / "papersift-data")
    assert f"?{shard}" in missing


def test_a_file_over_the_limit_is_never_pushed(origin, tmp_path):
    morning(origin, tmp_path / "m1", 1)
    repository = checkout(origin, tmp_path / "m2")
    branch = DataBranch(repository, "papersift-data", repository / "papersift-data")
    branch.restore()
    before = git("rev-parse", "papersift-data", cwd=origin)
    with open(branch.out / "papersift.sqlite", "r+b") as store:
        store.truncate(51 * 2**20)  # sparse: 51 MB on paper
    with pytest.raises(DataBranchError, match=r"papersift.sqlite: 51 MB, over the 50 MB"):
        branch.save()
    assert git("rev-parse", "papersift-data", cwd=origin) == before


def test_a_morning_checks_out_a_month_of_pages_and_the_upload_the_whole_site(origin,
                                                                            tmp_path):
    days = [f"2025-{m:02d}-{d:02d}" for m in (9, 10) for d in range(1, 29)]  # 56 days
    repository = checkout(origin, tmp_path / "first")
    branch = DataBranch(repository, "papersift-data", repository / "papersift-data")
    branch.restore()
    for day in days:
        for kind, suffix in (("json", "json"), ("md", "md"), ("site", "html")):
            path = branch.out / kind / day[:7] / f"{day}.{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{kind} of {day}\n")
    (branch.out / "site" / "2025-09" / "index.html").write_text("month page\n")
    (branch.out / "json" / "catalogue.json").write_text("every day\n")
    branch.save()

    repository = checkout(origin, tmp_path / "second")
    branch = DataBranch(repository, "papersift-data", repository / "papersift-data")
    branch.restore()
    out = branch.out
    recent = days[-RECENT_DAYS:]
    for day in days:
        present = (out / "json" / day[:7] / f"{day}.json").exists()
        assert present == (day in recent), day
        assert (out / "md" / day[:7] / f"{day}.md").exists() == (day in recent), day
        assert not (out / "site" / day[:7] / f"{day}.html").exists(), day  # from its JSON
    assert (out / "json" / "catalogue.json").exists()
    assert (out / "site" / "2025-09" / "index.html").exists()
    # The morning writes a new day and rewrites an old day's page it did not check out.
    (out / "json" / "2025-10" / "2025-10-29.json").write_text("json of 2025-10-29\n")
    (out / "site" / "2025-09" / "2025-09-01.html").write_text("rebuilt page\n")
    assert branch.save() == "saved to branch papersift-data"
    tip = set(git("ls-tree", "-r", "--name-only", "papersift-data", cwd=origin).split())
    assert {f"json/{d[:7]}/{d}.json" for d in days} <= tip  # nothing left out is lost
    assert "json/2025-10/2025-10-29.json" in tip
    assert git("show", "papersift-data:site/2025-09/2025-09-01.html",
               cwd=origin) == "rebuilt page\n"
    # Before the upload, the whole site.
    assert "whole site" in branch.add_site()
    for day in days:
        assert (out / "site" / day[:7] / f"{day}.html").exists(), day


def test_each_reader_of_several_gets_a_month_of_their_own_days(origin, tmp_path):
    """[profiles]: each reader's files are under profiles/NAME and site/NAME; a morning
    checks out each reader's newest days (a reader who joined later has fewer)."""
    days = [f"2025-{m:02d}-{d:02d}" for m in (9, 10) for d in range(1, 29)]
    since = {"ada": days, "ben": days[-10:]}
    repository = checkout(origin, tmp_path / "first")
    branch = DataBranch(repository, "papersift-data", repository / "papersift-data")
    branch.restore()
    for reader, its_days in since.items():
        for day in its_days:
            for kind, suffix in (("json", "json"), ("md", "md")):
                path = branch.out / "profiles" / reader / kind / day[:7] / f"{day}.{suffix}"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"{kind} of {day}\n")
            page = branch.out / "site" / reader / day[:7] / f"{day}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(f"page of {day}\n")
        (branch.out / "site" / reader / "index.html").write_text("index\n")
    branch.save()

    repository = checkout(origin, tmp_path / "second")
    branch = DataBranch(repository, "papersift-data", repository / "papersift-data")
    branch.restore()
    for reader, its_days in since.items():
        folder = branch.out / "profiles" / reader
        held = sorted(p.stem for p in (folder / "json").rglob("????-??-??.json"))
        assert held == its_days[-RECENT_DAYS:], reader
        assert sorted(p.stem for p in (folder / "md").rglob("*.md")) == held
        assert not list((branch.out / "site" / reader).rglob("????-??-??.html"))
        assert (branch.out / "site" / reader / "index.html").exists()
    assert "whole site" in branch.add_site()
    assert len(list((branch.out / "site").rglob("????-??-??.html"))) == len(days) + 10


def test_the_store_comes_back_whole_into_a_repository_of_its_own(origin, tmp_path):
    """actions/checkout's checkout is shallow; the data branch is restored beside it, not
    inside it (a shallow repository's fetches make the server repack every object), with
    the checkout's credentials used but never written into the data folder."""
    morning(origin, tmp_path / "m1", 1)
    repository = checkout(origin, tmp_path / "m2")
    assert git("rev-parse", "--is-shallow-repository", cwd=repository).strip() == "true"
    token = "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX3NlY3JldA=="
    git("config", "http.https://github.com/.extraheader", token, cwd=repository)
    branch = DataBranch(repository, "papersift-data", repository / "papersift-data")
    branch.restore()
    out = branch.out
    assert (out / "papersift.sqlite").read_text().startswith("store of morning 1")
    assert git("rev-parse", "--is-shallow-repository", cwd=out).strip() == "false"
    assert git("rev-parse", "--git-dir", cwd=out).strip() == ".git"  # its own
    (out / "papersift.sqlite").write_text("store of morning 2\n")
    assert branch.save() == "saved to branch papersift-data"
    assert stores(origin, "papersift-data")[0] == "store of morning 2"
    assert "eC1hY2Nlc3M" not in (out / ".git" / "config").read_text()
