"""Scoring with any OpenAI-compatible chat API (OpenAI, Azure, GitHub Models, OpenRouter,
Ollama, vLLM, llama.cpp) through the official ``openai`` SDK.

Two stages: an optional title pass that removes only papers that are certainly
irrelevant, then abstract scoring in batches. Every answered batch is committed to the
store at once, so a killed run loses nothing and a rerun sends nothing twice. Papers
missing from an answer are retried in new, smaller batches; those still missing are
returned as ``NotScored`` with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import openai
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from papersift.config import LLMConfig, Secrets
from papersift.errors import ScorerUnavailable
from papersift.http import Pacer, RetryPolicy, backoff_wait, parse_retry_after
from papersift.models import Candidate, Filtered, NotScored, Scored, ScoringOutcome, Usage
from papersift.progress import NULL_PROGRESS, Progress
from papersift.scoring.parse import parse_id_list, parse_scores
from papersift.scoring.pricing import PriceTable
from papersift.scoring.prompts import PromptSet
from papersift.store import CachedScore, Store

log = logging.getLogger(__name__)
TITLE_FILTER_REASON = "title pass: certainly irrelevant"


class _Transient(Exception):
    """A failure worth retrying (429, 5xx, timeout, dropped connection)."""

    def __init__(self, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.retry_after = retry_after


class RequestFailed(Exception):
    """A request that failed for good; the batch's papers stay unscored this round."""


class OverBudget(Exception):
    """The run reached its token or cost limit: no further request is sent."""


BUDGET_REASON = "budget"


@dataclass(frozen=True)
class Answer:
    text: str
    usage: Usage


def make_client(config: LLMConfig, secrets: Secrets) -> openai.OpenAI:
    """The SDK client: base URL from the config, else ``OPENAI_BASE_URL``, else OpenAI."""
    base_url = config.base_url or secrets.openai_base_url
    api_key = secrets.openai_api_key
    if not api_key and not base_url:
        raise ScorerUnavailable(
            "no LLM configured: set OPENAI_API_KEY (or OPENAI_BASE_URL / llm.base_url "
            "for a local server such as Ollama, vLLM or llama.cpp)"
        )
    # Local servers accept any key; the SDK insists on one.
    return openai.OpenAI(api_key=api_key or "not-needed", base_url=base_url,
                         timeout=config.timeout_seconds, max_retries=0)


