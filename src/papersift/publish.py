"""Writing outputs: every file of a run is published together or not at all."""

from __future__ import annotations

from pathlib import Path

from papersift.atomic import Staging
from papersift.health import stage_status
from papersift.models import Digest
from papersift.monthly import overview_of, stage_overview, written_by_llm
from papersift.render import digest_record, output_path, record_json, render_markdown
from papersift.render.navigation import archived_days, navigation, neighbours, with_navigation
from papersift.site import build_site


def publish(digest: Digest, out_dir: Path, formats: list[str],
            site_url: str | None = None, github_repository: str | None = None) -> list[Path]:
    """Write the digest in each format, plus ``OUT/latest.md``, the month's overview (so
    the Markdown's Monthly Overview link always leads somewhere) and the site pages it
    touches; return the main paths written. Raises ``PublishError`` (nothing written)."""
    shown: list[Path] = []
    with Staging() as staging:
        if "md" in formats:
            shown += _write_markdown(digest, out_dir, staging)
        record = digest_record(digest)
        month = f"{digest.day:%Y-%m}"
        if "md" in formats and not written_by_llm(out_dir, month):
            stage_overview(overview_of(out_dir, month, {digest.day: record}), out_dir,
                           staging)
        if "json" in formats or "site" in formats:  # the site is built from the JSON
            path = output_path(out_dir, "json", digest.day)
            staging.write(path, record_json(record))
            shown.append(path)
        if "site" in formats:
            build_site(out_dir, touched=[digest.day], pending={digest.day: record},
                       staging=staging, site_url=site_url,
                       github_repository=github_repository)
            shown.append(out_dir / "site" / "index.html")
        if digest.status is not None:
            stage_status(staging, out_dir, digest.status, site="site" in formats)
        staging.commit()
    return shown


def _write_markdown(digest: Digest, out_dir: Path, staging: Staging) -> list[Path]:
    """The day's Markdown, its neighbours' navigation lines, and ``latest.md`` (the newest
    day's digest: backfilling an older day only updates its navigation)."""
    days = sorted({*archived_days(out_dir), digest.day})
    texts = {digest.day: render_markdown(digest)}
    for day in neighbours(days, digest.day):
        if day is not None:
            texts[day] = output_path(out_dir, "md", day).read_text(encoding="utf-8")
    written = []
    for day, text in texts.items():
        previous, following = neighbours(days, day)
        path = output_path(out_dir, "md", day)
        staging.write(path, with_navigation(text, navigation(day, previous, following, "../")))
        if day == days[-1]:  # links from OUT/ rather than OUT/md/YYYY-MM/
            staging.write(out_dir / "latest.md",
                          with_navigation(text, navigation(day, previous, following, "md/")))
        if day == digest.day:
            written += [path] + ([out_dir / "latest.md"] if day == days[-1] else [])
    return written
