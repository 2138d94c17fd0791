"""How pipeline stages report progress without knowing who listens.

The CLI passes a Rich-backed implementation; library callers get ``NullProgress``.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, description: str, total: int | None = None) -> int:
        """Open a task and return its handle."""
        ...

    def advance(self, task: int, n: int = 1, *, total: int | None = None,
                description: str | None = None) -> None:
        """Move a task forward (and optionally correct its total or text)."""
        ...


class NullProgress:
    """Progress that shows nothing."""

    def start(self, description: str, total: int | None = None) -> int:
        return 0

    def advance(self, task: int, n: int = 1, *, total: int | None = None,
                description: str | None = None) -> None:
        return None


NULL_PROGRESS = NullProgress()
