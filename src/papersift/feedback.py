"""The reader's likes and dislikes: one verdict per paper, from the command line, from the
site served by ``papersift serve``, or from a file the site exports on a static host.

The file (``papersift-feedback.json``) is what the site's "Export feedback" button
writes::

    {"format": "papersift-feedback", "version": 1, "exported_at": "...",
     "labels": [{"arxiv_id": "2604.01234", "like": true, "title": "...", "at": "..."}]}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papersift.errors import PapersiftError
from papersift.sources.common import normalize_arxiv_id
from papersift.store import Store
from papersift.text import clean_text, load_json

FILE_FORMAT = "papersift-feedback"
MAX_FILE_BYTES = 20 * 2**20


class FeedbackFileError(PapersiftError):
    """An exported feedback file that cannot be read; nothing of it was imported."""

    exit_code = 2


@dataclass(frozen=True)
class Verdict:
    arxiv_id: str
    like: bool
    title: str = ""


def verdict_from(entry: Any) -> Verdict:
    """One verdict from a JSON object (a click on the page, a line of the file);
    ``ValueError`` says what is wrong with it."""
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    arxiv_id = normalize_arxiv_id(str(entry.get("arxiv_id", "")))
    if arxiv_id is None:
        raise ValueError(f"arxiv_id {entry.get('arxiv_id')!r} is not an arXiv id")
    like = entry.get("like")
    if not isinstance(like, bool):
        raise ValueError(f"{arxiv_id}: like must be true or false, not {like!r}")
    title = entry.get("title", "")
    return Verdict(arxiv_id, like, clean_text(title)[:500] if isinstance(title, str) else "")


def read_feedback_file(path: Path) -> list[Verdict]:
    """Every verdict of an exported file (the last one per paper wins), or one error line
    naming the file and the entry; a file with any bad entry imports nothing."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FeedbackFileError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB; "
                                    "not a papersift feedback file")
        document = load_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FeedbackFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FeedbackFileError(f"{path}: not a papersift feedback file ({exc})") from None
    try:
        return verdicts_of(document)
    except ValueError as exc:
        raise FeedbackFileError(f"{path}: {exc}; nothing imported") from None


def verdicts_of(document: Any) -> list[Verdict]:
    """The verdicts of a feedback document (the last one per paper wins); ``ValueError``
    names the first bad entry."""
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT or \
            not isinstance(document.get("labels"), list):
        raise ValueError(f'not a papersift feedback file (expected {{"format": '
                         f'"{FILE_FORMAT}", "labels": [...]}})')
    verdicts: dict[str, Verdict] = {}
    for number, entry in enumerate(document["labels"], start=1):
        try:
            verdict = verdict_from(entry)
        except ValueError as exc:
            raise ValueError(f"labels[{number}]: {exc}") from None
        verdicts.pop(verdict.arxiv_id, None)
        verdicts[verdict.arxiv_id] = verdict
    return list(verdicts.values())


def record(store: Store, verdicts: list[Verdict]) -> None:
    """Write the verdicts as the reader's labels (the latest verdict per paper wins)."""
    for verdict in verdicts:
        store.add_label(verdict.arxiv_id, "feedback", verdict.like, title=verdict.title)
