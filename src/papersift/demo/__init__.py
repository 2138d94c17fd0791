"""``papersift demo``: the whole pipeline, offline, on three real arXiv days bundled with
the package (2026-04-20, -27 and -30: a gap between them shows the site's navigation).

The days are complete cs.LG + cs.AI listings (arXiv metadata is CC0); the interests are
papersift's starter ``interests.md``. Scoring is local: no key, no network.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from papersift.config import (
    ArxivConfig,
    Config,
    OutputConfig,
    PromptsConfig,
    ScoringConfig,
    Secrets,
    SummaryConfig,
)
from papersift.pipeline import RunResult, run
from papersift.progress import NULL_PROGRESS, Progress
from papersift.scorers import scorer_factory_for
from papersift.scoring.prompts import PromptSet


def bundled_days() -> list[Path]:
    folder = resources.files("papersift.demo")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".jsonl"))


def run_demo(out_dir: Path, progress: Progress = NULL_PROGRESS) -> list[RunResult]:
    """Build the digest of every bundled day into ``out_dir``; return each run's result."""
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    interests = out_dir / "interests.md"
    if not interests.exists():
        shutil.copyfile(str(resources.files("papersift.starter").joinpath("interests.md")),
                        interests)
    secrets = Secrets(None, None, None)
    results = []
    factory = None
    for day_file in bundled_days():
        config = Config(
            arxiv=ArxivConfig(source="file", file=day_file),
            scoring=ScoringConfig(scorer="local"),
            prompts=PromptsConfig(interests=interests),
            summary=SummaryConfig(enabled=True),
            output=OutputConfig(dir=out_dir),
            base_dir=out_dir,
        )
        if factory is None:  # load the model once for all days
            factory = scorer_factory_for(config, secrets, PromptSet.from_config(config),
                                         progress)
        results.append(run(config, secrets=secrets, progress=progress,
                           scorer_factory=factory))
    return results
