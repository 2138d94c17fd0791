"""The reference system's LLM stage as it really runs, modelled for benchmarks/llm_path.py.

Everything here follows ``../shared/anchors/README.md`` (the reference run unmodified
against a scripted server, every request recorded), never the reference's own text:

- batches grow with the day: base x ceil(log2(n / 32) + 1) for the n papers entering a
  stage (base 32 titles, 16 abstracts), 1 x base up to 32 papers;
- a title pass, then abstract scoring, strictly one request at a time;
- prompts of the recorded sizes: a 264-character system message; a title template of
  ~4,280 characters before the titles, an abstract template of ~7,580 characters before
  the papers, each paper as "ArXiv ID / Title" (titles) or "ArXiv ID / Title / Authors /
  Abstract cut at 4,000 characters" (abstracts), papers separated by blank lines. The
  templates' wording is filler of the recorded length: only sizes matter here;
- answers: the title pass lists the ids it drops as a JSON array (``keep_all``: none;
  ``keep_half``: the non-picks whose md5(id) is odd); abstract answers are one 9-field
  JSON object per paper (~300 characters), picks 9/9, others 3/4.

``check_anchors`` replays the three recorded days and compares request counts and
tokens (characters / 4, as recorded).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

SYSTEM_CHARS = 264
TITLE_TEMPLATE_CHARS = 4280
ABSTRACT_TEMPLATE_CHARS = 7580
ABSTRACT_CUTOFF = 4000
TITLE_BASE, ABSTRACT_BASE, ADAPTIVE_THRESHOLD = 32, 16, 32
TITLE_MARK, ABSTRACT_MARK = "[reference title pass]", "[reference abstract scoring]"
# The fields of its answers besides id, comment and the two scores (values of typical
# length); with a comment of ~140 characters a line comes to the recorded ~300.
EXTRA_FIELDS = {"PROXIMITY": 5, "EVIDENCE": 5, "LOAD": 5, "TOPIC": "T1",
                "AREA": "methods", "SCORE": 7}
TOLERANCE = 0.05


def batch_size(base: int, count: int) -> int:
    """The reference's adaptive batch size for ``count`` papers entering a stage."""
    if count <= ADAPTIVE_THRESHOLD:
        return base
    return base * math.ceil(math.log2(count / ADAPTIVE_THRESHOLD) + 1)


def _filler(chars: int, mark: str) -> str:
    words = (mark + " " + "lorem ipsum dolor " * (chars // 18 + 1))
    return words[:chars]


def title_request(papers: Sequence[dict]) -> tuple[str, str]:
    entries = "\n\n".join(f"ArXiv ID: {p['arxiv_id']}\nTitle: {p['title']}" for p in papers)
    return _filler(SYSTEM_CHARS, "system"), _with_template(entries, TITLE_TEMPLATE_CHARS,
                                                           TITLE_MARK)


def abstract_request(papers: Sequence[dict]) -> tuple[str, str]:
    entries = "\n\n".join(
        f"ArXiv ID: {p['arxiv_id']}\nTitle: {p['title']}\nAuthors: {', '.join(p['authors'])}"
        f"\nAbstract: {p['abstract'][:ABSTRACT_CUTOFF]}" for p in papers)
    return _filler(SYSTEM_CHARS, "system"), _with_template(entries, ABSTRACT_TEMPLATE_CHARS,
                                                           ABSTRACT_MARK)


def _with_template(entries: str, template_chars: int, mark: str) -> str:
    # Topics and instructions before the papers, a short output note after them, as it does.
    head, tail = "## Papers", _filler(400, "instructions")
    body = _filler(template_chars - len(head) - len(tail) - 6, mark)
    return "\n\n".join([body, head, entries, tail])


def ids_in(user: str) -> list[str]:
    return [line[len("ArXiv ID: "):] for line in user.splitlines()
            if line.startswith("ArXiv ID: ")]


def title_drops(ids: Sequence[str], picks: set[str], mode: str) -> list[str]:
    """The ids the scripted title pass drops (``keep_all`` or ``keep_half``)."""
    if mode == "keep_all":
        return []
    return [i for i in ids if i not in picks and int(hashlib.md5(i.encode()).hexdigest(), 16) % 2]


def abstract_answer(ids: Sequence[str], picks: set[str], comment: str) -> str:
    return "\n".join(json.dumps({
        "ARXIVID": i, "COMMENT": comment,
        "RELEVANCE": 9 if i in picks else 3, "NOVELTY": 9 if i in picks else 4,
        **EXTRA_FIELDS}) for i in ids)


@dataclass
class ReferenceRun:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    read_ids: frozenset[str] = frozenset()


def run_reference(papers: Sequence[dict], send: Callable[[str, str], tuple[str, int, int]]
                  ) -> ReferenceRun:
    """Run the reference's LLM stage over a day; ``send(system, user)`` returns the answer
    and its prompt and completion tokens. One request at a time, as it does."""
    run = ReferenceRun()

    def ask(system: str, user: str) -> str:
        answer, prompt, completion = send(system, user)
        run.requests += 1
        run.prompt_tokens += prompt
        run.completion_tokens += completion
        return answer

    kept: list[dict] = []
    size = batch_size(TITLE_BASE, len(papers))
    for start in range(0, len(papers), size):
        batch = papers[start:start + size]
        dropped = set(json.loads(ask(*title_request(batch)) or "[]"))
        kept += [p for p in batch if p["arxiv_id"] not in dropped]
    size = batch_size(ABSTRACT_BASE, len(kept))
    for start in range(0, len(kept), size):
        ask(*abstract_request(kept[start:start + size]))
    run.read_ids = frozenset(p["arxiv_id"] for p in kept)
    return run


def check_anchors(anchors: Path, days_dir: Path,
                  replay: Callable[[list[dict], set[str], str], ReferenceRun]
                  ) -> tuple[bool, list[str]]:
    """Replay every recorded anchor day in both title-pass modes; whether all match the
    record (requests exactly, tokens within 5%), and one line per day and mode."""
    recorded = json.loads((anchors / "reference-llm-runs.json").read_text())["runs"]
    lines, passed = [], True
    for mode, days in recorded.items():
        for day, want in sorted(days.items()):
            papers = [json.loads(line) for line in
                      (days_dir / f"{day}.jsonl").read_text().splitlines() if line]
            picks = {p["arxiv_id"] for p in papers if p["selected"]}
            got = replay(papers, picks, mode)
            prompt_error = got.prompt_tokens / want["prompt_tokens"] - 1
            completion_error = got.completion_tokens / want["completion_tokens"] - 1
            ok = (got.requests == want["requests"] and abs(prompt_error) <= TOLERANCE
                  and abs(completion_error) <= TOLERANCE)
            passed &= ok
            lines.append(f"  anchor {day} {mode:<9} requests {got.requests}/{want['requests']}"
                         f"  prompt tokens {got.prompt_tokens} ({prompt_error:+.1%})"
                         f"  completion tokens {got.completion_tokens} ({completion_error:+.1%})"
                         f"  {'ok' if ok else 'MISMATCH'}")
    return passed, lines
