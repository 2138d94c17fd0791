"""The configuration file: one TOML file, validated once, into a typed ``Config``.

Paths in the file are relative to the file's folder. Secrets never live here: the
API keys come from the environment (see ``Secrets``).
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from papersift import CONFIG_FILENAME as CONFIG_FILENAME  # named here too
from papersift import DEFAULT_PROFILE
from papersift.errors import ConfigError
from papersift.models import ANNOUNCE_TYPES, AnnounceType

_CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")


def check_url(value: str) -> str:
    """An absolute http(s) URL with a host, or ValueError saying what is wrong."""
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ValueError(f"not a URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("not an http(s) URL with a host, e.g. 'https://api.example.com/v1'")
    return value


# TOML has real types: `true` is not a number and "30" is not a duration (strict mode),
# and no duration or amount may be infinite or NaN.
PositiveInt = Annotated[int, Field(gt=0)]
Score = Annotated[int, Field(ge=1, le=10)]
Seconds = Annotated[float, Field(gt=0, le=86_400, allow_inf_nan=False)]
Pause = Annotated[float, Field(ge=0, le=3_600, allow_inf_nan=False)]
Url = Annotated[str, AfterValidator(check_url)]
FilePath = Annotated[Path, Field(strict=False)]  # TOML gives a string


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ArxivConfig(_Section):
    categories: list[str] = ["cs.LG", "cs.AI"]
    announce_types: list[AnnounceType] = ["new", "cross"]
    force_primary: bool = False
    source: Literal["auto", "rss", "api", "file"] = "auto"
    file: FilePath | None = None
    rss_url: Url = "https://rss.arxiv.org/rss"
    api_url: Url = "https://export.arxiv.org/api/query"
    api_page_size: Annotated[int, Field(gt=0, le=2000)] = 200
    api_delay_seconds: Pause = 3.0
    timeout_seconds: Seconds = 30.0
    request_attempts: Annotated[int, Field(ge=1, le=20)] = 4
    backoff_seconds: Pause = 1.0

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one category is needed, e.g. ['cs.LG']")
        for cat in value:
            if not _CATEGORY.match(cat):
                raise ValueError(f"{cat!r} is not an arXiv category such as 'cs.LG'")
        return list(dict.fromkeys(value))

    @field_validator("announce_types")
    @classmethod
    def _announce_types(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(f"choose at least one of {', '.join(ANNOUNCE_TYPES)}")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _file_for_file_source(self) -> ArxivConfig:
        if self.source == "file" and self.file is None:
            raise ValueError("source = 'file' needs file = 'PATH' (a saved feed or JSONL)")
        return self


class AuthorsConfig(_Section):
    follow: list[str] = []
    match: bool = True
    match_score: PositiveInt = 20
    h_index_gate: bool = False
    h_index_cutoff: Annotated[int, Field(ge=0)] = 10
    s2_url: Url = "https://api.semanticscholar.org/graph/v1"
    cache_days: Annotated[int, Field(ge=0)] = 30
    timeout_seconds: Seconds = 30.0
    request_attempts: Annotated[int, Field(ge=1, le=20)] = 4
    backoff_seconds: Pause = 1.0


class LLMConfig(_Section):
    model: str = "gpt-4.1-mini"
    base_url: Url | None = None
    title_pass: bool = True
    title_batch_size: PositiveInt = 32
    abstract_batch_size: PositiveInt = 20
    adaptive_batch_size: bool = True
    adaptive_threshold: PositiveInt = 32
    retries: Annotated[int, Field(ge=0, le=20)] = 3
    request_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    backoff_seconds: Pause = 2.0
    # The longest pause before a retry. A server that asks (Retry-After) for a longer
    # one is not waited for: the request fails and its papers are listed as not scored.
    max_backoff_seconds: Pause = 60.0
    requests_per_minute: Annotated[int, Field(ge=0)] = 0
    tokens_per_minute: Annotated[int, Field(ge=0)] = 0
    concurrency: Annotated[int, Field(ge=1, le=64)] = 32
    timeout_seconds: Seconds = 120.0  # one request, from sending to its last byte
    # The LLM's share of a run; then no request starts and the rest are "not scored".
    max_seconds_per_run: Seconds = 3600.0
    temperature: Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)] | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    max_abstract_chars: Annotated[int, Field(ge=200)] = 1000
    include_authors: bool = False
    structured_output: Literal["off", "json_schema", "json_object"] = "off"
    # OpenAI's Batch API: half the price; the run waits (polling from batch_poll_seconds,
    # growing) up to batch_wait_seconds, and a later run collects a batch still pending.
    batch_api: bool = False
    batch_wait_seconds: Seconds = 1800.0
    batch_poll_seconds: Pause = 10.0
    # Per-run spending limits (0 = none): once reached, no more requests are sent and the
    # papers left are listed under "Not scored (budget)".
    max_tokens_per_run: Annotated[int, Field(ge=0)] = 0
    max_cost_per_run: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    # The same for the whole morning, every profile together (a run is one profile's).
    max_tokens_per_morning: Annotated[int, Field(ge=0)] = 0
    max_cost_per_morning: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0


class ScoringConfig(_Section):
    # auto: the LLM when OPENAI_API_KEY / a base URL is set, else the local scorer.
    scorer: Literal["auto", "local", "llm", "hybrid"] = "auto"
    # hybrid: the local ranking sends the LLM every paper above a cut calibrated on the
    # store's labelled days to keep this share of the papers the LLM would pick ...
    hybrid_recall: Annotated[float, Field(ge=0.5, lt=1, allow_inf_nan=False)] = 0.99
    # ... or, until the store holds enough labelled days, this share of the day, best first.
    hybrid_share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.5


class LocalConfig(_Section):
    # "all-MiniLM-L6-v2" is the ONNX model shipped with papersift; or a local folder.
    model: str = "all-MiniLM-L6-v2"
    max_seq_length: Annotated[int, Field(ge=16, le=512)] = 192
    novelty_days: Annotated[int, Field(ge=1)] = 30
    learn: bool = True


class PromptsConfig(_Section):
    interests: FilePath = Path("interests.md")
    system: FilePath | None = None
    rubric: FilePath | None = None
    output_format: FilePath | None = None
    title_pass: FilePath | None = None


class SelectionConfig(_Section):
    relevance_cutoff: Score = 8
    novelty_cutoff: Score = 7
    spotlight: Annotated[int, Field(ge=0, le=20)] = 3


class SummaryConfig(_Section):
    # A one- or two-sentence TL;DR above each selected paper's abstract: written by the
    # LLM (one extra request for the selected papers only) or, with no LLM, the abstract's
    # most informative sentence, labelled as extracted.
    enabled: bool = False
    language: Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[^\r\n{}<>]+$")] = \
        "English"


class OutputConfig(_Section):
    dir: FilePath = Path("out")
    formats: list[Literal["md", "json", "site"]] = ["md", "json", "site"]
    store: FilePath | None = None
    # A second run on the same store waits this long for the first to end, then stops.
    lock_timeout_seconds: Pause = 600.0
    # Where the site is served (e.g. "https://USER.github.io/REPO/"): pushes link to its
    # day pages. PAPERSIFT_SITE_URL overrides it (the GitHub workflow sets it).
    site_url: Url | None = None
    # Where the site is written (default: OUT/site).
    site_dir: FilePath | None = None


SUBJECT_FIELDS = ("count", "date")  # what an email subject can name


class EmailConfig(_Section):
    host: str
    port: Annotated[int, Field(gt=0, lt=65536)] = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None  # the password comes from PAPERSIFT_SMTP_PASSWORD
    sender: str
    to: list[str]
    subject: str = "papersift: {count} papers for {date}"
    # Logging in over a connection without TLS sends the password in clear: only when
    # the configuration says so in as many words (a relay on localhost, say).
    plaintext_login: bool = False

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        try:
            for _, name, spec, conversion in string.Formatter().parse(value):
                if name is not None and (name not in SUBJECT_FIELDS or conversion
                                         or "{" in (spec or "")):
                    raise ValueError(f"{{{name}}} is not one of them")
            value.format(count=0, date="2026-01-01")
        except (ValueError, KeyError, IndexError) as exc:
            raise ValueError(f"only {{count}} and {{date}} can be filled in ({exc}); write "
                             "a brace itself as {{ or }}") from None
        return value

    @model_validator(mode="after")
    def _login(self) -> EmailConfig:
        if self.security == "none" and self.username and not self.plaintext_login:
            raise ValueError('security = "none" would send the password in clear; use '
                             '"starttls" or "ssl", or say plaintext_login = true')
        return self

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one recipient is needed, e.g. ['me@example.org']")
        for address in value:
            if "@" not in address or any(c in address for c in "\r\n,;<> "):
                raise ValueError(f"{address!r} is not one email address")
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if "@" not in value or any(c in value for c in "\r\n"):
            raise ValueError(f"{value!r} is not an email address")
        return value


class SlackConfig(_Section):
    # An incoming-webhook URL holds a token: prefer PAPERSIFT_SLACK_WEBHOOK_URL.
    webhook_url: Url | None = None
    max_papers: Annotated[int, Field(ge=1, le=40)] = 10


class WebhookConfig(_Section):
    url: Url | None = None  # or PAPERSIFT_WEBHOOK_URL
    # Extra headers; "${NAME}" in a value is taken from the environment at send time.
    headers: dict[str, str] = {}


class NotifyConfig(_Section):
    email: EmailConfig | None = None
    slack: SlackConfig | None = None
    webhook: WebhookConfig | None = None
    # Push a short note on a day without announcements (weekend, holiday)?
    on_no_announcements: bool = False
    # Push a short note when arXiv could not be fetched?
    on_failure: bool = True
    attempts: Annotated[int, Field(ge=1, le=20)] = 4
    backoff_seconds: Pause = 5.0
    timeout_seconds: Seconds = 30.0


class ClusterConfig(_Section):
    """Where each reader's day (learn, score, render, push) runs once the morning's
    shared work is done: here, one reader after another, or on a Ray cluster."""

    engine: Literal["local", "ray"] = "local"
    # Ray: "HOST:PORT" of a running head (`ray start --head`), "ray://HOST:10001" (Ray
    # Client), or "" to start a Ray on this machine for the run.
    address: Annotated[str, Field(max_length=200, pattern=r"^[^\s]*$")] = ""
    # Readers finished at once (one Ray actor each, holding the model); 0: the cluster's CPUs.
    workers: Annotated[int, Field(ge=0, le=4096)] = 0


class Price(_Section):
    """USD per one million tokens."""

    prompt: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    completion: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    cached: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class ProfileConfig(_Section):
    """One reader (``[profiles.NAME]``): their interests and what is theirs alone; a key
    left out is the file's own (``[selection]``, ``[summary]``, ``[authors]``,
    ``[notify]``)."""

    interests: FilePath
    relevance_cutoff: Score | None = None
    novelty_cutoff: Score | None = None
    spotlight: Annotated[int, Field(ge=0, le=20)] | None = None
    summary_language: Annotated[str, Field(min_length=2, max_length=40,
                                           pattern=r"^[^\r\n{}<>]+$")] | None = None
    follow: list[str] | None = None  # followed authors (replaces [authors] follow)
    notify: NotifyConfig | None = None  # the reader's own push channels


class Config(_Section):
    """The whole validated configuration; ``base_dir`` anchors its relative paths."""

    arxiv: ArxivConfig = ArxivConfig()
    authors: AuthorsConfig = AuthorsConfig()
    scoring: ScoringConfig = ScoringConfig()
    llm: LLMConfig = LLMConfig()
    local: LocalConfig = LocalConfig()
    prompts: PromptsConfig = PromptsConfig()
    selection: SelectionConfig = SelectionConfig()
    summary: SummaryConfig = SummaryConfig()
    output: OutputConfig = OutputConfig()
    notify: NotifyConfig = NotifyConfig()
    cluster: ClusterConfig = ClusterConfig()
    pricing: dict[str, Price] = {}
    profiles: dict[str, ProfileConfig] = {}
    base_dir: Path = Field(default=Path("."), exclude=True, strict=False)
    # Which reader this configuration is for, among which (``for_profile``); not keys
    # of the file.
    profile: str = Field(default=DEFAULT_PROFILE, exclude=True)
    readers: tuple[str, ...] = Field(default=(), exclude=True)

    @field_validator("profiles")
    @classmethod
    def _profile_names(cls, value: dict[str, ProfileConfig]) -> dict[str, ProfileConfig]:
        for name in value:
            if not PROFILE_NAME.match(name):
                raise ValueError(f"{name!r} is not a profile name: lower-case letters, "
                                 "digits, '-' and '_', at most 40, e.g. 'ada' or 'vision-lab'")
        return value

    @property
    def profile_names(self) -> list[str]:
        """The readers this configuration serves: its ``[profiles]``, else one."""
        return list(self.profiles) or [self.profile]

    def for_profile(self, name: str) -> Config:
        """The configuration of one reader: the file's settings with the profile's own
        on top; its outputs in ``OUT/profiles/NAME`` (site: ``OUT/site/NAME``), the store
        shared. Without ``[profiles]``, ``default`` is the file itself."""
        if not self.profiles:
            if name != self.profile:
                raise ConfigError(f"no profile {name!r}: the configuration has no "
                                  "[profiles] (its one reader is 'default')")
            return self
        if name not in self.profiles:
            raise ConfigError(f"no profile {name!r} (profiles: {', '.join(self.profiles)})")
        own = self.profiles[name]
        chosen = {"relevance_cutoff": own.relevance_cutoff,
                  "novelty_cutoff": own.novelty_cutoff, "spotlight": own.spotlight}
        output = self.output.model_copy(update={
            "dir": self.out_dir / "profiles" / name, "store": self.store_path,
            "site_dir": self.site_dir / name})
        return self.model_copy(update={
            "prompts": self.prompts.model_copy(update={"interests": own.interests}),
            "selection": self.selection.model_copy(update={
                k: v for k, v in chosen.items() if v is not None}),
            "summary": self.summary.model_copy(update={"language": own.summary_language})
            if own.summary_language else self.summary,
            "authors": self.authors.model_copy(update={"follow": own.follow})
            if own.follow is not None else self.authors,
            "notify": own.notify if own.notify is not None else self.notify,
            "output": output, "profiles": {}, "profile": name,
            "readers": tuple(self.profiles)})

    @property
    def site_path(self) -> str:
        """Where this reader's pages are in the site served ("" or "NAME/")."""
        return f"{self.profile}/" if self.readers else ""

    def resolve(self, path: Path) -> Path:
        """A path from the file, made absolute against the file's folder."""
        path = path.expanduser()
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def out_dir(self) -> Path:
        return self.resolve(self.output.dir)

    @property
    def site_dir(self) -> Path:
        return self.resolve(self.output.site_dir) if self.output.site_dir else \
            self.out_dir / "site"

    @property
    def store_path(self) -> Path:
        if self.output.store is not None:
            return self.resolve(self.output.store)
        return self.out_dir / "papersift.sqlite"

    def with_out_dir(self, out_dir: Path) -> Config:
        """A copy whose outputs go to ``out_dir`` (the CLI's ``--out``)."""
        output = self.output.model_copy(update={"dir": out_dir.resolve()})
        return self.model_copy(update={"output": output})


