"""Small helpers every part of the store uses: timestamps, dates read back, a
transaction on an autocommit connection, and queries over many ids."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def day_of(text: str | None) -> dt.date | None:
    """A stored YYYY-MM-DD (or the date part of a timestamp), else None."""
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


class Transaction:
    """``BEGIN`` … ``COMMIT`` (or ``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN")
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def rows_for_ids(db: sqlite3.Connection, query: str, leading: tuple[Any, ...],
                 ids: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    """Rows of ``query`` for many ids; ``{ids}`` marks the id list (SQLite caps its size)."""
    ids = list(ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        yield from db.execute(query.format(ids=",".join("?" * len(chunk))), (*leading, *chunk))
