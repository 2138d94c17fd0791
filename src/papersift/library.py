"""Importing a reference library as liked papers: BibTeX, or a Zotero CSV / RDF export."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from papersift.errors import SourceError
from papersift.sources.xmldoc import parse_xml
from papersift.text import clean_text

_DC = "{http://purl.org/dc/elements/1.1/}"
_DCTERMS = "{http://purl.org/dc/terms/}"


@dataclass(frozen=True)
class LibraryItem:
    title: str
    abstract: str

    @property
    def key(self) -> str:
        digest = hashlib.sha256(self.title.lower().encode()).hexdigest()[:16]
        return f"library:{digest}"


def read_library(path: Path) -> list[LibraryItem]:
    """Items with a title (and abstract where the export has one), by file type."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from None
    suffix = path.suffix.lower()
    if suffix == ".bib":
        items = _bibtex(text)
    elif suffix == ".csv":
        items = _zotero_csv(text, path)
    elif suffix in (".rdf", ".xml"):
        items = _zotero_rdf(text, path)
    else:
        raise SourceError(f"{path}: unknown library format (use .bib, .csv or .rdf)")
    return [i for i in items if i.title]


def _bibtex(text: str) -> list[LibraryItem]:
    items = []
    for entry in re.split(r"\n\s*@", "\n" + text)[1:]:
        fields = _bibtex_fields(entry)
        items.append(LibraryItem(_strip_braces(fields.get("title", "")),
                                 _strip_braces(fields.get("abstract", ""))))
    return items


def _bibtex_fields(entry: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for match in re.finditer(r"(\w+)\s*=\s*", entry):
        name, start = match.group(1).lower(), match.end()
        if start >= len(entry):
            continue
        opener = entry[start]
        if opener == "{":
            depth, end = 0, start
            for end in range(start, len(entry)):
                depth += {"{": 1, "}": -1}.get(entry[end], 0)
                if depth == 0:
                    break
            fields.setdefault(name, entry[start + 1:end])
        elif opener == '"':
            end = entry.find('"', start + 1)
            fields.setdefault(name, entry[start + 1:end if end > 0 else None])
    return fields


def _strip_braces(value: str) -> str:
    return clean_text(value.replace("{", "").replace("}", ""))


def _zotero_csv(text: str, path: Path) -> list[LibraryItem]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "Title" not in reader.fieldnames:
        raise SourceError(f"{path}: not a Zotero CSV export (no 'Title' column)")
    return [LibraryItem(clean_text(row.get("Title") or ""),
                        clean_text(row.get("Abstract Note") or "")) for row in reader]


def _zotero_rdf(text: str, path: Path) -> list[LibraryItem]:
    root = parse_xml(text.encode("utf-8"), str(path))
    items = []
    for element in root:
        title = element.find(f"{_DC}title")
        if title is None or not (title.text or "").strip():
            continue
        abstract = element.find(f"{_DCTERMS}abstract")
        items.append(LibraryItem(clean_text(title.text or ""),
                                 clean_text(abstract.text or "" if abstract is not None else "")))
    return items
