"""One redaction step for every text that reaches an output, the store or a log.

Some providers echo the request's key in their error messages ("Invalid request for key
sk-..."); that text becomes a "Not scored" reason, a log line, an error on the terminal.
A ``Redactor`` replaces the secrets it knows (the keys papersift was given and every
environment variable whose name says it holds a secret) and anything shaped like a
bearer token with ``***``, wherever the text came from: also their encodings a protocol
echoes (URL-encoded; base64, as in SMTP's ``AUTH PLAIN``), and the path of a secret URL
(a webhook's token lives there: the host is kept, to say where it went).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, urlsplit

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
# Every credential shape above holds one of these or _SK_HINT (in lower case): a text
# without any (most pages and feeds) is not scanned by the expression, slow on long texts.
_TOKEN_HINTS = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "hf_",
                "akia", "aiza", "glpat-", "bearer", "hooks.slack.com/services/", "key=",
                "token=", "password=")
# "sk-" alone is in every other abstract ("task-specific", "risk-aware"): a key's prefix
# is followed by the key.
_SK_HINT = re.compile(r"sk-[a-z0-9_\-]{16}")
_EXPLICIT_MIN = 4  # a secret papersift was configured with: masked even when short
_ENV_MIN = 8  # another secret-named environment value: not a flag or a word
# The environment variables papersift reads its own secrets from (config.Secrets).
KNOWN_SECRETS = ("OPENAI_API_KEY", "S2_API_KEY", "PAPERSIFT_SMTP_PASSWORD",
                 "PAPERSIFT_SLACK_WEBHOOK_URL", "PAPERSIFT_WEBHOOK_URL", "GH_TOKEN",
                 "GITHUB_TOKEN")
_BASE64_FIXED_MIN = 8  # shorter fixed parts occur in ordinary text
# Texts up to this long (messages, replies, status, one record's field) are also decoded
# run by run; in longer ones (pages, feeds) a secret's base64 is found by its fixed part.
_SCAN_CHARS = 65536
# A run of base64 (standard or URL-safe) long enough to hide a secret, with what prose
# words lack (a digit, + or /, a capital after a small letter): words are not decoded.
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/_\-])(?=[A-Za-z0-9+/_\-]{8})"
                         r"[A-Za-z_\-]*(?:[0-9+/]|[a-z][A-Z])[A-Za-z0-9+/_\-]*={0,2}")

T = TypeVar("T")


class Redactor:
    """Masks known secret values and credential-shaped strings in any text."""

    def __init__(self, secrets: Iterable[str] = ()):
        values = {s.strip() for s in secrets if s and len(s.strip()) >= _EXPLICIT_MIN}
        self.raw = [v.encode("utf-8") for v in values]  # found in decoded base64
        forms = {form for value in values for form in _forms(value)}
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted(forms, key=len, reverse=True)

    @classmethod
    def from_environment(cls, secrets: Iterable[str] = (),
                         environ: Mapping[str, str] | None = None) -> Redactor:
        """The given secrets, papersift's own secret variables (any length) and every
        other secret-named environment variable's value."""
        env = os.environ if environ is None else environ
        own = [env[name] for name in KNOWN_SECRETS if env.get(name)]
        found = [value for name, value in env.items()
                 if _secret_name(name) and len(value) >= _ENV_MIN and not value.isspace()]
        return cls([*secrets, *own, *found])

    def __call__(self, text: str) -> str:
        if self.raw and len(text) <= _SCAN_CHARS:  # first: a blob is masked whole
            text = _BASE64_RUN.sub(self._mask_encoded, text)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        lowered = text.lower()
        if not any(hint in lowered for hint in _TOKEN_HINTS) and not (
                "sk-" in lowered and _SK_HINT.search(lowered)):
            return text
        return _TOKEN.sub(_mask_token, text)

    def _mask_encoded(self, match: re.Match[str]) -> str:
        """A base64 run whose bytes hold a secret (``AUTH PLAIN``: NUL user NUL password)."""
        run = match.group(0)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                data = decode(run + "=" * (-len(run) % 4))
            except (binascii.Error, ValueError):
                continue
            if any(secret in data for secret in self.raw):
                return MASK
        return run

    def apply(self, value: T) -> T:
        """``value`` with every string inside it redacted: records (dataclasses),
        tuples, lists and dicts are rebuilt, everything else is returned as it is."""
        return _walk(value, self)


def _forms(secret: str) -> set[str]:
    """``secret`` as text may carry it: as is, URL-encoded, base64 at any offset (the
    characters that only the secret decides), and a URL's path and query (which is where
    a webhook's token lives; the host is kept)."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    raw = secret.encode("utf-8")
    for offset in range(3):
        first, last = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            fixed = encode(b"\0" * offset + raw + b"\0\0\0").decode()[first:last]
            if len(fixed) >= _BASE64_FIXED_MIN:
                forms.add(fixed)
    parts = urlsplit(secret) if "://" in secret else None
    if parts and parts.netloc:
        rest = secret.split(parts.netloc, 1)[1]
        if len(rest.strip("/")) >= _EXPLICIT_MIN:
            forms |= {rest, rest.lstrip("/")}
    return {form for form in forms if len(form) >= _EXPLICIT_MIN}


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


class RedactingFilter(logging.Filter):
    """No secret ever reaches a log line: every message passes the redaction step."""

    def __init__(self, redact: Redactor):
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
