"""``papersift import PATH``: move from ChatGPT-ArXiv-Paper-Assistant or gpt_paper_assistant.

Reads the folder's ``config.ini`` (``configs/`` or the folder itself), its topics file
(``paper_topics.txt``), its authors file (``authors.txt``: ``Name, S2 id`` per line) and
its scoring criteria (``score_criteria.txt``), and writes ``papersift.toml`` and
``interests.md`` with the same categories, announce types, cutoffs, batch settings, model
and followed authors, and the user's own topic text word for word. Everything it cannot
map is listed, with why. The folder's archived digests (``out/json``) are imported by
``importer.archive``.
"""

from __future__ import annotations

import configparser
import json
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papersift.atomic import PublishError, Staging
from papersift.config import CONFIG_FILENAME, parse_config
from papersift.errors import ConfigError, PapersiftError
from papersift.folders import why_not_readable, why_not_writable
from papersift.models import ANNOUNCE_TYPES

INTERESTS_FILE = "interests.md"
RUBRIC_FILE = "prompts/rubric.md"
# The reference's own instruction and answer-format texts: papersift writes its own.
_THEIR_PROMPTS = ("system_prompt.txt", "base_prompt.txt", "postfix_prompt.txt",
                  "postfix_prompt_title.txt", "postfix_prompt_abstract.txt")
_IGNORED_WHY = {
    "num_samples": "papersift asks once per paper",
    "debug_messages": "use `papersift run -v`",
    "dump_debug_file": "every request and answer's usage is in the store",
    "run_abstract_filter": "papersift always scores abstracts (the title pass only drops)",
}


class ReferenceImportError(PapersiftError):
    """The folder is not a reference configuration, or the files cannot be written."""

    exit_code = 2


@dataclass
class Imported:
    """What an import produced: the two files' texts and what it could not map."""

    config_text: str
    interests_text: str
    rubric_text: str | None
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    relevance_cutoff: int = 8
    novelty_cutoff: int = 7
    model: str = ""


def find_file(root: Path, name: str, skipped: list[str] | None = None) -> Path | None:
    """``name`` in the folder, its ``configs/`` or ``prompts/`` (the layouts both use):
    a regular file inside the folder; a link or anything else found is named in
    ``skipped`` and passed over."""
    for folder in (root, root / "configs", root / "prompts", root / "config"):
        path = folder / name
        if not os.path.lexists(path):
            continue
        why = why_not_readable(root, path, hard_links=False)
        if why is None:
            return path
        if skipped is not None:
            skipped.append(f"{path}: {why}; not read")
    return None


def read_reference(root: Path) -> Imported:
    """Map the reference folder ``root`` to papersift's configuration (nothing written).
    Only regular files inside ``root`` are read; links are named and passed over."""
    passed_over: list[str] = []
    ini_path = find_file(root, "config.ini", passed_over)
    if ini_path is None:
        raise ReferenceImportError(f"{root}: no config.ini here or in configs/ (is it a "
                           "ChatGPT-ArXiv-Paper-Assistant or gpt_paper_assistant folder?)"
                           + _passed_over(passed_over))
    # No interpolation: a "%(" in a value is text, not a reference to another key.
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"),
                                       interpolation=None)
    try:
        parser.read_string(ini_path.read_text(encoding="utf-8"), source=str(ini_path))
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        detail = " ".join(str(exc).split())
        raise ReferenceImportError(f"{ini_path}: cannot read it ({detail})") from None
    topics_path = find_file(root, "paper_topics.txt", passed_over)
    if topics_path is None:
        raise ReferenceImportError(f"{root}: no paper_topics.txt (in prompts/ or configs/): the "
                           "topics are what papersift scores against"
                           + _passed_over(passed_over))
    mapping = _Mapping(ini_path)
    tables = mapping.apply(parser)
    authors_path = find_file(root, "authors.txt", passed_over)
    follow = _authors(authors_path) if authors_path else []
    if follow:
        tables.setdefault("authors", {})["follow"] = follow
        mapping.mapped.append(f"{authors_path.name}: {len(follow)} followed authors")
    rubric_path = find_file(root, "score_criteria.txt", passed_over)
    rubric = _read(rubric_path) if rubric_path else None
    if rubric is not None:
        tables.setdefault("prompts", {})["rubric"] = RUBRIC_FILE
        mapping.mapped.append(f"{rubric_path.name} → {RUBRIC_FILE} (prompts.rubric)")
    for name in _THEIR_PROMPTS:
        if (path := find_file(root, name, passed_over)) is not None:
            mapping.unmapped.append(f"{path.name}: the reference's own instructions and "
                                    "answer format; papersift writes its own")
    tables.setdefault("prompts", {})["interests"] = INTERESTS_FILE
    text = _toml(tables)
    # What is written must load: a value the reference allowed but papersift does not
    # (a cutoff of 0) is named here rather than when the first run starts.
    try:
        config = parse_config(tomllib.loads(text), Path(CONFIG_FILENAME))
    except ConfigError as exc:
        raise ReferenceImportError(
            f"{ini_path}: maps to a setting papersift refuses: {exc}") from None
    topics = _read(topics_path)
    interests = (f"<!-- Imported from {topics_path} by `papersift import`: your own words, "
                 "as you wrote them. -->\n\n" + topics.strip() + "\n")
    mapping.mapped.append(f"{topics_path.name} → {INTERESTS_FILE} (word for word)")
    mapping.unmapped += passed_over
    return Imported(text, interests, rubric, mapping.mapped, mapping.unmapped,
                    config.selection.relevance_cutoff, config.selection.novelty_cutoff,
                    config.llm.model)


