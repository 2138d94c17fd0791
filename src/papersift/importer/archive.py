"""The reference's archived digests (``out/json``) as papersift days and labels.

Two shapes are read: ``YYYY-MM-DD-daily-papers.json`` (``{"meta": {"date", "usage"},
"papers": {id: paper}}``: the day's digest) and ``YYYY-MM-DD-output.json`` (``{id: paper}``:
every paper it scored that day, each with ``ARXIVID``, ``COMMENT``, ``RELEVANCE``,
``NOVELTY``, ``title``, ``abstract``, ``authors``). Each day becomes a papersift digest
(Markdown, JSON, the site's page) and every scored paper a judged paper in the store, so
the learner starts with the user's history. A day papersift already has is left as it is.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papersift.folders import files_under, why_not_readable
from papersift.models import Candidate, Digest, Paper, Prompts, Scored, Selected, Usage
from papersift.publish import publish
from papersift.render import output_path
from papersift.selection import spotlight
from papersift.sources.common import normalize_arxiv_id
from papersift.store import CachedScore, Store
from papersift.text import clean_text, load_json

log = logging.getLogger(__name__)
_NOT_FILE = "not a regular file"  # what a folder is, to why_not_readable
_DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})-(daily-papers|output)\.json$")
FINGERPRINT = "imported"  # scores the reference gave: labels, never a cache for scoring


@dataclass
class ArchiveImport:
    days: list[dt.date] = field(default_factory=list)
    kept: list[dt.date] = field(default_factory=list)  # papersift already had these
    papers: int = 0
    skipped: list[str] = field(default_factory=list)  # "file: why"


@dataclass
class _Day:
    day: dt.date
    model: str = ""
    usage: Usage = field(default_factory=Usage)
    digest: dict[str, dict[str, Any]] | None = None  # daily-papers: the day's selection
    scored: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


def import_archive(root: Path, out_dir: Path, store: Store, *, relevance_cutoff: int,
                   novelty_cutoff: int, model: str, formats: list[str],
                   spotlight_count: int = 3) -> ArchiveImport:
    """Every archived day under ``root/out/json`` (or ``root/json``) into ``out_dir``."""
    result = ArchiveImport()
    for entry in _read_days(root, result.skipped):
        if output_path(out_dir, "json", entry.day).exists():
            result.kept.append(entry.day)
            continue
        day_model = entry.model or model
        rows = {**entry.scored, **(entry.digest or {})}
        papers = {key: paper for key, row in rows.items()
                  if (paper := _paper(key, row)) is not None}
        store.save_day(entry.day, list(papers.values()))
        store.save_scores(day_model, FINGERPRINT, {
            key: CachedScore(int(row["RELEVANCE"]), int(row["NOVELTY"]),
                             clean_text(str(row.get("COMMENT", ""))))
            for key, row in rows.items() if key in papers and _scored(row)})
        chosen = entry.digest if entry.digest is not None else {
            key: row for key, row in entry.scored.items() if _scored(row)
            and int(row["RELEVANCE"]) >= relevance_cutoff
            and int(row["NOVELTY"]) >= novelty_cutoff}
        selected = sorted((_selected(papers[key], row, day_model)
                           for key, row in chosen.items() if key in papers),
                          key=lambda s: (-s.score, -(s.scored.relevance or 0)))
        source = f"imported from {', '.join(entry.sources)}"
        publish(Digest(
            day=entry.day, model=day_model, total=len(papers), scanned=len(papers),
            selected=tuple(selected), not_scored=(), filtered_counts={}, usage=entry.usage,
            prompts=Prompts(f"This day was scored by the system papersift replaced ({source});"
                            " its prompt is not part of the archive.", ""),
            relevance_cutoff=relevance_cutoff, novelty_cutoff=novelty_cutoff, source=source,
            generated_at=dt.datetime.combine(entry.day, dt.time(), dt.UTC),
            spotlight=spotlight(selected, spotlight_count)), out_dir, formats)
        result.days.append(entry.day)
        result.papers += len(papers)
    return result


def _read_days(root: Path, skipped: list[str]) -> list[_Day]:
    """The archive's days, oldest first: regular files inside ``root`` only. A file that
    is not a day's digest, is unreadable, names a day not yet announced or repeats a day
    already read is named in ``skipped`` (one bad file never stops the import)."""
    days: dict[dt.date, _Day] = {}
    seen: dict[tuple[dt.date, str], str] = {}
    latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)  # arXiv's time zone
    folder = next((f for f in (root / "out" / "json", root / "json") if f.is_dir()), None)
    if folder is not None and (why := why_not_readable(root, folder)) not in (None, _NOT_FILE):
        skipped.append(f"{folder}: {why}; its archive was not read")
        folder = None
    for path in files_under(folder, ".json", skipped, hard_links=False) if folder else []:
        match = _DAY_FILE.search(path.name)
        if match is None:
            skipped.append(f"{path.name}: not a daily digest")
            continue
        try:
            day = dt.date.fromisoformat(match.group(1))
        except ValueError as exc:
            skipped.append(f"{path.name}: unreadable ({exc})")
            continue
        if day > latest:
            skipped.append(f"{path.name}: {day} is not announced yet; not imported")
            continue
        if (day, match.group(2)) in seen:
            skipped.append(f"{path}: the same day as {seen[day, match.group(2)]}; only "
                           "that one was imported")
            continue
        read = _Day(day)  # read whole before it joins the day: a bad file adds nothing
        try:
            _read_into(read, load_json(path.read_text(encoding="utf-8")), match.group(2),
                       path.name)
        except (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError,
                KeyError) as exc:
            skipped.append(f"{path.name}: unreadable ({exc!r})")
            continue
        seen[day, match.group(2)] = str(path)
        entry = days.setdefault(day, _Day(day))
        entry.sources += read.sources
        entry.scored.update(read.scored)
        if read.digest is not None:
            entry.digest, entry.model, entry.usage = read.digest, read.model, read.usage
    return sorted(days.values(), key=lambda d: d.day)


def _read_into(entry: _Day, document: Any, kind: str, name: str) -> None:
    entry.sources.append(name)
    if kind == "daily-papers":
        meta = document.get("meta") or {}
        usage = meta.get("usage") or {}
        entry.model = str(usage.get("model") or entry.model)
        entry.usage = Usage(prompt_tokens=int(usage.get("prompt_tokens") or 0),
                            completion_tokens=int(usage.get("completion_tokens") or 0),
                            prompt_cost=_cost(usage.get("prompt_cost")),
                            completion_cost=_cost(usage.get("completion_cost")))
        entry.digest = dict(document["papers"])
    else:
        entry.scored.update(document)


def _cost(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _scored(row: dict[str, Any]) -> bool:
    try:
        return 1 <= int(row.get("RELEVANCE")) <= 10 and 1 <= int(row.get("NOVELTY")) <= 10
    except (TypeError, ValueError):
        return False


def _paper(key: str, row: Any) -> Paper | None:
    if not isinstance(row, dict) or not row.get("title"):
        return None
    arxiv_id = normalize_arxiv_id(str(row.get("arxiv_id") or row.get("ARXIVID") or key))
    if arxiv_id is None:
        return None
    authors = row.get("authors") or []
    return Paper(arxiv_id, clean_text(str(row["title"])), clean_text(str(row.get("abstract", ""))),
                 tuple(clean_text(str(a)) for a in authors if isinstance(a, str)), ())


def _selected(paper: Paper, row: dict[str, Any], model: str) -> Selected:
    comment = clean_text(str(row.get("COMMENT", "")))
    topic = clean_text(str(row.get("PRIMARY_TOPIC_LABEL") or ""))
    if _scored(row):
        relevance, novelty = int(row["RELEVANCE"]), int(row["NOVELTY"])
        score = int(row.get("SCORE") or relevance + novelty)
        return Selected(Scored(Candidate(paper), relevance, novelty, comment, model, topic),
                        score)
    return Selected(Scored(Candidate(paper), None, None, comment or "Author match", model,
                           topic), int(row.get("SCORE") or 0))
