"""OpenAI's Batch API (``llm.batch_api = true``): the same requests at half the price.

The day's scoring requests are written to one JSONL file, uploaded (``/v1/files``) and
submitted as a batch (``/v1/batches``); the run then polls with a growing pause until the
batch ends or ``llm.batch_wait_seconds`` pass. The batch's id and the requests it holds
are kept in the store as soon as it is submitted, so a run that stops waiting (or is
killed) never pays twice: the next run for the same papers picks the pending batch up
instead of submitting a new one. Each request's ``custom_id`` is a hash of its body, so
the same papers under the same prompts map to the same requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from papersift.models import Usage
from papersift.scoring.chat import token_count
from papersift.scoring.pricing import PriceTable
from papersift.store import Store
from papersift.text import load_json

if TYPE_CHECKING:  # the SDK takes half a second to import: only where it is used
    import openai

log = logging.getLogger(__name__)
ENDPOINT = "/v1/chat/completions"
DISCOUNT = 0.5  # the Batch API's price relative to the same requests sent one by one
ENDED = ("completed", "failed", "expired", "cancelled")
MAX_POLL_SECONDS = 60.0


@dataclass(frozen=True)
class BatchAnswer:
    """One request's answer from a batch: its text and usage, or why it has none."""

    text: str = ""
    usage: Usage | None = None
    error: str = ""


class StillPending(Exception):
    """The batch had not ended when the run stopped waiting; it is kept for the next run."""


def request_id(body: Mapping[str, Any]) -> str:
    """A stable ``custom_id``: the same request body always gets the same id."""
    return "ps-" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]


class BatchRunner:
    """Submits, resumes and collects batches of chat requests for one run."""

    def __init__(self, client: openai.AsyncOpenAI, store: Store, prices: PriceTable,
                 model: str, *, wait_seconds: float, poll_seconds: float):
        self.client, self.store, self.prices, self.model = client, store, prices, model
        self.wait_seconds, self.poll_seconds = wait_seconds, poll_seconds

    async def answers(self, bodies: Mapping[str, dict[str, Any]], deadline: float
                      ) -> dict[str, BatchAnswer]:
        """The answer to each request (by ``custom_id``); raises ``StillPending`` naming
        the batches that had not ended by the deadline (``loop.time()``)."""
        pending = self.store.pending_batches(self.model)
        resumed = {bid: ids & bodies.keys() for bid, ids in pending.items()}
        resumed = {bid: ids for bid, ids in resumed.items() if ids}
        covered = set().union(*resumed.values()) if resumed else set()
        new = {cid: body for cid, body in bodies.items() if cid not in covered}
        for batch_id in resumed:
            log.info("resuming batch %s, submitted by an earlier run", batch_id)
        if new:
            resumed[await self._submit(new)] = set(new)
        loop = asyncio.get_running_loop()
        deadline = min(deadline, loop.time() + self.wait_seconds)
        results: dict[str, BatchAnswer] = {}
        still: list[str] = []
        for batch_id, ids in resumed.items():
            batch = await self._wait(batch_id, deadline)
            if batch.status not in ENDED:
                still.append(f"{batch_id} ({batch.status})")
                continue
            found = await self._results(batch) if batch.status == "completed" else {}
            for cid in ids:
                results[cid] = found.get(cid, BatchAnswer(error=f"batch {batch.status}"))
            self.store.finish_batch(batch_id, batch.status)
        if still:
            raise StillPending(", ".join(still))
        return results

    async def _submit(self, bodies: Mapping[str, dict[str, Any]]) -> str:
        lines = "".join(json.dumps({"custom_id": cid, "method": "POST", "url": ENDPOINT,
                                    "body": body}) + "\n" for cid, body in bodies.items())
        upload = await self.client.files.create(
            file=("papersift-batch.jsonl", lines.encode(), "application/jsonl"), purpose="batch")
        batch = await self.client.batches.create(
            input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h",
            metadata={"source": "papersift"})
        self.store.save_batch(batch.id, self.model, list(bodies))
        log.info("submitted batch %s: %d requests", batch.id, len(bodies))
        return batch.id

    async def _wait(self, batch_id: str, deadline: float) -> Any:
        loop = asyncio.get_running_loop()
        pause = self.poll_seconds
        while True:
            batch = await self.client.batches.retrieve(batch_id)
            left = deadline - loop.time()
            if batch.status in ENDED or left <= 0:
                return batch
            counts = batch.request_counts
            log.info("batch %s %s (%s of %s done); next look in %.0f s", batch_id,
                     batch.status, getattr(counts, "completed", "?"),
                     getattr(counts, "total", "?"), min(pause, left))
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 1.5, MAX_POLL_SECONDS)

    async def _results(self, batch: Any) -> dict[str, BatchAnswer]:
        found: dict[str, BatchAnswer] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await self.client.files.content(file_id)
            for line in content.text.splitlines():
                try:
                    row = load_json(line)
                    found[str(row["custom_id"])] = self._answer(row)
                except (ValueError, KeyError, TypeError):
                    log.warning("batch %s: an unreadable result line was skipped", batch.id)
        return found

    def _answer(self, row: dict[str, Any]) -> BatchAnswer:
        response = row.get("response") or {}
        body = response.get("body") or {}
        if row.get("error") or response.get("status_code") != 200:
            error = row.get("error") or body.get("error") or {}
            message = error.get("message", "") if isinstance(error, dict) else str(error)
            return BatchAnswer(error=f"HTTP {response.get('status_code', '?')} in the batch: "
                                     f"{message[:120]}")
        usage = body.get("usage") or {}
        prompt, completion = token_count(usage.get("prompt_tokens")), token_count(
            usage.get("completion_tokens"))
        cached = min(prompt, token_count((usage.get("prompt_tokens_details") or {}).get(
            "cached_tokens")))
        choices = body.get("choices") or [{}]
        text = ((choices[0] or {}).get("message") or {}).get("content") or ""
        return BatchAnswer(text if isinstance(text, str) else "",
                           discounted(self.prices.usage(self.model, prompt, cached, completion)))


def discounted(usage: Usage) -> Usage:
    """The Batch API price of a usage."""
    for name in ("prompt_cost", "completion_cost"):
        value = getattr(usage, name)
        if value is not None:
            setattr(usage, name, value * DISCOUNT)
    return usage