@dataclass(frozen=True)
class Secrets:
    """What comes from the environment only. Never printed, never written."""

    openai_api_key: str | None = None
    openai_base_url: str | None = None
    s2_api_key: str | None = None
    smtp_password: str | None = None
    slack_webhook_url: str | None = None
    webhook_url: str | None = None
    site_url: str | None = None  # not secret, but set per deployment like the others
    # OWNER/REPO whose issues carry the static site's Like / Dislike (GitHub deployment)
    github_repository: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Secrets:
        env = os.environ if environ is None else environ
        return cls(
            openai_api_key=env.get("OPENAI_API_KEY") or None,
            openai_base_url=env.get("OPENAI_BASE_URL") or None,
            s2_api_key=env.get("S2_API_KEY") or None,
            smtp_password=env.get("PAPERSIFT_SMTP_PASSWORD") or None,
            slack_webhook_url=env.get("PAPERSIFT_SLACK_WEBHOOK_URL") or None,
            webhook_url=env.get("PAPERSIFT_WEBHOOK_URL") or None,
            site_url=env.get("PAPERSIFT_SITE_URL") or None,
            github_repository=env.get("PAPERSIFT_GITHUB_REPOSITORY") or None,
        )

    def values(self) -> list[str]:
        """The secret strings, for redaction."""
        return [v for v in (self.openai_api_key, self.s2_api_key, self.smtp_password,
                            self.slack_webhook_url, self.webhook_url) if v]


