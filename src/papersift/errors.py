"""Exceptions a user can act on: each message is one line naming what went wrong."""

from __future__ import annotations

import datetime as dt


class PapersiftError(Exception):
    """Base class for every error papersift reports to the user."""

    exit_code = 1


class ConfigError(PapersiftError):
    """The configuration file (or a file it names) is missing or invalid."""

    exit_code = 2


class SourceError(PapersiftError):
    """A paper source (arXiv RSS/API, a local file) could not be read."""


class NoAnnouncements(PapersiftError):
    """The requested day has no announcements (weekend, holiday, empty feed)."""

    exit_code = 0

    def __init__(self, message: str, day: dt.date | None = None):
        super().__init__(message)
        self.day = day


class ScorerUnavailable(PapersiftError):
    """No scorer can run with the given configuration and environment."""


class DateError(PapersiftError):
    """The requested day cannot have been announced (a future date)."""

    exit_code = 2
