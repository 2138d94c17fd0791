"""The data branch: where an unattended deployment keeps its store and archive.

``papersift data restore`` puts the branch's newest commit into ``OUT`` (a partial clone;
a first run starts the branch), ``papersift data save`` commits ``OUT`` back and pushes
it. Both run git, name what failed in one line, and never leave the checkout half
written: a push that is refused leaves the branch at its last good commit, so the next
morning starts from the last good store. The reason a save failed is also written to
``$GITHUB_OUTPUT`` (``error=``) for the workflow's report job.

Kept bounded for years (README, "The data branch"):

- the store's old papers live in write-once archive shards (``archive/``, see
  ``papersift.store.retention``), which a morning neither fetches nor checks out (a
  partial clone without blobs, and a sparse checkout without ``archive/``): the restore
  costs what the store of a few weeks costs, whatever the history;
- the day pages of the site, and the Markdown and JSON of all but the newest
  ``RECENT_DAYS`` days, are left out of the checkout too (a day's page is written from
  its JSON; the site's archive, search and month pages from ``json/catalogue.json``): a
  morning checks out a month of digests, however long the archive. ``papersift data
  site`` adds the whole site before it is uploaded to GitHub Pages (whose upload is the
  whole site);
- history is kept in two chains of at most ``KEEP_MORNINGS`` mornings: when the branch
  reaches that length, its chain becomes ``<branch>-previous`` (replacing the one before)
  and the branch starts again from one commit holding the same files. Any of the last
  ``KEEP_MORNINGS`` mornings' stores can be restored from one of the two, and the packed
  branch holds two months of store versions, not the whole history. (Rewriting the chain
  instead would make every push send, and first download, the old mornings' files: a
  push names what is new by what the remote's tip already holds.)
- no file above ``MAX_FILE_BYTES`` is ever pushed (GitHub refuses files over 100 MB):
  such a file stops the save with one line naming it, before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from papersift.errors import PapersiftError

# Never committed: the store's lock files and the atomic writer's leftovers.
IGNORED = ("*.lock", ".*.tmp", ".*.bak", "*.sqlite-wal", "*.sqlite-shm")
KEEP_MORNINGS = 30
MAX_FILE_BYTES = 50 * 2**20
ARCHIVE = "archive"  # write-once shards: never restored, only added to
# Checked out: everything but the archive, the site's day pages and the older days'
# Markdown and JSON (a month of digests; the feeds read the newest ten days' JSON).
RECENT_DAYS = 31
# A reader of several ([profiles]) has the same files under profiles/NAME and site/NAME.
SPARSE = ("/*", f"!/{ARCHIVE}/", "!/json/*/????-??-??.json", "!/md/*/????-??-??.md",
          "!/site/*/????-??-??.html", "!/profiles/*/json/*/????-??-??.json",
          "!/profiles/*/md/*/????-??-??.md", "!/site/*/*/????-??-??.html")
DATED = re.compile(r"((?:profiles/[^/]+/)?(?:json|md))/[^/]+/(\d{4}-\d{2}-\d{2})\.(json|md)")
IGNORED_SUFFIXES = tuple(pattern.rsplit("*", 1)[-1] for pattern in IGNORED)  # ".lock", …
AUTHOR = ("-c", "user.name=papersift", "-c", "user.email=papersift@users.noreply.github.com")
# The store is rewritten whole each morning (compacted): a delta against yesterday's
# finds little, and zlib's fastest level costs ~10% more bytes for a third of the time
# (measured on a 36 MB store: 1.8 s instead of 3.4 s to stage and push). A file past
# bigFileThreshold is staged straight into a pack, which the push then sends as it is
# instead of compressing it a second time (a 42 MB store: push 1.6 s -> 1.1 s). The
# remote repacks with deltas as it maintains itself.
FAST = ("-c", "core.compression=1", "-c", "pack.window=0", "-c", "core.bigFileThreshold=8m")


class DataBranchError(PapersiftError):
    """The data branch could not be read or written; the message says which and why."""


@dataclass(frozen=True)
class DataBranch:
    """The branch ``name`` of the repository at ``repository`` (the workflow's checkout),
    checked out in ``out``."""

    repository: Path
    name: str
    out: Path
    remote: str = "origin"

    def restore(self) -> str:
        """Check out the branch's newest commit into ``out``; start it on a first run.

        ``out`` is a repository of its own (a partial clone of the branch alone), not a
        worktree of the workflow's checkout: that checkout is shallow (actions/checkout
        fetches one commit), and a shallow repository's fetches make the server pack
        every object afresh instead of sending it as stored (3.6 s instead of 1.0 s to
        restore a 40 MB store, growing with it)."""
        found = self._git("ls-remote", "--exit-code", "--heads", self.remote, self.name,
                          check=False)
        url = self._git("remote", "get-url", self.remote,
                        what=f"reading the address of {self.remote}").stdout.strip()
        if found.returncode == 0:
            # Not shallow: a chain holds at most KEEP_MORNINGS + 1 commits (save).
            self._git("clone", "--quiet", "--no-checkout", "--filter=blob:none",
                      "--single-branch", "--branch", self.name, "--origin", self.remote,
                      "--no-tags", url, str(self.out), auth=True,
                      what=f"fetching branch {self.name}")
            self._git("sparse-checkout", "set", "--no-cone", *SPARSE, *self._recent_pages(),
                      cwd=self.out, what=f"checking out branch {self.name} into {self.out}")
            self._git("checkout", "--quiet", cwd=self.out,
                      what=f"checking out branch {self.name} into {self.out}")
            return f"restored the store and archive from branch {self.name}"
        if found.returncode == 2:  # the remote answered: no such branch
            self._git("init", "--quiet", str(self.out), what=f"making {self.out}")
            self._git("remote", "add", self.remote, url, cwd=self.out,
                      what=f"making {self.out}")
            self._git("checkout", "--quiet", "--orphan", self.name, cwd=self.out,
                      what=f"starting branch {self.name}")
            return f"first run: branch {self.name} starts now"
        raise DataBranchError(f"cannot read branch {self.name} from {self.remote} "
                              f"({_last_line(found.stderr)}); nothing was run")

    def _recent_pages(self) -> list[str]:
        """Sparse-checkout lines for the dated files of the newest ``RECENT_DAYS`` days."""
        names = self._git("ls-tree", "-r", "--name-only", "HEAD", "--", "json", "md",
                          "profiles", cwd=self.out,
                          what=f"reading branch {self.name}").stdout.splitlines()
        dated = [(found[1], found[2], name) for name in names
                 if (found := DATED.fullmatch(name))]
        days: dict[str, set[str]] = {}  # per reader's folder: its days
        for folder, day, _ in dated:
            days.setdefault(folder.rsplit("/", 1)[0] if "/" in folder else "", set()).add(day)
        recent = {reader: set(sorted(found)[-RECENT_DAYS:]) for reader, found in days.items()}
        return [f"/{name}" for folder, day, name in dated
                if day in recent[folder.rsplit("/", 1)[0] if "/" in folder else ""]]

    def add_site(self) -> str:
        """Check out the whole ``site/`` (older days' pages included) for an upload."""
        sparse = self._git("config", "--bool", "core.sparseCheckout", cwd=self.out,
                           check=False).stdout.strip()
        if sparse != "true":  # a first run's checkout: everything is there
            return f"the whole site is in {self.out / 'site'}"
        self._git("sparse-checkout", "add", "/site/**", cwd=self.out,
                  what=f"checking out the whole site of branch {self.name}")
        return f"the whole site of branch {self.name} is in {self.out / 'site'}"

    def save(self, now: dt.datetime | None = None) -> str:
        """Commit everything in ``out`` and push it; ``DataBranchError`` says why not."""
        now = now or dt.datetime.now(dt.UTC)
        (self.out / ".gitignore").write_text("\n".join(IGNORED) + "\n", encoding="utf-8")
        self._check_sizes()
        base = self._git("rev-parse", "--verify", "--quiet", "HEAD", cwd=self.out,
                         check=False).stdout.strip()
        # --sparse: files written outside the sparse checkout (new archive shards, a
        # re-run older day's pages) are staged too; files not checked out stay as they are.
        self._git(*FAST, "add", "-A", "--sparse", "--", ".", cwd=self.out,
                  what="staging the store and archive")
        if self._git("diff", "--cached", "--quiet", cwd=self.out, check=False).returncode == 0:
            return "nothing new to save"
        message = f"papersift run of {now:%Y-%m-%dT%H:%MZ}"
        self._git(*AUTHOR, "commit", "--quiet", "-m", message, cwd=self.out,
                  what="committing the store and archive")
        refs = [f"HEAD:refs/heads/{self.name}"]
        chain = len(self._git("rev-list", "HEAD", cwd=self.out,
                              what="reading the branch's history").stdout.split())
        if base and chain > KEEP_MORNINGS:  # the chain so far becomes the previous one
            fresh = self._git(*AUTHOR, "commit-tree", "HEAD^{tree}", "-m",
                              f"{message}\n\nThe {KEEP_MORNINGS} mornings before this one are "
                              f"on branch {self.name}-previous.", cwd=self.out,
                              what="starting a new chain").stdout.strip()
            refs = [f"{fresh}:refs/heads/{self.name}",
                    f"+{base}:refs/heads/{self.name}-previous"]
        lease = [f"--force-with-lease=refs/heads/{self.name}:{base}"] if base else []
        self._git(*FAST, "push", "--quiet", "--atomic", *lease, self.remote, *refs,
                  cwd=self.out, what=f"pushing branch {self.name}")
        return f"saved to branch {self.name}"

    def _check_sizes(self) -> None:
        """No file the save would push is over ``MAX_FILE_BYTES``."""
        for path in self.out.rglob("*"):
            if ".git" in path.relative_to(self.out).parts[:1] or not path.is_file():
                continue
            size = path.stat().st_size
            if size > MAX_FILE_BYTES and not path.name.endswith(IGNORED_SUFFIXES):
                raise DataBranchError(
                    f"{path}: {size / 2**20:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB "
                    "papersift pushes (GitHub refuses files over 100 MB); nothing was saved")

    @functools.cached_property
    def _credentials(self) -> dict[str, str]:
        """The checkout's own http/url settings (actions/checkout keeps the token there)
        as environment configuration for the commands in ``out``: never written into
        ``out``, never on a command line."""
        found = subprocess.run(["git", "config", "--local", "--includes", "--get-regexp",
                                r"^(http|url)\."], cwd=self.repository, capture_output=True,
                               text=True, timeout=60, check=False)
        entries = [line.split(" ", 1) for line in found.stdout.splitlines() if " " in line]
        start = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)
        env = {"GIT_CONFIG_COUNT": str(start + len(entries))}
        for number, (key, value) in enumerate(entries, start=start):
            env[f"GIT_CONFIG_KEY_{number}"], env[f"GIT_CONFIG_VALUE_{number}"] = key, value
        return env

    def _git(self, *args: str, cwd: Path | None = None, check: bool = True,
             what: str = "", auth: bool = False) -> subprocess.CompletedProcess[str]:
        """``git args`` in ``cwd`` (the checkout by default); commands in ``out`` (or
        with ``auth``) carry the checkout's credentials."""
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        if auth or cwd == self.out:
            env.update(self._credentials)
        try:
            done = subprocess.run(["git", *args], cwd=cwd or self.repository,
                                  capture_output=True, text=True, timeout=1800, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DataBranchError(f"{what or 'git'}: {exc}") from None
        if check and done.returncode != 0:
            raise DataBranchError(f"{what or 'git ' + args[0]} failed: "
                                  f"{_refusal(done.stderr)}")
        return done


def _refusal(stderr: str) -> str:
    """The lines of git's answer that say why (a hook's or the remote's own words)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = [line for line in lines if line.startswith(("remote:", "error:", "fatal:", "!"))]
    return " ".join((said or lines)[-4:]) or "no reason given"


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no answer"


def report_to_workflow(key: str, value: str) -> None:
    """``key=value`` into ``$GITHUB_OUTPUT`` when running under GitHub Actions."""
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as output:
            output.write(f"{key}={' '.join(value.split())}\n")
