"""Reading scores out of whatever an LLM answered.

Survives code fences, prose around the JSON, JSON arrays instead of lines, trailing
commas, single quotes, ids with ``arXiv:`` or version suffixes, and scores written as
``"8"``, ``8.0`` or ``"8/10"``. Ids that are not in the batch are ignored; a paper with
an invalid score counts as unanswered (it is retried, never guessed).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from papersift.sources.common import normalize_arxiv_id
from papersift.text import capped, clean_text, load_json

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
# Looking for JSON inside prose rescans from every bracket that does not close; a
# pathological answer ("{{{{..." megabytes long) would take quadratic time. Scanning
# stops after this many characters per character of the answer.
_SCAN_PER_CHAR = 4
_SCORE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*10)?\s*$")

MAX_COMMENT_CHARS = 600  # a score's reason; a longer one is cut at a word


@dataclass(frozen=True)
class ParsedScore:
    arxiv_id: str
    relevance: int
    novelty: int
    comment: str


def answers(text: str, batch_ids: Collection[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(arXiv id, fields) of every answer object about a paper of the batch, in order;
    field names upper case, letters only (``"arxiv_id"`` is ``ARXIVID``)."""
    wanted = set(batch_ids)
    for obj in iter_json_objects(text):
        fields = {re.sub(r"[^A-Z]", "", str(k).upper()): v for k, v in obj.items()}
        raw_id = fields.get("ARXIVID", fields.get("ID"))
        arxiv_id = normalize_arxiv_id(str(raw_id)) if raw_id is not None else None
        if arxiv_id is not None and arxiv_id in wanted:
            yield arxiv_id, fields


def parse_scores(text: str, batch_ids: Collection[str]) -> dict[str, ParsedScore]:
    """The valid scores for papers of this batch, first answer per id wins."""
    found: dict[str, ParsedScore] = {}
    for arxiv_id, fields in answers(text, batch_ids):
        if arxiv_id in found:
            continue
        relevance = to_score(fields.get("RELEVANCE"))
        novelty = to_score(fields.get("NOVELTY"))
        if relevance is None or novelty is None:
            continue
        comment = capped(clean_text(str(fields.get("COMMENT") or "")), MAX_COMMENT_CHARS)
        found[arxiv_id] = ParsedScore(arxiv_id, relevance, novelty, comment)
    return found


def parse_id_list(text: str, batch_ids: Collection[str]) -> set[str] | None:
    """The batch's ids in the first JSON array of strings; None if there is no array."""
    wanted = set(batch_ids)
    for value in _iter_json_values(text, "["):
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            ids = {normalize_arxiv_id(str(v)) for v in value}
            return {i for i in ids if i in wanted}
    return None


def to_score(value: Any) -> int | None:
    """An integer score 1–10 from ``8``, ``8.0``, ``"8"`` or ``"8/10"``; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        match = _SCORE.match(str(value))
        if not match:
            return None
        number = float(match.group(1))
    if not number.is_integer() or not 1 <= number <= 10:
        return None
    return int(number)


def iter_json_objects(text: str) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``text``, also those nested in arrays or in a wrapper object
    such as ``{"papers": [...]}`` (what structured output answers), in order."""
    for value in _iter_json_values(text, "{"):
        yield from _objects_in(value)


def _objects_in(value: Any) -> Iterator[dict[str, Any]]:
    """Objects in document order, walked without recursion (answers can nest deeply)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        stack.extend(reversed([c for c in children if isinstance(c, dict | list)]))


def _iter_json_values(text: str, opener: str) -> Iterator[Any]:
    closer = "}" if opener == "{" else "]"
    pos = 0
    budget = _SCAN_PER_CHAR * len(text) + 10_000
    while (start := text.find(opener, pos)) != -1:
        end, scanned = _matching(text, start, opener, closer, budget)
        budget -= scanned
        if budget <= 0:
            return
        if end is None:
            pos = start + 1
            continue
        value = _loads(text[start:end + 1])
        if value is None:
            pos = start + 1  # not JSON here: look for values nested inside
        else:
            yield value
            pos = end + 1


def _matching(text: str, start: int, opener: str, closer: str, budget: int
              ) -> tuple[int | None, int]:
    """Where the bracket at ``start`` closes (None if it does not), and how many
    characters that took to find out (at most ``budget``)."""
    depth, quote, escaped = 0, "", False
    for i in range(start, min(len(text), start + max(budget, 0))):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'" and (ch == '"' or text[i - 1] in "{[,: \n\t"):
            quote = ch
        elif ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return i, i - start + 1
    return None, min(len(text), start + max(budget, 0)) - start


def _loads(chunk: str) -> Any:
    for candidate in (chunk, _TRAILING_COMMA.sub(r"\1", chunk)):
        try:
            return load_json(candidate)
        except json.JSONDecodeError:
            pass
        except ValueError:  # nested too deep, a non-finite number: no answer
            return None
    try:  # Python-style literals: single quotes, True/None
        pythonic = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", chunk))
        value = ast.literal_eval(_TRAILING_COMMA.sub(r"\1", re.sub(r"\bnull\b", "None", pythonic)))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict | list) else None
