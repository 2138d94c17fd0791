"""Locks beside the store file, so that two processes never race on one store.

Two locks, both released by the operating system if their holder dies (even SIGKILL):

- the *open* lock, held while a store is opened and migrated: two first runs on a new
  store once both tried to create its tables;
- the *run* lock, held for a whole daily run: a second run on the same store waits for
  the first to end (then finds its papers scored and pays for nothing), or stops with
  one line when the wait is too long. ``feedback`` and ``learn`` take only the open lock,
  so they never wait for a run.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from papersift.errors import PapersiftError

log = logging.getLogger(__name__)


class StoreBusy(PapersiftError):
    """Another papersift process holds the store for longer than this one waits."""


def open_lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


def run_lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".run.lock")


@contextlib.contextmanager
def hold(lock_path: Path, timeout: float, what: str) -> Iterator[None]:
    """Hold the lock at ``lock_path``, waiting at most ``timeout`` seconds for it."""
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_path), timeout=timeout)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            log.warning("another papersift process is using %s; waiting up to %.0f s",
                        lock_path.with_suffix(""), timeout)
            started = time.monotonic()
            lock.acquire(timeout=timeout)
            log.info("waited %.1f s for %s", time.monotonic() - started, what)
    except Timeout:
        raise StoreBusy(f"{lock_path.with_suffix('')}: another papersift process has held "
                        f"{what} for more than {timeout:.0f} s; nothing done") from None
    except OSError as exc:
        raise StoreBusy(f"{lock_path}: cannot create the lock file "
                        f"({exc.strerror or exc})") from None
    try:
        yield
    finally:
        lock.release()


def run_lock(store: Path, timeout: float) -> contextlib.AbstractContextManager[None]:
    """Held for a whole run: one run at a time per store."""
    return hold(run_lock_path(store), timeout, "the store for a run")
