"""The reader's verdicts in what is published. A paper the reader disliked leaves its
day's Markdown, page, feeds, search and month overview at the next publish; its day's
JSON keeps it, under ``removed_by_reader`` (nothing the run found is lost, and a later
Like brings it back). A liked paper is marked. Days are found by where each paper was
announced; only days whose JSON is at hand are rewritten."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from papersift.render import output_path
from papersift.render.record import digest_from_record
from papersift.text import load_json

log = logging.getLogger(__name__)

REMOVED = "removed_by_reader"
Verdicts = Mapping[dt.date, Mapping[str, bool]]  # day -> arXiv id -> liked


def with_verdicts(record: dict[str, Any], verdicts: Mapping[str, bool]
                  ) -> dict[str, Any] | None:
    """``record`` with the reader's ``verdicts`` applied, or ``None`` if they change
    nothing there."""
    papers = dict(record.get("papers") or {})
    removed = dict(record.get(REMOVED) or {})
    changed = False
    for key, liked in verdicts.items():
        if key in papers and not liked:
            removed[key] = {**papers.pop(key), "reader": "disliked"}
            changed = True
        elif key in papers and papers[key].get("reader") != "liked":
            papers[key] = {**papers[key], "reader": "liked"}
            changed = True
        elif key in removed and liked:
            papers[key] = {**removed.pop(key), "reader": "liked"}
            changed = True
    if not changed:
        return None
    ordered = sorted(papers.values(), key=lambda p: p.get("rank", 0))
    updated = {**record, "papers": {p["arxiv_id"]: p for p in ordered},
               "spotlight": [s for s in record.get("spotlight") or []
                             if isinstance(s, dict) and s.get("arxiv_id") in papers],
               "run": {**(record.get("run") or {}), "relevant": len(papers)}}
    if removed:
        updated[REMOVED] = removed
    else:
        updated.pop(REMOVED, None)
    return updated


def changed_days(out_dir: Path, verdicts: Verdicts,
                 pending: Mapping[dt.date, dict[str, Any]]) -> dict[dt.date, dict[str, Any]]:
    """The records that ``verdicts`` change: ``pending`` ones (being written) and those
    on disk under ``OUT/json``; a day whose JSON is not at hand is left as it is."""
    found = {}
    for day, day_verdicts in verdicts.items():
        record = pending.get(day)
        path = output_path(out_dir, "json", day)
        if record is None and path.is_file():
            try:
                record = load_json(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                continue  # the site's own check names a damaged day
        try:
            updated = with_verdicts(record, day_verdicts) if isinstance(record, dict) else None
            if updated:
                digest_from_record(updated)  # it can be written again
        except (TypeError, AttributeError, KeyError, ValueError) as exc:  # edited by hand
            log.warning("%s: the reader's verdicts were not applied (%r); the day is "
                        "published as it was", path, exc)
            continue
        if updated:
            found[day] = updated
    return found
