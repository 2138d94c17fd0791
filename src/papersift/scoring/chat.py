"""Talking to an OpenAI-compatible chat API: one request with retries, pacing and usage.

``AsyncChat`` keeps several requests in flight, within the configured concurrency,
requests-per-minute and tokens-per-minute limits. It retries 429 (honouring
``Retry-After`` up to ``max_backoff_seconds``), 5xx, timeouts and dropped connections
with exponential backoff, and turns a rejected key or unknown model into one clear
error for the whole run. Every request ends by ``timeout_seconds`` and reads at most
``MAX_ANSWER_BYTES``, whatever the server does (``papersift.http.LimitedTransport``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from papersift.config import LLMConfig, Secrets, check_url
from papersift.errors import ConfigError, ScorerUnavailable
from papersift.http import (
    ResponseTooLarge,
    RetryPolicy,
    backoff_wait,
    gave_up_because,
    limited_async_client,
    parse_retry_after,
    retry_stop,
)
from papersift.models import Usage
from papersift.scoring.pricing import PriceTable

if TYPE_CHECKING:  # the SDK takes half a second to import: only where it is used
    import openai

log = logging.getLogger(__name__)
MAX_ANSWER_BYTES = 16 * 2**20  # a batch's answer is a few kB


class Transient(Exception):
    """A failure worth retrying (429, 5xx, timeout, dropped connection)."""

    def __init__(self, detail: str, retry_after: float | None = None, *,
                 unreachable: bool = False):
        super().__init__(detail)
        self.retry_after = retry_after
        self.unreachable = unreachable  # no connection at all (refused, no route, DNS)


class RequestFailed(Exception):
    """A request that failed for good; its papers stay unscored this round."""


@dataclass(frozen=True)
class Answer:
    text: str
    usage: Usage


def check_endpoint(config: LLMConfig, secrets: Secrets) -> None:
    """Fail before anything is fetched when no LLM can be reached as configured."""
    base_url = config.base_url or secrets.openai_base_url
    if not secrets.openai_api_key and not base_url:
        raise ConfigError(
            "no LLM configured: set OPENAI_API_KEY (or OPENAI_BASE_URL / llm.base_url "
            "for a local server such as Ollama, vLLM or llama.cpp)"
        )
    if not config.base_url and secrets.openai_base_url:
        try:
            check_url(secrets.openai_base_url)
        except ValueError as exc:
            raise ConfigError(f"OPENAI_BASE_URL = {secrets.openai_base_url!r}: {exc}") from None


def make_async_client(config: LLMConfig, secrets: Secrets) -> openai.AsyncOpenAI:
    """The SDK client: base URL from the config, else ``OPENAI_BASE_URL``, else OpenAI."""
    import openai

    check_endpoint(config, secrets)
    # Local servers accept any key; the SDK insists on one. Retries are ours, not the SDK's.
    return openai.AsyncOpenAI(
        api_key=secrets.openai_api_key or "not-needed",
        base_url=config.base_url or secrets.openai_base_url,
        timeout=config.timeout_seconds,
        max_retries=0,
        http_client=limited_async_client(config.timeout_seconds, max_bytes=MAX_ANSWER_BYTES),
    )


class AsyncChat:
    """Several requests in flight, within concurrency, request- and token-rate limits.

    Two failures end every later request at once instead of each retrying on its own:
    one that stops the run (a rejected key, an unknown model: ``fatal``, which the
    caller raises once its requests have all returned, so no task is left behind), and
    an endpoint that has never answered and refused every attempt (``down``): the first
    request's retries are the run's retries."""

    def __init__(self, config: LLMConfig, client: openai.AsyncOpenAI, prices: PriceTable):
        self.config, self.client, self.prices = config, client, prices
        self.endpoint = shown_endpoint(str(client.base_url))
        self.fatal: ScorerUnavailable | None = None
        self.down: str | None = None
        self.answered = 0
        self.model = config.model
        self.policy = RetryPolicy(config.request_attempts, config.backoff_seconds,
                                  config.max_backoff_seconds)
        self.slots = asyncio.Semaphore(config.concurrency)
        self.interval = 60.0 / config.requests_per_minute if config.requests_per_minute else 0.0
        self.next_start = 0.0
        self.start_lock = asyncio.Lock()
        self.recent_tokens: deque[tuple[float, int]] = deque()

    async def ask(self, system: str, user: str,
                  before_send: Callable[[], None] | None = None,
                  response_format: dict[str, Any] | None = None) -> Answer:
        """The answer's text and usage; ``RequestFailed`` once the retries are spent.

        ``before_send`` runs once a slot is free (budget checks); ``response_format``
        asks for structured output.
        """
        async with self.slots:
            self._check_stopped()
            if before_send is not None:
                before_send()
            retrying = AsyncRetrying(
                stop=self._stop, wait=backoff_wait(self.policy),
                retry=retry_if_exception(lambda e: isinstance(e, Transient)),
                before_sleep=self._log_retry, reraise=True)
            try:
                async for attempt in retrying:
                    with attempt:
                        self._check_stopped()
                        response = await self._send(system, user, response_format)
            except Transient as exc:
                why = gave_up_because(exc, self.policy)
                if exc.unreachable and not self.answered:
                    self.down = why
                raise RequestFailed(why) from None
            except ScorerUnavailable as exc:
                self.fatal = self.fatal or exc
                raise RequestFailed(str(exc)) from None
            self.answered += 1
            answer = self._answer(response)
            self.recent_tokens.append((time.monotonic(), answer.usage.total_tokens))
            return answer

    def _check_stopped(self) -> None:
        if self.fatal is not None:
            raise RequestFailed(str(self.fatal))
        if self.down is not None:
            raise RequestFailed(self.down)

    def _stop(self, state: RetryCallState) -> bool:
        return retry_stop(self.policy)(state) or self.fatal is not None or \
            self.down is not None

    def raise_if_fatal(self) -> None:
        """End the run with the error that stopped every request, if one did."""
        if self.fatal is not None:
            raise self.fatal

    def body(self, system: str, user: str,
             response_format: dict[str, Any] | None = None) -> dict[str, Any]:
        """The request body of one chat completion (also a Batch API line's body)."""
        extra: dict[str, Any] = {}
        if response_format is not None:
            extra["response_format"] = response_format
        if self.config.temperature is not None:
            extra["temperature"] = self.config.temperature
        if self.config.reasoning_effort is not None:
            extra["reasoning_effort"] = self.config.reasoning_effort
        return {"model": self.model, **extra,
                "messages": [{"role": "system", "content": system},
                             {"role": "user", "content": user}]}

    async def _send(self, system: str, user: str,
                    response_format: dict[str, Any] | None) -> Any:
        import openai

        await self._wait_for_rate(estimate=(len(system) + len(user)) // 4)
        try:
            return await self.client.chat.completions.create(
                **self.body(system, user, response_format))
        except openai.OpenAIError as exc:
            raise self._classified(exc) from None

    def _classified(self, exc: Exception) -> Exception:
        """What an SDK error means for us: retry, fail the batch, or stop the run."""
        import openai

        if isinstance(exc, openai.RateLimitError):
            return Transient("HTTP 429 (rate limited)",
                             parse_retry_after(exc.response.headers.get("retry-after")))
        if isinstance(exc, openai.APITimeoutError):
            return Transient("timed out")
        if isinstance(exc, openai.APIConnectionError):
            if isinstance(exc.__cause__, ResponseTooLarge):
                return RequestFailed(str(exc.__cause__))
            return Transient(f"cannot connect to {self.endpoint}", unreachable=True)
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status >= 500 or status in (408, 409):
                return Transient(f"HTTP {status}",
                                 parse_retry_after(exc.response.headers.get("retry-after")))
            if status in (401, 403, 404):
                what = {401: "rejected the API key", 403: "refused access",
                        404: f"does not know model {self.model!r} (or the base URL is wrong)"}
                return ScorerUnavailable(f"the LLM API {what[status]} (HTTP {status})")
            message = re.sub(r"^Error code: \d+ - ", "", str(exc.message))
            return RequestFailed(f"HTTP {status}: {_short(message)}")
        if isinstance(exc, openai.APIResponseValidationError):
            return Transient(f"malformed response ({_short(str(exc))})")
        return exc

    def _answer(self, response: Any) -> Answer:
        usage = getattr(response, "usage", None)
        prompt = token_count(getattr(usage, "prompt_tokens", 0))
        completion = token_count(getattr(usage, "completion_tokens", 0))
        cached = token_count(getattr(getattr(usage, "prompt_tokens_details", None),
                                "cached_tokens", 0))
        choices = getattr(response, "choices", None) or []
        text = (getattr(choices[0].message, "content", None) or "") if choices else ""
        return Answer(text if isinstance(text, str) else "",
                      self.prices.usage(self.model, prompt, min(cached, prompt), completion))

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info("LLM request: %s; retrying (attempt %d of %d)", exc,
                 state.attempt_number + 1, self.policy.attempts)

    async def _wait_for_rate(self, estimate: int) -> None:
        async with self.start_lock:  # one request starts at a time, spaced by the limits
            now = time.monotonic()
            if self.next_start > now:
                await asyncio.sleep(self.next_start - now)
            limit = self.config.tokens_per_minute
            while limit:
                now = time.monotonic()
                while self.recent_tokens and now - self.recent_tokens[0][0] > 60:
                    self.recent_tokens.popleft()
                used = sum(tokens for _, tokens in self.recent_tokens)
                if used + estimate <= limit or not self.recent_tokens:
                    break
                await asyncio.sleep(max(0.05, 60 - (now - self.recent_tokens[0][0])))
            self.next_start = time.monotonic() + self.interval


def shown_endpoint(url: str) -> str:
    """The endpoint as an error may show it: the whole URL, or only its scheme and host
    when it carries anything that could be a credential (user info, a query, a long
    token-like path segment)."""
    parts = urlsplit(url)
    host = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    tokenish = any(len(segment) >= 20 and re.fullmatch(r"[A-Za-z0-9_\-.~]+", segment)
                   and re.search(r"\d", segment) for segment in parts.path.split("/"))
    if parts.username or parts.password or parts.query or tokenish:
        return host
    return host + parts.path.rstrip("/")


def token_count(value: Any) -> int:
    """A token count from a server's usage block (anything else counts as 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
