"""Followed authors and the h-index gate.

Followed authors are given by name or by Semantic Scholar id (all digits); ids are
resolved to names once through the author batch API and cached. Name matching ignores
case, accents, middle names and LaTeX escapes, and accepts an initial for a first name.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from papersift.config import AuthorsConfig
from papersift.http import HttpClient, HTTPFailure, Pacer, RetryPolicy, request
from papersift.models import Candidate, Filtered, Paper
from papersift.progress import NULL_PROGRESS, Progress
from papersift.store import Store
from papersift.text import load_json

log = logging.getLogger(__name__)

_LATEX_LETTERS = {
    "o": "o", "O": "O", "ss": "ss", "aa": "a", "AA": "A", "ae": "ae", "AE": "AE",
    "oe": "oe", "OE": "OE", "l": "l", "L": "L", "i": "i", "j": "j",
}
_LATEX_LETTER = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L|i|j)(?![A-Za-z])")
_LATEX_ACCENT = re.compile(r"\\[`'^\"~=.uvHckrbd](?:\{([A-Za-z]?)\}|\s*([A-Za-z]))")
_NOT_DECOMPOSED = str.maketrans({
    "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae",
    "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "ı": "i",
})
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


def plain_name(name: str) -> str:
    """``'Marcel R{\\o}d'`` → ``'Marcel Rod'``: LaTeX and accents removed."""
    text = _LATEX_LETTER.sub(lambda m: _LATEX_LETTERS[m.group(1)], name)
    text = _LATEX_ACCENT.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    text = unicodedata.normalize("NFKD", text.translate(_NOT_DECOMPOSED))
    return "".join(c for c in text if not unicodedata.combining(c))


@dataclass(frozen=True)
class NameKey:
    """A name reduced to what matching compares: first given name and surname."""

    first: str
    last: str

    @classmethod
    def of(cls, name: str) -> NameKey | None:
        text = plain_name(name)
        if "," in text:  # "Bengio, Yoshua"
            last, _, first = text.partition(",")
            text = f"{first} {last}"
        tokens = [re.sub(r"[^a-z]", "", t) for t in re.split(r"[\s.]+", text.lower())]
        tokens = [t for t in tokens if t]
        while len(tokens) > 1 and tokens[-1] in _SUFFIXES:
            tokens.pop()
        if len(tokens) < 2:
            return None
        return cls(first=tokens[0], last=tokens[-1])

    def matches(self, other: NameKey) -> bool:
        if self.last != other.last:
            return False
        if len(self.first) == 1 or len(other.first) == 1:
            return self.first[0] == other.first[0]
        return self.first == other.first


class AuthorMatcher:
    """Finds which followed names appear among a paper's authors."""

    def __init__(self, followed_names: Iterable[str]):
        self.followed = [(name, key) for name in followed_names
                         if (key := NameKey.of(name)) is not None]

    def matches(self, paper: Paper) -> tuple[str, ...]:
        if not self.followed:
            return ()
        found: list[str] = []
        for author in paper.authors:
            key = NameKey.of(author)
            if key is None:
                continue
            for name, followed_key in self.followed:
                if name not in found and key.matches(followed_key):
                    found.append(name)
        return tuple(found)


