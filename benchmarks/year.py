"""A year of mornings as the generated GitHub workflow plays them.

    python benchmarks/year.py --days 250 --papers-per-day 1000

Each morning runs the workflow `papersift init --github` writes, job by job and step by
step (``tests/workflow_runner.py``: its own restore / take clicks / run / save / status /
report shell, ``bash -eo pipefail``, ``$GITHUB_OUTPUT``), on a fresh checkout of a bare
git repository whose pre-receive hook refuses any file over 100 MB, as GitHub does. The
day's papers are real (``../shared/data/labelled-days``, cycled) under fresh ids and
re-dated to consecutive weekdays of a past year; the hybrid scorer judges with a scripted
OpenAI-compatible LLM on 127.0.0.1 that picks what the reference picked, and every
morning the reader likes two of the previous day's picks and dislikes one, through the
site's GitHub-issue route (a loopback GitHub API).

papersift's modules are compiled to bytecode first, as pip does when the workflow
installs it. What is compressed, and only this: the papers' embeddings (an ONNX encoder's work,
~20 s a morning at 1,000 papers on 2 cores, the same every morning) are computed once
per distinct real paper and put into the restored store before the run, as the encoder
would have; the LLM answers at once; the Pages deploy and artifact actions are stood in
for; and the mornings follow each other at once, two at a time: once a morning's save is
pushed (nothing after it changes what the next morning restores), its remaining steps
(checking out the whole site, the status) and its deploy and report jobs, which GitHub
runs on other runners, run beside the next morning's digest job once that one's store is
restored (and the remote's ``git gc``, GitHub's own upkeep, with them). So the restore is
timed as on a runner of its own, and a morning's wall and CPU time are its digest job's
steps' own (each step's rusage, not the benchmark's). Everything else is the real
pipeline: fetch (a file source), prefilter, learning, scoring, selection, rendering, the
site, compaction, git.

The last line is JSON: largest_pushed_file_mb, branch_pack_mb (after ``git gc``),
cpu_ratio_day250_day10 (the digest job's CPU of morning N / morning 10, N the last;
mornings 8-12 and the last five averaged), peak_rss_mb (the largest process of any
morning's jobs, sampled from /proc; the remote's gc is GitHub's, not counted), mornings_published,
store_mb (hot store and archive shards on the branch), restore_ratio (the restore step's
wall time, last mornings / mornings 8-12).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from scripted_llm import ScriptedLLM, serve  # noqa: E402
from workflow_runner import Actions, checkout, git, load_workflow  # noqa: E402

SHARED = HERE.parents[1] / "shared"
SIZE_HOOK = """#!/bin/sh
# GitHub's rule: no file above 100 MB (checked in one pass, as GitHub's own check is).
while read old new ref; do
  [ "$new" = 0000000000000000000000000000000000000000 ] && continue
  git rev-list --objects "$new" --not --all | cut -d' ' -f1 |
    git cat-file --batch-check='%(objecttype) %(objectsize) %(objectname)' |
    awk '$1 == "blob" && $2 > 104857600 { bad = 1
         print "error: GH001: Large files detected: " $3 " is over 100 MB" > "/dev/stderr" }
         END { exit bad }' || exit 1
