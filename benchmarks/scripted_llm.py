"""A scripted OpenAI-compatible chat server on 127.0.0.1 with a token latency model.

It answers the modelled reference (``reference_model.py``) in the reference's format and
papersift in papersift's (one JSON object per paper: id, comment, relevance, novelty),
scoring the day's picks 9/9 and every other paper 3/4, every comment the same length.
Each request takes ``base + prompt_tokens / prefill_rate + completion_tokens /
decode_rate`` modelled seconds, of which it sleeps ``time_scale``. Prompt caching is
modelled as providers do it: the longest prefix shared with a prompt whose request has
already finished, counted from 1,024 tokens in steps of 128.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import reference_model

PAPER = re.compile(r'<paper id="([^"]+)">')


@dataclass
class Phase:
    """What one strategy's run sent and got back."""

    requests: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    modelled_seconds: float = 0.0  # the sum of the modelled latencies
    in_flight: int = 0
    max_in_flight: int = 0
    first_arrival: float | None = None
    last_end: float = 0.0
    abstract_ids: set[str] = field(default_factory=set)
    finished_prompts: list[str] = field(default_factory=list)

    @property
    def real_seconds(self) -> float:
        return self.last_end - self.first_arrival if self.first_arrival is not None else 0.0

    def scaled_back(self, time_scale: float) -> float:
        """The LLM phase's wall-clock in modelled seconds."""
        return self.real_seconds / time_scale if time_scale else self.modelled_seconds


class ScriptedLLM:
    def __init__(self, args: Any):
        self.args = args
        self.lock = threading.Lock()
        self.picks: set[str] = set()
        self.title_mode, self.sleep = "keep_all", False
        self.phase = Phase()
        self.comment = ("A scripted comment of the same length for every paper and both "
                        "strategies. " * 10)[:args.comment_chars]

    def start(self, picks: set[str], *, title_mode: str, sleep: bool) -> None:
        with self.lock:
            self.picks, self.title_mode, self.sleep = picks, title_mode, sleep
            self.phase = Phase()

    def finish(self) -> Phase:
        with self.lock:
            return self.phase

    def latency(self, prompt_tokens: int, completion_tokens: int) -> float:
        a = self.args
        return a.base_latency + prompt_tokens / a.prefill_rate + completion_tokens / a.decode_rate

    def answer(self, body: dict) -> dict:
        messages = body["messages"]
        system, user = messages[0]["content"], messages[-1]["content"]
        prompt_text = system + user
        prompt = len(prompt_text) // 4
        text = self._text(system, user)
        completion = len(text) // 4
        modelled = self.latency(prompt, completion)
        with self.lock:
            phase = self.phase
            now = time.perf_counter()
            phase.first_arrival = now if phase.first_arrival is None else phase.first_arrival
            phase.in_flight += 1
            phase.max_in_flight = max(phase.max_in_flight, phase.in_flight)
            finished = list(phase.finished_prompts)
        cached = _cached(prompt_text, finished)
        if self.sleep:
            time.sleep(modelled * self.args.time_scale)
        with self.lock:
            phase.in_flight -= 1
            phase.requests += 1
            phase.prompt_tokens += prompt
            phase.cached_tokens += cached
            phase.completion_tokens += completion
            phase.modelled_seconds += modelled
            phase.finished_prompts = [*phase.finished_prompts[-7:], prompt_text]
            phase.last_end = time.perf_counter()
        return {"id": "scripted", "object": "chat.completion", "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion,
                          "prompt_tokens_details": {"cached_tokens": cached}}}

    def _text(self, system: str, user: str) -> str:
        if reference_model.TITLE_MARK in user:
            ids = reference_model.ids_in(user)
            return json.dumps(reference_model.title_drops(ids, self.picks, self.title_mode))
        if reference_model.ABSTRACT_MARK in user:
            ids = reference_model.ids_in(user)
            return reference_model.abstract_answer(ids, self.picks, self.comment)
        ids = PAPER.findall(user)
        if user.startswith("Titles of"):  # papersift's own title pass (off in hybrid)
            return json.dumps([])
        with self.lock:
            self.phase.abstract_ids.update(ids)
        readers = re.findall(r"^### (R\d+)$", system, flags=re.MULTILINE)  # a panel

        def relevance(arxiv_id: str) -> int | dict[str, int]:
            value = 9 if arxiv_id in self.picks else 3
            return {r: value for r in readers} if readers else value

        return "\n".join(json.dumps({
            "ARXIVID": i, "COMMENT": self.comment, "RELEVANCE": relevance(i),
            "NOVELTY": 9 if i in self.picks else 4}) for i in ids)


def _cached(prompt: str, finished: list[str]) -> int:
    shared = max((_common_prefix(prompt, earlier) for earlier in finished), default=0) // 4
    return shared // 128 * 128 if shared >= 1024 else 0


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, by bisection (slice comparisons run in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def serve(llm: ScriptedLLM) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            payload = json.dumps(llm.answer(body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # the default 5 would make a burst of requests queue

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"
