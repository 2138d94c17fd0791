"""The scorer a reader's configuration asks for, built for one run of one day."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from papersift.config import Config, Secrets
from papersift.progress import Progress
from papersift.reader_day import ScorerFactory, chosen_scorer
from papersift.scoring import Scorer
from papersift.scoring.encoders import PACKAGED_MODEL, Encoder
from papersift.scoring.hybrid import HybridScorer
from papersift.scoring.interests import parse_interests
from papersift.scoring.limits import MorningSpend
from papersift.scoring.llm import LLMScorer, make_async_client
from papersift.scoring.local import LocalScorer, LocalSettings, make_encoder
from papersift.scoring.pricing import PriceTable
from papersift.scoring.prompts import PromptSet
from papersift.scoring.shared_day import SharedDay
from papersift.store import Store


def scorer_factory_for(config: Config, secrets: Secrets, prompts: PromptSet,
                       progress: Progress, encoder: Encoder | None = None,
                       morning: MorningSpend | None = None,
                       shared: SharedDay | None = None) -> ScorerFactory:
    """The scorer for the configuration; loads the local model when one is used (unless
    ``encoder`` is the one loaded already); ``morning``: every reader's LLM spending;
    ``shared``: the local work every reader of the morning shares."""
    kind = chosen_scorer(config, secrets)
    use_llm = kind in ("llm", "hybrid")
    if kind in ("local", "hybrid"):
        encoder = encoder or make_encoder(local_settings(config))
    else:
        encoder = None  # an LLM reader beside local ones: no local scorer of its own
    interests = parse_interests(prompts.interests)
    prices = PriceTable(config.pricing)

    def factory(store: Store, run_id: int, day: dt.date) -> Scorer:
        local = llm = None
        if encoder is not None:
            settings = local_settings(config)
            if kind == "hybrid":
                settings = replace(settings, prefilter_recall=config.scoring.hybrid_recall)
            local = LocalScorer(interests, encoder, store, settings, day=day,
                                progress=progress, shared=shared)
        if use_llm:
            llm_config = config.llm
            if kind == "hybrid":  # the local ranking replaces the title pass
                llm_config = llm_config.model_copy(update={"title_pass": False})
            llm = LLMScorer(llm_config, prompts,
                            lambda: make_async_client(config.llm, secrets),
                            store, run_id, prices, progress=progress,
                            relevance_cutoff=config.selection.relevance_cutoff,
                            morning=morning)
        if local is not None and llm is not None:
            return HybridScorer(local, llm, config.scoring.hybrid_share)
        return local or llm  # type: ignore[return-value]

    return factory


def local_part(scorer: Scorer) -> LocalScorer | None:
    """The local ranking inside ``scorer`` (itself, or a hybrid's), if any."""
    if isinstance(scorer, HybridScorer):
        return scorer.local
    return scorer if isinstance(scorer, LocalScorer) else None


def local_settings(config: Config) -> LocalSettings:
    """The local scorer's settings from the configuration (its model path resolved)."""
    model = config.local.model
    return LocalSettings(
        model=model if model == PACKAGED_MODEL else str(config.resolve(Path(model))),
        max_seq_length=config.local.max_seq_length,
        novelty_days=config.local.novelty_days,
        learn=config.local.learn,
        relevance_cutoff=config.selection.relevance_cutoff,
        novelty_cutoff=config.selection.novelty_cutoff,
    )


