"""What LLM tokens cost: a bundled price table (USD per 1M tokens) the config extends.

A model whose price is unknown has an unknown cost (None), shown as "unknown" — never
as $0, which would hide a bill.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources

from papersift.config import Price
from papersift.models import Usage

_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")


def bundled_prices() -> dict[str, Price]:
    raw = json.loads(resources.files("papersift.scoring").joinpath("prices.json").read_text())
    return {model: Price(**value) for model, value in raw.items() if not model.startswith("_")}


class PriceTable:
    """Looks up a model's price: exact name, then without provider prefix or date suffix."""

    def __init__(self, extra: Mapping[str, Price] | None = None):
        self.prices = {**bundled_prices(), **(extra or {})}

    def price(self, model: str) -> Price | None:
        for name in _candidates(model):
            if name in self.prices:
                return self.prices[name]
        return None

    def usage(self, model: str, prompt: int, cached: int, completion: int) -> Usage:
        """A one-request ``Usage`` with its cost (None when the price is unknown)."""
        price = self.price(model)
        usage = Usage(requests=1, prompt_tokens=prompt, cached_tokens=cached,
                      completion_tokens=completion, prompt_cost=None, completion_cost=None)
        if price is not None:
            cached_rate = price.cached if price.cached is not None else price.prompt
            usage.prompt_cost = ((prompt - cached) * price.prompt + cached * cached_rate) / 1e6
            usage.completion_cost = completion * price.completion / 1e6
        return usage


def _candidates(model: str) -> list[str]:
    names = [model, model.lower()]
    base = model.lower().rsplit("/", 1)[-1]  # "openai/gpt-4o" → "gpt-4o"
    names.append(base)
    names.append(_DATE_SUFFIX.sub("", base))  # "gpt-4o-2024-08-06" → "gpt-4o"
    return list(dict.fromkeys(names))
