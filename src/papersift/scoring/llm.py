"""Scoring with any OpenAI-compatible chat API (OpenAI, Azure, GitHub Models, OpenRouter,
Ollama, vLLM, llama.cpp) through the official ``openai`` SDK.

Two stages: an optional title pass that removes only papers that are certainly
irrelevant, then abstract scoring in batches, several in flight at once. Every answered
batch is committed to the store as it arrives, so a killed run loses nothing and a rerun
sends nothing twice. Papers missing from an answer are retried in new, smaller batches;
those still missing are returned as ``NotScored`` with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence

import openai

from papersift.config import LLMConfig
from papersift.models import Candidate, Filtered, NotScored, Scored, ScoringOutcome, Usage
from papersift.progress import NULL_PROGRESS, Progress
from papersift.scoring.answer_schema import response_format
from papersift.scoring.chat import (
    Answer,
    AsyncChat,
    Chat,
    RequestFailed,
    make_async_client,
    make_client,
)
from papersift.scoring.parse import parse_id_list, parse_scores
from papersift.scoring.pricing import PriceTable
from papersift.scoring.prompts import INJECTION_NOTE, PromptSet, addresses_the_model
from papersift.store import CachedScore, Store

__all__ = ["BUDGET_REASON", "Chat", "LLMScorer", "OverBudget", "RequestFailed",
           "make_async_client", "make_client"]
log = logging.getLogger(__name__)
TITLE_FILTER_REASON = "title pass: certainly irrelevant"
BUDGET_REASON = "budget"


class OverBudget(Exception):
    """The run reached its token or cost limit: no further request is sent."""


Result = Answer | RequestFailed | OverBudget
COMPLETION_TOKENS_PER_PAPER = 80  # an answer line: id, a one-sentence comment, two scores


def balanced_batches(items: list[Candidate], size: int) -> list[list[Candidate]]:
    """As few batches as ``size`` allows, of (nearly) equal length: 98 papers at 48 make
    33 + 33 + 32, not 48 + 48 + 2 (a request that pays the whole prompt prefix for two
    papers, and a slowest batch that holds everyone up)."""
    if not items:
        return []
    count = -(-len(items) // size)
    base, extra = divmod(len(items), count)
    batches, start = [], 0
    for index in range(count):
        end = start + base + (index < extra)
        batches.append(items[start:end])
        start = end
    return batches


def _noted(candidate: Candidate, comment: str) -> str:
    if addresses_the_model(candidate.paper):
        return f"{comment} ({INJECTION_NOTE})" if comment else INJECTION_NOTE
    return comment


def _sum_costs(*usages: Usage) -> float | None:
    costs = [u.total_cost for u in usages]
    return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)


class LLMScorer:
    """Scores candidates with an LLM, committing each batch to the store."""

    def __init__(
        self,
        config: LLMConfig,
        prompts: PromptSet,
        client_factory: Callable[[], openai.AsyncOpenAI],
        store: Store,
        run_id: int,
        prices: PriceTable,
        *,
        progress: Progress = NULL_PROGRESS,
    ):
        self.config, self.prompts, self.client_factory = config, prompts, client_factory
        self.store, self.run_id, self.prices = store, run_id, prices
        self.progress = progress
        self.usage = Usage()
        self._warned_cost = False
        self.chat: AsyncChat | None = None
        self.reserved = Usage()  # estimated use of the requests in flight

    @property
    def model(self) -> str:
        return self.config.model

    def score(self, candidates: Sequence[Candidate]) -> ScoringOutcome:
        """Score every candidate, from the store where possible, else with the LLM."""
        return asyncio.run(self._score(candidates))

    async def _score(self, candidates: Sequence[Candidate]) -> ScoringOutcome:
        client = self.client_factory()
        self.chat = AsyncChat(self.config, client, self.prices)
        try:
            return await self._score_with_chat(candidates)
        finally:
            await client.close()

    async def _score_with_chat(self, candidates: Sequence[Candidate]) -> ScoringOutcome:
        fingerprint = self.prompts.fingerprint("abstract")
        cached = self.store.cached_scores([c.paper.arxiv_id for c in candidates],
                                          self.model, fingerprint)
        todo = [c for c in candidates if c.paper.arxiv_id not in cached]
        log.info("%d of %d papers already scored under this model and criteria",
                 len(candidates) - len(todo), len(candidates))
        filtered: list[Filtered] = []
        suspicious = [c for c in todo if addresses_the_model(c.paper)]
        suspicious_ids = {c.paper.arxiv_id for c in suspicious}
        todo = [c for c in todo if c.paper.arxiv_id not in suspicious_ids]
        if self.config.title_pass and todo:
            todo, filtered = await self._title_pass(todo)
        fresh, failures = await self._abstract_pass(todo, fingerprint)
        if suspicious:
            log.warning("%d papers address the scoring model; each is scored alone",
                        len(suspicious))
            alone, alone_failures = await self._abstract_pass(suspicious, fingerprint,
                                                              batch_size=1)
            fresh.update(alone)
            failures.update(alone_failures)
            todo += suspicious
        cached.update(fresh)
        scored = [
            Scored(c, s.relevance, s.novelty, _noted(c, s.comment), self.model)
            for c in candidates if (s := cached.get(c.paper.arxiv_id)) is not None
        ]
        not_scored = [NotScored(c, failures[c.paper.arxiv_id]) for c in todo
                      if c.paper.arxiv_id in failures]
        return ScoringOutcome(tuple(scored), tuple(not_scored), tuple(filtered),
                              self.usage)

    # -- title pass ---------------------------------------------------------------------

    async def _title_pass(self, todo: list[Candidate]
                          ) -> tuple[list[Candidate], list[Filtered]]:
        fingerprint = self.prompts.fingerprint("title")
        ids = [c.paper.arxiv_id for c in todo]
        verdicts = self.store.cached_title_verdicts(ids, self.model, fingerprint)
        pending = [c for c in todo if c.paper.arxiv_id not in verdicts]
        size = self.config.title_batch_size
        task = self.progress.start("Title pass", total=len(pending))
        system = self.prompts.title_system()
        batches = balanced_batches(pending, size)
        async for batch, result in self._in_flight("title", system, batches,
                                                   self.prompts.title_user):
            batch_ids = [c.paper.arxiv_id for c in batch]
            if isinstance(result, OverBudget):
                continue  # these papers go on to scoring, which lists them as over budget
            if isinstance(result, RequestFailed):
                log.warning("title pass batch failed (%s); its papers go on to scoring",
                            result)
                drop = None
            else:
                drop = parse_id_list(result.text, batch_ids)
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

    async def _abstract_pass(self, todo: list[Candidate], fingerprint: str, *,
                             batch_size: int | None = None
                             ) -> tuple[dict[str, CachedScore], dict[str, str]]:
        scores: dict[str, CachedScore] = {}
        reasons: dict[str, str] = {}
        remaining = list(todo)
        size = batch_size or self._first_batch_size(len(remaining))
        rounds = 1 + self.config.retries
        task = self.progress.start("Scoring abstracts", total=len(remaining))
        system = self.prompts.scoring_system()
        over_budget = False
        for round_number in range(1, rounds + 1):
            if not remaining or over_budget:
                break
            if round_number > 1:
                log.info("round %d: %d papers unanswered, retrying in batches of %d",
                         round_number, len(remaining), size)
            unanswered: list[Candidate] = []
            batches = balanced_batches(remaining, size)
            async for batch, answer in self._in_flight("abstract", system, batches,
                                                       self.prompts.scoring_user):
                batch_ids = [c.paper.arxiv_id for c in batch]
                if isinstance(answer, OverBudget):
                    over_budget = True
                    reasons.update(dict.fromkeys(batch_ids, f"{BUDGET_REASON}: {answer}"))
                    continue
                if isinstance(answer, RequestFailed):
                    unanswered += batch
                    reasons.update(dict.fromkeys(batch_ids, f"request failed: {answer}"))
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
            # Keep the round's order: retries then follow the original listing.
            order = {c.paper.arxiv_id: i for i, c in enumerate(remaining)}
            remaining = sorted(unanswered, key=lambda c: order[c.paper.arxiv_id])
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

    async def _in_flight(
        self, stage: str, system: str, batches: list[list[Candidate]],
        user_text: Callable[[Sequence], str],
    ) -> AsyncIterator[tuple[list[Candidate], Result]]:
        """Send every batch (several at once); yield each with its result as it arrives.

        Usage is recorded here, in arrival order, even when the answer is unusable.
        With ``structured_output`` each request carries a JSON schema of the batch's ids.
        """
        assert self.chat is not None
        chat = self.chat

        async def one(batch: list[Candidate]) -> tuple[list[Candidate], Result]:
            user = user_text([c.paper for c in batch])
            answer_format = response_format(self.config.structured_output, stage,
                                            [c.paper.arxiv_id for c in batch])
            estimate = self.prices.usage(self.model, (len(system) + len(user)) // 4, 0,
                                         COMPLETION_TOKENS_PER_PAPER * len(batch))
            reserved = False

            def reserve() -> None:
                nonlocal reserved
                self._check_budget(estimate)
                self.reserved.add(estimate)
                reserved = True

            try:
                answer = await chat.ask(system, user, before_send=reserve,
                                        response_format=answer_format)
            except (RequestFailed, OverBudget) as exc:
                return batch, exc
            finally:
                if reserved:
                    self.reserved.subtract(estimate)
            self.usage.add(answer.usage)
            return batch, answer

        tasks = [asyncio.ensure_future(one(batch)) for batch in batches]
        try:
            for next_done in asyncio.as_completed(tasks):
                batch, result = await next_done
                if isinstance(result, Answer):
                    self.store.record_request(self.run_id, stage, result.usage)
                yield batch, result
        finally:
            for task in tasks:
                task.cancel()


    def _check_budget(self, estimate: Usage) -> None:
        """Raise ``OverBudget`` if this request, with those in flight, would pass a limit.

        Requests in flight count by an estimate (prompt characters / 4, plus a completion
        allowance per paper) until their real usage arrives.
        """
        limit_tokens = self.config.max_tokens_per_run
        tokens = self.usage.total_tokens + self.reserved.total_tokens + estimate.total_tokens
        if limit_tokens and tokens > limit_tokens:
            raise OverBudget(f"the run's limit of {limit_tokens} tokens was reached")
        limit_cost = self.config.max_cost_per_run
        cost = _sum_costs(self.usage, self.reserved, estimate)
        if limit_cost and cost is not None and cost > limit_cost:
            raise OverBudget(f"the run's limit of ${limit_cost:.2f} was reached")
        if limit_cost and cost is None and not self._warned_cost:
            self._warned_cost = True
            log.warning("llm.max_cost_per_run cannot apply: the price of %s is unknown "
                        "(add it under [pricing])", self.model)
