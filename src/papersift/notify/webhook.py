"""Any webhook: the day's JSON digest (the keys of ``OUT/json``) as one POST, with
optional headers whose ``${NAME}`` parts come from the environment (a shared secret)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping

import httpx

from papersift.config import NotifyConfig
from papersift.http import HttpClient, HTTPFailure, RetryPolicy, request
from papersift.notify.push import Push, PushError

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def send_webhook(push: Push, url: str, headers: Mapping[str, str],
                 notify: NotifyConfig) -> None:
    """POST the digest record to ``url``; ``PushError`` when it is not accepted."""
    post_json("webhook", url, push.record, notify, headers=expand_headers(headers))


def expand_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header values with ``${NAME}`` replaced from the environment (missing: an error)."""
    expanded = {}
    for name, value in headers.items():
        def lookup(match: re.Match[str], header: str = name) -> str:
            found = os.environ.get(match.group(1))
            if found is None:
                raise PushError(f"webhook: header {header!r} needs ${{{match.group(1)}}}, "
                                "which is not set in the environment")
            return found
        expanded[name] = _ENV_REFERENCE.sub(lookup, value)
    return expanded


def post_json(channel: str, url: str, body: object, notify: NotifyConfig, *,
              headers: Mapping[str, str] | None = None) -> httpx.Response:
    """One JSON POST with retries; errors name the channel and the host, never the URL's
    path (webhook URLs carry their token there)."""
    policy = RetryPolicy(notify.attempts, notify.backoff_seconds)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    try:
        with HttpClient(notify.timeout_seconds) as client:
            return request(client, "POST", url, policy=policy, content=data,
                           headers={"Content-Type": "application/json; charset=utf-8",
                                    **(headers or {})})
    except HTTPFailure as exc:
        detail = str(exc).removeprefix(exc.url).removeprefix(": ")
        raise PushError(f"{channel} ({_host(url)}): {detail}") from None


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or "?"
    except (httpx.InvalidURL, TypeError):
        return "?"
