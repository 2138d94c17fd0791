"""A day's digest read back from its JSON record (``digest_record``'s inverse, for what
the Markdown shows), so that a published day can be written again: after the reader's
verdicts (``verdicts``), a paper removed or marked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from papersift.models import (
    Candidate,
    Digest,
    NotScored,
    Paper,
    Prompts,
    Scored,
    Selected,
    Spotlight,
    Summary,
    Usage,
)


def digest_from_record(record: dict[str, Any]) -> Digest:
    """The digest ``record`` was written from, as far as the Markdown shows it."""
    run = record.get("run") or {}
    selected = tuple(_selected(entry, str(run.get("model", "")))
                     for entry in (record.get("papers") or {}).values())
    place = {item.paper.arxiv_id: rank for rank, item in enumerate(selected, start=1)}
    spotlight = tuple(Spotlight(selected[place[s["arxiv_id"]] - 1], place[s["arxiv_id"]],
                                str(s.get("why", "")))
                      for s in record.get("spotlight") or [] if s.get("arxiv_id") in place)
    not_scored = tuple(NotScored(Candidate(Paper(
        str(n["arxiv_id"]), str(n.get("title", "")), "", tuple(n.get("authors") or ()), ())),
        str(n.get("reason", ""))) for n in record.get("not_scored") or [])
    inputs = record.get("scorer_inputs")
    prompts = (Prompts(str(inputs.get("interests", "")), "\n".join(inputs.get("settings") or []),
                       local=True) if isinstance(inputs, dict)
               else Prompts(str((record.get("prompts") or {}).get("system", "")),
                            str((record.get("prompts") or {}).get("user", ""))))
    usage = run.get("usage") or {}
    return Digest(
        day=dt.date.fromisoformat(record["date"]), model=str(run.get("model", "")),
        total=int(run.get("total", 0)), scanned=int(run.get("scanned", 0)),
        selected=selected, not_scored=not_scored,
        filtered_counts=dict(run.get("filtered") or {}),
        usage=Usage(int(usage.get("requests", 0)), int(usage.get("prompt_tokens", 0)),
                    int(usage.get("cached_tokens", 0)), int(usage.get("completion_tokens", 0)),
                    usage.get("prompt_cost_usd"), usage.get("completion_cost_usd")),
        prompts=prompts, relevance_cutoff=int(run.get("relevance_cutoff", 0)),
        novelty_cutoff=int(run.get("novelty_cutoff", 0)), source=str(run.get("source", "")),
        generated_at=dt.datetime.fromisoformat(run.get("generated_at") or
                                               f"{record['date']}T00:00:00+00:00"),
        spotlight=spotlight)


def _selected(entry: dict[str, Any], model: str) -> Selected:
    paper = Paper(str(entry["arxiv_id"]), str(entry.get("title", "")),
                  str(entry.get("abstract", "")), tuple(entry.get("authors") or ()),
                  tuple(entry.get("categories") or ()), entry.get("announce_type", "new"),
                  int(entry.get("version", 1)), str(entry.get("arxiv_comment", "")))
    scored = Scored(Candidate(paper, tuple(entry.get("author_match") or ())),
                    entry.get("RELEVANCE"), entry.get("NOVELTY"), str(entry.get("COMMENT", "")),
                    model, str(entry.get("topic", "")))
    summary = entry.get("summary")
    return Selected(scored, int(entry.get("SCORE", 0)),
                    Summary(str(summary.get("text", "")), str(summary.get("language", "")),
                            str(summary.get("model", "")), bool(summary.get("extractive")))
                    if isinstance(summary, dict) else None,
                    liked=entry.get("reader") == "liked")
