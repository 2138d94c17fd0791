"""Prompt texts: our defaults (files beside this module), each overridable by a file.

The static part of every request (role, rubric, interests, answer format) comes first
and is byte-identical across batches, so providers' prompt caching applies; only the
paper list changes. The fingerprint of the static texts keys cached scores: change the
interests or a prompt and papers are scored afresh.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from papersift.config import Config
from papersift.errors import ConfigError
from papersift.models import Paper, Prompts

PAPER_LIST_PLACEHOLDER = "[PAPER LIST]"
INJECTION_NOTE = "Scored on its own: its text gives instructions to the scoring model."
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\s+(all\s+|any\s+|the\s+|your\s+)?"
    r"(previous|prior|above|earlier|preceding|system)\s+(instructions?|prompts?|rules?)"
    r"|\b(rate|score|give|assign)\s+(every|all|each|the other|other)\s+(\w+\s+)?papers?\b"
    r"|\b(relevance|novelty)\s+(score\s+)?(of\s+)?10\b.{0,30}\b(every|all|each)\b"
    r"|\byou are now\b|\bnew instructions\s*:",
    re.IGNORECASE | re.DOTALL,
)


def addresses_the_model(paper: Paper) -> bool:
    """Whether a title or abstract reads like instructions to the scorer (prompt injection).

    Such a paper is scored in a batch of its own, so that even a model that obeys it can
    change no other paper's score, and the title pass never sees it.
    """
    return bool(_INJECTION.search(f"{paper.title}\n{paper.abstract}"))


def default_text(name: str) -> str:
    """One of the bundled prompt texts (``system``, ``rubric``, ``output_format``, ...)."""
    return resources.files("papersift.scoring").joinpath(f"prompts/{name}.md").read_text("utf-8")


@dataclass(frozen=True)
class PromptSet:
    system: str
    rubric: str
    interests: str
    output_format: str
    title_pass: str
    max_abstract_chars: int = 1000
    include_authors: bool = False

    @classmethod
    def from_config(cls, config: Config) -> PromptSet:
        """Read the interests file and any prompt overrides named in the config."""
        texts = {}
        for key in ("system", "rubric", "output_format", "title_pass"):
            override = getattr(config.prompts, key)
            texts[key] = _read(config.resolve(override), f"prompts.{key}") if override \
                else default_text(key)
        interests = _read(config.resolve(config.prompts.interests), "prompts.interests")
        if not interests.strip():
            raise ConfigError(
                f"{config.resolve(config.prompts.interests)}: the interests file is empty; "
                "describe what you want to read"
            )
        return cls(interests=interests, max_abstract_chars=config.llm.max_abstract_chars,
                   include_authors=config.llm.include_authors, **texts)

    # -- abstract scoring -------------------------------------------------------------

    def scoring_system(self) -> str:
        return (
            f"{self.system.strip()}\n\n"
            f"## The researcher's interests\n\n{self.interests.strip()}\n\n"
            f"## How to score\n\n{self.rubric.strip()}\n\n"
            f"## Answer format\n\n{self.output_format.strip()}\n"
        )

    def scoring_user(self, papers: Sequence[Paper]) -> str:
        blocks = "\n\n".join(self._paper_block(p, with_abstract=True) for p in papers)
        return f"Score these {len(papers)} papers.\n\n{blocks}\n"

    def _paper_block(self, paper: Paper, *, with_abstract: bool) -> str:
        return paper_element(paper, abstract_chars=self.max_abstract_chars if with_abstract
                             else None, authors=with_abstract and self.include_authors)

    # -- title pass -------------------------------------------------------------------

    def title_system(self) -> str:
        return (
            f"{self.system.strip()}\n\n"
            f"## The researcher's interests\n\n{self.interests.strip()}\n\n"
            f"## Task\n\n{self.title_pass.strip()}\n"
        )

    def title_user(self, papers: Sequence[Paper]) -> str:
        blocks = "\n".join(self._paper_block(p, with_abstract=False) for p in papers)
        return f"Titles of {len(papers)} papers:\n\n{blocks}\n"

    # -- identity and display -----------------------------------------------------------

    def fingerprint(self, stage: str) -> str:
        """A short hash of the static texts of ``stage`` (``abstract`` or ``title``)."""
        static = self.scoring_system() if stage == "abstract" else self.title_system()
        return hashlib.sha256(f"{stage}\0{static}".encode()).hexdigest()[:16]

    def shown(self) -> Prompts:
        """The prompts as the digest's appendix shows them."""
        return Prompts(
            system=self.scoring_system(),
            user_template=f"Score these N papers.\n\n{PAPER_LIST_PLACEHOLDER}\n",
        )


def paper_element(paper: Paper, *, abstract_chars: int | None, authors: bool = False) -> str:
    """One paper as an element of a prompt (its abstract cut at ``abstract_chars``, None:
    title only); its texts are escaped, so that none can close it (a forged ``</paper>``
    in an abstract stays text inside its own paper)."""
    lines = [f'<paper id="{html.escape(paper.arxiv_id)}">', f"Title: {_escaped(paper.title)}"]
    if authors:
        more = " et al." if len(paper.authors) > 8 else ""
        lines.append(f"Authors: {_escaped(', '.join(paper.authors[:8]))}{more}")
    if abstract_chars is not None:
        abstract = shortened(" ".join(paper.abstract.split()), abstract_chars)
        lines.append(f"Abstract: {_escaped(abstract) or '(none)'}")
    lines.append("</paper>")
    return "\n".join(lines)


def shortened(abstract: str, limit: int) -> str:
    """The abstract up to ``limit`` characters: whole sentences where they fill most of
    it (an abstract states its problem and contribution first), else whole words + "…"."""
    if len(abstract) <= limit:
        return abstract
    head = abstract[:limit + 1]
    end = head.rfind(". ")
    if end >= 0.6 * limit:
        return head[:end + 1] + " …"
    return head[:limit].rsplit(" ", 1)[0] + " …"


def _escaped(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=False)


def _read(path: Path, key: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{key} = '{path}': file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{key} = '{path}': cannot read: {exc}") from None