def _passed_over(skipped: list[str]) -> str:
    return f" (passed over: {'; '.join(skipped)})" if skipped else ""


def write_imported(imported: Imported, target: Path) -> list[Path]:
    """Write ``papersift.toml``, ``interests.md`` (and the rubric) into ``target``; never
    over a file that exists."""
    files = {target / CONFIG_FILENAME: imported.config_text,
             target / INTERESTS_FILE: imported.interests_text}
    if imported.rubric_text is not None:
        files[target / RUBRIC_FILE] = imported.rubric_text
    refused = [f"{path}: {why}" for path in files
               if (why := why_not_writable(target, path)) is not None]
    if refused:
        raise ReferenceImportError(f"{'; '.join(refused)}; nothing written "
                                   "(import into an empty folder with --to DIR)")
    try:
        with Staging() as staging:  # all three or none
            for path, text in files.items():
                staging.write(path, text)
            staging.commit()
    except PublishError as exc:
        raise ReferenceImportError(str(exc)) from None
    return list(files)


class _Mapping:
    """config.ini's keys, section by section, onto papersift's tables."""

    def __init__(self, path: Path):
        self.path = path
        self.mapped: list[str] = []
        self.unmapped: list[str] = []

    def apply(self, parser: configparser.ConfigParser) -> dict[str, dict[str, Any]]:
        tables: dict[str, dict[str, Any]] = {}
        handlers = {"SELECTION": self._selection, "FILTERING": self._filtering,
                    "OUTPUT": self._output}
        for section in parser.sections():
            handler = handlers.get(section.upper())
            if handler is None:
                self.unmapped.append(f"[{section}]: a feature papersift does not have")
                continue
            for key, value in parser.items(section):
                try:
                    done = handler(tables, key.lower(), value.strip())
                except ValueError as exc:
                    raise ReferenceImportError(f"{self.path}: [{section}] {key} = {value!r}: "
                                       f"{exc}") from None
                if done:
                    self.mapped.append(f"[{section}] {key} = {value.strip()} → {done}")
                else:
                    why = _IGNORED_WHY.get(key.lower(), "no papersift equivalent")
                    self.unmapped.append(f"[{section}] {key} = {value.strip()}: {why}")
        return tables

    def _selection(self, tables: dict[str, dict[str, Any]], key: str, value: str) -> str:
        llm = tables.setdefault("llm", {})
        if key in _SELECTION_KEYS:
            table, name, convert = _SELECTION_KEYS[key]
            tables.setdefault(table, {})[name] = convert(value)
            return f"{table}.{name}"
        if key in ("title_retry", "abstract_retry"):
            llm["retries"] = max(llm.get("retries", 0), _int(value))
            return "llm.retries"
        if key == "run_openai":
            tables.setdefault("scoring", {})["scorer"] = "llm" if _bool(value) else "local"
            return "scoring.scorer"
        return ""

    def _filtering(self, tables: dict[str, dict[str, Any]], key: str, value: str) -> str:
        arxiv = tables.setdefault("arxiv", {})
        if key == "arxiv_category":
            arxiv["categories"] = [c.strip() for c in value.split(",") if c.strip()]
            return "arxiv.categories"
        if key == "announce_type":
            kinds = [k.strip() for k in value.split(",") if k.strip()]
            unknown = [k for k in kinds if k not in ANNOUNCE_TYPES]
            if unknown:
                raise ValueError(f"unknown announce type {unknown[0]!r}")
            arxiv["announce_types"] = kinds
            return "arxiv.announce_types"
        if key == "force_primary":
            arxiv["force_primary"] = _bool(value)
            return "arxiv.force_primary"
        if key in ("h_cutoff", "hcutoff"):
            cutoff = _int(value)
            tables.setdefault("authors", {}).update(h_index_gate=cutoff > 0,
                                                     h_index_cutoff=cutoff)
            return "authors.h_index_gate, authors.h_index_cutoff"
        if key in ("relevance_cutoff", "novelty_cutoff"):
            tables.setdefault("selection", {})[key] = _int(value)
            return f"selection.{key}"
        return ""

    def _output(self, tables: dict[str, dict[str, Any]], key: str, value: str) -> str:
        output = tables.setdefault("output", {})
        if key == "output_path":
            where = Path(value.strip() or "out")
            if where.is_absolute() or ".." in where.parts:  # the outputs stay under --to
                self.unmapped.append(f"output_path = {value}: outside the folder papersift "
                                     "writes; its outputs go to out/ there")
                return "output.dir (out/)"
            output["dir"] = where.as_posix()
            return "output.dir"
        if key in ("dump_json", "dump_md"):
            formats = output.setdefault("formats", ["md", "json", "site"])
            kind = "json" if key == "dump_json" else "md"
            if not _bool(value) and kind in formats:
                formats.remove(kind)
            return "output.formats"
        if key == "push_to_slack":
            if _bool(value):
                tables.setdefault("notify.slack", {})
                self.unmapped.append("Slack: papersift posts through an incoming webhook; set "
                                     "PAPERSIFT_SLACK_WEBHOOK_URL (SLACK_KEY and "
                                     "SLACK_CHANNEL_ID are not used)")
            return "[notify.slack]" if _bool(value) else "no Slack push"
        return ""


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueError("expected true or false")


