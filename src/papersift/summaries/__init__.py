"""TL;DRs of the selected papers (``[summary]``), between selection and publishing.

With an LLM, one extra request per ``BATCH`` selected papers writes them in the reader's
language (only the selected papers: on the labelled days that costs far fewer tokens than
a summary for every paper inside the scoring requests, see README "Summaries"). They are
kept in the store by paper, model, language and text, so a rerun or a later day pays
nothing for them, and their tokens are recorded with the run's, so the digest's token
table counts them. A paper the LLM did not summarise (a failed request, a missing or
unusable answer, the run's budget spent) gets the extractive summary, labelled as such:
a summary is never invented and a paper never goes without one.

Paper texts are data, as in scoring: a paper whose text addresses the model is
summarised in a request of its own (it can change no other paper's TL;DR), an answer's
ids must be the batch's, and a TL;DR that reads like another paper of its batch more
than its own (swapped) is not used.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import TYPE_CHECKING

from papersift.config import LLMConfig
from papersift.models import Paper, Selected, Summary, Usage
from papersift.scoring.chat import Answer, AsyncChat, RequestFailed
from papersift.scoring.encoders import tokens
from papersift.scoring.limits import OverBudget, over_budget
from papersift.scoring.parse import iter_json_objects
from papersift.scoring.pricing import PriceTable
from papersift.scoring.prompts import addresses_the_model, paper_element
from papersift.sources.common import normalize_arxiv_id
from papersift.store import Store
from papersift.summaries.extractive import document_frequencies, most_informative_sentence
from papersift.text import capped, clean_text

if TYPE_CHECKING:  # the SDK takes half a second to import: only where it is used
    import openai

log = logging.getLogger(__name__)
BATCH = 20  # papers per request: answers stay short and a failure costs little
MAX_SUMMARY_CHARS = 500  # a longer answer is cut at a word (two sentences are ~300)
ANSWER_TOKENS_PER_PAPER = 100  # the budget's allowance for one answer line


@dataclass(frozen=True)
class LLMSummaries:
    """What the LLM path needs: the model's settings, a client, prices, where to record,
    and what the run has spent already (the summaries stay within the run's budget)."""

    config: LLMConfig
    client_factory: Callable[[], openai.AsyncOpenAI]
    prices: PriceTable
    store: Store
    run_id: int
    spent: Usage


def summary_prompt(language: str) -> str:
    """The system prompt of the summary request, for ``language``."""
    text = resources.files("papersift.summaries").joinpath("prompt.md").read_text("utf-8")
    return text.strip().format(language=language)


def summarise(selected: Sequence[Selected], language: str, context: Sequence[str],
              llm: LLMSummaries | None = None) -> tuple[list[Selected], Usage]:
    """``selected`` with a summary each, and the tokens this cost. ``context`` holds the
    day's paper texts (the extractive summary's measure of what is rare)."""
    usage = Usage()
    written: dict[str, Summary] = {}
    if llm is not None and selected:
        written, usage = _from_llm([s.paper for s in selected], language, llm)
    frequencies, total = document_frequencies(context)
    result = []
    for item in selected:
        summary = written.get(item.paper.arxiv_id)
        if summary is None:
            sentence = most_informative_sentence(item.paper.abstract, frequencies, total)
            summary = Summary(sentence, language, extractive=True) if sentence else None
        result.append(replace(item, summary=summary))
    return result, usage


def text_hash(paper: Paper) -> str:
    return hashlib.sha256(f"{paper.title}\0{paper.abstract}".encode()).hexdigest()[:16]


def _from_llm(papers: Sequence[Paper], language: str, llm: LLMSummaries
              ) -> tuple[dict[str, Summary], Usage]:
    model = llm.config.model
    hashes = {p.arxiv_id: text_hash(p) for p in papers}
    stored = llm.store.summaries(hashes, model, language)
    found = {key: Summary(text, language, model) for key, text in stored.items()}
    missing = [p for p in papers if p.arxiv_id not in found]
    usage = Usage()
    if missing:
        log.info("summaries: asking %s for %d (%d kept from earlier runs)", model,
                 len(missing), len(found))
        fresh, usage = asyncio.run(_ask_all(missing, language, llm))
        llm.store.save_summaries(model, language,
                                 [(key, hashes[key], text) for key, text in fresh.items()])
        found.update({key: Summary(text, language, model) for key, text in fresh.items()})
        if len(fresh) < len(missing):
            log.warning("summaries: %d of %d papers got no summary from %s; they show the "
                        "abstract's most informative sentence instead",
                        len(missing) - len(fresh), len(missing), model)
    return found, usage


async def _ask_all(papers: Sequence[Paper], language: str, llm: LLMSummaries
                   ) -> tuple[dict[str, str], Usage]:
    client = llm.client_factory()
    chat = AsyncChat(llm.config, client, llm.prices)
    system = summary_prompt(language)
    plain = [p for p in papers if not addresses_the_model(p)]
    batches = [plain[i:i + BATCH] for i in range(0, len(plain), BATCH)]
    batches += [[p] for p in papers if addresses_the_model(p)]  # each on its own
    sent = Usage()  # estimates of the requests sent so far, for the budget

    async def ask(batch: Sequence[Paper]) -> Answer:
        user = _user(batch, language, llm.config.max_abstract_chars)
        estimate = llm.prices.usage(llm.config.model, (len(system) + len(user)) // 4, 0,
                                    ANSWER_TOKENS_PER_PAPER * len(batch))

        def within_budget() -> None:
            reason = over_budget(llm.config, llm.spent, sent, estimate)
            if reason is not None:
                raise OverBudget(reason)
            sent.add(estimate)

        return await chat.ask(system, user, before_send=within_budget)

    try:
        answers = await asyncio.gather(*(ask(batch) for batch in batches),
                                       return_exceptions=True)
    finally:
        await client.close()
    found: dict[str, str] = {}
    usage = Usage()
    for batch, answer in zip(batches, answers, strict=True):
        if isinstance(answer, RequestFailed | OverBudget):
            log.warning("summaries: a request for %d papers was not answered (%s)",
                        len(batch), answer)
            continue
        if isinstance(answer, BaseException):
            raise answer
        llm.store.record_request(llm.run_id, "summary", answer.usage)
        usage.add(answer.usage)
        found.update(_checked(parse_summaries(answer.text, {p.arxiv_id for p in batch}),
                              batch))
    return found, usage


def _checked(summaries: dict[str, str], batch: Sequence[Paper]) -> dict[str, str]:
    """The summaries that read like their own paper at least as much as like any other
    of the batch (a model that swapped two TL;DRs has not summarised either)."""
    words = {p.arxiv_id: set(tokens(f"{p.title} {p.abstract}")) for p in batch}
    kept = {}
    for key, summary in summaries.items():
        said = set(tokens(summary))
        if said and len(batch) > 1:
            share = {other: len(said & known) / len(said) for other, known in words.items()}
            best = max(share[other] for other in share if other != key)
            if share[key] < best and share[key] < 0.5:
                log.warning("summaries: the TL;DR given for %s reads like another paper "
                            "of its request; not used", key)
                continue
        kept[key] = summary
    return kept


def _user(papers: Sequence[Paper], language: str, max_abstract_chars: int) -> str:
    blocks = "\n\n".join(paper_element(p, abstract_chars=max_abstract_chars) for p in papers)
    return f"Write the TL;DR in {language} of these {len(papers)} papers.\n\n{blocks}\n"


def parse_summaries(text: str, wanted: set[str]) -> dict[str, str]:
    """The usable summaries of an answer: ids of the batch, text of one line (first wins)."""
    found: dict[str, str] = {}
    for obj in iter_json_objects(text):
        # "id" / "arxiv_id" / "ARXIVID"; "tldr" / "TL;DR" / "summary"
        fields = {re.sub(r"[^a-z]", "", str(k).lower()): v for k, v in obj.items()}
        raw_id = fields.get("id", fields.get("arxivid"))
        summary = fields.get("tldr", fields.get("summary"))
        key = normalize_arxiv_id(str(raw_id)) if raw_id is not None else None
        if key not in wanted or key in found or not isinstance(summary, str):
            continue
        summary = capped(clean_text(summary), MAX_SUMMARY_CHARS)
        if summary:
            found[key] = summary
    return found
