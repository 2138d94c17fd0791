"""The site's Atom feeds: the selected papers of the newest days, overall and per topic."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from papersift.text import xml_safe

if TYPE_CHECKING:
    from papersift.site import DayEntry

ATOM = "http://www.w3.org/2005/Atom"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "topic"


def atom_feed(days: list[DayEntry], title: str, self_path: str, *,
              topic: str | None = None, site_url: str | None = None) -> str:
    """An Atom 1.0 feed of the selected papers of ``days`` (newest first); ``self_path``
    is its place in the site (its self link: absolute under ``site_url``, else relative
    to the feed itself)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    title = xml_safe(title)
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"urn:papersift:{slug(title)}"
    self_href = (site_url.rstrip("/") + "/" + self_path if site_url
                 else self_path.rsplit("/", 1)[-1])
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_href)
    newest = days[-1].date if days else dt.date(1970, 1, 1)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _stamp(newest)
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = "papersift"
    for day in reversed(days):
        for paper in day.papers:
            if topic is not None and paper.get("topic") != topic:
                continue
            paper = _xml_safe_record(paper)  # digests written before may hold anything
            entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
            ET.SubElement(entry, f"{{{ATOM}}}title").text = paper["title"]
            ET.SubElement(entry, f"{{{ATOM}}}id").text = \
                f"urn:papersift:{day.date.isoformat()}:{paper['arxiv_id']}"
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=paper["abs_url"])
            ET.SubElement(entry, f"{{{ATOM}}}updated").text = _stamp(day.date)
            for name in paper.get("authors", []):
                author = ET.SubElement(entry, f"{{{ATOM}}}author")
                ET.SubElement(author, f"{{{ATOM}}}name").text = name
            if paper.get("topic"):
                ET.SubElement(entry, f"{{{ATOM}}}category", term=paper["topic"])
            summary = paper.get("COMMENT", "")
            if paper.get("RELEVANCE") is not None:
                summary += f" (relevance {paper['RELEVANCE']}, novelty {paper['NOVELTY']})"
            ET.SubElement(entry, f"{{{ATOM}}}summary").text = \
                f"{summary}\n\n{paper.get('abstract', '')}".strip()
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode")


def _xml_safe_record(paper: dict[str, Any]) -> dict[str, Any]:
    def safe(value: Any) -> Any:
        if isinstance(value, str):
            return xml_safe(value)
        if isinstance(value, list):
            return [safe(v) for v in value]
        return value

    return {key: safe(value) for key, value in paper.items()}


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"
