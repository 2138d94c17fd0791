"""The LLM path against the reference strategy: wall-clock, requests, prompt tokens.

    python benchmarks/llm_path.py --days ../shared/data/labelled-days \
        --criteria ../shared/data/criteria/paper_topics.txt [--train-days DIR] [--latency 8]

On labelled real days, against a scripted OpenAI-compatible server on 127.0.0.1 that
takes ``--latency`` seconds per request and scores as the reference did (its picks 9/9,
the rest 3/4; its title pass keeps every pick and a fixed pseudo-random ``--title-keep``
share of the other papers, by a hash of the id), runs both strategies through papersift's
own pipeline:

(a) reference: one request at a time, title pass (32 titles a request), then abstracts in
    batches of 16 (8 when few are left), no local prefilter. ``--reference-batching
    scale-up`` instead grows both batch sizes with the day as the reference's code does
    (size x ceil(log2(n / 32) + 1) for n > 32 papers);
(b) papersift's defaults: the hybrid scorer (the local ranking, learned from the training
    days' labels, sends its top 40% to the LLM, no title pass), 4 requests in flight.
    ``--batch-sizes 8,16,32`` runs (b) once per abstract batch size, to choose it.

Prompt tokens are counted the same way for both, by the server: characters of system +
user message / 4. The server reports the system prompt as cached from the second request
of a run on, as providers with prompt caching do. Without --train-days the days are split
in time as in benchmarks/quality.py. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from papersift.config import Secrets, parse_config
from papersift.pipeline import run
from papersift.scoring.interests import parse_interests
from papersift.scoring.local import LocalScorer, LocalSettings, make_encoder
from papersift.scoring.relevance import paper_text
from papersift.sources.local import paper_from_record
from papersift.store import Store

PAPER = re.compile(r'<paper id="([^"]+)">')


class ScriptedModel:
    """Counts what it is sent; answers like the reference model, after a delay."""

    def __init__(self, picks: set[str], latency: float, title_keep: float):
        self.picks, self.latency, self.title_keep = picks, latency, title_keep
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.prompt_tokens = 0
        self.abstract_ids: set[str] = set()
        self.systems_seen: set[str] = set()

    def answer(self, body: dict) -> dict:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        ids = PAPER.findall(user)
        time.sleep(self.latency)
        with self.lock:
            self.requests += 1
            prompt = (len(system) + len(user)) // 4
            self.prompt_tokens += prompt
            cached = len(system) // 4 if system in self.systems_seen else 0
            self.systems_seen.add(system)
            if "Titles of" in user:
                text = json.dumps([i for i in ids if not self.title_keeps(i)])
            else:
                self.abstract_ids.update(ids)
                text = "\n".join(json.dumps({
                    "ARXIVID": i, "COMMENT": "scripted",
                    "RELEVANCE": 9 if i in self.picks else 3,
                    "NOVELTY": 9 if i in self.picks else 4}) for i in ids)
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": len(text) // 4,
                          "total_tokens": prompt + len(text) // 4,
                          "prompt_tokens_details": {"cached_tokens": cached}}}


    def title_keeps(self, arxiv_id: str) -> bool:
        return arxiv_id in self.picks or _fraction(arxiv_id) < self.title_keep


def _fraction(arxiv_id: str) -> float:
    """A stable pseudo-random number in [0, 1) for an id."""
    return int(hashlib.sha256(arxiv_id.encode()).hexdigest()[:8], 16) / 16**8


def scale_up(base: int, count: int, threshold: int = 32) -> int:
    """The reference's adaptive batch size: larger batches for larger days."""
    return base if count <= threshold else base * math.ceil(math.log2(count / threshold) + 1)


