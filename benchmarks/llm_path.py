"""The LLM path against the reference as it really runs: wall-clock, requests, tokens, cost.

    python benchmarks/llm_path.py --days DIR --criteria FILE --train-days DIR

Both strategies talk to one scripted OpenAI-compatible server on 127.0.0.1 that answers
as the reference's model did on these days (its picks 9/9, every other paper 3/4, with
comments of ``--comment-chars`` for both) and takes, per request,

    base + prompt_tokens / prefill_rate + completion_tokens / decode_rate  seconds

of what it actually receives and returns (tokens = characters / 4), sleeping
``--time-scale`` of that. The LLM phase of each run is scaled back by 1 / time-scale;
papersift's local work (model load, embedding, learning, prefilter, rendering) is timed
for real and added unscaled.

(a) reference: ``reference_model.py`` (its batch rule, prompt sizes, title pass, 9-field
    answers, one request at a time), validated first against the three recorded anchor
    days (``--anchors``); its title pass keeps everything (``keep_all``, the closer to its
    real use) unless ``--title-pass keep_half``;
(b) papersift's defaults with a key: the hybrid scorer, its cut calibrated on the labels
    of ``--train-days`` (a store primed as a few weeks of hybrid runs leave it), its
    batches in flight at once. ``--variant abstract_batch_size=24`` also runs (b) with
    other ``[llm]`` settings, to choose them.

Ratios are reference / papersift over all days together. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

import reference_model
from papersift.config import Secrets, parse_config
from papersift.pipeline import run
from papersift.scoring.interests import parse_interests
from papersift.scoring.local import LocalScorer, LocalSettings, make_encoder
from papersift.scoring.pricing import PriceTable
from papersift.scoring.relevance import paper_text
from papersift.sources.local import paper_from_record
from papersift.store import Store
from scripted_llm import Phase, ScriptedLLM, serve

MODEL = "gpt-5.4"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def main() -> None:
    args = arguments()
    day_files = sorted(args.days.resolve().glob("*.jsonl"))
    train_files = sorted(args.train_days.resolve().glob("*.jsonl")) if args.train_days else []
    if not args.train_days:  # a temporal split: the earlier half trains
        half = len(day_files) // 2
        train_files, day_files = day_files[:half], day_files[half:]
    if args.limit_days:
        day_files = day_files[:args.limit_days]
    llm = ScriptedLLM(args)
    server, url = serve(llm)

    print(f"latency model: {args.base_latency:g} s + prompt tokens / {args.prefill_rate:g} "
          f"+ completion tokens / {args.decode_rate:g} per request, slept at x"
          f"{args.time_scale:g}; comments of {args.comment_chars} characters")
    if (args.anchors / "reference-llm-runs.json").is_file():
        validated, lines = reference_model.check_anchors(
            args.anchors, args.anchor_days, lambda papers, picks, mode: replay_reference(
                llm, url, papers, picks, mode, sleep=False))
    else:
        validated, lines = False, [f"  no recorded runs in {args.anchors} (--anchors)"]
    print("reference model against the recorded runs:", "passed" if validated else "FAILED")
    print("\n".join(lines))

    primed = Path(tempfile.mkdtemp()) / "primed.sqlite"
    prime_store(primed, train_files)  # not timed: earlier days' work
    rows = []
    for day_file in day_files:
        papers = [json.loads(line) for line in day_file.read_text().splitlines() if line]
        picks = {p["arxiv_id"] for p in papers if p["selected"]}
        row = {"day": day_file.stem, "papers": len(papers), "picks": len(picks), "runs": {}}
        row["runs"]["reference"] = reference(llm, url, papers, picks, args.title_pass)
        for name, settings in args.variants.items():
            row["runs"][name] = papersift(llm, url, args, day_file, primed, picks, settings)
        rows.append(row)
        report_day(row)
    server.shutdown()
    summary = overall(rows, validated, args)
    print(json.dumps(summary))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=Path, required=True, help="labelled days to score")
    parser.add_argument("--criteria", type=Path, required=True, help="the interests text")
    parser.add_argument("--train-days", type=Path,
                        help="labelled days the store learns from (default: the earlier "
                             "half of --days)")
    parser.add_argument("--anchors", type=Path, default=SHARED / "anchors")
    parser.add_argument("--anchor-days", type=Path, default=SHARED / "data" / "labelled-days")
    parser.add_argument("--base-latency", type=float, default=1.0)
    parser.add_argument("--prefill-rate", type=float, default=5000.0, help="tokens/s")
    parser.add_argument("--decode-rate", type=float, default=60.0, help="tokens/s")
    parser.add_argument("--time-scale", type=float, default=0.05,
                        help="share of each modelled latency the server really sleeps")
    parser.add_argument("--comment-chars", type=int, default=140,
                        help="length of every scripted comment (the reference's real "
                             "comments on the labelled days average 142)")
    parser.add_argument("--title-pass", choices=("keep_all", "keep_half"), default="keep_all")
    parser.add_argument("--variant", action="append", default=[],
                        help="also run papersift with these [llm] settings, e.g. "
                             "'abstract_batch_size=24,max_abstract_chars=1500' (repeatable)")
    parser.add_argument("--limit-days", type=int, default=0, help="score only the first N")
    args = parser.parse_args()
    args.variants = {"papersift": {}}
    for variant in args.variant:
        args.variants[f"papersift[{variant}]"] = {
            key.strip(): json.loads(value) for key, value in
            (item.split("=", 1) for item in variant.split(","))}
    return args


# -- the two strategies ---------------------------------------------------------------------

def replay_reference(llm: ScriptedLLM, url: str, papers: list[dict], picks: set[str],
                     mode: str, *, sleep: bool) -> reference_model.ReferenceRun:
    """The modelled reference over one day, one request at a time."""
    llm.start(picks, title_mode=mode, sleep=sleep)
    with httpx.Client(timeout=None) as client:
        def send(system: str, user: str) -> tuple[str, int, int]:
            body = {"model": MODEL, "messages": [{"role": "system", "content": system},
                                                 {"role": "user", "content": user}]}
            answer = client.post(f"{url}/chat/completions", json=body).json()
            usage = answer["usage"]
            return (answer["choices"][0]["message"]["content"], usage["prompt_tokens"],
                    usage["completion_tokens"])

        return reference_model.run_reference(papers, send)


def reference(llm: ScriptedLLM, url: str, papers: list[dict], picks: set[str],
              mode: str) -> dict:
    """The reference's measured run: strictly sequential, so its wall-clock is the sum of
    its requests' modelled latencies."""
    result = replay_reference(llm, url, papers, picks, mode, sleep=True)
    phase = llm.finish()
    return measured(phase, phase.modelled_seconds, len(papers), picks,
                    picks & result.read_ids, len(result.read_ids))


