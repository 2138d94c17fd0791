"""Scoring with any OpenAI-compatible chat API (OpenAI, Azure, GitHub Models, OpenRouter,
Ollama, vLLM, llama.cpp) through the official ``openai`` SDK.

Two stages: an optional title pass that removes only papers that are certainly
irrelevant, then abstract scoring in batches, several in flight at once. Every accepted
answer is committed to the store as it arrives, so a killed run loses nothing and a rerun
sends nothing twice. An answer that moved papers in bulk (``guard.py``) is thrown away
and its batch scored again in halves. Papers missing from an answer are retried in new,
smaller batches; those still missing are returned as ``NotScored`` with the reason. No
request starts past the run's token or cost limit, and none outlives its time limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from papersift.config import LLMConfig
from papersift.models import Candidate, Filtered, NotScored, Scored, ScoringOutcome, Usage
from papersift.progress import NULL_PROGRESS, Progress
from papersift.scoring.answer_schema import response_format
from papersift.scoring.batch_api import BatchRunner, StillPending, request_id
from papersift.scoring.chat import Answer, AsyncChat, RequestFailed, make_async_client
from papersift.scoring.guard import (
    Guard,
    halves,
    interleaved_batches,
    lexical_prior,
    percentiles,
)
from papersift.scoring.interests import parse_interests
from papersift.scoring.limits import (
    BATCH_REASON,
    BUDGET_REASON,
    TIME_REASON,
    BatchScores,
    MorningSpend,
    OverBudget,
    OverTime,
    over_budget,
    reason_for,
    sum_costs,
)
from papersift.scoring.parse import parse_id_list, parse_scores
from papersift.scoring.pricing import PriceTable
from papersift.scoring.prompts import INJECTION_NOTE, PromptSet, addresses_the_model
from papersift.store import CachedScore, Store

__all__ = ["BUDGET_REASON", "LLMScorer", "OverBudget", "RequestFailed", "make_async_client"]

if TYPE_CHECKING:  # the SDK takes half a second to import: only where it is used
    import openai

log = logging.getLogger(__name__)
TITLE_FILTER_REASON = "title pass: certainly irrelevant"
COMPLETION_TOKENS_PER_PAPER = 80  # an answer line: id, a one-sentence comment, two scores


def _noted(candidate: Candidate, comment: str) -> str:
    if addresses_the_model(candidate.paper):
        return f"{comment} ({INJECTION_NOTE})" if comment else INJECTION_NOTE
    return comment


class LLMScorer:
    """Scores candidates with an LLM, committing each accepted answer to the store."""

    def __init__(
        self,
        config: LLMConfig,
        prompts: PromptSet,
        client_factory: Callable[[], openai.AsyncOpenAI],
        store: Store,
        run_id: int,
        prices: PriceTable,
        *,
        relevance_cutoff: int = 8,
        progress: Progress = NULL_PROGRESS,
        morning: MorningSpend | None = None,
    ):
        self.config, self.prompts, self.client_factory = config, prompts, client_factory
        self.store, self.run_id, self.prices = store, run_id, prices
        self.relevance_cutoff, self.progress = relevance_cutoff, progress
        self.usage = Usage()
        self.reserved = Usage()  # estimated use of the requests in flight
        self.morning = morning  # every reader's spending this morning, when shared
        self._warned_cost = False
        self.chat: AsyncChat | None = None
        self.guard = Guard({}, relevance_cutoff)
        self.ends_at = 0.0

    @property
    def model(self) -> str:
        return self.config.model

    def score(self, candidates: Sequence[Candidate],
              prior: Mapping[str, float] | None = None) -> ScoringOutcome:
        """Score every candidate, from the store where possible, else with the LLM.

        ``prior`` is a local ranking of the candidates (higher is more relevant; it may
        rank the whole day) that the guard compares answers with; without one a TF-IDF
        ranking is made.
        """
        self.compare_with(candidates, prior)
        return asyncio.run(self._score(candidates))

    def compare_with(self, candidates: Sequence[Candidate],
                     prior: Mapping[str, float] | None) -> None:
        """Set the guard's prior for ``candidates`` (see ``score``)."""
        if prior is None:
            prior = lexical_prior(candidates, parse_interests(self.prompts.interests))
        ids = [c.paper.arxiv_id for c in candidates]
        # The standing among every paper the prior ranked (the day's, when it covers more
        # than the papers sent), so that a prefiltered batch shows as the day's best.
        self.guard = Guard(percentiles(prior, list(dict.fromkeys([*prior, *ids]))),
                           self.relevance_cutoff, prefiltered=bool(set(prior) - set(ids)))

    async def _score(self, candidates: Sequence[Candidate]) -> ScoringOutcome:
        self.ends_at = asyncio.get_running_loop().time() + self.config.max_seconds_per_run
        client = self.client_factory()
        self.chat = AsyncChat(self.config, client, self.prices)
        try:
            outcome = await self._score_with_chat(candidates)
        finally:
            await client.close()
        self.chat.raise_if_fatal()  # a rejected key: one error, after every request ended
        return outcome

    async def _score_with_chat(self, candidates: Sequence[Candidate]) -> ScoringOutcome:
        fingerprint = self.prompts.fingerprint("abstract")
        self.store.learn_from(fingerprint)  # cached or fresh, these judgments are its labels
        cached = self.store.cached_scores([c.paper.arxiv_id for c in candidates],
                                          self.model, fingerprint)
        todo = [c for c in candidates if c.paper.arxiv_id not in cached]
        asked = len(todo)
        log.info("%d of %d papers already scored under this model and criteria",
                 len(candidates) - len(todo), len(candidates))
        filtered: list[Filtered] = []
        # Papers whose text plainly addresses the model skip the title pass and are scored
        # alone; the guard catches the wordings this list does not know.
        suspicious = [c for c in todo if addresses_the_model(c.paper)]
        todo = [c for c in todo if c not in suspicious]
        if self.config.title_pass and todo:
            todo, filtered = await self._title_pass(todo)
        result = await self._abstract_pass(todo, fingerprint)
        if suspicious:
            log.warning("%d papers address the scoring model; each is scored alone",
                        len(suspicious))
            result.merge(await self._abstract_pass(suspicious, fingerprint, batch_size=1))
            todo += suspicious
        cached.update(result.scores)
        scored = [
            Scored(c, s.relevance, s.novelty, _noted(c, s.comment), self.model)
            for c in candidates if (s := cached.get(c.paper.arxiv_id)) is not None
        ]
        not_scored = [NotScored(c, result.reasons[c.paper.arxiv_id]) for c in todo
                      if c.paper.arxiv_id in result.reasons]
        return ScoringOutcome(tuple(scored), tuple(not_scored), tuple(filtered), self.usage,
                              asked=asked, fresh=len(result.scores) + len(filtered))

    # -- title pass ---------------------------------------------------------------------

    async def _title_pass(self, todo: list[Candidate]
                          ) -> tuple[list[Candidate], list[Filtered]]:
        fingerprint = self.prompts.fingerprint("title")
        self.store.learn_from(fingerprint)
        verdicts = self.store.cached_title_verdicts([c.paper.arxiv_id for c in todo],
                                                    self.model, fingerprint)
        pending = [c for c in todo if c.paper.arxiv_id not in verdicts]
        task = self.progress.start("Title pass", total=len(pending))
        batches = interleaved_batches(pending, self.config.title_batch_size,
                                      self.guard.standing)
        for done in asyncio.as_completed([self._title_batch(b, fingerprint, suspect=False)
                                          for b in batches]):
            found = await done
            verdicts.update(found)
            self.progress.advance(task, len(found))
        kept = [c for c in todo if verdicts.get(c.paper.arxiv_id, True)]
        dropped = [Filtered(c.paper, TITLE_FILTER_REASON) for c in todo
                   if not verdicts.get(c.paper.arxiv_id, True)]
        return kept, dropped

    async def _title_batch(self, batch: list[Candidate], fingerprint: str, *,
                           suspect: bool) -> dict[str, bool]:
        """Verdicts (keep?) for a batch of titles; none when the request fails, so that
        its papers go on to abstract scoring."""
        ids = [c.paper.arxiv_id for c in batch]
        try:
            answer = await self._ask("title", batch)
        except (RequestFailed, OverBudget, OverTime) as exc:
            if self.chat.fatal is None:  # else the run ends with that one error
                log.warning("title pass batch failed (%s); its papers go on to scoring", exc)
            return {}
        drop = parse_id_list(answer.text, ids)
        if drop is None:
            log.info("title pass answer had no id list; keeping the whole batch")
            return {}
        if len(batch) > 1 and self.guard.drops_moved(ids, drop, suspect=suspect):
            log.warning("a title-pass answer dropped %d of its %d papers; asking again in "
                        "halves (possible prompt injection)", len(drop), len(batch))
            verdicts: dict[str, bool] = {}
            for part in await asyncio.gather(*(
                    self._title_batch(half, fingerprint, suspect=True)
                    for half in halves(batch, self.guard.standing))):
                verdicts.update(part)
            return verdicts
        verdicts = {aid: aid not in drop for aid in ids}
        self.store.save_title_verdicts(self.model, fingerprint, verdicts)
        return verdicts

    # -- abstract scoring -----------------------------------------------------------------

    async def _abstract_pass(self, todo: list[Candidate], fingerprint: str, *,
                             batch_size: int | None = None) -> BatchScores:
        result = BatchScores()
        remaining = list(todo)
        size = batch_size or self._first_batch_size(len(remaining))
        rounds = 1 + self.config.retries
        task = self.progress.start("Scoring abstracts", total=len(remaining))
        for round_number in range(1, rounds + 1):
            if not remaining or result.stopped:
                break
            if round_number > 1:
                log.info("round %d: %d papers unanswered, retrying in batches of %d",
                         round_number, len(remaining), size)
            batches = interleaved_batches(remaining, size, self.guard.standing)
            if self.config.batch_api and round_number == 1 and batch_size is None:
                parts = [self._score_by_batch_api(batches, fingerprint)]
            else:
                parts = [self._score_batch(b, fingerprint, suspect=False) for b in batches]
            for done in asyncio.as_completed(parts):
                part = await done
                result.merge(part)
                self.progress.advance(task, len(part.scores))
            # Keep the round's order: retries then follow the original listing.
            remaining = [c for c in remaining if c.paper.arxiv_id in result.reasons
                         and c.paper.arxiv_id not in result.scores]
            size = max(1, size // 2)
        for aid in result.scores:
            result.reasons.pop(aid, None)
        rounds_text = f"{rounds} round{'s' * (rounds > 1)}"
        result.reasons = {
            aid: why if why.startswith((BUDGET_REASON, TIME_REASON, BATCH_REASON))
            else f"{why}; unscored after {rounds_text}"
            for aid, why in result.reasons.items()}
        return result

    async def _score_batch(self, batch: list[Candidate], fingerprint: str, *,
                           suspect: bool) -> BatchScores:
        """Scores for a batch; an answer that moved papers in bulk is replaced by the
        answers for its halves (recursively), so only a lone paper can move itself."""
        ids = [c.paper.arxiv_id for c in batch]
        try:
            answer = await self._ask("abstract", batch)
        except (RequestFailed, OverBudget, OverTime) as exc:
            return BatchScores(reasons=dict.fromkeys(ids, reason_for(exc)),
                               stopped=not isinstance(exc, RequestFailed))
        return await self._accept(batch, answer, fingerprint, suspect=suspect)

    async def _accept(self, batch: list[Candidate], answer: Answer, fingerprint: str, *,
                      suspect: bool) -> BatchScores:
        """Commit an answer's scores, unless it moved papers in bulk (then its halves are
        asked again)."""
        ids = [c.paper.arxiv_id for c in batch]
        parsed = parse_scores(answer.text, ids)
        relevance = {aid: p.relevance for aid, p in parsed.items()}
        if len(batch) > 1 and self.guard.scores_moved(relevance, suspect=suspect):
            log.warning("an answer scored %d papers far from the local ranking; scoring "
                        "its batch again in halves (possible prompt injection)", len(batch))
            result = BatchScores()
            for part in await asyncio.gather(*(
                    self._score_batch(half, fingerprint, suspect=True)
                    for half in halves(batch, self.guard.standing))):
                result.merge(part)
            return result
        fresh = {aid: CachedScore(p.relevance, p.novelty, p.comment)
                 for aid, p in parsed.items()}
        self.store.save_scores(self.model, fingerprint, fresh)
        missing = ("no valid score in the model's answer" if answer.text.strip()
                   else "the model's answer was empty")
        return BatchScores(fresh, {aid: missing for aid in ids if aid not in fresh})

    def _first_batch_size(self, count: int) -> int:
        size = self.config.abstract_batch_size
        if self.config.adaptive_batch_size and count <= self.config.adaptive_threshold:
            # Few papers left: smaller batches cost little more and are judged more carefully.
            size = max(1, size // 2)
        return size

    # -- one request ------------------------------------------------------------------------

    async def _ask(self, stage: str, batch: list[Candidate]) -> Answer:
        """One request for ``stage`` (``title`` or ``abstract``), within the run's limits;
        its usage is recorded as it arrives, whatever the answer holds."""
        assert self.chat is not None
        system, user, answer_format = self._request(stage, batch)
        estimate = self._estimate(system, user, len(batch))
        reserved = False

        def reserve() -> None:
            nonlocal reserved
            self.reserve(estimate)
            reserved = True

        deadline = asyncio.timeout_at(self.ends_at)
        try:
            async with deadline:
                answer = await self.chat.ask(system, user, before_send=reserve,
                                             response_format=answer_format)
        except TimeoutError:
            if deadline.expired():
                raise OverTime(f"the run's limit of {self.config.max_seconds_per_run:g} s "
                               "(llm.max_seconds_per_run) was reached") from None
            raise
        finally:
            if reserved:
                self.release(estimate)
        self.spent(stage, answer.usage)
        return answer

    def _request(self, stage: str, batch: list[Candidate]
                 ) -> tuple[str, str, dict[str, Any] | None]:
        """The system and user messages and the answer format of a request."""
        papers = [c.paper for c in batch]
        system, user = ((self.prompts.title_system(), self.prompts.title_user(papers))
                        if stage == "title" else
                        (self.prompts.scoring_system(), self.prompts.scoring_user(papers)))
        return system, user, response_format(self.config.structured_output, stage,
                                             [p.arxiv_id for p in papers])

    def _estimate(self, system: str, user: str, papers: int) -> Usage:
        return self.prices.usage(self.model, (len(system) + len(user)) // 4, 0,
                                 COMPLETION_TOKENS_PER_PAPER * papers)

    async def _score_by_batch_api(self, batches: list[list[Candidate]], fingerprint: str
                                  ) -> BatchScores:
        """Round one through the provider's Batch API (half price): submit (or resume)
        every request, wait within the limits, accept the answers as they come back."""
        assert self.chat is not None
        requests: dict[str, tuple[dict[str, Any], list[Candidate]]] = {}
        reserved = Usage()
        result = BatchScores()
        for batch in batches:
            system, user, answer_format = self._request("abstract", batch)
            estimate = self._estimate(system, user, len(batch))
            try:
                self.reserve(estimate)
            except OverBudget as exc:
                result.merge(BatchScores(reasons=dict.fromkeys(
                    [c.paper.arxiv_id for c in batch], reason_for(exc)), stopped=True))
                continue
            reserved.add(estimate)
            body = self.chat.body(system, user, answer_format)
            requests[request_id(body)] = (body, batch)
        sent = [c.paper.arxiv_id for _, batch in requests.values() for c in batch]
        runner = BatchRunner(self.chat.client, self.store, self.prices, self.model,
                             wait_seconds=self.config.batch_wait_seconds,
                             poll_seconds=self.config.batch_poll_seconds)
        import openai

        try:
            answers = await runner.answers({rid: body for rid, (body, _) in requests.items()},
                                           self.ends_at)
        except StillPending as exc:
            return result.merge(BatchScores(reasons=dict.fromkeys(
                sent, f"{BATCH_REASON}: {exc} had not ended; run again to collect it "
                      "(it is paid for once)"), stopped=True))
        except openai.OpenAIError as exc:  # no Batch API here: the rounds go one by one
            log.warning("the Batch API failed (%s); sending the requests one by one",
                        type(exc).__name__)
            return result.merge(BatchScores(reasons=dict.fromkeys(sent, "Batch API failed")))
        finally:
            self.release(reserved)
        for request, (_, batch) in requests.items():
            answer = answers[request]
            if answer.usage is None:
                result.merge(BatchScores(reasons=dict.fromkeys(
                    [c.paper.arxiv_id for c in batch], answer.error)))
                continue
            self.spent("abstract", answer.usage)
            result.merge(await self._accept(batch, Answer(answer.text, answer.usage),
                                            fingerprint, suspect=False))
        return result

    def reserve(self, estimate: Usage) -> None:
        """Count a request about to be sent, or raise ``OverBudget`` (``_check_budget``)."""
        self._check_budget(estimate)
        self.reserved.add(estimate)
        if self.morning is not None:
            self.morning.reserved.add(estimate)

    def release(self, estimate: Usage) -> None:
        """Take back a ``reserve`` (the request ended)."""
        self.reserved.subtract(estimate)
        if self.morning is not None:
            self.morning.reserved.subtract(estimate)

    def spent(self, stage: str, usage: Usage) -> None:
        """Record what a request cost, in this run and in the morning's total."""
        self.usage.add(usage)
        if self.morning is not None:
            self.morning.usage.add(usage)
        self.store.record_request(self.run_id, stage, usage)

    def _check_budget(self, estimate: Usage) -> None:
        """Raise ``OverBudget`` if this request, with those in flight, would pass a limit.

        Requests in flight count by an estimate (prompt characters / 4, plus a completion
        allowance per paper) until their real usage arrives.
        """
        reason = over_budget(self.config, self.usage, self.reserved, estimate)
        if reason is None and self.morning is not None:
            reason = self.morning.over(estimate)
        if reason is not None:
            raise OverBudget(reason)
        unknown = sum_costs(self.usage, self.reserved, estimate) is None
        if self.config.max_cost_per_run and unknown and not self._warned_cost:
            self._warned_cost = True
            log.warning("llm.max_cost_per_run cannot apply: the price of %s is unknown "
                        "(add it under [pricing])", self.model)