def serve(model: ScriptedModel) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            payload = json.dumps(model.answer(body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def config_text(folder: Path, day_file: Path, url: str, llm: dict, scorer: str) -> dict:
    return {"arxiv": {"source": "file", "file": str(day_file)},
            "output": {"dir": str(folder / "out"), "formats": ["json"]},
            "prompts": {"interests": str(folder / "interests.md")},
            "selection": {"relevance_cutoff": 8, "novelty_cutoff": 8},
            "scoring": {"scorer": scorer},
            "llm": {"base_url": url, "model": "gpt-5.4", "backoff_seconds": 0, **llm}}


def strategies(args: argparse.Namespace, model: ScriptedModel, ids: list[str]
               ) -> dict[str, tuple[str, dict]]:
    """Name -> (scorer, llm settings) of each strategy measured on one day."""
    if args.reference_batching == "scale-up":
        surviving = sum(model.title_keeps(i) for i in ids)
        reference = {"title_batch_size": scale_up(32, len(ids)),
                     "abstract_batch_size": scale_up(16, surviving),
                     "adaptive_batch_size": False}
    else:
        reference = {"title_batch_size": 32, "abstract_batch_size": 16,
                     "adaptive_batch_size": True, "adaptive_threshold": 32}
    runs = {"reference": ("llm", {"concurrency": 1, "title_pass": True, **reference})}
    for size in args.batch_sizes:
        name = "papersift" if size == args.batch_sizes[0] else f"papersift/{size}"
        runs[name] = ("hybrid", {"abstract_batch_size": size} if size else {})
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=Path, required=True)
    parser.add_argument("--criteria", type=Path, required=True)
    parser.add_argument("--train-days", type=Path)
    parser.add_argument("--latency", type=float, default=8.0)
    parser.add_argument("--title-keep", type=float, default=0.5,
                        help="share of non-picks the scripted title pass keeps")
    parser.add_argument("--reference-batching", choices=("fixed", "scale-up"),
                        default="fixed")
    parser.add_argument("--batch-sizes", default="0",
                        help="papersift's abstract batch sizes to run, comma-separated "
                             "(0 = its default); the first one is reported as papersift")
    parser.add_argument("--limit-days", type=int, default=0, help="score only the first N")
    args = parser.parse_args()
    args.batch_sizes = [int(size) for size in args.batch_sizes.split(",")]

    day_files = sorted(args.days.resolve().glob("*.jsonl"))
    if args.train_days:
        train_files = sorted(args.train_days.resolve().glob("*.jsonl"))
    else:
        half = len(day_files) // 2
        train_files, day_files = day_files[:half], day_files[half:]
    if args.limit_days:
        day_files = day_files[:args.limit_days]
    secrets = Secrets(openai_api_key="sk-benchmark", openai_base_url=None, s2_api_key=None)
    primed = Path(tempfile.mkdtemp()) / "primed.sqlite"
    prime_store(primed, train_files)  # not timed: earlier days' work

    rows = []
    for day_file in day_files:
        records = [json.loads(line) for line in day_file.read_text().splitlines() if line]
        picks = {r["arxiv_id"] for r in records if r["selected"]}
        model = ScriptedModel(picks, args.latency, args.title_keep)
        server = serve(model)
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        row = {"day": day_file.stem, "papers": len(records), "picks": len(picks), "runs": {}}
        for name, (scorer, llm) in strategies(args, model,
                                              [r["arxiv_id"] for r in records]).items():
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                (folder / "interests.md").write_text(args.criteria.read_text())
                if scorer == "hybrid":
                    (folder / "out").mkdir()
                    shutil.copyfile(primed, folder / "out" / "papersift.sqlite")
                config = parse_config(config_text(folder, day_file, url, llm, scorer),
                                      folder / "papersift.toml")
                model.reset()
                started = time.perf_counter()
                result = run(config, secrets=secrets)
                row["runs"][name] = {
                    "seconds": time.perf_counter() - started,
                    "requests": model.requests,
                    "prompt_tokens": model.prompt_tokens,
                    "cached_tokens": result.run_usage.cached_tokens,
                    "picks_reaching_llm": len(picks & model.abstract_ids) / len(picks),
                    "selected": len(result.digest.selected),
                }
        server.shutdown()
        rows.append(row)
        report(row)

    def mean_ratio(key: str, name: str) -> float:
        return statistics.mean(r["runs"]["reference"][key] / r["runs"][name][key]
                               for r in rows)

    if len(args.batch_sizes) > 1:
        print("\nabstract batch size (mean over days): wall-clock speedup, prompt tokens "
              "fewer, requests")
        for name in rows[0]["runs"]:
            if name.startswith("papersift"):
                requests = statistics.mean(r["runs"][name]["requests"] for r in rows)
                print(f"  {name:<14} {mean_ratio('seconds', name):5.2f}x  "
                      f"{mean_ratio('prompt_tokens', name):5.2f}x  {requests:6.1f}")
    speedup = mean_ratio("seconds", "papersift")
    token_ratio = mean_ratio("prompt_tokens", "papersift")
    reaching = statistics.mean(r["runs"]["papersift"]["picks_reaching_llm"] for r in rows)
    cached = sum(r["runs"]["papersift"]["cached_tokens"] for r in rows) / sum(
        r["runs"]["papersift"]["prompt_tokens"] for r in rows)
    print(f"\noverall ({len(rows)} days, latency {args.latency} s, title pass keeps "
          f"{args.title_keep:.0%} of non-picks, reference batching {args.reference_batching})"
          f": speedup {speedup:.1f}x, prompt tokens {token_ratio:.1f}x fewer "
          f"({cached:.0%} of papersift's cached), picks reaching the LLM {reaching:.3f}")
    print(json.dumps({"speedup": round(speedup, 2), "prompt_token_ratio": round(token_ratio, 2),
                      "picks_reaching_llm": round(reaching, 4),
                      "cached_share_papersift": round(cached, 3),
                      "latency_seconds": args.latency, "title_keep": args.title_keep,
                      "reference_batching": args.reference_batching, "days": len(rows)}))


def prime_store(path: Path, train_files: list[Path]) -> None:
    """Earlier days' LLM judgments and embeddings, as a user's store holds them after a few
    weeks of hybrid runs (each day's run embedded that day's papers)."""
    keys, texts = [], []
    with Store(path) as store:
        for train_file in train_files:
            for line in train_file.read_text().splitlines():
                record = json.loads(line)
                paper = paper_from_record(record)
                store.add_label(paper.arxiv_id, "llm-history", bool(record["selected"]),
                                title=paper.title, abstract=paper.abstract)
                keys.append(paper.arxiv_id)
                texts.append(paper_text(paper.title, paper.abstract))
        settings = LocalSettings()
        scorer = LocalScorer(parse_interests(""), make_encoder(settings), store, settings)
        scorer.vectors(keys, texts)


def report(row: dict) -> None:
    runs = row["runs"]
    ref = runs["reference"]
    print(f"{row['day']}: {row['papers']} papers, {row['picks']} picks")
    for name, m in runs.items():
        print(f"  {name:<14} {m['seconds']:7.1f} s  {m['requests']:4d} requests  "
              f"{m['prompt_tokens']:7d} prompt tokens ({m['cached_tokens']} cached)  "
              f"picks reaching the LLM {m['picks_reaching_llm']:.3f}  selected {m['selected']}")
    for name, m in runs.items():
        if name != "reference":
            print(f"  ratio {name:<8} {ref['seconds'] / m['seconds']:7.1f}x  "
                  f"{ref['requests'] / max(1, m['requests']):4.1f}x requests  "
                  f"{ref['prompt_tokens'] / m['prompt_tokens']:.1f}x prompt tokens")


if __name__ == "__main__":
    sys.exit(main())
