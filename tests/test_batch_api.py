"""``llm.batch_api``: scoring through OpenAI's files and batches endpoints, on loopback."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from werkzeug import Request, Response

from conftest import PAPER_ID, ScriptedLLM, write_project
from papersift.config import load_config
from papersift.pipeline import run
from papersift.store import Store
from test_pipeline import APRIL_14, SECRETS, digest_text, expected_order, run_day


@dataclass
class BatchAPI:
    """The files and batches endpoints of an OpenAI-compatible server. A batch reports
    ``in_progress`` for its first ``polls_before_done`` looks (forever when None), then
    ``completed`` with each request answered by the scripted model — or ``end_as``."""

    llm: ScriptedLLM
    polls_before_done: int | None = 1
    end_as: str = "completed"
    uploads: list[list[dict]] = field(default_factory=list)
    created: list[dict] = field(default_factory=list)
    polls: int = 0

    def __post_init__(self) -> None:
        server = self.llm.server
        server.expect_request("/v1/files", method="POST").respond_with_handler(self._upload)
        server.expect_request("/v1/batches", method="POST").respond_with_handler(self._create)
        server.expect_request(re.compile(r"^/v1/batches/[\w-]+$"),
                              method="GET").respond_with_handler(self._retrieve)
        server.expect_request(re.compile(r"^/v1/files/[\w-]+/content$"),
                              method="GET").respond_with_handler(self._content)

    def _upload(self, request: Request) -> Response:
        assert request.form["purpose"] == "batch"
        lines = request.files["file"].read().decode().splitlines()
        self.uploads.append([json.loads(line) for line in lines])
        return _json({"id": f"file-in-{len(self.uploads)}", "object": "file", "bytes": 1,
                      "created_at": 0, "filename": "batch.jsonl", "purpose": "batch"})

    def _create(self, request: Request) -> Response:
        body = request.get_json()
        assert body["endpoint"] == "/v1/chat/completions"
        assert body["completion_window"] == "24h"
        self.created.append(body)
        return _json(self._batch(f"batch-{len(self.created)}", "validating"))

    def _retrieve(self, request: Request) -> Response:
        batch_id = request.path.rsplit("/", 1)[-1]
        self.polls += 1
        done = self.polls_before_done is not None and self.polls > self.polls_before_done
        return _json(self._batch(batch_id, self.end_as if done else "in_progress"))

    def _content(self, request: Request) -> Response:
        index = int(request.path.split("/")[3].rsplit("-", 1)[-1])
        rows = []
        for line in self.uploads[index - 1]:
            user = line["body"]["messages"][-1]["content"]
            text = self.llm._scores(PAPER_ID.findall(user))
            prompt = sum(len(m["content"]) for m in line["body"]["messages"]) // 4
            rows.append({"id": "r", "custom_id": line["custom_id"], "error": None,
                         "response": {"status_code": 200, "request_id": "q", "body": {
                             "id": "c", "object": "chat.completion", "created": 0,
                             "model": line["body"]["model"],
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": text}}],
                             "usage": {"prompt_tokens": prompt,
                                       "completion_tokens": len(text) // 4,
                                       "total_tokens": prompt + len(text) // 4}}}})
        return Response("\n".join(json.dumps(r) for r in rows) + "\n",
                        content_type="application/octet-stream")

    def _batch(self, batch_id: str, status: str) -> dict:
        index = batch_id.rsplit("-", 1)[-1]
        total = len(self.uploads[int(index) - 1])
        return {"id": batch_id, "object": "batch", "endpoint": "/v1/chat/completions",
                "input_file_id": f"file-in-{index}", "completion_window": "24h",
                "status": status, "created_at": 0,
                "output_file_id": f"file-out-{index}" if status == "completed" else None,
                "error_file_id": None,
                "request_counts": {"total": total, "failed": 0,
                                   "completed": total if status == "completed" else 0}}


def _json(payload: dict) -> Response:
    return Response(json.dumps(payload), content_type="application/json")


BATCH = "[llm]\nbatch_api = true\nbatch_poll_seconds = 0.05\ntitle_pass = false\n"


def test_a_day_scored_through_the_batch_api_costs_half_and_sends_no_chat_request(
        tmp_path, arxiv, llm):
    api = BatchAPI(llm)
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra=BATCH)
    result = run_day(config)

    assert [s.paper.arxiv_id for s in result.digest.selected] == expected_order()
    assert not result.digest.not_scored
    assert llm.requests == []  # nothing went through /v1/chat/completions
    assert len(api.created) == 1 and api.polls >= 2
    lines = api.uploads[0]
    assert len({line["custom_id"] for line in lines}) == len(lines) == result.run_usage.requests
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    assert all(line["body"]["model"] == "gpt-4.1-mini" for line in lines)
    assert sum(len(PAPER_ID.findall(line["body"]["messages"][-1]["content"]))
               for line in lines) == 663
    usage = result.run_usage  # gpt-4.1-mini: $0.40 / $1.60 per million, halved
    full = (usage.prompt_tokens * 0.40 + usage.completion_tokens * 1.60) / 1e6
    assert abs(usage.total_cost - full / 2) < 1e-9
    assert f"${usage.total_cost:.2f}" in digest_text(tmp_path)


def test_a_batch_still_pending_is_collected_by_the_next_run_not_paid_twice(
        tmp_path, arxiv, llm):
    api = BatchAPI(llm, polls_before_done=None)
    config = write_project(tmp_path, arxiv=arxiv, llm=llm,
                           extra=BATCH + "batch_wait_seconds = 0.3\n")
    first = run_day(config)

    pending = [n for n in first.digest.not_scored if n.reason.startswith("batch pending")]
    assert len(pending) == 663 and not first.digest.selected
    assert "batch-1 (in_progress) had not ended; run again to collect it" in pending[0].reason
    assert "## Not scored" in digest_text(tmp_path)

    api.polls_before_done = api.polls  # the provider finishes it before the next run
    again = run(load_config(config), day=APRIL_14, secrets=SECRETS)
    assert [s.paper.arxiv_id for s in again.digest.selected] == expected_order()
    assert len(api.uploads) == len(api.created) == 1  # resumed, never submitted again
    assert llm.requests == []
    with Store(tmp_path / "out" / "papersift.sqlite") as store:
        assert store.pending_batches("gpt-4.1-mini") == {}


def test_a_failed_batch_falls_back_to_requests_one_by_one(tmp_path, arxiv, llm):
    api = BatchAPI(llm, end_as="failed")
    config = write_project(tmp_path, arxiv=arxiv, llm=llm, extra=BATCH)
    result = run_day(config)

    assert [s.paper.arxiv_id for s in result.digest.selected] == expected_order()
    assert not result.digest.not_scored
    assert len(api.created) == 1
    assert len({i for r in llm.requests for i in r.ids}) == 663  # round two, full price