def _int(value: str) -> int:
    number = float(value)
    if number != int(number):
        raise ValueError("expected a whole number")
    return int(number)


# [SELECTION] keys that map one to one: reference key -> (table, papersift key, type)
_SELECTION_KEYS: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "model": ("llm", "model", str),
    "title_batch_size": ("llm", "title_batch_size", _int),
    "abstract_batch_size": ("llm", "abstract_batch_size", _int),
    "batch_size": ("llm", "abstract_batch_size", _int),
    "adaptive_batch_size": ("llm", "adaptive_batch_size", _bool),
    "adaptive_threshold": ("llm", "adaptive_threshold", _int),
    "run_title_filter": ("llm", "title_pass", _bool),
    "limit_per_minute": ("llm", "requests_per_minute", _int),
    "run_author_match": ("authors", "match", _bool),
    "author_match_score": ("authors", "match_score", _int),
}



def _authors(path: Path) -> list[tuple[str, str]]:
    """``Name, 12345`` lines as (follow entry, name): the Semantic Scholar id when the line
    has one (an exact match), else the name."""
    follow: list[tuple[str, str]] = []
    for line in _read(path).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, *ids = [part.strip() for part in line.split(",")]
        numbers = [i for i in ids if i.isdigit()]
        follow.extend((entry, name) for entry in numbers or ([name] if name else []))
    return list(dict.fromkeys(follow))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceImportError(f"{path}: cannot read it ({exc})") from None


def _toml(tables: dict[str, dict[str, Any]]) -> str:
    lines = ["# Written by `papersift import` from a ChatGPT-ArXiv-Paper-Assistant /",
             "# gpt_paper_assistant configuration. Every other setting is papersift's default",
             "# (`papersift init` writes a file that explains each one)."]
    for table, values in tables.items():
        lines += ["", f"[{table}]"]
        for key, value in values.items():
            if table == "authors" and key == "follow":
                lines.append("follow = [")
                for entry, name in value:
                    note = f"  # {name}" if name != entry else ""
                    lines.append(f"    {_value(entry)},{note}")
                lines.append("]")
            else:
                lines.append(f"{key} = {_value(value)}")
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string
