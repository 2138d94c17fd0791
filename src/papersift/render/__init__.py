"""Rendering a ``Digest`` as Markdown (the sample digest's layout) and as JSON."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from papersift.health import status_record
from papersift.models import Digest, Summary, Usage
from papersift.render.links import code_links

# Outside math: an escape arXiv already wrote ("\\_") is kept, a bare special is escaped.
_MD_SPECIAL = re.compile(r"(\\[\\`*_\[\]|])|([`*_\[\]|])")
_MATH = re.compile(r"(?<!\\)\$[^$]+(?<!\\)\$")


def md_escape(text: str) -> str:
    """Text from arXiv or an LLM, made inert in Markdown (no markup, no link, no raw HTML)
    while keeping arXiv's LaTeX as written: no backslash is doubled, ``$…$`` is left as
    is (a Markdown viewer with math renders it) but for what could open a link or code."""
    text = str(text)
    pieces, last = [], 0
    for math in _MATH.finditer(text):
        pieces.append(_MD_SPECIAL.sub(_escape_special, text[last:math.start()]))
        pieces.append(math.group(0).replace("`", "\\`").replace("](", "\\]("))
        last = math.end()
    pieces.append(_MD_SPECIAL.sub(_escape_special, text[last:]))
    return "".join(pieces).replace("<", "&lt;").replace(">", "&gt;")


def _escape_special(match: re.Match[str]) -> str:
    return match.group(1) or "\\" + match.group(2)


def money(value: float | None) -> str:
    """``$0.53``; sub-cent amounts keep two significant digits; None is "unknown"."""
    if value is None:
        return "unknown"
    if value == 0 or value >= 0.01:
        return f"${value:.2f}"
    return f"${value:.2g}" if value >= 1e-4 else "<$0.0001"


def when(stamp: str | None) -> str:
    """``2026-04-14T07:02:11+00:00`` as ``2026-04-14 07:02 UTC`` (other text as is)."""
    try:
        moment = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp or "an unknown time")
    if moment.utcoffset() == dt.timedelta(0):
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return moment.isoformat(sep=" ", timespec="minutes")


@functools.cache  # compiled once per process: a run of many readers renders many days
def markdown_environment() -> Environment:
    """The Jinja2 environment of the Markdown templates (``md`` and ``money`` filters)."""
    env = Environment(
        loader=PackageLoader("papersift.render", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML: escaping is the `md` filter's job
    )
    env.filters["md"] = md_escape
    env.filters["money"] = money
    env.filters["summary_label"] = summary_label
    env.globals["code_links"] = code_links
    env.tests["budget_reason"] = lambda reason: str(reason).startswith("budget:")
    return env


def render_markdown(digest: Digest) -> str:
    """The digest as Markdown."""
    template = markdown_environment().get_template("digest.md.j2")
    text = template.render(
        day=digest.day.isoformat(),
        model=digest.model,
        usage=digest.usage,
        total=digest.total,
        scanned=digest.scanned,
        selected=digest.selected,
        spotlight=digest.spotlight,
        not_scored=digest.not_scored,
        filtered_counts=digest.filtered_counts,
        relevance_cutoff=digest.relevance_cutoff,
        novelty_cutoff=digest.novelty_cutoff,
        prompts=digest.prompts,
    )
    return re.sub(r"\n{3,}", "\n\n", text)


def digest_record(digest: Digest) -> dict[str, Any]:
    """The digest as a JSON-ready dict; ``papers`` is keyed by arXiv id, best first."""
    papers = {}
    for rank, item in enumerate(digest.selected, start=1):
        paper = item.paper
        papers[paper.arxiv_id] = {
            "arxiv_id": paper.arxiv_id,
            "title": paper.title,
            "authors": list(paper.authors),
            "abstract": paper.abstract,
            "SCORE": item.score,
            "RELEVANCE": item.scored.relevance,
            "NOVELTY": item.scored.novelty,
            "COMMENT": item.scored.comment,
            "rank": rank,
            "topic": item.scored.topic,
            "author_match": list(item.scored.candidate.matched_authors),
            "categories": list(paper.categories),
            "announce_type": paper.announce_type,
            "version": paper.version,
            "arxiv_comment": paper.comment,
            "abs_url": paper.abs_url,
            "pdf_url": paper.pdf_url,
            "code": [{"url": link.url, "label": link.label}
                     for link in code_links(paper.abstract, paper.comment)],
            "summary": summary_record(item.summary),
            **({"reader": "liked"} if item.liked else {}),
        }
    return {
        "date": digest.day.isoformat(),
        "run": {
            "model": digest.model,
            "source": digest.source,
            "generated_at": digest.generated_at.isoformat(timespec="seconds"),
            "total": digest.total,
            "scanned": digest.scanned,
            "relevant": len(digest.selected),
            "not_scored": len(digest.not_scored),
            "filtered": digest.filtered_counts,
            "relevance_cutoff": digest.relevance_cutoff,
            "novelty_cutoff": digest.novelty_cutoff,
            "usage": usage_record(digest.usage),
            "status": status_record(digest.status) if digest.status else None,
        },
        "papers": papers,
        "spotlight": [{"arxiv_id": s.item.paper.arxiv_id, "title": s.item.paper.title,
                       "rank": s.rank, "why": s.why} for s in digest.spotlight],
        "not_scored": [
            {"arxiv_id": n.paper.arxiv_id, "title": n.paper.title,
             "authors": list(n.paper.authors), "reason": n.reason}
            for n in digest.not_scored
        ],
        **({"scorer_inputs": {"interests": digest.prompts.system,
                              "settings": digest.prompts.user_template.splitlines()}}
           if digest.prompts.local else
           {"prompts": {"system": digest.prompts.system,
                        "user": digest.prompts.user_template}}),
    }


def summary_record(summary: Summary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {"text": summary.text, "language": summary.language, "model": summary.model,
            "extractive": summary.extractive}


def summary_label(summary: dict[str, Any] | Summary | None) -> str:
    """How a summary is introduced: "TL;DR", or, for an extracted sentence, saying so."""
    extractive = summary.extractive if isinstance(summary, Summary) else \
        bool((summary or {}).get("extractive"))
    return "TL;DR (the abstract's most informative sentence)" if extractive else "TL;DR"


def spotlight_entries(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A digest record's spotlight entries that name one of its papers (older records have
    none; a hand-edited one may carry strays)."""
    papers = record.get("papers") or {}
    entries = record.get("spotlight")
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and e.get("arxiv_id") in papers
            and isinstance(e.get("why"), str)]


def render_json(digest: Digest) -> str:
    return record_json(digest_record(digest))


def record_json(record: dict[str, Any]) -> str:
    """A digest record as the JSON file holds it."""
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def usage_record(usage: Usage) -> dict[str, Any]:
    """Token use and cost as JSON fields (costs None when the price is unknown)."""
    return {
        "requests": usage.requests,
        "prompt_tokens": usage.prompt_tokens,
        "cached_tokens": usage.cached_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_cost_usd": usage.prompt_cost,
        "completion_cost_usd": usage.completion_cost,
        "total_cost_usd": usage.total_cost,
    }


def output_path(out_dir: Path, kind: str, day: dt.date) -> Path:
    """``OUT/md/2026-04/2026-04-14.md`` and the like."""
    return out_dir / kind / day.strftime("%Y-%m") / f"{day.isoformat()}.{kind}"
