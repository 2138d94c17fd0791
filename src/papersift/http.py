"""HTTP helpers shared by the sources and the Semantic Scholar client.

Retries transient failures (429, 5xx, connection errors, timeouts) with exponential
backoff, honouring ``Retry-After``; anything else fails at once with a one-line error
that names the URL.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from papersift import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"papersift/{__version__} (personal arXiv digest)"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class HTTPFailure(Exception):
    """A request that failed for good; ``str()`` is a one-line description."""

    def __init__(self, url: str, detail: str, status: int | None = None):
        super().__init__(f"{url}: {detail}")
        self.url = url
        self.status = status


class _Retryable(Exception):
    def __init__(self, detail: str, retry_after: float | None):
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0


class Pacer:
    """Keeps at least ``delay`` seconds between consecutive requests."""

    def __init__(self, delay: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.delay, self.clock, self.sleep = delay, clock, sleep
        self.last: float | None = None

    def wait(self) -> None:
        if self.last is not None:
            remaining = self.delay - (self.clock() - self.last)
            if remaining > 0:
                self.sleep(remaining)
        self.last = self.clock()


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """A tenacity wait: ``Retry-After`` when the server sent one, else exponential."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, policy.max_backoff_seconds)
        return min(policy.backoff_seconds * 2 ** (state.attempt_number - 1),
                   policy.max_backoff_seconds)

    return wait


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    **kwargs: object,
) -> httpx.Response:
    """Send a request, retrying transient failures; raise ``HTTPFailure`` otherwise."""
    policy = policy or RetryPolicy()
    shown = url if len(url) < 300 else url[:297] + "..."

    def attempt() -> httpx.Response:
        try:
            response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.TimeoutException:
            raise _Retryable("timed out", None) from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__})", None) from None
        if response.status_code in RETRYABLE_STATUS:
            raise _Retryable(
                f"HTTP {response.status_code}",
                parse_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code >= 400:
            raise HTTPFailure(shown, f"HTTP {response.status_code}", response.status_code)
        return response

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=backoff_wait(policy),
        retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
        before_sleep=lambda s: log.info(
            "%s: %s, retrying (attempt %d of %d)",
            shown, s.outcome.exception() if s.outcome else "?", s.attempt_number + 1,
            policy.attempts,
        ),
        reraise=True,
        **({"sleep": sleep} if sleep else {}),
    )
    try:
        return retrying(attempt)
    except _Retryable as exc:
        raise HTTPFailure(shown, f"{exc} after {policy.attempts} attempts") from None


def new_client(timeout: float, headers: dict[str, str] | None = None) -> httpx.Client:
    """An ``httpx.Client`` with papersift's user agent."""
    return httpx.Client(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=True,
    )
