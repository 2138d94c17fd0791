"""Talking to an OpenAI-compatible chat API: one request with retries, pacing and usage.

``Chat`` sends one request at a time (the monthly overview); ``AsyncChat`` keeps several
in flight for scoring, within the configured concurrency, requests-per-minute and
tokens-per-minute limits. Both retry 429 (honouring ``Retry-After``), 5xx, timeouts and
dropped connections with exponential backoff, and turn a rejected key or unknown model
into one clear error for the whole run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from papersift.config import LLMConfig, Secrets
from papersift.errors import ScorerUnavailable
from papersift.http import Pacer, RetryPolicy, backoff_wait, parse_retry_after
from papersift.models import Usage
from papersift.scoring.pricing import PriceTable

log = logging.getLogger(__name__)


class Transient(Exception):
    """A failure worth retrying (429, 5xx, timeout, dropped connection)."""

    def __init__(self, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.retry_after = retry_after


class RequestFailed(Exception):
    """A request that failed for good; its papers stay unscored this round."""


@dataclass(frozen=True)
class Answer:
    text: str
    usage: Usage


def _endpoint(config: LLMConfig, secrets: Secrets) -> dict[str, Any]:
    base_url = config.base_url or secrets.openai_base_url
    if not secrets.openai_api_key and not base_url:
        raise ScorerUnavailable(
            "no LLM configured: set OPENAI_API_KEY (or OPENAI_BASE_URL / llm.base_url "
            "for a local server such as Ollama, vLLM or llama.cpp)"
        )
    # Local servers accept any key; the SDK insists on one. Retries are ours, not the SDK's.
    return {"api_key": secrets.openai_api_key or "not-needed", "base_url": base_url,
            "timeout": config.timeout_seconds, "max_retries": 0}


def make_client(config: LLMConfig, secrets: Secrets) -> openai.OpenAI:
    """The SDK client: base URL from the config, else ``OPENAI_BASE_URL``, else OpenAI."""
    return openai.OpenAI(**_endpoint(config, secrets))


def make_async_client(config: LLMConfig, secrets: Secrets) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(**_endpoint(config, secrets))


class _Base:
    def __init__(self, config: LLMConfig, prices: PriceTable):
        self.config, self.prices = config, prices
        self.model = config.model
        self.policy = RetryPolicy(config.request_attempts, config.backoff_seconds,
                                  config.max_backoff_seconds)

    def _arguments(self, system: str, user: str,
                   response_format: dict[str, Any] | None = None) -> dict[str, Any]:
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

    def _classified(self, exc: Exception) -> Exception:
        """What an SDK error means for us: retry, fail the batch, or stop the run."""
        if isinstance(exc, openai.RateLimitError):
            return Transient("HTTP 429 (rate limited)",
                             parse_retry_after(exc.response.headers.get("retry-after")))
        if isinstance(exc, openai.APITimeoutError):
            return Transient("timed out")
        if isinstance(exc, openai.APIConnectionError):
            return Transient("connection failed")
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status >= 500 or status in (408, 409):
                return Transient(f"HTTP {status}",
                                 parse_retry_after(exc.response.headers.get("retry-after")))
            if status in (401, 403, 404):
                what = {401: "rejected the API key", 403: "refused access",
                        404: f"does not know model {self.model!r} (or the base URL is wrong)"}
                return ScorerUnavailable(f"the LLM API {what[status]} (HTTP {status})")
            return RequestFailed(f"HTTP {status}: {_short(exc.message)}")
        if isinstance(exc, openai.APIResponseValidationError):
            return Transient(f"malformed response ({_short(str(exc))})")
        return exc

    def _answer(self, response: Any) -> Answer:
        usage = getattr(response, "usage", None)
        prompt = getattr(usage, "prompt_tokens", 0) or 0
        completion = getattr(usage, "completion_tokens", 0) or 0
        details = getattr(usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", 0) or 0
        choices = getattr(response, "choices", None) or []
        text = (choices[0].message.content or "") if choices else ""
        return Answer(text, self.prices.usage(self.model, prompt, min(cached, prompt),
                                              completion))

    def _retrying_kwargs(self) -> dict[str, Any]:
        return {
            "stop": stop_after_attempt(self.policy.attempts),
            "wait": backoff_wait(self.policy),
            "retry": retry_if_exception(lambda e: isinstance(e, Transient)),
            "before_sleep": self._log_retry,
            "reraise": True,
        }

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info("LLM request: %s; retrying (attempt %d of %d)", exc,
                 state.attempt_number + 1, self.policy.attempts)


class Chat(_Base):
    """One request at a time."""

    def __init__(self, config: LLMConfig, client: openai.OpenAI, prices: PriceTable, *,
                 sleep: Callable[[float], None] | None = None):
        super().__init__(config, prices)
        self.client, self.sleep = client, sleep
        self.pacer = Pacer(60.0 / config.requests_per_minute if config.requests_per_minute else 0)

    def ask(self, system: str, user: str) -> Answer:
        """The answer's text and usage; ``RequestFailed`` once the retries are spent."""
        retrying = Retrying(**self._retrying_kwargs(),
                            **({"sleep": self.sleep} if self.sleep else {}))
        try:
            return self._answer(retrying(self._send, system, user))
        except Transient as exc:
            raise RequestFailed(f"{exc} after {self.policy.attempts} attempts") from None

    def _send(self, system: str, user: str) -> Any:
        self.pacer.wait()
        try:
            return self.client.chat.completions.create(**self._arguments(system, user))
        except openai.OpenAIError as exc:
            raise self._classified(exc) from None


class AsyncChat(_Base):
    """Several requests in flight, within concurrency, request- and token-rate limits."""

    def __init__(self, config: LLMConfig, client: openai.AsyncOpenAI, prices: PriceTable):
        super().__init__(config, prices)
        self.client = client
        self.slots = asyncio.Semaphore(config.concurrency)
        self.interval = 60.0 / config.requests_per_minute if config.requests_per_minute else 0.0
        self.next_start = 0.0
        self.start_lock = asyncio.Lock()
        self.recent_tokens: deque[tuple[float, int]] = deque()

    async def ask(self, system: str, user: str,
                  before_send: Callable[[], None] | None = None,
                  response_format: dict[str, Any] | None = None) -> Answer:
        """Like ``Chat.ask``; ``before_send`` runs once a slot is free (budget checks);
        ``response_format`` asks for structured output."""
        async with self.slots:
            if before_send is not None:
                before_send()
            try:
                async for attempt in AsyncRetrying(**self._retrying_kwargs()):
                    with attempt:
                        response = await self._send(system, user, response_format)
            except Transient as exc:
                raise RequestFailed(f"{exc} after {self.policy.attempts} attempts") from None
            answer = self._answer(response)
            self.recent_tokens.append((time.monotonic(), answer.usage.total_tokens))
            return answer

    async def _send(self, system: str, user: str,
                    response_format: dict[str, Any] | None) -> Any:
        await self._wait_for_rate(estimate=(len(system) + len(user)) // 4)
        try:
            return await self.client.chat.completions.create(
                **self._arguments(system, user, response_format))
        except openai.OpenAIError as exc:
            raise self._classified(exc) from None

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


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
