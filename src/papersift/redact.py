"""One redaction step for every text that reaches an output, the store or a log.

Some providers echo the request's key in their error messages ("Invalid request for key
sk-..."); that text becomes a "Not scored" reason, a log line, an error on the terminal.
A ``Redactor`` replaces the secrets it knows (the keys papersift was given and every
environment variable whose name says it holds a secret) and anything shaped like a
bearer token with ``***``, wherever the text came from.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

MASK = "***"
# Environment variables whose value is a secret, by the parts of their name
# (OPENAI_API_KEY, GITHUB_TOKEN, SMTP_PASSWORD, SLACK_WEBHOOK_URL; not KEYWORDS or PWD).
_SECRET_PARTS = frozenset({"KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS",
                           "CREDENTIAL", "CREDENTIALS", "WEBHOOK", "COOKIE", "PAT", "AUTH",
                           "PRIVATE"})
_NOT_SECRET_NAMES = frozenset({"SSH_AUTH_SOCK", "GPG_AGENT_INFO"})
# Shapes of credentials, whoever issued them. None of them occurs in prose.
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"sk-[A-Za-z0-9_\-]{16,}"  # OpenAI, Anthropic, DeepSeek, OpenRouter (sk-or-...)
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|xox[abprse]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|hf_[A-Za-z0-9]{20,}"  # Hugging Face
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API key
    r"|glpat-[A-Za-z0-9_\-]{20,}"  # GitLab
    r")"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{8,}"
    r"|hooks\.slack\.com/services/[A-Za-z0-9/_\-]+"
    r"|(?<=[?&])(?i:api[_-]?key|key|token|access_token|password)=[^&\s\"'<>]+"
)
_EXPLICIT_MIN = 6  # a key papersift was handed: masked even when short
_ENV_MIN = 12  # an environment value: long enough not to be an ordinary word

T = TypeVar("T")


class Redactor:
    """Masks known secret values and credential-shaped strings in any text."""

    def __init__(self, secrets: Iterable[str] = ()):
        values = {s.strip() for s in secrets if s and len(s.strip()) >= _EXPLICIT_MIN}
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted(values, key=len, reverse=True)

    @classmethod
    def from_environment(cls, secrets: Iterable[str] = (),
                         environ: Mapping[str, str] | None = None) -> Redactor:
        """The given secrets plus every secret-named environment variable's value."""
        env = os.environ if environ is None else environ
        found = [value for name, value in env.items()
                 if _secret_name(name) and len(value) >= _ENV_MIN and not value.isspace()]
        return cls([*secrets, *found])

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return _TOKEN.sub(_mask_token, text)

    def apply(self, value: T) -> T:
        """``value`` with every string inside it redacted: records (dataclasses),
        tuples, lists and dicts are rebuilt, everything else is returned as it is."""
        return _walk(value, self)


def _secret_name(name: str) -> bool:
    upper = name.upper()
    if upper in _NOT_SECRET_NAMES:
        return False
    parts = set(re.split(r"[^A-Z0-9]+", upper))
    return bool(parts & _SECRET_PARTS) or upper.endswith(("APIKEY", "TOKEN", "SECRET"))


def _mask_token(match: re.Match[str]) -> str:
    text = match.group(0)
    if text[:6].lower() == "bearer":
        return text.split(None, 1)[0] + " " + MASK
    if "=" in text:  # ?key=...: keep the name
        return text.split("=", 1)[0] + "=" + MASK
    return MASK


def _walk(value: Any, redact: Redactor) -> Any:
    if isinstance(value, str):
        return redact(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _walk(getattr(value, f.name), redact)
                   for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(_walk(v, redact) for v in value)
    if isinstance(value, list):
        return [_walk(v, redact) for v in value]
    if isinstance(value, dict):
        return {_walk(k, redact): _walk(v, redact) for k, v in value.items()}
    return value
