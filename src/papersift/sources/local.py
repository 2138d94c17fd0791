"""Papers from a local file: a saved arXiv RSS/Atom document, JSON / JSONL records, or
a papersift JSON digest.

A file may hold several days. Only the papers announced on the requested day are used:
the feed's date (RSS), each paper's submission time (a saved API answer), a ``date`` or
``announced`` field (records, digests), else the date in the file's name. A file that
holds another day is refused, never published under the requested date.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from papersift.errors import DateError, SourceError
from papersift.models import ANNOUNCE_TYPES, Paper
from papersift.sources.arxiv_api import announcement_day, parse_atom
from papersift.sources.common import split_arxiv_id, split_authors
from papersift.sources.rss import parse_rss
from papersift.text import clean_text, load_json

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
_CATEGORY_SEPARATORS = re.compile(r"[\s,;]+")


def load_file(path: Path, day: dt.date | None) -> tuple[dt.date, list[Paper]]:
    """The papers of ``day`` in ``path`` (``None``: the one day the file holds)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    head = data.lstrip()[:200]
    dated: dict[str, dt.date] = {}
    if head.startswith(b"<"):
        if b"<rss" in data[:2000]:
            feed_day, papers = parse_rss(data, str(path))
            if feed_day is not None:
                dated = dict.fromkeys((p.arxiv_id for p in papers), feed_day)
        else:
            page = parse_atom(data, str(path))
            papers = page.papers
            dated = {key: announcement_day(when) for key, when in page.submitted.items()}
    else:
        papers, dated = _parse_json(data, path)
    return _of_day(path, papers, dated, day)


def _of_day(path: Path, papers: list[Paper], dated: dict[str, dt.date],
            day: dt.date | None) -> tuple[dt.date, list[Paper]]:
    if dated:
        held = sorted(set(dated.values()))
        if day is None:
            if len(held) > 1 or len(dated) < len(papers):
                raise DateError(f"{path}: holds papers of several days ({_days(held)}); "
                                  "pass --date YYYY-MM-DD")
            day = held[0]
        chosen = [p for p in papers if dated.get(p.arxiv_id) == day]
        if not chosen:
            raise DateError(f"{path}: holds papers announced on {_days(held)}, "
                              f"none on {day}")
        return day, chosen
    named = _date_from_name(path)
    if day is not None and named is not None and named != day:
        raise DateError(f"{path}: the file is for {named} (its name), not {day}")
    found = day or named
    if found is None:
        raise DateError(f"{path}: no date in the file or its name; pass --date YYYY-MM-DD")
    return found, papers


def _days(days: list[dt.date]) -> str:
    shown = ", ".join(d.isoformat() for d in days[:5])
    return shown + (f" and {len(days) - 5} more" if len(days) > 5 else "")


def _date_from_name(path: Path) -> dt.date | None:
    match = _DATE_IN_NAME.search(path.name)
    try:
        return dt.date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None


def _parse_json(data: bytes, path: Path) -> tuple[list[Paper], dict[str, dt.date]]:
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        whole: Any = load_json(text)
    except json.JSONDecodeError:
        whole = None  # not one JSON value: read it as JSON lines
    except ValueError as exc:  # too deep, or a non-finite number
        raise SourceError(f"{path}: not paper records: {exc}") from None
    if isinstance(whole, list):
        return _records(path, ((f"record {n}", r) for n, r in enumerate(whole, start=1)))
    if isinstance(whole, dict) and "papers" in whole:  # a papersift digest
        papers = whole["papers"]
        rows = papers.values() if isinstance(papers, dict) else papers
        if not isinstance(rows, Iterable) or isinstance(rows, str):
            raise SourceError(f"{path}: 'papers' should be a list or an object of records")
        date = whole.get("date")
        return _records(path, ((f"paper {n}", _with_date(r, date))
                               for n, r in enumerate(rows, start=1)))
    if isinstance(whole, dict):
        return _records(path, [("line 1", whole)])
    return _records(path, _json_lines(text, path))


def _with_date(record: Any, date: Any) -> Any:
    if isinstance(record, dict) and date is not None and "date" not in record:
        return {**record, "date": date}
    return record


def _json_lines(text: str, path: Path) -> Iterable[tuple[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", load_json(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}: line {number}: not valid JSON: {exc.msg} "
                              f"(column {exc.colno})") from None
        except ValueError as exc:
            raise SourceError(f"{path}: line {number}: not paper records: {exc}") from None


def _records(path: Path, numbered: Iterable[tuple[str, Any]]
             ) -> tuple[list[Paper], dict[str, dt.date]]:
    papers, dated = [], {}
    for where, record in numbered:
        try:
            paper = paper_from_record(record)
            day = record_day(record)
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(f"{path}: {where}: {exc}") from None
        papers.append(paper)
        if day is not None:
            dated[paper.arxiv_id] = day
    return papers, dated


def record_day(record: dict[str, Any]) -> dt.date | None:
    """The announcement day a record carries (``announced`` or ``date``), if any."""
    value = record.get("announced", record.get("date"))
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"'date' should be a YYYY-MM-DD string, not {value!r}")
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ValueError(f"'date' {value!r} is not a YYYY-MM-DD date") from None


def paper_from_record(record: Any) -> Paper:
    """A ``Paper`` from a JSON record (the labelled-days / papersift JSON fields)."""
    if not isinstance(record, dict):
        raise TypeError("expected a JSON object")
    raw_id = record.get("arxiv_id") or record.get("id")
    if not raw_id:
        raise ValueError("missing 'arxiv_id'")
    if not isinstance(raw_id, str):
        raise TypeError(f"'arxiv_id' should be a string, not {raw_id!r}")
    arxiv_id, version = split_arxiv_id(raw_id)
    categories = _categories(record.get("categories"))
    primary = _text(record, "primary_category")
    if primary and (not categories or categories[0] != primary):
        categories = [primary, *[c for c in categories if c != primary]]
    announce_type = record.get("announce_type", "new")
    if announce_type not in ANNOUNCE_TYPES:
        raise ValueError(f"unknown announce_type {announce_type!r}")
    return Paper(
        arxiv_id=arxiv_id,
        version=_version(record.get("version", version)),
        title=_text(record, "title"),
        abstract=_text(record, "abstract"),
        authors=_authors(record.get("authors")),
        categories=tuple(categories),
        announce_type=announce_type,
        comment=_text(record, "arxiv_comment") or _text(record, "comment"),
    )


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"'{key}' should be a string, not {type(value).__name__}")
    return clean_text(value)


def _authors(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return split_authors(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(name for name in map(clean_text, value) if name)
    raise TypeError("'authors' should be a list of names or one comma-separated string")


def _categories(value: Any) -> list[str]:
    """A list of categories, or one string of them (``"cs.LG stat.ML"``, as arXiv's
    metadata dumps write it) — never a string read letter by letter."""
    if value is None:
        return []
    if isinstance(value, str):
        return [c for c in _CATEGORY_SEPARATORS.split(value) if c]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [c.strip() for c in value if c.strip()]
    raise TypeError("'categories' should be a list of categories or one string of them")


def _version(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"'version' should be a number, not {value!r}")
    text = str(value).strip().lstrip("vV")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"'version' {value!r} is not a version number")
    return int(text)
