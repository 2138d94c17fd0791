"""Papers from a local file: a saved arXiv RSS/Atom document, or JSON / JSONL records."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from papersift.errors import SourceError
from papersift.models import ANNOUNCE_TYPES, Paper
from papersift.sources.arxiv_api import parse_atom
from papersift.sources.common import clean_text, split_arxiv_id, split_authors
from papersift.sources.rss import parse_rss

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def load_file(path: Path, day: dt.date | None) -> tuple[dt.date, list[Paper]]:
    """Read ``path``; the day comes from ``day``, the feed, or a date in the file name."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    head = data.lstrip()[:200]
    if head.startswith(b"<"):
        if b"<rss" in head or b"<rss" in data[:2000]:
            feed_day, papers = parse_rss(data, str(path))
        else:
            feed_day, papers = None, parse_atom(data, str(path))[1]
    else:
        feed_day, papers = None, _parse_records(data, path)
    found = day or feed_day or _date_from_name(path)
    if found is None:
        raise SourceError(f"{path}: no date in the file or its name; pass --date YYYY-MM-DD")
    return found, papers


def _date_from_name(path: Path) -> dt.date | None:
    match = _DATE_IN_NAME.search(path.name)
    return dt.date.fromisoformat(match.group(1)) if match else None


def _parse_records(data: bytes, path: Path) -> list[Paper]:
    text = data.decode("utf-8", errors="replace").strip()
    try:
        if text.startswith("["):
            records = json.loads(text)
            numbered = list(enumerate(records, start=1))
        else:
            numbered = [(n, json.loads(line)) for n, line in enumerate(text.splitlines(), 1)
                        if line.strip()]
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from None
    papers = []
    for number, record in numbered:
        try:
            papers.append(paper_from_record(record))
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(f"{path}: record {number}: {exc}") from None
    return papers


def paper_from_record(record: dict[str, Any]) -> Paper:
    """A ``Paper`` from a JSON record (the labelled-days / papersift JSON fields)."""
    if not isinstance(record, dict):
        raise TypeError("expected a JSON object")
    raw_id = record.get("arxiv_id") or record.get("id")
    if not raw_id:
        raise ValueError("missing 'arxiv_id'")
    arxiv_id, version = split_arxiv_id(str(raw_id))
    authors = record.get("authors", [])
    authors = split_authors(authors) if isinstance(authors, str) else tuple(map(str, authors))
    categories = list(record.get("categories") or [])
    primary = record.get("primary_category")
    if primary and (not categories or categories[0] != primary):
        categories = [primary, *[c for c in categories if c != primary]]
    announce_type = record.get("announce_type", "new")
    if announce_type not in ANNOUNCE_TYPES:
        raise ValueError(f"unknown announce_type {announce_type!r}")
    return Paper(
        arxiv_id=arxiv_id,
        version=int(record.get("version", version)),
        title=clean_text(str(record.get("title", ""))),
        abstract=clean_text(str(record.get("abstract", ""))),
        authors=authors,
        categories=tuple(categories),
        announce_type=announce_type,
        comment=clean_text(str(record.get("arxiv_comment") or record.get("comment") or "")),
    )