done
"""


def main() -> None:
    args = arguments()
    if shutil.which("papersift") is None:  # the workflow's steps call the command
        sys.exit("year.py: `papersift` is not on PATH; activate the environment it is "
                 "installed in")
    compile_papersift()
    papers = real_papers(args.data)
    root = Path(args.work or tempfile.mkdtemp(prefix="papersift-year-"))
    root.mkdir(parents=True, exist_ok=True)
    llm = ScriptedLLM(argparse.Namespace(comment_chars=140, base_latency=0.0,
                                         prefill_rate=1e9, decode_rate=1e9, time_scale=0.0))
    server, url = serve(llm)
    github = GitHub()
    feed = root / "feed.jsonl"
    origin = make_origin(root, feed, url, args) if args.first == 1 else \
        resume_origin(root, url)
    remote = GitDaemon(root)
    workflow = load_workflow(checkout(origin, root / "look"))
    embeddings = EmbeddingCache(root / "embeddings.npz", papers)
    memory = PeakMemory(root / "runner-")
    days = weekdays(dt.date.fromisoformat(args.start), args.days)
    rows, picks = [], set()
    counters: dict[str, int] = {}
    later: threading.Thread | None = None
    try:
        for number, day in enumerate(days, start=1):
            batch = day_papers(papers, number, args.papers_per_day, day, counters)
            if number < args.first:  # played by the run --work continues
                picks |= {p["arxiv_id"] for p in batch if p["selected"]}
                continue
            feed.write_text("".join(json.dumps(p) + "\n" for p in batch))
            picks |= {p["arxiv_id"] for p in batch if p["selected"]}
            llm.start(picks, title_mode="keep_all", sleep=False)
            runner_root = root / f"runner-{number % 2}"  # the report job may still use the other
            shutil.rmtree(runner_root, ignore_errors=True)
            runner_root.mkdir()
            actions = Actions(workflow, origin, runner_root, {"OPENAI_API_KEY": "sk-year"},
                              runner_env={"GITHUB_API_URL": github.url, **remote.env},
                              event="workflow_dispatch",
                              before_step=injector(embeddings, batch, later))
            started = time.perf_counter()
            actions.jobs, actions.artifacts = {}, {}
            digest = actions.run_job("digest", day.isoformat(), until="save")
            wall = time.perf_counter() - started
            if later is not None:
                if later.ident is None:  # the digest job stopped before its restore ended
                    later.start()
                later.join()
            row = {"morning": number, "day": day.isoformat(), "wall_s": wall,
                   "restore_s": timed_step(actions, "restore"),
                   "run_s": timed_step(actions, "run"), "save_s": timed_step(actions, "save"),
                   "published": digest.steps.get("run", {}).get("code") == "0"}
            rows.append(row)
            github.click(batch, picks)
            # The rest of the digest job (the save is pushed: nothing after it changes
            # what the next morning restores) and the deploy and report jobs, which run
            # on other runners on GitHub: here beside the next morning's digest job (and
            # GitHub's own repacking with them).
            later = threading.Thread(target=finish_morning, args=(
                actions, day, row, origin, number, memory), daemon=True)
        if later is not None:
            later.start()
            later.join()
    finally:
        server.shutdown()
        github.server.shutdown()
        remote.stop()
    print(json.dumps(summary(rows, origin, root)))


def finish_morning(actions: Actions, day: dt.date, row: dict, origin: Path,
                   number: int, memory: PeakMemory) -> None:
    """The digest job's steps after the save, then the morning's deploy and report jobs;
    the morning counts as published when the run exited 0 and the report job found
    nothing failed."""
    started = time.perf_counter()
    actions.resume_job("digest", day.isoformat())
    row["wall_s"] += time.perf_counter() - started
    digest = actions.jobs["digest"].steps
    row["cpu_s"] = sum(float(found.get("cpu", 0)) for label, found in digest.items()
                       if " " in label)  # each step once: by its name, not its id
    actions.run_job("deploy", day.isoformat())
    report = actions.run_job("report", day.isoformat())
    row["peak_rss_mb"] = memory.take()
    verdict = report.steps.get("Say how the morning went", {})
    row["published"] = row["published"] and verdict.get("outcome") == "success"
    row["steps"] = step_seconds(actions)
    row["steps_cpu"] = step_seconds(actions, "cpu")
    print(json.dumps(row), flush=True)
    if not row["published"]:
        print(actions.output[-4000:], file=sys.stderr)
    if number % 25 == 0:  # as GitHub maintains its repositories (pushes arrive packed);
        # detached, so that its memory (git's, growing with the remote: 900 MB at morning
        # 100) is not counted as a morning's. More often, it took a core from the mornings.
        subprocess.run(["sh", "-c", "git gc --quiet >/dev/null 2>&1 &"], cwd=origin,
                       check=True)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=250, help="mornings to play")
    parser.add_argument("--papers-per-day", type=int, default=1000)
    parser.add_argument("--start", default="2025-10-06", help="the first morning (a Monday "
                        "in the past: papersift refuses days not yet announced)")
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--work", help="a folder to keep (default: a new temporary one)")
    parser.add_argument("--first", type=int, default=1, help="the first morning to play: "
                        "with --work of an earlier run, go on from where it stopped (to "
                        "measure late mornings again without the year before them)")
    return parser.parse_args()


# -- the days ----------------------------------------------------------------------------

def real_papers(data: Path) -> list[dict]:
    papers = []
    for day_file in sorted((data / "labelled-days").glob("*.jsonl")):
        for line in day_file.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                papers.append({k: record[k] for k in (
                    "arxiv_id", "title", "abstract", "authors", "categories",
                    "primary_category", "announce_type", "arxiv_comment", "selected")})
    return papers


def weekdays(start: dt.date, count: int) -> list[dt.date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def day_papers(papers: list[dict], number: int, count: int, day: dt.date,
               counters: dict[str, int]) -> list[dict]:
    """``count`` real papers, in order around the cycle, under fresh ids of the day's
    month, announced that day."""
    month = f"{day:%y%m}"
    batch = []
    for index in range(count):
        source = papers[((number - 1) * count + index) % len(papers)]
        counters[month] = counters.get(month, 0) + 1
        batch.append({**source, "arxiv_id": f"{month}.{counters[month]:05d}",
                      "source_id": source["arxiv_id"], "date": day.isoformat()})
    return batch


# -- the repository and the morning's extra step ---------------------------------------

def make_origin(root: Path, feed: Path, llm_url: str, args: argparse.Namespace) -> Path:
    origin = root / "origin.git"
    git("init", "--bare", "-q", str(origin), cwd=root)
    for setting in ("uploadpack.allowFilter", "uploadpack.allowAnySHA1InWant"):
        git("config", setting, "true", cwd=origin)
    git("config", "receive.unpackLimit", "1", cwd=origin)  # keep pushes packed, as GitHub
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(SIZE_HOOK)
    hook.chmod(0o755)
    source = root / "source"
    source.mkdir()
    subprocess.run([sys.executable, "-m", "papersift", "init", "--github", "--package",
                    "papersift @ git+https://github.com/ada/papersift@0123456789abcdef"],
                   cwd=source, check=True, capture_output=True)
    (source / "interests.md").write_text(
        (args.data / "criteria" / "paper_topics.txt").read_text())
    (source / "papersift.toml").write_text(
        f'[arxiv]\nsource = "file"\nfile = "{feed}"\n'
        '[scoring]\nscorer = "hybrid"\n'
        f'[llm]\nbase_url = "{llm_url}"\nmodel = "gpt-5.4"\nbackoff_seconds = 0\n'
        '[output]\nformats = ["md", "json", "site"]\n')
    git("init", "-q", cwd=source)
    git("add", "-A", cwd=source)
    git("commit", "-q", "-m", "papersift", cwd=source)
    git("push", "-q", str(origin), "HEAD:refs/heads/main", cwd=source)
    return origin


class GitDaemon:
    """The bare repository served as GitHub serves it: by a server of its own (``git
    daemon`` on 127.0.0.1), so that the remote's work (packing what a fetch asks for,
    taking in a push, its size hook) runs in the server's processes, not in the runner's
    steps, whose CPU time is the morning's. ``env`` routes the runner's git there."""

    def __init__(self, root: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
             "--informative-errors", f"--base-path={root}", "--listen=127.0.0.1",
             f"--port={port}", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):  # until it answers
            with socket.socket() as attempt:
                if attempt.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("git daemon did not start")
        start = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)
        self.env = {"GIT_CONFIG_COUNT": str(start + 1),
                    f"GIT_CONFIG_KEY_{start}": f"url.git://127.0.0.1:{port}/.insteadOf",
                    f"GIT_CONFIG_VALUE_{start}": root.as_uri() + "/"}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def resume_origin(root: Path, llm_url: str) -> Path:
    """The repository of an earlier run in ``root``, its config pointed at this run's
    LLM server and feed (the folder may have been copied)."""
    origin, source = root / "origin.git", root / "source"
    if not origin.is_dir() or not source.is_dir():
        sys.exit(f"year.py: --first needs the --work folder of an earlier run ({root})")
    config = source / "papersift.toml"
    text = re.sub(r'base_url = "[^"]*"', f'base_url = "{llm_url}"', config.read_text())
    config.write_text(re.sub(r'file = "[^"]*"', f'file = "{root / "feed.jsonl"}"', text))
    git("commit", "-q", "-am", "the LLM server of this run", cwd=source)
    git("push", "-q", str(origin), "HEAD:refs/heads/main", cwd=source)
    return origin


def compile_papersift() -> None:
    """papersift's modules compiled to bytecode once, as pip compiles an installed
    package (the workflow's install step): an editable install under
    PYTHONDONTWRITEBYTECODE would otherwise compile every module in every step (~0.4 s a
    process here), which no runner pays."""
    import compileall

    import papersift

    compileall.compile_dir(str(Path(papersift.__file__).parent), quiet=1)


class EmbeddingCache:
    """The encoder's vectors of each distinct real paper, computed once (see above)."""

    def __init__(self, path: Path, papers: list[dict]):
        import numpy as np

        from papersift.scoring.local import LocalSettings, make_encoder
        from papersift.scoring.relevance import paper_text

        self.settings = LocalSettings()
        encoder = make_encoder(self.settings)
        self.model = encoder.name
        from papersift.sources.local import paper_from_record

        texts = {p["arxiv_id"]: paper_text(paper.title, paper.abstract)
                 for p in papers for paper in [paper_from_record(p)]}
        if path.exists():
            stored = np.load(path)
            self.vectors = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
        else:
            keys = list(texts)
            vectors = np.vstack([encoder.encode([texts[k] for k in keys[i:i + 64]])
                                 for i in range(0, len(keys), 64)])
            np.savez(path, keys=np.array(keys), vectors=vectors)
            self.vectors = dict(zip(keys, vectors, strict=True))
        self.hashes = {key: hashlib.sha256(text.encode()).hexdigest()[:16]
                       for key, text in texts.items()}


def injector(cache: EmbeddingCache, batch: list[dict],
             previous: threading.Thread | None) -> Callable[[str, Path], None]:
    """Once the store is restored, the previous morning's deploy and report jobs start
    (on GitHub, other runners: here they share the two cores with this job's later
    steps, never with its restore); before "Run the day", the day's vectors go into the
    restored store, keyed as the scorer keys them (encoder name, text hash): the
    compressed part (see above)."""
    from papersift.store import Store

    def before(step: str, workspace: Path) -> None:
        if step == "pages" and previous is not None and previous.ident is None:
            previous.start()
        if step != "run":
            return
        with Store(workspace / "papersift-data" / "papersift.sqlite") as store:
            store.save_embeddings(cache.model, [
                (p["arxiv_id"], cache.hashes[p["source_id"]], cache.vectors[p["source_id"]])
                for p in batch])
    return before


# -- the reader's clicks, through GitHub issues ------------------------------------------

class GitHub:
    """A loopback GitHub REST API holding one open feedback issue at a time."""

    def __init__(self) -> None:
        self.issues: list[dict] = []
        github = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._send([i for i in github.issues if i["state"] == "open"])

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._send({}, 201)

            def do_PATCH(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                number = int(self.path.rstrip("/").split("/")[-1])
                if body.get("state") == "closed":
                    github.issues[number - 1]["state"] = "closed"
                self._send({})

            def _send(self, payload: object, status: int = 200) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def click(self, batch: list[dict], picks: set[str]) -> None:
        """The reader likes two of the day's picks and dislikes one other paper."""
        liked = [p["arxiv_id"] for p in batch if p["arxiv_id"] in picks][:2]
        disliked = [p["arxiv_id"] for p in batch if p["arxiv_id"] not in picks][:1]
        labels = [{"arxiv_id": i, "like": True} for i in liked] + \
                 [{"arxiv_id": i, "like": False} for i in disliked]
        body = json.dumps({"format": "papersift-feedback", "version": 1, "labels": labels})
        self.issues.append({"number": len(self.issues) + 1, "title": "papersift feedback",
                            "body": f"```json\n{body}\n```", "state": "open",
                            "author_association": "OWNER"})


# -- measuring --------------------------------------------------------------------------

class PeakMemory:
    """The largest resident size (VmHWM) of any process working in the runners' folders
    (the morning's papersift and git), sampled from /proc five times a second: a
    morning's jobs, not the remote's upkeep (its ``git gc``, GitHub's work)."""

    def __init__(self, prefix: Path) -> None:
        self.prefix, self.peak_kb = str(prefix), 0
        threading.Thread(target=self._sample, daemon=True).start()

    def take(self) -> float:
        """The peak since the last call, in MB."""
        peak, self.peak_kb = self.peak_kb, 0
        return peak / 1024

    def _sample(self) -> None:
        while True:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    if not os.readlink(f"/proc/{pid}/cwd").startswith(self.prefix):
                        continue
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                found = re.search(r"^VmHWM:\s+(\d+)", status, re.MULTILINE)
                if found:
                    self.peak_kb = max(self.peak_kb, int(found.group(1)))
            time.sleep(0.2)


def timed_step(actions: Actions, step: str) -> float:
    """The wall time of a step, from the runner's log (bash's own ``time``)."""
    return float(actions.jobs["digest"].steps.get(step, {}).get("seconds", 0.0))


def step_seconds(actions: Actions, measure: str = "seconds") -> dict[str, float]:
    """Every shell step's wall time this morning (job/step: seconds), or with ``measure``
    "cpu" its CPU time (its processes')."""
    return {f"{job}/{label}": float(found[measure])
            for job, ran in actions.jobs.items() for label, found in ran.steps.items()
            if measure in found and " " in label}


def summary(rows: list[dict], origin: Path, root: Path) -> dict:
    while (origin / "gc.pid").exists():  # a detached repack still running
        time.sleep(1)
    git("gc", "-q", "--prune=now", cwd=origin)
    pack = sum(p.stat().st_size for p in (origin / "objects").rglob("*") if p.is_file())
    sizes = [int(line.split()[3]) for line in git(
        "ls-tree", "-r", "-l", "papersift-data", cwd=origin).splitlines()
        if line.split()[1] == "blob"]
    largest = largest_blob(origin)
    store = sum(int(line.split()[3]) for line in git(
        "ls-tree", "-r", "-l", "papersift-data", cwd=origin).splitlines()
        if re.search(r"(papersift\.sqlite|archive/.*\.sqlite)$", line))
    early = [r for r in rows if 8 <= r["morning"] <= 12] or rows[:1]
    late = rows[-5:]
    mean = lambda xs, key: sum(x[key] for x in xs) / max(1, len(xs))  # noqa: E731
    return {
        "largest_pushed_file_mb": round(largest / 2**20, 2),
        "branch_pack_mb": round(pack / 2**20, 1),
        "cpu_ratio_day250_day10": round(mean(late, "cpu_s") / max(1e-9, mean(early, "cpu_s")),
                                        2),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in rows), 1),
        "mornings_published": sum(r["published"] for r in rows),
        "store_mb": round(store / 2**20, 1),
        "restore_ratio": round(mean(late, "restore_s") / max(1e-9, mean(early, "restore_s")),
                               2),
        "mornings": len(rows), "cpu_s_early": round(mean(early, "cpu_s"), 1),
        "cpu_s_late": round(mean(late, "cpu_s"), 1),
        "tip_files": len(sizes), "work": str(root),
    }


def largest_blob(origin: Path) -> int:
    """The largest blob the remote holds (every pushed file, any morning)."""
    found = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch-check"],
                           cwd=origin, capture_output=True, text=True, check=True).stdout
    return max((int(size) for _, kind, size in (line.split() for line in found.splitlines())
                if kind == "blob"), default=0)


if __name__ == "__main__":
    main()