def site_address(config: Config, secrets: Secrets) -> str | None:
    """Where the reader's site is served, ending in "/" (environment first, then the
    config; a reader of several has theirs under ``NAME/``)."""
    url = secrets.site_url or config.output.site_url
    return None if not url else url.rstrip("/") + "/" + config.site_path


def load_config(path: Path) -> Config:
    """Read and validate ``path``; raise ``ConfigError`` naming file, key and value."""
    path = path.expanduser()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such configuration file (run `papersift init` to write one)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    """Validate a parsed TOML document; ``path`` names the file in error messages."""
    for internal in ("base_dir", "profile"):
        if internal in raw:
            raise ConfigError(f"{path}: {internal}: unknown key (profiles are "
                              "[profiles.NAME] tables)" if internal == "profile" else
                              f"{path}: {internal}: unknown key")
    try:
        return Config.model_validate({**raw, "base_dir": path.parent.resolve()})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, raw, path)) from None


def _describe(exc: ValidationError, raw: dict[str, Any], path: Path) -> str:
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    key = ".".join(loc)
    value = _lookup(raw, first["loc"])
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key"
        known = _known_keys(first["loc"][:-1])
        if known:
            message += f" (known here: {', '.join(known)})"
        return f"{path}: {key}: {message}"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    message = message.removeprefix("Value error, ")
    if value is _MISSING or isinstance(value, dict):  # a whole section: name it, not its text
        return f"{path}: {key}: {message}{suffix}"
    return f"{path}: {key} = {value!r}: {message}{suffix}"


_MISSING = object()


def _lookup(raw: Any, loc: tuple[Any, ...]) -> Any:
    node = raw
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            return _MISSING
    return node


def _known_keys(section_loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for part in section_loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [name for name in model.model_fields if name not in ("base_dir", "profile")]
