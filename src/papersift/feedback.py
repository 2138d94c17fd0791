"""The reader's likes and dislikes: one verdict per paper, from the command line, from the
site served by ``papersift serve``, or from a file the site exports on a static host.

The file (``papersift-feedback.json``) is what the site's "Export feedback" button
writes::

    {"format": "papersift-feedback", "version": 1, "exported_at": "...",
     "labels": [{"arxiv_id": "2604.01234", "like": true, "title": "...", "at": "...",
                 "profile": "ada"}]}

``profile`` (the reader whose page was clicked) is there when the configuration has
several ``[profiles]``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papersift.config import PROFILE_NAME
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
    profile: str | None = None  # whose page it was clicked on; None: the command's reader


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
    profile = entry.get("profile")
    if profile is not None and not (isinstance(profile, str) and PROFILE_NAME.match(profile)):
        raise ValueError(f"{arxiv_id}: profile {profile!r} is not a profile name")
    return Verdict(arxiv_id, like, clean_text(title)[:500] if isinstance(title, str) else "",
                   profile)


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
        key = (verdict.arxiv_id, verdict.profile)
        verdicts.pop(key, None)
        verdicts[key] = verdict
    return list(verdicts.values())


def unknown_readers(verdicts: list[Verdict], profiles: Collection[str],
                    default: str | None) -> str | None:
    """Why ``verdicts`` cannot all be recorded for the configuration's ``profiles`` (a
    verdict for a reader it does not have, or one naming no reader when the command has
    none to give it), or None."""
    named = sorted({v.profile for v in verdicts if v.profile and v.profile not in profiles})
    if named:
        return (f"verdicts for profile(s) {', '.join(named)}, which the configuration does "
                f"not have (profiles: {', '.join(profiles)}); nothing imported")
    if default is None and any(v.profile is None for v in verdicts):
        return ("some verdicts name no profile and the configuration has several; say "
                "whose with --profile NAME; nothing imported")
    return None


def record(store: Store, verdicts: list[Verdict]) -> None:
    """Write the verdicts as their readers' labels (the store's reader where a verdict
    names none; the latest verdict per paper wins)."""
    for verdict in verdicts:
        reader = store.for_profile(verdict.profile) if verdict.profile else store
        reader.add_label(verdict.arxiv_id, "feedback", verdict.like, title=verdict.title)
