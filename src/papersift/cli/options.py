"""The options several commands share, and loading the configuration they name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from papersift.config import Config

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Configuration file.", show_default=True)
]
OutOption = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Output folder (overrides output.dir).")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show what happens.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")]
ProfileOption = Annotated[str | None, typer.Option(
    "--profile", "-p", help="Which reader: a [profiles.NAME] of the configuration (needed "
                            "when it has several).")]


def load(config: Path, out_dir: Path | None) -> Config:
    """The configuration file, with ``--out`` applied."""
    from papersift.config import load_config

    cfg = load_config(config)
    return cfg if out_dir is None else cfg.with_out_dir(out_dir)


def load_or_folder(config: Path, out_dir: Path | None) -> Config:
    """``load``; with ``--out`` and no configuration file, a configuration of one reader
    whose outputs are in that folder."""
    from papersift.config import Config

    if out_dir is not None and not config.exists():
        return Config().with_out_dir(out_dir)
    return load(config, out_dir)


def load_reader(config: Path, out_dir: Path | None, profile: str | None) -> Config:
    """The configuration of the reader a command acts for: ``profile``, or the file's one
    reader; a file with several profiles needs ``--profile`` (``ConfigError``)."""
    from papersift.errors import ConfigError

    cfg = load(config, out_dir)
    if profile is None and len(cfg.profile_names) > 1:
        raise ConfigError(f"{config}: {len(cfg.profiles)} profiles "
                          f"({', '.join(cfg.profiles)}); say whose with --profile NAME")
    return cfg.for_profile(profile or cfg.profile_names[0])

