"""``OUT/json/catalogue/YYYY-MM.json``: every published day's selected papers, in brief.

The site's archive, year and month pages and its search index cover every day ever
published, but only a day's own page needs the day's whole JSON digest. The catalogue
keeps what the others show (title, authors, TL;DR, topic, scores), so a checkout that
holds only the recent days' JSON (the data branch's, see ``papersift.deploy.branch``)
still builds the whole site, reading a file a month instead of a year of digests. A
month's file changes only while the month is published (the cost of a morning does not
grow with the archive).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from papersift.text import load_json

log = logging.getLogger(__name__)

CATALOGUE = Path("json") / "catalogue"  # a file per month
FORMAT = "papersift-catalogue"
FIELDS = ("arxiv_id", "title", "authors", "COMMENT", "topic", "SCORE", "RELEVANCE")


def brief(record: dict[str, Any]) -> dict[str, Any]:
    """The catalogue's entry of a day's digest record."""
    papers = record.get("papers", {})
    return {"date": record["date"],
            "papers": {key: {f: paper[f] for f in FIELDS if f in paper}
                       for key, paper in papers.items() if isinstance(paper, dict)}}


def catalogue_file(month: str) -> Path:
    """The catalogue's file of ``month`` (YYYY-MM), relative to ``OUT``."""
    return CATALOGUE / f"{month}.json"


def read_catalogue(out_dir: Path) -> dict[dt.date, dict[str, Any]]:
    """The catalogue's days (none if it is missing; a damaged file is named and left
    out: the days on disk still make a site)."""
    days: dict[dt.date, dict[str, Any]] = {}
    for path in sorted((out_dir / CATALOGUE).glob("????-??.json")):
        try:
            data = load_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("%s: not a papersift catalogue (%s); the site shows the days on "
                        "disk", path, exc)
            continue
        entries = data.get("days", {}) if isinstance(data, dict) else {}
        for key, entry in entries.items() if isinstance(entries, dict) else ():
            try:
                day = dt.date.fromisoformat(key)
                if not isinstance(entry.get("papers"), dict) or entry.get("date") != key:
                    raise TypeError("no papers")
            except (ValueError, TypeError, AttributeError):
                log.warning("%s: day %r is not a catalogue entry; left out", path, key)
                continue
            days[day] = entry
    return days


def catalogue_text(records: Iterable[dict[str, Any]]) -> str:
    """The catalogue file of ``records`` (a month's digest records or entries), a day per
    line."""
    lines = [f"{json.dumps(entry['date'])}: "
             f"{json.dumps(brief(entry), ensure_ascii=False, separators=(',', ':'))}"
             for entry in sorted(records, key=lambda r: r["date"])]
    return (f'{{"format": "{FORMAT}", "version": 1, "days": {{\n' + ",\n".join(lines)
            + "\n}}\n")
