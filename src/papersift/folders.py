"""Reading a folder papersift did not write (an import's source, a served site): only
regular files that lie inside it are read, and what is passed over is named.

A symbolic link may point anywhere (``/proc/self/environ``, ``~/.ssh``), so a link is
never followed, whether the file or one of its folders is the link; a path that
resolves outside the folder (``..``) is outside it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def why_not_readable(root: Path, path: Path, *, hard_links: bool = True) -> str | None:
    """Why ``path`` is not a regular file inside ``root`` (``None``: it is one); with
    ``hard_links=False`` a file that is also elsewhere (a hard link) is not one either."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return "outside the folder"
    if ".." in relative.parts:
        return "outside the folder"
    current = root
    for part in relative.parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except OSError:
            return "missing"
        if stat.S_ISLNK(mode):
            return "a symbolic link (papersift follows none out of a folder it reads)"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    if not hard_links and os.lstat(current).st_nlink > 1:
        return "a hard link to a file that is also elsewhere"
    return None


def files_under(root: Path, suffix: str, skipped: list[str], *,
                hard_links: bool = True) -> list[Path]:
    """The regular files under ``root`` whose name ends in ``suffix`` (sorted), never
    through a symbolic link; each link passed over is added to ``skipped`` ("path: why")."""
    found: list[Path] = []
    for folder, folders, files in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in sorted(folders):
            if (base / name).is_symlink():
                skipped.append(f"{base / name}: a symbolic link to a folder; not read")
        for name in sorted(files):
            if not name.endswith(suffix):
                continue
            why = why_not_readable(root, base / name, hard_links=hard_links)
            if why is None:
                found.append(base / name)
            else:
                skipped.append(f"{base / name}: {why}; not read")
    return sorted(found)


def why_not_writable(root: Path, path: Path) -> str | None:
    """Why papersift must not write the new file ``path`` into ``root``: something (a
    file, a link, even a dangling one) is already there, or a folder on the way is a link
    or leads outside ``root``. ``None``: a new file inside ``root``."""
    if os.path.lexists(path):
        return "a symbolic link is there" if path.is_symlink() else "it already exists"
    try:
        relative = path.parent.relative_to(root)
    except ValueError:
        return f"it is outside {root}"
    folder = root
    for part in relative.parts:
        folder = folder / part
        if part == ".." or folder.is_symlink():
            return f"{folder} is a symbolic link or leads outside {root}"
    return None
