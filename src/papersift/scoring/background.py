"""Background papers for small days.

The local scorer's scale is relative: similarities are standardised over a population
of papers and scores handed out by rank within it. Over a whole day (hundreds of
papers) that population is the day itself. Over 8 candidates it is meaningless: no paper
can reach the top 12%, and the best of an off-topic day looks as good as the best of a
good one. A small day is therefore scored among background papers: the store's recent
papers (the reader's own categories), else a fixed sample of the real days bundled with
papersift. Background papers only set the scale; they are never scored or shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources

from papersift.store import Store
from papersift.text import load_json

MIN_POPULATION = 200  # a day smaller than this is scored among background papers


@dataclass(frozen=True)
class Background:
    keys: list[str]
    titles: list[str]
    abstracts: list[str]


def background_for(store: Store, day: dt.date | None, candidates: int,
                   exclude: set[str], history_days: int) -> Background:
    """Enough background papers to make a population of ``MIN_POPULATION``."""
    need = MIN_POPULATION - candidates
    if need <= 0:
        return Background([], [], [])
    rows: list[tuple[str, str, str]] = []
    if day is not None:
        rows = store.recent_papers(since=day - dt.timedelta(days=history_days), before=day,
                                   limit=need + len(exclude), exclude=exclude)[:need]
    if len(rows) < need:
        seen = exclude | {key for key, _, _ in rows}
        rows += [row for row in bundled_sample() if row[0] not in seen][:need - len(rows)]
    return Background([k for k, _, _ in rows], [t for _, t, _ in rows],
                      [a for _, _, a in rows])


def bundled_sample() -> list[tuple[str, str, str]]:
    """A fixed, spread-out sample of the bundled real days (cs.LG + cs.AI, April 2026)."""
    rows = []
    folder = resources.files("papersift").joinpath("demo")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".jsonl"):
            for line in entry.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = load_json(line)
                    rows.append((record["arxiv_id"], record["title"], record["abstract"]))
    rows.sort()
    step = max(1, len(rows) // MIN_POPULATION)
    return rows[::step][:MIN_POPULATION]