def papersift(llm: ScriptedLLM, url: str, args: argparse.Namespace, day_file: Path,
              primed: Path, picks: set[str], settings: dict) -> dict:
    """papersift's defaults with a key (hybrid), from a copy of the primed store."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "interests.md").write_text(args.criteria.read_text())
        (folder / "out").mkdir()
        shutil.copyfile(primed, folder / "out" / "papersift.sqlite")
        llm_settings = {"base_url": url, "model": MODEL, "backoff_seconds": 0, **settings}
        config = parse_config({
            "arxiv": {"source": "file", "file": str(day_file)},
            "output": {"dir": str(folder / "out"), "formats": ["json"]},
            "prompts": {"interests": str(folder / "interests.md")},
            "scoring": {"scorer": "hybrid"}, "llm": llm_settings,
        }, folder / "papersift.toml")
        secrets = Secrets(openai_api_key="sk-benchmark", openai_base_url=None, s2_api_key=None)
        llm.start(picks, title_mode="keep_all", sleep=True)
        started = time.perf_counter()
        result = run(config, secrets=secrets)
        wall = time.perf_counter() - started
    phase = llm.finish()
    local_seconds = wall - phase.real_seconds
    row = measured(phase, local_seconds + phase.scaled_back(args.time_scale),
                   result.digest.total, picks, picks & phase.abstract_ids,
                   len(phase.abstract_ids))
    row["local_seconds"] = local_seconds
    row["selected"] = len(result.digest.selected)
    return row


def measured(phase: Phase, seconds: float, papers: int, picks: set[str],
             picks_read: set[str], papers_read: int) -> dict:
    prices = PriceTable()
    usage = prices.usage(MODEL, phase.prompt_tokens, phase.cached_tokens,
                         phase.completion_tokens)
    return {"seconds": seconds, "requests": phase.requests,
            "prompt_tokens": phase.prompt_tokens, "cached_tokens": phase.cached_tokens,
            "completion_tokens": phase.completion_tokens, "cost": usage.total_cost or 0.0,
            "max_in_flight": phase.max_in_flight,
            "share_to_llm": papers_read / max(1, papers), "papers_to_llm": papers_read,
            "picks_reaching_llm": len(picks_read) / max(1, len(picks)),
            "picks_read": len(picks_read)}


def prime_store(path: Path, train_files: list[Path]) -> None:
    """The store a user has after the training days' hybrid runs: the days' papers and
    announcements, the LLM's judgments as labels, and the papers' embeddings."""
    keys, texts = [], []
    with Store(path) as store:
        for train_file in train_files:
            records = [json.loads(line) for line in train_file.read_text().splitlines() if line]
            papers = [paper_from_record(record) for record in records]
            store.save_day(_day(train_file), papers)
            for record, paper in zip(records, papers, strict=True):
                store.add_label(paper.arxiv_id, "llm-history", bool(record["selected"]),
                                title=paper.title, abstract=paper.abstract)
                keys.append(paper.arxiv_id)
                texts.append(paper_text(paper.title, paper.abstract))
        settings = LocalSettings()
        scorer = LocalScorer(parse_interests(""), make_encoder(settings), store, settings)
        scorer.vectors(keys, texts)


def _day(path: Path) -> dt.date:
    return dt.date.fromisoformat(path.stem)


# -- reporting -------------------------------------------------------------------------------

def report_day(row: dict) -> None:
    print(f"\n{row['day']}: {row['papers']} papers, {row['picks']} picks")
    for name, m in row["runs"].items():
        local = f" (local {m['local_seconds']:.1f} s)" if "local_seconds" in m else ""
        print(f"  {name:<13} {m['seconds']:7.1f} s{local:<15} {m['requests']:3d} requests "
              f"(<= {m['max_in_flight']} in flight)  prompt {m['prompt_tokens']:7d}  "
              f"completion {m['completion_tokens']:6d}  ${m['cost']:.3f}  papers to LLM "
              f"{m['share_to_llm']:.0%}  picks {m['picks_read']}/{row['picks']}")
    ref = row["runs"]["reference"]
    for name, m in row["runs"].items():
        if name != "reference":
            print(f"  {name}: {ref['seconds'] / m['seconds']:.1f}x faster, "
                  f"{ref['prompt_tokens'] / m['prompt_tokens']:.2f}x fewer prompt tokens, "
                  f"{ref['cost'] / m['cost']:.2f}x cheaper")


def overall(rows: list[dict], validated: bool, args: argparse.Namespace) -> dict:
    def total(name: str, key: str) -> float:
        return sum(r["runs"][name][key] for r in rows)

    def ratio(key: str, name: str = "papersift") -> float:
        return total("reference", key) / total(name, key)

    picks = sum(r["picks"] for r in rows)
    papers = sum(r["papers"] for r in rows)
    if len(args.variants) > 1:
        print("\nvariants (all days): speedup, fewer prompt tokens, requests")
        for name in rows[0]["runs"]:
            if name.startswith("papersift"):
                print(f"  {name:<50} {ratio('seconds', name):5.2f}x  "
                      f"{ratio('prompt_tokens', name):5.2f}x  {total(name, 'requests'):5.0f}")
    slowest = min(r["runs"]["reference"]["seconds"] / r["runs"]["papersift"]["seconds"]
                  for r in rows)
    summary = {
        "speedup": round(ratio("seconds"), 2),
        "prompt_token_ratio": round(ratio("prompt_tokens"), 3),
        "picks_reaching_llm": round(total("papersift", "picks_read") / picks, 4),
        "share_to_llm": round(total("papersift", "papers_to_llm") / papers, 4),
        "reference_validated": validated,
        "completion_token_ratio": round(ratio("completion_tokens"), 3),
        "cost_ratio": round(ratio("cost"), 3),
        "cost_reference": round(total("reference", "cost"), 3),
        "cost_papersift": round(total("papersift", "cost"), 3),
        "seconds_reference": round(total("reference", "seconds"), 1),
        "seconds_papersift": round(total("papersift", "seconds"), 1),
        "local_seconds_papersift": round(total("papersift", "local_seconds"), 1),
        "slowest_day_speedup": round(slowest, 2),
        "days": len(rows), "papers": papers, "picks": picks,
        "title_pass": args.title_pass, "time_scale": args.time_scale,
        "latency_model": [args.base_latency, args.prefill_rate, args.decode_rate],
    }
    print(f"\noverall ({len(rows)} days, {papers} papers, {picks} picks; reference title "
          f"pass {args.title_pass}): {summary['speedup']}x faster, "
          f"{summary['prompt_token_ratio']}x fewer prompt tokens, "
          f"{summary['cost_ratio']}x cheaper (${summary['cost_reference']} vs "
          f"${summary['cost_papersift']} at {MODEL} prices); papersift sent "
          f"{summary['share_to_llm']:.0%} of the papers and {summary['picks_reaching_llm']:.1%} "
          f"of the picks to the LLM; reference model validated: {validated}")
    return summary


if __name__ == "__main__":
    sys.exit(main())
