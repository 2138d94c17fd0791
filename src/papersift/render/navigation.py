"""The Previous Day / Monthly Overview / Next Day lines that open each day's Markdown, as
the reference's pages have them, kept true when a later day is added or an earlier day
backfilled (its neighbours' lines are rewritten in the same publication)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

START, END = "<!-- navigation -->", "<!-- /navigation -->"


def archived_days(out_dir: Path) -> list[dt.date]:
    """The days with a Markdown digest under ``OUT/md``, oldest first."""
    days = []
    for path in (out_dir / "md").glob("*/????-??-??.md"):
        try:
            days.append(dt.date.fromisoformat(path.stem))
        except ValueError:
            continue
    return sorted(days)


def neighbours(days: list[dt.date], day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The archived day before ``day`` and the one after it, if any."""
    before = [d for d in days if d < day]
    after = [d for d in days if d > day]
    return (before[-1] if before else None), (after[0] if after else None)


def navigation(day: dt.date, previous: dt.date | None, following: dt.date | None,
               prefix: str) -> str:
    """The block of links; ``prefix`` leads from the file's folder to ``OUT/md/``."""
    def link(target: dt.date) -> str:
        return f"[{target.isoformat()}]({prefix}{target:%Y-%m}/{target.isoformat()}.md)"

    lines = [f"Previous Day {link(previous)}"] if previous else []
    lines.append(f"Monthly Overview [{day:%Y-%m}]({prefix}{day:%Y-%m}/overview.md)")
    if following:
        lines.append(f"Next Day {link(following)}")
    return f"{START}\n" + "  \n".join(lines) + f"\n{END}\n\n"


def with_navigation(markdown: str, block: str) -> str:
    """``markdown`` opening with ``block`` (its old navigation block, if any, replaced)."""
    if markdown.startswith(START) and END in markdown:
        markdown = markdown.split(END, 1)[1].lstrip("\n")
    return block + markdown
