"""Many readers from one morning run: what each profile costs, from 1 to 10 to 100 to 1,000.

    python benchmarks/profiles.py [--counts 1,10,100,1000] [--day 2026-04-14]

Profiles are made by recombining the topics of ``../shared/data/criteria`` (each topic's
"Keep" phrases, a few at a time) with generated variants of other areas, one to three
topics each, some with their own cutoffs. For each count, a fresh folder runs
``papersift run`` once on one real labelled day (a file source, the local scorer): the
day is fetched, stored and embedded once and every profile is scored, selected and
published. Printed per count: wall time, peak memory of the run, and the cost of each
profile beyond the first.

Then the LLM path (the hybrid, against ``scripted_llm.py``'s token-latency model): the
prompt tokens of 20 profiles against one (the mean of the 20, each run alone), and for
each of the 20 the share of the picks it gets alone that it still gets beside the others.

Then, when Ray is installed (``papersift[cluster]``), a Ray head on 127.0.0.1 with two
CPUs and the ``--ray-count`` profiles run again with ``[cluster] engine = "ray"``: its
wall time, and whether every output file is the same bytes as the local executor's
(every run says it was made at one SOURCE_DATE_EPOCH).

The last line is JSON: profiles, wall_s, peak_rss_mb (of the largest count),
per_profile_s, token_ratio_20_profiles, picks_reaching_llm_min, ray_same_digests (null
without Ray), ray_wall_s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scripted_llm import ScriptedLLM, serve  # noqa: E402

SHARED = HERE.parents[1] / "shared"
EPOCH = "1776200000"  # what every run's outputs say they were made at
# Areas the criteria do not cover, as a reader of another field would write them.
OTHER_AREAS = {
    "Robot learning": ["robot manipulation", "sim-to-real transfer", "legged locomotion",
                       "grasping", "vision-language-action models", "imitation learning"],
    "Graph learning": ["graph neural networks", "message passing", "graph transformers",
                       "molecular property prediction", "link prediction"],
    "Interpretability": ["mechanistic interpretability", "sparse autoencoders",
                         "circuit discovery", "probing", "attribution methods"],
    "Learning theory": ["generalization bounds", "PAC-Bayes", "sample complexity",
                        "online learning", "regret bounds", "kernel methods"],
    "Federated and private learning": ["federated learning", "differential privacy",
                                       "secure aggregation", "client drift"],
    "Causality": ["causal inference", "causal discovery", "counterfactuals",
                  "treatment effect estimation"],
    "Generative models": ["diffusion models", "flow matching", "score-based models",
                          "consistency models", "autoregressive image generation"],
    "Evaluation of language models": ["benchmark contamination", "LLM-as-a-judge",
                                      "evaluation methodology", "calibration"],
}


def main() -> None:
    args = arguments()
    counts = [int(c) for c in args.counts.split(",")]
    day_file = args.data / "labelled-days" / f"{args.day}.jsonl"
    topics = criteria_topics(args.data / "criteria" / "paper_topics.txt") | OTHER_AREAS
    root = Path(args.work or tempfile.mkdtemp(prefix="papersift-profiles-"))
    rows = []
    for count in counts:
        folder = root / f"local-{count}"
        profiles = make_profiles(topics, count, seed=args.seed)
        write_folder(folder, profiles, day_file, extra='[scoring]\nscorer = "local"\n')
        wall, peak = timed_run(folder, args.day)
        selected = [len(json.loads(p.read_text())["papers"]) for p in
                    (folder / "out" / "profiles").glob(f"*/json/*/{args.day}.json")]
        rows.append({"profiles": count, "wall_s": round(wall, 1),
                     "peak_rss_mb": round(peak, 1), "digests": len(selected),
                     "mean_selected": round(sum(selected) / max(1, len(selected)), 1)})
        print(json.dumps(rows[-1]), flush=True)
    one = rows[0]
    for row in rows[1:]:
        row["per_profile_s"] = round((row["wall_s"] - one["wall_s"]) /
                                     (row["profiles"] - one["profiles"]), 3)
    ray = on_ray(root, topics, day_file, args)
    tokens = llm_share(root, topics, day_file, args)
    last = rows[-1]
    print(json.dumps({"profiles": last["profiles"], "wall_s": last["wall_s"],
                      "peak_rss_mb": last["peak_rss_mb"],
                      "per_profile_s": {r["profiles"]: r.get("per_profile_s") for r in rows},
                      **tokens, **ray}))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="1,10,100,1000")
    parser.add_argument("--day", default="2026-04-14")
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", help="a folder to keep (default: a new temporary one)")
    parser.add_argument("--ray-count", type=int, default=100,
                        help="profiles run on Ray against the local executor")
    return parser.parse_args()


# -- the profiles ------------------------------------------------------------------------

def criteria_topics(path: Path) -> dict[str, list[str]]:
    """The criteria's numbered topics: name -> its "Keep" phrases."""
    topics: dict[str, list[str]] = {}
    name = None
    for line in path.read_text().splitlines():
        if found := re.match(r"\d+\.\s+(.+)", line.strip()):
            name = found.group(1)
        elif name and line.strip().startswith("- Keep:"):
            text = line.split(":", 1)[1]
            text = re.sub(r"\b(work that|such as|introduces or analyzes|and|or)\b", ",", text)
            topics[name] = [p.strip(" .") for p in text.split(",")
                            if 3 <= len(p.strip(" .")) <= 60]
    return topics