class LLMScorer:
    """Scores candidates with an LLM, committing each batch to the store."""

    def __init__(
        self,
        config: LLMConfig,
        prompts: PromptSet,
        client: openai.OpenAI,
        store: Store,
        run_id: int,
        prices: PriceTable,
        *,
        progress: Progress = NULL_PROGRESS,
        sleep: Callable[[float], None] | None = None,
    ):
        self.config, self.prompts = config, prompts
        self.store, self.run_id = store, run_id
        self.progress = progress
        self.usage = Usage()
        self.chat = Chat(config, client, prices, sleep=sleep)
        self._warned_cost = False

    @property
    def model(self) -> str:
        return self.config.model

    def score(self, candidates: Sequence[Candidate]) -> ScoringOutcome:
        """Score every candidate, from the store where possible, else with the LLM."""
        fingerprint = self.prompts.fingerprint("abstract")
        cached = self.store.cached_scores([c.paper.arxiv_id for c in candidates],
                                          self.model, fingerprint)
        todo = [c for c in candidates if c.paper.arxiv_id not in cached]
        log.info("%d of %d papers already scored under this model and criteria",
                 len(candidates) - len(todo), len(candidates))
        filtered: list[Filtered] = []
        if self.config.title_pass and todo:
            todo, filtered = self._title_pass(todo)
        fresh, failures = self._abstract_pass(todo, fingerprint)
        cached.update(fresh)
        scored = [
            Scored(c, s.relevance, s.novelty, s.comment, self.model)
            for c in candidates if (s := cached.get(c.paper.arxiv_id)) is not None
        ]
        not_scored = [NotScored(c, failures[c.paper.arxiv_id]) for c in todo
                      if c.paper.arxiv_id in failures]
        return ScoringOutcome(tuple(scored), tuple(not_scored), tuple(filtered),
                              self.usage)

    # -- title pass ---------------------------------------------------------------------

    def _title_pass(self, todo: list[Candidate]) -> tuple[list[Candidate], list[Filtered]]:
        fingerprint = self.prompts.fingerprint("title")
        ids = [c.paper.arxiv_id for c in todo]
        verdicts = self.store.cached_title_verdicts(ids, self.model, fingerprint)
        pending = [c for c in todo if c.paper.arxiv_id not in verdicts]
        size = self.config.title_batch_size
        task = self.progress.start("Title pass", total=len(pending))
        system = self.prompts.title_system()
        for start in range(0, len(pending), size):
            batch = pending[start:start + size]
            batch_ids = [c.paper.arxiv_id for c in batch]
            try:
                answer = self._ask("title", system,
                                   self.prompts.title_user([c.paper for c in batch]))
                drop = parse_id_list(answer.text, batch_ids)
            except OverBudget:
                break  # the papers left go on to scoring, which lists them as over budget
            except RequestFailed as exc:
                log.warning("title pass batch failed (%s); its papers go on to scoring", exc)
                drop = None
            if drop is None:
                log.info("title pass answer had no id list; keeping the whole batch")
            else:
                batch_verdicts = {aid: aid not in drop for aid in batch_ids}
                self.store.save_title_verdicts(self.model, fingerprint, batch_verdicts)
                verdicts.update(batch_verdicts)
            self.progress.advance(task, len(batch))
        kept = [c for c in todo if verdicts.get(c.paper.arxiv_id, True)]
        dropped = [Filtered(c.paper, TITLE_FILTER_REASON) for c in todo
                   if not verdicts.get(c.paper.arxiv_id, True)]
        return kept, dropped

    # -- abstract scoring -----------------------------------------------------------------

    def _abstract_pass(self, todo: list[Candidate], fingerprint: str
                       ) -> tuple[dict[str, CachedScore], dict[str, str]]:
        scores: dict[str, CachedScore] = {}
        reasons: dict[str, str] = {}
        remaining = list(todo)
        size = self._first_batch_size(len(remaining))
        rounds = 1 + self.config.retries
        task = self.progress.start("Scoring abstracts", total=len(remaining))
        system = self.prompts.scoring_system()
        over_budget: list[Candidate] = []
        for round_number in range(1, rounds + 1):
            if not remaining or over_budget:
                break
            if round_number > 1:
                log.info("round %d: %d papers unanswered, retrying in batches of %d",
                         round_number, len(remaining), size)
            unanswered: list[Candidate] = []
            for start in range(0, len(remaining), size):
                batch = remaining[start:start + size]
                batch_ids = [c.paper.arxiv_id for c in batch]
                try:
                    answer = self._ask("abstract", system,
                                       self.prompts.scoring_user([c.paper for c in batch]))
                except OverBudget as exc:
                    over_budget = [*unanswered, *remaining[start:]]
                    reasons.update(dict.fromkeys(
                        (c.paper.arxiv_id for c in over_budget), f"{BUDGET_REASON}: {exc}"))
                    break
                except RequestFailed as exc:
                    unanswered += batch
                    reasons.update(dict.fromkeys(batch_ids, f"request failed: {exc}"))
                    continue
                parsed = parse_scores(answer.text, batch_ids)
                fresh = {aid: CachedScore(p.relevance, p.novelty, p.comment)
                         for aid, p in parsed.items()}
                self.store.save_scores(self.model, fingerprint, fresh)
                scores.update(fresh)
                for candidate in batch:
                    if candidate.paper.arxiv_id not in parsed:
                        unanswered.append(candidate)
                        reasons[candidate.paper.arxiv_id] = (
                            "no valid score in the model's answer" if answer.text.strip()
                            else "the model's answer was empty"
                        )
                self.progress.advance(task, len(parsed))
            remaining = unanswered
            size = max(1, size // 2)
        for aid in scores:
            reasons.pop(aid, None)
        rounds_text = f"{rounds} round{'s' * (rounds > 1)}"
        return scores, {aid: why if why.startswith(BUDGET_REASON)
                        else f"{why}; unscored after {rounds_text}"
                        for aid, why in reasons.items()}

    def _first_batch_size(self, count: int) -> int:
        size = self.config.abstract_batch_size
        if self.config.adaptive_batch_size and count <= self.config.adaptive_threshold:
            # Few papers left: smaller batches cost little more and are judged more carefully.
            size = max(1, size // 2)
        return size

    def _ask(self, stage: str, system: str, user: str) -> Answer:
        """One request; its usage is recorded in the store even if the answer is unusable."""
        self._check_budget()
        answer = self.chat.ask(system, user)
        self.usage.add(answer.usage)
        self.store.record_request(self.run_id, stage, answer.usage)
        return answer


    def _check_budget(self) -> None:
        limit_tokens = self.config.max_tokens_per_run
        if limit_tokens and self.usage.total_tokens >= limit_tokens:
            raise OverBudget(f"the run's limit of {limit_tokens} tokens was reached")
        limit_cost = self.config.max_cost_per_run
        cost = self.usage.total_cost
        if limit_cost and cost is not None and cost >= limit_cost:
            raise OverBudget(f"the run's limit of ${limit_cost:.2f} was reached")
        if limit_cost and cost is None and not self._warned_cost:
            self._warned_cost = True
            log.warning("llm.max_cost_per_run cannot apply: the price of %s is unknown "
                        "(add it under [pricing])", self.model)


class Chat:
    """One chat completion at a time: pacing, retries with backoff, usage and its cost."""

    def __init__(self, config: LLMConfig, client: openai.OpenAI, prices: PriceTable, *,
                 sleep: Callable[[float], None] | None = None):
        self.config, self.client, self.prices, self.sleep = config, client, prices, sleep
        self.model = config.model
        self.pacer = Pacer(60.0 / config.requests_per_minute if config.requests_per_minute else 0)
        self.policy = RetryPolicy(config.request_attempts, config.backoff_seconds,
                                  config.max_backoff_seconds)

    def ask(self, system: str, user: str) -> Answer:
        """The answer's text and usage; ``RequestFailed`` once the retries are spent."""
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=backoff_wait(self.policy),
            retry=retry_if_exception(lambda e: isinstance(e, _Transient)),
            before_sleep=self._log_retry,
            reraise=True,
            **({"sleep": self.sleep} if self.sleep else {}),
        )
        try:
            response = retrying(self._send, system, user)
        except _Transient as exc:
            raise RequestFailed(f"{exc} after {self.policy.attempts} attempts") from None
        choices = getattr(response, "choices", None) or []
        text = (choices[0].message.content or "") if choices else ""
        return Answer(text, self._usage_of(response))

    def _send(self, system: str, user: str) -> Any:
        self.pacer.wait()
        extra: dict[str, Any] = {}
        if self.config.temperature is not None:
            extra["temperature"] = self.config.temperature
        if self.config.reasoning_effort is not None:
            extra["reasoning_effort"] = self.config.reasoning_effort
        try:
            return self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system},
                          {"role": "user", "content": user}],
                **extra,
            )
        except openai.RateLimitError as exc:
            raise _Transient("HTTP 429 (rate limited)",
                             parse_retry_after(exc.response.headers.get("retry-after"))) from None
        except openai.APITimeoutError:
            raise _Transient("timed out") from None
        except openai.APIConnectionError:
            raise _Transient("connection failed") from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            if status >= 500 or status in (408, 409):
                raise _Transient(f"HTTP {status}",
                                 parse_retry_after(exc.response.headers.get("retry-after"))
                                 ) from None
            if status in (401, 403, 404):
                what = {401: "rejected the API key", 403: "refused access",
                        404: f"does not know model {self.model!r} (or the base URL is wrong)"}
                raise ScorerUnavailable(f"the LLM API {what[status]} (HTTP {status})") from None
            raise RequestFailed(f"HTTP {status}: {_short(exc.message)}") from None
        except openai.APIResponseValidationError as exc:
            raise _Transient(f"malformed response ({_short(str(exc))})") from None

    def _usage_of(self, response: Any) -> Usage:
        usage = getattr(response, "usage", None)
        prompt = getattr(usage, "prompt_tokens", 0) or 0
        completion = getattr(usage, "completion_tokens", 0) or 0
        details = getattr(usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", 0) or 0
        return self.prices.usage(self.model, prompt, min(cached, prompt), completion)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info("LLM request: %s; retrying (attempt %d of %d)", exc,
                 state.attempt_number + 1, self.policy.attempts)


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
