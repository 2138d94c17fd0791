"""Adding a reader to a configuration (``papersift init --profile NAME``).

A configuration without ``[profiles]`` serves one reader, whose digests are in ``OUT``.
The first ``--profile`` makes that reader the profile ``default`` (its interests, its
verdicts in the store, which are ``default``'s already) beside the new one, and moves
its archive to where a profile's lives (``OUT/profiles/default``; the site is rebuilt
from it, in ``OUT/site/default``), so nothing it published is lost.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from papersift import DEFAULT_PROFILE
from papersift.config import PROFILE_NAME, Config, load_config
from papersift.errors import ConfigError

# What a reader's run writes in its output folder (the store and archive shards stay).
READER_OUTPUTS = ("json", "md", "latest.md", "status.json")


@dataclass
class AddedProfile:
    written: list[Path] = field(default_factory=list)
    moved: list[tuple[Path, Path]] = field(default_factory=list)


def add_profile(config_path: Path, name: str) -> AddedProfile:
    """Add ``[profiles.NAME]`` with a starter ``interests-NAME.md`` beside the file;
    ``ConfigError`` for a bad or taken name (nothing written)."""
    if not PROFILE_NAME.match(name):
        raise ConfigError(f"--profile {name!r}: a profile name is lower-case letters, "
                          "digits, '-' and '_', at most 40, e.g. 'ada' or 'vision-lab'")
    config = load_config(config_path)
    if name in config.profile_names and (config.profiles or name == DEFAULT_PROFILE):
        raise ConfigError(f"{config_path}: profile {name!r} exists already")
    interests = config_path.parent / f"interests-{name}.md"
    if interests.exists():
        raise ConfigError(f"{interests}: exists already; nothing written")
    added = AddedProfile()
    tables = ""
    if not config.profiles:  # the file's one reader becomes a profile of its own
        tables += (f'\n[profiles.{DEFAULT_PROFILE}]\ninterests = '
                   f'"{config.prompts.interests.as_posix()}"\n')
    tables += f'\n[profiles.{name}]\ninterests = "{interests.name}"\n'
    text = config_path.read_text(encoding="utf-8")
    interests.write_text(resources.files("papersift.starter").joinpath(
        "interests.md").read_text("utf-8"), encoding="utf-8")
    added.written.append(interests)
    config_path.write_text(text.rstrip("\n") + "\n" + tables, encoding="utf-8")
    added.written.append(config_path)
    if not config.profiles:
        added.moved = _move_outputs(config, load_config(config_path))
    return added


def _move_outputs(single: Config, profiled: Config) -> list[tuple[Path, Path]]:
    """The single reader's archive into ``OUT/profiles/default`` and its site into
    ``OUT/site/default`` (the next run links them from the readers' index)."""
    reader = profiled.for_profile(DEFAULT_PROFILE)
    moved = []
    for name in READER_OUTPUTS:
        source = single.out_dir / name
        if source.exists() and not (reader.out_dir / name).exists():
            reader.out_dir.mkdir(parents=True, exist_ok=True)
            shutil.move(source, reader.out_dir / name)
            moved.append((source, reader.out_dir / name))
    site = single.site_dir
    if site.is_dir() and not reader.site_dir.exists():
        passing = site.with_name(f".{site.name}-moving")
        site.rename(passing)
        site.mkdir()
        passing.rename(reader.site_dir)
        moved.append((site, reader.site_dir))
    return moved
