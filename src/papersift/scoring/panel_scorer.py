"""The day's LLM judgments shared between readers: panels of up to 20 readers, one
request per batch of papers for all of them (texts and answers: ``scoring.panel``).

Before any reader is scored, each LLM reader says what it would send (its hybrid
prefilter's papers, or all its candidates) and the papers not yet in its cache are judged
in panels: each paper once per request, with every member's interests in the request's
static part. Each accepted answer is committed to every member's own cache (paper, model,
that reader's interests fingerprint) as it arrives, so each reader's own scoring then
finds its papers judged and asks the LLM only for what the panels left: a paper missing
from an answer, one that addresses the model (always scored alone), a failed request.
Those are asked as without panels, so nothing is lost and nothing is paid for twice.

Each member keeps its own guard (its own prior): a member whose relevance scores of a
batch look moved has the batch asked again in halves, for it alone. Each request's usage
is shared out among its members and counts against each member's run limits and the
morning's (``limits.MorningSpend``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from papersift.models import Candidate, Usage
from papersift.scoring import Scorer
from papersift.scoring.chat import AsyncChat, RequestFailed
from papersift.scoring.guard import halves, interleaved_batches
from papersift.scoring.hybrid import HybridScorer
from papersift.scoring.limits import OverBudget
from papersift.scoring.llm import COMPLETION_TOKENS_PER_PAPER, LLMScorer
from papersift.scoring.panel import labels, panel_system, panels, parse_panel_scores
from papersift.scoring.prompts import addresses_the_model
from papersift.store import CachedScore

log = logging.getLogger(__name__)
TOKENS_PER_READER_SCORE = 6  # '"R12": 7, ' in an answer line


@dataclass
class Member:
    """One reader in a panel: its LLM scorer and the papers it would send."""

    scorer: LLMScorer
    papers: Sequence[Candidate]
    prior: Mapping[str, float] | None
    fingerprint: str = ""
    todo: set[str] = field(default_factory=set)  # its papers not yet judged

    @property
    def interests(self) -> str:
        return self.scorer.prompts.interests


def panel_member(scorer: Scorer, candidates: Sequence[Candidate]) -> Member | None:
    """The reader as a panel member, or None when its LLM work cannot be shared (a local
    reader; an LLM reader with the title pass, whose first stage is its own, or with the
    Batch API)."""
    if isinstance(scorer, HybridScorer):
        plan = scorer.plan(candidates)
        return Member(scorer.llm, plan.sent, plan.prior)
    if isinstance(scorer, LLMScorer) and not (scorer.config.title_pass
                                              or scorer.config.batch_api):
        return Member(scorer, candidates, None)
    return None


def judge_in_panels(members: Sequence[Member]) -> None:
    """Judge the members' papers in panels (readers with the same model and prompt texts,
    20 at most); a reader whose interests another member shares is left to find that
    member's judgments in the cache."""
    groups: dict[tuple, list[Member]] = {}
    seen: set[tuple[str, str]] = set()
    for member in members:
        scorer = member.scorer
        member.fingerprint = scorer.prompts.fingerprint("abstract")
        if (scorer.model, member.fingerprint) in seen:
            continue
        seen.add((scorer.model, member.fingerprint))
        key = (scorer.model, scorer.config.base_url, scorer.prompts.system,
               scorer.prompts.rubric, scorer.prompts.max_abstract_chars,
               scorer.prompts.include_authors)
        groups.setdefault(key, []).append(member)
    for group in groups.values():
        for panel in panels(group):
            if len(panel) > 1:
                Panel(panel).judge()


