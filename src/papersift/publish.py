"""Writing outputs: atomically, so a crash never leaves a half-written digest."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from papersift.models import Digest
from papersift.render import output_path, render_json, render_markdown


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    if "json" in formats:
        path = output_path(out_dir, "json", digest.day)
        write_atomic(path, render_json(digest))
        written.append(path)
    return written


def _is_latest(out_dir: Path, digest: Digest) -> bool:
    """Backfilling an older day must not replace latest.md with an older digest."""
    days = [p.stem for p in (out_dir / "md").glob("*/*.md")]
    return all(day <= digest.day.isoformat() for day in days)
