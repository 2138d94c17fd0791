"""Publishing files all together or not at all.

A run writes a digest in several files (Markdown, ``latest.md``, JSON, site pages). Each
is written to a temporary file beside its target first; only when every one of them is
complete are they renamed into place, and a rename that fails part-way puts back what
the earlier ones replaced. A full disk or a read-only folder therefore leaves the
previous outputs exactly as they were, never one file new and another old.
New files get the permissions the umask gives (a web server must be able to read the
site); a replaced file keeps its own. Every text passes the redaction step on its way
to disk (``papersift.redact``): whatever a provider echoed, no secret is written.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from papersift.errors import PapersiftError
from papersift.redact import Redactor


class PublishError(PapersiftError):
    """An output could not be written; nothing of the run was published."""


class Staging:
    """Files written beside their targets, moved into place together by ``commit``."""

    def __init__(self, redact: Redactor | None = None) -> None:
        self.pending: dict[Path, Path] = {}  # target -> its finished temporary file
        self.redact = redact or Redactor.from_environment()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.discard()  # after commit() there is nothing left to discard

    def write(self, path: Path, text: str) -> None:
        """Write ``text`` (redacted) to a temporary file that ``commit`` will rename to
        ``path``."""
        text = self.redact(text)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        except OSError as exc:
            raise PublishError(_cannot("write", path, exc)) from None
        try:
            os.fchmod(fd, _mode_for(path))
            with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise PublishError(_cannot("write", path, exc)) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if path in self.pending:
            self.pending[path].unlink(missing_ok=True)
        self.pending[path] = Path(tmp)

    def will_exist(self, path: Path) -> bool:
        """Whether ``path`` exists now or will once this staging is committed."""
        return path in self.pending or path.exists()

    def commit(self) -> list[Path]:
        """Rename every staged file into place; on failure undo the renames done."""
        done: list[tuple[Path, Path | None, bool]] = []  # target, backup, existed before
        try:
            for target, tmp in self.pending.items():
                existed = target.is_file()
                backup = _backup(target) if existed else None
                try:
                    os.replace(tmp, target)
                except OSError:
                    if backup is not None:
                        backup.unlink(missing_ok=True)
                    raise
                done.append((target, backup, existed))
        except OSError as exc:
            _undo(done)
            raise PublishError(_cannot("replace", target, exc)) from None
        for _, backup, _ in done:
            if backup is not None:
                backup.unlink(missing_ok=True)
        written = list(self.pending)
        self.pending = {}
        return written

    def discard(self) -> None:
        for tmp in self.pending.values():
            tmp.unlink(missing_ok=True)
        self.pending = {}


def write_atomic(path: Path, text: str) -> None:
    """Write one file atomically (temporary file beside it, then rename)."""
    with Staging() as staging:
        staging.write(path, text)
        staging.commit()


def _cannot(what: str, path: Path, exc: OSError) -> str:
    return f"{path}: cannot {what} it ({exc.strerror or exc}); nothing of this run was published"


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)  # reading the umask means setting it; put it back at once
        os.umask(umask)
        return 0o666 & ~umask


def _backup(target: Path) -> Path | None:
    """A hard link to the file ``target`` will replace (costs no space), if one can be made."""
    backup = target.with_name(f".{target.name}.{os.getpid()}.bak")
    with contextlib.suppress(OSError):
        backup.unlink(missing_ok=True)
        os.link(target, backup)
        return backup
    return None


def _undo(done: list[tuple[Path, Path | None, bool]]) -> None:
    for target, backup, existed in reversed(done):
        with contextlib.suppress(OSError):
            if backup is not None:
                os.replace(backup, target)
            elif not existed:
                target.unlink(missing_ok=True)
            # else: no link could be made on this filesystem; the new file stays
