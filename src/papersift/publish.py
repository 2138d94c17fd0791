"""Writing outputs: every file of a run is published together or not at all."""

from __future__ import annotations

from pathlib import Path

from papersift.atomic import Staging
from papersift.health import stage_status
from papersift.models import Digest
from papersift.render import digest_record, output_path, record_json, render_markdown
from papersift.site import build_site


def publish(digest: Digest, out_dir: Path, formats: list[str]) -> list[Path]:
    """Write the digest in each format, plus ``OUT/latest.md`` and the site pages it
    touches; return the main paths written. Raises ``PublishError`` (nothing written)."""
    shown: list[Path] = []
    with Staging() as staging:
        if "md" in formats:
            markdown = render_markdown(digest)
            path = output_path(out_dir, "md", digest.day)
            staging.write(path, markdown)
            shown.append(path)
            if _is_latest(out_dir, digest):
                staging.write(out_dir / "latest.md", markdown)
                shown.append(out_dir / "latest.md")
        record = digest_record(digest)
        if "json" in formats or "site" in formats:  # the site is built from the JSON
            path = output_path(out_dir, "json", digest.day)
            staging.write(path, record_json(record))
            shown.append(path)
        if "site" in formats:
            build_site(out_dir, touched=[digest.day], pending={digest.day: record},
                       staging=staging)
            shown.append(out_dir / "site" / "index.html")
        if digest.status is not None:
            stage_status(staging, out_dir, digest.status, site="site" in formats)
        staging.commit()
    return shown


def _is_latest(out_dir: Path, digest: Digest) -> bool:
    """Backfilling an older day must not replace latest.md with an older digest."""
    days = [p.stem for p in (out_dir / "md").glob("*/????-??-??.md")]
    return all(day <= digest.day.isoformat() for day in days)