def make_profiles(topics: dict[str, list[str]], count: int, seed: int) -> list[str]:
    """``count`` interests files: one to three topics each, a few phrases of each."""
    chance = random.Random(seed)
    names = sorted(topics)
    made = []
    for _ in range(count):
        chosen = chance.sample(names, chance.randint(1, 3))
        lines = ["# What I want to read", ""]
        for number, name in enumerate(chosen, start=1):
            phrases = chance.sample(topics[name], min(len(topics[name]),
                                                      chance.randint(3, 6)))
            lines += [f"{number}. {name}", f"   - Relevant: {', '.join(phrases)}.", ""]
        made.append("\n".join(lines))
    return made


def write_folder(folder: Path, profiles: list[str], day_file: Path, extra: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tables = []
    for number, text in enumerate(profiles):
        (folder / f"interests-{number}.md").write_text(text)
        tables.append(f'[profiles.p{number:04d}]\ninterests = "interests-{number}.md"\n'
                      + ("relevance_cutoff = 7\n" if number % 3 == 2 else ""))
    (folder / "papersift.toml").write_text(
        f'[arxiv]\nsource = "file"\nfile = "{day_file}"\n{extra}'
        '[output]\nformats = ["md", "json", "site"]\n' + "\n".join(tables))


def timed_run(folder: Path, day: str, env: dict[str, str] | None = None
              ) -> tuple[float, float]:
    """``papersift run`` in ``folder``: its wall time and peak resident memory (MB)."""
    started = time.perf_counter()
    process = subprocess.Popen(["papersift", "run", "-q", "--no-push", "--date", day],
                               cwd=folder, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH,
                                                **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"profiles.py: papersift run failed in {folder}")
    return wall, usage.ru_maxrss / 1024


# -- the LLM path ------------------------------------------------------------------------

def llm_share(root: Path, topics: dict[str, list[str]], day_file: Path,
              args: argparse.Namespace) -> dict[str, float]:
    """Prompt tokens of 20 profiles against one (the hybrid, scripted LLM), and the least
    share of a profile's picks alone that it still gets beside the 19 others."""
    picks = {json.loads(line)["arxiv_id"] for line in day_file.read_text().splitlines()
             if line.strip() and json.loads(line)["selected"]}
    llm = ScriptedLLM(argparse.Namespace(comment_chars=140, base_latency=0.0,
                                         prefill_rate=1e9, decode_rate=1e9, time_scale=0.0))
    server, url = serve(llm)
    profiles = make_profiles(topics, 20, seed=args.seed + 1)
    extra = (f'[scoring]\nscorer = "hybrid"\n[llm]\nbase_url = "{url}"\nmodel = "gpt-5.4"\n'
             'backoff_seconds = 0\n')
    env = {"OPENAI_API_KEY": "sk-profiles"}
    try:
        alone, tokens_alone = {}, []
        for number in range(len(profiles)):  # each profile alone: its picks and tokens
            folder = root / f"llm-alone-{number}"
            write_folder(folder, [profiles[number]], day_file, extra)
            llm.start(picks, title_mode="keep_all", sleep=False)
            timed_run(folder, args.day, env)
            tokens_alone.append(llm.finish().prompt_tokens)
            alone[number] = _picked(folder, "p0000", args.day)
        folder = root / "llm-20"
        write_folder(folder, profiles, day_file, extra)
        llm.start(picks, title_mode="keep_all", sleep=False)
        timed_run(folder, args.day, env)
        together = llm.finish().prompt_tokens
    finally:
        server.shutdown()
    shares = [len(alone[n] & _picked(folder, f"p{n:04d}", args.day)) / max(1, len(alone[n]))
              for n in alone]
    mean_alone = sum(tokens_alone) / len(tokens_alone)
    print(f"LLM: one profile {mean_alone:.0f} prompt tokens, 20 profiles {together}",
          flush=True)
    return {"token_ratio_20_profiles": round(together / max(1.0, mean_alone), 2),
            "picks_reaching_llm_min": round(min(shares), 3)}


# -- Ray ---------------------------------------------------------------------------------

def on_ray(root: Path, topics: dict[str, list[str]], day_file: Path,
           args: argparse.Namespace) -> dict[str, object]:
    """``--ray-count`` profiles finished on a Ray head on 127.0.0.1 (two CPUs) and here:
    the Ray run's wall time and whether the two wrote the same bytes."""
    try:
        import ray  # noqa: F401 - only whether it is installed
    except ImportError:
        print("Ray: not installed (pip install 'papersift[cluster]'); skipped", flush=True)
        return {"ray_same_digests": None, "ray_wall_s": None}
    profiles = make_profiles(topics, args.ray_count, seed=args.seed)
    here, there = root / f"here-{args.ray_count}", root / f"ray-{args.ray_count}"
    write_folder(here, profiles, day_file, extra='[scoring]\nscorer = "local"\n')
    here_wall, _ = timed_run(here, args.day)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Ray's token authentication, its token in a home of the benchmark's own
    auth = {"HOME": str(root), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": os.urandom(16).hex(),
            "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.Popen(
        [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block",
         f"--port={port}", "--node-ip-address=127.0.0.1", "--include-dashboard=false",
         "--num-cpus=2", "--disable-usage-stats"],
        env={**os.environ, **auth}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(10)
        write_folder(there, profiles, day_file, extra=(
            f'[scoring]\nscorer = "local"\n[cluster]\nengine = "ray"\n'
            f'address = "127.0.0.1:{port}"\n'))
        wall, _ = timed_run(there, args.day, auth)
    finally:
        head.terminate()
        head.wait(timeout=60)
    same = _same_outputs(here / "out", there / "out")
    print(f"Ray: {args.ray_count} profiles in {wall:.1f} s (here {here_wall:.1f} s); "
          f"same bytes: {same}", flush=True)
    return {"ray_same_digests": same, "ray_wall_s": round(wall, 1)}


def _same_outputs(first: Path, second: Path) -> bool:
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and "sqlite" not in p.name and not p.name.endswith(".lock")}
    return files(first) == files(second)


def _picked(folder: Path, profile: str, day: str) -> set[str]:
    path = folder / "out" / "profiles" / profile / "json" / day[:7] / f"{day}.json"
    return set(json.loads(path.read_text())["papers"])


if __name__ == "__main__":
    main()