class SemanticScholar:
    """A small Semantic Scholar Graph API client with a cache in the store."""

    AUTHOR_FIELDS = "name,hIndex,paperCount,citationCount"
    PAPER_FIELDS = "authors.name,authors.hIndex"
    BATCH = 500

    def __init__(self, client: HttpClient, base_url: str, store: Store, *,
                 api_key: str | None = None, cache_days: int = 30,
                 delay_seconds: float | None = None, policy: RetryPolicy | None = None):
        self.client, self.base_url, self.store = client, base_url.rstrip("/"), store
        self.headers = {"x-api-key": api_key} if api_key else {}
        self.max_age = dt.timedelta(days=cache_days)
        # Without a key Semantic Scholar shares a small pool between all users.
        pause = delay_seconds if delay_seconds is not None else (1.0 if api_key else 3.0)
        self.pacer = Pacer(pause)
        self.policy = policy or RetryPolicy()

    def authors(self, ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Author records by id (None for an id Semantic Scholar does not know)."""
        return self._batch("author", ids, self.AUTHOR_FIELDS)

    def paper_authors(self, arxiv_ids: Sequence[str]) -> dict[str, list[dict[str, Any]] | None]:
        """Each paper's authors with their h-index (None for a paper not indexed yet)."""
        papers = self._batch("paper", [f"arXiv:{a}" for a in arxiv_ids], self.PAPER_FIELDS)
        found = {aid: (papers[f"arXiv:{aid}"] or {}).get("authors") for aid in arxiv_ids}
        return {aid: [a for a in authors if isinstance(a, dict)]
                if isinstance(authors, list) else None for aid, authors in found.items()}

    def _batch(self, kind: str, ids: Sequence[str], fields: str
               ) -> dict[str, dict[str, Any] | None]:
        found: dict[str, dict[str, Any] | None] = {}
        missing = []
        for item in ids:
            cached = self.store.cache_get(f"s2:{kind}:{item}", self.max_age)
            if cached is None:
                missing.append(item)
            else:
                found[item] = cached.get("record")
        for start in range(0, len(missing), self.BATCH):
            chunk = missing[start:start + self.BATCH]
            self.pacer.wait()
            response = request(
                self.client, "POST", f"{self.base_url}/{kind}/batch",
                params={"fields": fields}, json={"ids": chunk}, headers=self.headers,
                policy=self.policy,
            )
            url = f"{self.base_url}/{kind}/batch"
            try:
                records = load_json(response.content)
            except ValueError:
                raise HTTPFailure(url, "the answer is not JSON") from None
            if not isinstance(records, list) or len(records) != len(chunk):
                raise HTTPFailure(url, "unexpected answer (not a list in request order)")
            for item, record in zip(chunk, records, strict=True):
                found[item] = record if isinstance(record, dict) else None
                self.store.cache_put(f"s2:{kind}:{item}", {"record": found[item]})
        return {item: found[item] for item in ids}


def followed_names(config: AuthorsConfig, s2: SemanticScholar | None) -> list[str]:
    """The followed authors as names: Semantic Scholar ids are looked up."""
    names = [entry for entry in config.follow if not entry.strip().isdigit()]
    ids = [entry.strip() for entry in config.follow if entry.strip().isdigit()]
    if ids and s2 is not None:
        try:
            for author_id, record in s2.authors(ids).items():
                if record and isinstance(record.get("name"), str) and record["name"].strip():
                    names.append(record["name"])
                else:
                    log.warning("Semantic Scholar knows no author with id %s", author_id)
        except HTTPFailure as exc:
            log.warning("cannot look up followed author ids (%s); matching by name only", exc)
    return names


def attach_authors(
    papers: Sequence[Paper],
    config: AuthorsConfig,
    s2: SemanticScholar | None,
    progress: Progress = NULL_PROGRESS,
) -> tuple[list[Candidate], list[Filtered]]:
    """Mark followed-author matches and apply the optional h-index gate."""
    matcher = AuthorMatcher(followed_names(config, s2) if config.match else [])
    candidates = [Candidate(p, matcher.matches(p)) for p in papers]
    if not (config.h_index_gate and s2 is not None):
        return candidates, []
    to_check = [c for c in candidates if not c.author_match]
    task = progress.start("Checking h-index on Semantic Scholar", total=len(to_check))
    try:
        by_paper = s2.paper_authors([c.paper.arxiv_id for c in to_check])
    except HTTPFailure as exc:
        log.warning("h-index gate skipped: Semantic Scholar failed (%s)", exc)
        return candidates, []
    progress.advance(task, len(to_check))
    kept, filtered = [], []
    for candidate in candidates:
        authors = by_paper.get(candidate.paper.arxiv_id)
        h_values = [h for a in authors or [] if isinstance(h := a.get("hIndex"), int)
                    and not isinstance(h, bool)]
        if candidate.author_match or not h_values or max(h_values) >= config.h_index_cutoff:
            kept.append(candidate)  # unknown to Semantic Scholar yet: kept, never lost
        else:
            filtered.append(Filtered(
                candidate.paper,
                f"h-index gate: highest author h-index {max(h_values)} < {config.h_index_cutoff}",
            ))
    return kept, filtered
