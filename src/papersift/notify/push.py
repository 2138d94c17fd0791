"""What a push carries (the day's JSON record, or a morning's status) and the text
helpers every channel shares."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papersift.errors import PapersiftError
from papersift.health import status_record
from papersift.models import RunStatus
from papersift.render import output_path, spotlight_entries
from papersift.text import load_json

SHORT_ABSTRACT = 360  # characters of the abstract a push shows (the site has the rest)


class PushError(PapersiftError):
    """One channel could not deliver; the message names the channel, never a secret."""


class NoStoredDigest(PapersiftError):
    """``notify --date D`` for a day without a JSON digest."""


@dataclass(frozen=True)
class Push:
    """What one push carries: the day's JSON record (the same keys as ``OUT/json``; a
    morning without a digest sends its status with no papers) and where the site is."""

    record: dict[str, Any]
    site_url: str | None = None

    @property
    def day(self) -> str | None:
        return self.record.get("date")

    @property
    def status(self) -> dict[str, Any]:
        return self.record.get("run", {}).get("status") or {}

    @property
    def papers(self) -> list[dict[str, Any]]:
        papers = list((self.record.get("papers") or {}).values())
        return sorted(papers, key=lambda p: p.get("rank") or 0)

    @property
    def spotlight(self) -> list[dict[str, Any]]:
        """The day's spotlight entries (title, why)."""
        return spotlight_entries(self.record)

    @property
    def is_digest(self) -> bool:
        """A day's digest (a status-only push has no paper counts)."""
        return "total" in self.record.get("run", {})

    @property
    def day_url(self) -> str | None:
        """The site's page of the day, when the site's address is known."""
        if not (self.site_url and self.day and self.is_digest):
            return None
        return f"{self.site_url}{self.day[:7]}/{self.day}.html"


@dataclass(frozen=True)
class PushResult:
    channel: str
    ok: bool
    detail: str


def digest_push(out_dir: Path, day: dt.date, site_url: str | None) -> Push:
    """The stored JSON digest of ``day`` as a push (``NoStoredDigest`` if there is none)."""
    path = output_path(out_dir, "json", day)
    try:
        record = load_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NoStoredDigest(f"{path}: no digest for {day} (run `papersift run --date "
                             f"{day}` first; output.formats must include json)") from None
    except (OSError, ValueError) as exc:
        raise NoStoredDigest(f"{path}: cannot read the digest ({exc})") from None
    if not isinstance(record, dict) or not isinstance(record.get("papers"), dict):
        raise NoStoredDigest(f"{path}: not a papersift digest")
    return Push(record, site_url)


def status_push(status: RunStatus, site_url: str | None) -> Push:
    """A morning without a digest (no announcements, arXiv unreachable) as a push: the
    digest's keys, no papers."""
    day = status.day.isoformat() if status.day else None
    return Push({"date": day, "run": {"model": status.model, "status": status_record(status)},
                 "papers": {}, "not_scored": [], "prompts": None}, site_url)



def shorten(text: str, limit: int = SHORT_ABSTRACT) -> str:
    """``text`` cut at a word boundary before ``limit`` characters, with "…"."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


def headline(push: Push) -> str:
    """One line saying what this push is: "12 papers for 2026-04-14" or the status."""
    status = push.status
    failed = status.get("failed_steps") or []
    if not push.is_digest:
        return status.get("message", "papersift")
    count = len(push.papers)
    text = f"{count} paper{'s' if count != 1 else ''} for {push.day}"
    if status.get("outcome") == "partial":
        text += f" (partial: {status.get('not_scored', 0)} not scored)"
    elif status.get("outcome") == "upstream_failure":
        text += " (scoring failed)"
    if failed:
        text += f"; failed after the run: {'; '.join(map(str, failed))}"
    return text
