"""HTTP for every outside service, with limits a hostile server cannot get around.

Each request has an overall deadline (from sending it to the last byte of the answer:
httpx's own timeouts apply per read, so a server dripping one byte a second would
never trip them) and a cap on the size of the answer, compressed or not. Transient
failures (429, 5xx, connection errors, timeouts) are retried with exponential backoff,
honouring ``Retry-After`` up to a limit; anything else fails at once with a one-line
error that names the URL.

Redirects are followed by ``HttpClient`` itself, never by httpx: within the same
origin as asked; to another origin only a GET or HEAD, and without the headers the
caller added (an API key, a webhook's secret header: they are for the host they were
configured for). A POST that is answered with a redirect was not delivered: a failure.
The openai SDK's client follows none (its key is for its endpoint).

``LimitedTransport`` enforces the limits inside httpx, so the openai SDK's client gets
them too; ``HttpClient`` is the blocking client of the sources and Semantic Scholar.
It runs an ``httpx.AsyncClient`` on a private event loop because only a cancellable
request can be stopped at its deadline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

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
MAX_RESPONSE_BYTES = 64 * 2**20  # a day's arXiv listing is a few MB
MAX_REDIRECTS = 5


class HTTPFailure(Exception):
    """A request that failed for good; ``str()`` is a one-line description."""

    def __init__(self, url: str, detail: str, status: int | None = None):
        super().__init__(f"{url}: {detail}")
        self.url = url
        self.status = status


class ResponseTooLarge(httpx.ReadError):
    """The answer passed the size cap; retrying would only fetch it again."""


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
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """A tenacity wait: ``Retry-After`` when the server sent one, else exponential."""

    def wait(state: RetryCallState) -> float:
        retry_after = _retry_after(state)
        if retry_after is None:
            retry_after = policy.backoff_seconds * 2 ** (state.attempt_number - 1)
        return min(retry_after, policy.max_backoff_seconds)  # longer asks: see retry_stop

    return wait


def retry_stop(policy: RetryPolicy) -> Callable[[RetryCallState], bool]:
    """A tenacity stop: after ``attempts``, or at once when the server asks for a pause
    longer than ``max_backoff_seconds`` (``Retry-After: 3600`` is not waited for)."""
    attempts = stop_after_attempt(policy.attempts)

    def stop(state: RetryCallState) -> bool:
        retry_after = _retry_after(state)
        return attempts(state) or (retry_after is not None
                                   and retry_after > policy.max_backoff_seconds)

    return stop


def gave_up_because(exc: BaseException, policy: RetryPolicy) -> str:
    """Why the retries ended, for the one-line error: the attempts, or a long Retry-After."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None and retry_after > policy.max_backoff_seconds:
        return (f"{exc}; the server asks to wait {retry_after:.0f} s (Retry-After), "
                f"more than the {policy.max_backoff_seconds:g} s papersift waits")
    return f"{exc} after {policy.attempts} attempts"


def _retry_after(state: RetryCallState) -> float | None:
    exc = state.outcome.exception() if state.outcome else None
    return getattr(exc, "retry_after", None)


# -- limits inside httpx -----------------------------------------------------------------

class LimitedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose answers end by a deadline and stop at ``max_bytes``.

    Answers are asked for uncompressed; a server that compresses anyway is decoded here,
    under the same cap, so a small compressed bomb cannot grow past it.
    """

    def __init__(self, deadline: float, max_bytes: int = MAX_RESPONSE_BYTES,
                 inner: httpx.AsyncBaseTransport | None = None):
        self.deadline, self.max_bytes = deadline, max_bytes
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + self.deadline
        request.headers["Accept-Encoding"] = "identity"
        try:
            async with asyncio.timeout_at(ends_at):
                response = await self.inner.handle_async_request(request)
        except TimeoutError:
            raise self._late(request) from None
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            await response.aclose()
            raise httpx.DecodingError(f"unsupported Content-Encoding {encoding!r}",
                                      request=request)
        length = response.headers.get("Content-Length", "")
        if encoding in ("identity", "") and length.isdigit() and int(length) > self.max_bytes:
            await response.aclose()
            raise self._too_large(request)
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length")]
        body = _LimitedBody(response.stream, ends_at, self.max_bytes, encoding,
                            lambda: self._late(request), lambda: self._too_large(request))
        return httpx.Response(response.status_code, headers=headers, stream=body,
                              extensions=response.extensions, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _late(self, request: httpx.Request) -> httpx.ReadTimeout:
        return httpx.ReadTimeout(f"no complete answer within {self.deadline:g} s",
                                 request=request)

    def _too_large(self, request: httpx.Request) -> ResponseTooLarge:
        return ResponseTooLarge(f"answer larger than {self.max_bytes // 2**20} MB",
                                request=request)


class _LimitedBody(httpx.AsyncByteStream):
    def __init__(self, stream: Any, ends_at: float, max_bytes: int, encoding: str,
                 late: Callable[[], Exception], too_large: Callable[[], Exception]):
        self.stream, self.ends_at, self.max_bytes = stream, ends_at, max_bytes
        self.late, self.too_large = late, too_large
        # wbits 47 reads gzip or zlib headers; raw deflate is tried if that fails.
        self.decoder = None if encoding in ("identity", "") else zlib.decompressobj(47)
        self.raw_deflate = encoding == "deflate"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        chunks = self.stream.__aiter__()
        while True:
            try:
                async with asyncio.timeout_at(self.ends_at):
                    chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise self.late() from None
            data = self._decode(chunk, self.max_bytes - received)
            received += len(data)
            if received > self.max_bytes:
                raise self.too_large()
            if data:
                yield data

    def _decode(self, chunk: bytes, room: int) -> bytes:
        if self.decoder is None:
            return chunk
        try:
            return self.decoder.decompress(chunk, room + 1)  # room + 1: "too large" shows
        except zlib.error:
            if not self.raw_deflate:
                raise httpx.DecodingError("malformed compressed answer") from None
            self.raw_deflate, self.decoder = False, zlib.decompressobj(-zlib.MAX_WBITS)
            return self._decode(chunk, room)

    async def aclose(self) -> None:
        await self.stream.aclose()


def limited_async_client(timeout: float, *, max_bytes: int = MAX_RESPONSE_BYTES,
                         headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every request ends by ``timeout`` seconds and that
    follows no redirect (``HttpClient`` decides which to follow)."""
    return httpx.AsyncClient(
        transport=LimitedTransport(timeout, max_bytes),
        timeout=timeout,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=False,
    )


class HttpClient:
    """Blocking requests with an overall deadline and a size cap each; ``headers`` (a
    key, a token) go only to the origin each request is sent to (see above)."""

    def __init__(self, timeout: float, headers: dict[str, str] | None = None, *,
                 max_bytes: int = MAX_RESPONSE_BYTES):
        self._loop = asyncio.new_event_loop()
        self._client = limited_async_client(timeout, max_bytes=max_bytes)
        self._headers = dict(headers or {})

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One attempt, redirects included; raises httpx's errors (``ReadTimeout`` at the
        deadline) and ``HTTPFailure`` for a redirect it does not follow."""
        return self._loop.run_until_complete(self._send(method, url, **kwargs))

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._headers, **(kwargs.pop("headers", None) or {})}
        origin = httpx.URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._client.request(method, url, headers=headers, **kwargs)
            target = response.next_request.url if response.next_request else None
            if target is None:
                return response
            await response.aclose()
            where = f"{target.scheme}://{target.host}" + (f":{target.port}" if target.port
                                                           else "")
            if method.upper() not in ("GET", "HEAD"):
                raise HTTPFailure(_shown(url), f"answered HTTP {response.status_code}, a "
                                  f"redirect to {where}: not delivered (papersift does not "
                                  "send it on)", response.status_code)
            if (target.scheme, target.host, target.port) != (origin.scheme, origin.host,
                                                           origin.port):
                headers = {}  # the caller's headers were for the origin it named
            url = str(target)
            kwargs.pop("params", None)  # the target carries its own query
        raise HTTPFailure(_shown(url), f"more than {MAX_REDIRECTS} redirects")

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._client.aclose())
            self._loop.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _shown(url: str) -> str:
    return url if len(url) < 300 else url[:297] + "..."


def request(
    client: HttpClient,
    method: str,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request, retrying transient failures; raise ``HTTPFailure`` otherwise."""
    policy = policy or RetryPolicy()
    shown = _shown(url)

    def attempt() -> httpx.Response:
        try:
            response = client.send(method, url, **kwargs)
        except ResponseTooLarge as exc:
            raise HTTPFailure(shown, str(exc)) from None
        except httpx.TimeoutException:
            raise _Retryable("timed out", None) from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__})", None) from None
        except httpx.InvalidURL as exc:
            raise HTTPFailure(shown, f"invalid URL ({exc})") from None
        if response.status_code in RETRYABLE_STATUS:
            raise _Retryable(
                f"HTTP {response.status_code}",
                parse_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code >= 400:
            raise HTTPFailure(shown, f"HTTP {response.status_code}", response.status_code)
        return response

    retrying = Retrying(
        stop=retry_stop(policy),
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
        raise HTTPFailure(shown, gave_up_because(exc, policy)) from None
