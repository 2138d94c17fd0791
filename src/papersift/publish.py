"""Writing outputs: atomically, so a crash never leaves a half-written digest."""

from __future__ import annotations

from pathlib import Path

from papersift.atomic import write_atomic
from papersift.models import Digest
from papersift.render import output_path, render_json, render_markdown
from papersift.site import build_site


def publish(digest: Digest, out_dir: Path, formats: list[str]) -> list[Path]:
    """Write the digest in each format, plus ``OUT/latest.md``; return the paths written."""
    written = []
    if "md" in formats:
        markdown = render_markdown(digest)
        path = output_path(out_dir, "md", digest.day)
        write_atomic(path, markdown)
        written.append(path)
        if _is_latest(out_dir, digest):
            write_atomic(out_dir / "latest.md", markdown)
            written.append(out_dir / "latest.md")
    if "json" in formats or "site" in formats:  # the site is built from the JSON
        path = output_path(out_dir, "json", digest.day)
        write_atomic(path, render_json(digest))
        written.append(path)
    if "site" in formats:
        build_site(out_dir, touched=[digest.day])
        written.append(out_dir / "site" / "index.html")
    return written


def _is_latest(out_dir: Path, digest: Digest) -> bool:
    """Backfilling an older day must not replace latest.md with an older digest."""
    days = [p.stem for p in (out_dir / "md").glob("*/*.md")]
    return all(day <= digest.day.isoformat() for day in days)
