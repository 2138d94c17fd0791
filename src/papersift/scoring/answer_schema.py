"""JSON schemas for structured output (``llm.structured_output``).

Servers that take a JSON schema in ``response_format`` then decode only answers of the
right shape. The ids are an ``enum`` of the batch's own ids, so even a small local model
cannot invent one, and scores are limited to 1-10. Both schemas follow OpenAI's strict
mode: every property required, no others. Two spellings exist: ``json_schema`` (OpenAI,
vLLM, Ollama, llama.cpp's ``llama-server``) and ``json_object`` with a ``schema`` key
(llama-cpp-python's server).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

StructuredOutput = Literal["off", "json_schema", "json_object"]
SCORES = list(range(1, 11))


def response_format(style: StructuredOutput, stage: str, batch_ids: Sequence[str]
                    ) -> dict[str, Any] | None:
    """The ``response_format`` of a request for ``stage`` (``title`` or ``abstract``)."""
    if style == "off":
        return None
    name, schema = (("irrelevant_titles", title_schema(batch_ids)) if stage == "title"
                    else ("paper_scores", scores_schema(batch_ids)))
    if style == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True,
                                                   "schema": schema}}


def scores_schema(batch_ids: Sequence[str]) -> dict[str, Any]:
    """One object per paper of the batch: id, comment, relevance, novelty."""
    paper = {
        "type": "object",
        "properties": {
            "ARXIVID": {"type": "string", "enum": list(batch_ids)},
            "COMMENT": {"type": "string"},
            "RELEVANCE": {"type": "integer", "enum": SCORES},
            "NOVELTY": {"type": "integer", "enum": SCORES},
        },
        "required": ["ARXIVID", "COMMENT", "RELEVANCE", "NOVELTY"],
        "additionalProperties": False,
    }
    papers = {"type": "array", "items": paper,
              "minItems": len(batch_ids), "maxItems": len(batch_ids)}
    return _object({"papers": papers})


def title_schema(batch_ids: Sequence[str]) -> dict[str, Any]:
    """The ids of the batch's certainly irrelevant papers."""
    ids = {"type": "array", "items": {"type": "string", "enum": list(batch_ids)}}
    return _object({"irrelevant": ids})


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}