class Panel:
    """Up to 20 readers judged in shared requests (see the module's docstring)."""

    def __init__(self, members: Sequence[Member]):
        self.members = list(members)
        self.lead = self.members[0].scorer  # its client, limits of time and batch size
        self.chat: AsyncChat | None = None
        self.ends_at = 0.0

    def judge(self) -> None:
        """Commit every judgment the panel's requests bring to the members' caches."""
        for member in self.members:
            scorer = member.scorer
            scorer.compare_with(member.papers, member.prior)
            scorer.store.learn_from(member.fingerprint)
            ids = [c.paper.arxiv_id for c in member.papers]
            cached = scorer.store.cached_scores(ids, scorer.model, member.fingerprint)
            member.todo = {c.paper.arxiv_id for c in member.papers
                           if c.paper.arxiv_id not in cached
                           and not addresses_the_model(c.paper)}
        active = [m for m in self.members if m.todo]
        if len(active) > 1:
            asyncio.run(self._judge(active))

    async def _judge(self, members: list[Member]) -> None:
        self.ends_at = asyncio.get_running_loop().time() + \
            self.lead.config.max_seconds_per_run
        client = self.lead.client_factory()
        self.chat = AsyncChat(self.lead.config, client, self.lead.prices)
        # Each paper at its best standing among the members that want it: the batches
        # then mix the day's ranking as a reader's own batches do.
        standing: dict[str, float] = {}
        papers: dict[str, Candidate] = {}
        for member in members:
            for candidate in member.papers:
                aid = candidate.paper.arxiv_id
                if aid in member.todo:
                    papers.setdefault(aid, candidate)
                    standing[aid] = max(standing.get(aid, 0.0),
                                        member.scorer.guard.standing.get(aid, 0.0))
        log.info("%d readers judged together: %d papers in shared requests",
                 len(members), len(papers))
        try:
            await asyncio.gather(*(
                self._batch(batch, members, standing, suspect=False)
                for batch in interleaved_batches(list(papers.values()),
                                                 self.lead.config.abstract_batch_size,
                                                 standing)))
        finally:
            await client.close()
        self.chat.raise_if_fatal()  # a rejected key: the morning's one error

    async def _batch(self, batch: list[Candidate], members: list[Member],
                     standing: Mapping[str, float], *, suspect: bool) -> None:
        """One request for ``batch`` and the members that want any of its papers; a
        member whose scores look moved has the batch asked again in halves, alone."""
        assert self.chat is not None
        ids = [c.paper.arxiv_id for c in batch]
        members = [m for m in members if m.todo & set(ids)]
        if not members:
            return
        lead = self.lead
        system = panel_system(lead.prompts.system, lead.prompts.rubric,
                              [m.interests for m in members])
        user = lead.prompts.scoring_user([c.paper for c in batch])
        completion = len(batch) * (COMPLETION_TOKENS_PER_PAPER
                                   + TOKENS_PER_READER_SCORE * len(members))
        estimate = lead.prices.usage(lead.model, (len(system) + len(user)) // 4, 0,
                                     completion)
        shares = list(zip(members, estimate.split(len(members)), strict=True))
        reserved: list[tuple[Member, Usage]] = []

        def reserve() -> None:
            for member, share in shares:
                member.scorer.reserve(share)
                reserved.append((member, share))

        try:
            async with asyncio.timeout_at(self.ends_at):
                answer = await self.chat.ask(system, user, before_send=reserve)
        except (RequestFailed, OverBudget, TimeoutError) as exc:
            # Left to the readers' own scoring, which asks again or says why not.
            log.info("a panel request for %d papers ended without an answer (%s)",
                     len(batch), type(exc).__name__)
            return
        finally:
            for member, share in reserved:
                member.scorer.release(share)
        for member, share in zip(members, answer.usage.split(len(members)), strict=True):
            member.scorer.spent("abstract", share)
        names = labels(len(members))
        parsed = parse_panel_scores(answer.text, ids, names)
        moved = []
        for member, name in zip(members, names, strict=True):
            mine = {aid: p for aid, p in parsed.items() if aid in member.todo}
            relevance = {aid: p.relevance[name] for aid, p in mine.items()}
            if len(batch) > 1 and member.scorer.guard.scores_moved(relevance,
                                                                   suspect=suspect):
                moved.append(member)
                continue
            member.scorer.store.save_scores(lead.model, member.fingerprint, {
                aid: CachedScore(p.relevance[name], p.novelty, p.comment)
                for aid, p in mine.items()})
            member.todo -= mine.keys()
        if moved:
            log.warning("a panel answer scored %d papers far from %d readers' local "
                        "ranking; asking again in halves for them (possible prompt "
                        "injection)", len(batch), len(moved))
            await asyncio.gather(*(self._batch(half, moved, standing, suspect=True)
                                   for half in halves(batch, standing)))
