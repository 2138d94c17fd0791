"""How long the archive site takes to build: a whole year, then one new day.

    python benchmarks/site_build.py [--days ../shared/data/labelled-days] [--archive-days 365]

Makes an archive of ``--archive-days`` consecutive digests from real papers (the labelled
days' records, each digest holding that real day's picks), builds the whole site, then
publishes one more day and rebuilds incrementally, as ``papersift run`` does. Prints both
times side by side; the last line is one JSON object. Targets: full <= 10 s, one day <= 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from papersift.models import Candidate, Digest, Prompts, Scored, Selected, Usage
from papersift.publish import publish
from papersift.site import build_site
from papersift.sources.local import paper_from_record


def real_days(folder: Path) -> list[list[tuple[dict, Scored]]]:
    days = []
    for path in sorted(folder.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        picks = []
        for row in rows:
            if row["selected"]:
                scored = Scored(Candidate(paper_from_record(row)), row["relevance"] or 8,
                                row["novelty"] or 8, row.get("comment") or "", "gpt-5.4",
                                topic="")
                picks.append((row, scored))
        days.append(picks)
    return days


def digest(day: dt.date, picks: list[tuple[dict, Scored]], topics: list[str]) -> Digest:
    selected = []
    for index, (_, scored) in enumerate(picks):
        tagged = Scored(scored.candidate, scored.relevance, scored.novelty, scored.comment,
                        scored.scorer, topics[index % len(topics)])
        selected.append(Selected(tagged, (scored.relevance or 0) + (scored.novelty or 0)))
    return Digest(day=day, model="gpt-5.4", total=600, scanned=560, selected=tuple(selected),
                  not_scored=(), filtered_counts={}, usage=Usage(40, 55000, 0, 48000, 0.1, 0.5),
                  prompts=Prompts("SYSTEM " * 300, "Score these N papers.\n\n[PAPER LIST]"),
                  relevance_cutoff=8, novelty_cutoff=8, source="benchmark",
                  generated_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=Path, default=Path("../shared/data/labelled-days"))
    parser.add_argument("--archive-days", type=int, default=365)
    args = parser.parse_args()
    source = real_days(args.days)
    topics = ["Architecture", "Efficiency", "Representations", "Memory", "World models"]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        start = dt.date(2025, 1, 1)
        for offset in range(args.archive_days):
            day = start + dt.timedelta(days=offset)
            publish(digest(day, source[offset % len(source)], topics), out, ["json"])
        papers = sum(len(source[i % len(source)]) for i in range(args.archive_days))

        began = time.perf_counter()
        full = build_site(out)
        full_seconds = time.perf_counter() - began

        new_day = start + dt.timedelta(days=args.archive_days)
        began = time.perf_counter()
        publish(digest(new_day, source[0], topics), out, ["json", "site"])
        incremental_seconds = time.perf_counter() - began
        files = sum(1 for _ in (out / "site").rglob("*") if _.is_file())
        size = sum(p.stat().st_size for p in (out / "site").rglob("*") if p.is_file())
        assets = sum(p.stat().st_size for p in (out / "site" / "assets").glob("*.*")
                     if p.name != "search-index.js")

    print(f"archive: {full.days} days, {papers} selected papers, {files} files, "
          f"{size / 1e6:.1f} MB (own CSS+JS {assets / 1e3:.1f} kB)")
    print(f"{'full build':<28} {full_seconds:7.2f} s   (target <= 10 s)")
    print(f"{'one new day, incremental':<28} {incremental_seconds:7.2f} s   (target <= 1 s)")
    print(f"{'ratio full / incremental':<28} {full_seconds / incremental_seconds:7.1f} x")
    print(json.dumps({"days": full.days, "papers": papers,
                      "full_build_seconds": round(full_seconds, 3),
                      "incremental_seconds": round(incremental_seconds, 3),
                      "site_megabytes": round(size / 1e6, 2),
                      "assets_kilobytes": round(assets / 1e3, 1)}))


if __name__ == "__main__":
    sys.exit(main())
