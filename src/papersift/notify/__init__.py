"""Pushes: the day's digest (or a morning's status) sent by email, to Slack and to any
webhook. Each channel is optional; a failed push is retried, then reported in one line,
and never touches the digest already written (``papersift notify --date D`` resends)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from papersift.config import Config, Secrets, SlackConfig
from papersift.errors import PapersiftError
from papersift.models import RunStatus
from papersift.notify.email import send_email
from papersift.notify.push import Push, PushResult
from papersift.notify.slack import send_slack
from papersift.notify.webhook import send_webhook

log = logging.getLogger(__name__)

Sender = Callable[[Push], None]


def channels(config: Config, secrets: Secrets) -> dict[str, Sender]:
    """The configured channels, by name, each a function that sends a push or raises."""
    notify = config.notify
    found: dict[str, Sender] = {}
    if notify.email is not None:
        found["email"] = lambda push: send_email(push, notify.email, notify, secrets)
    slack_url = secrets.slack_webhook_url or (notify.slack.webhook_url if notify.slack else None)
    if slack_url:
        slack = notify.slack or SlackConfig()
        found["slack"] = lambda push: send_slack(push, slack_url, slack, notify)
    webhook_url = secrets.webhook_url or (notify.webhook.url if notify.webhook else None)
    if webhook_url:
        headers = notify.webhook.headers if notify.webhook else {}
        found["webhook"] = lambda push: send_webhook(push, webhook_url, headers, notify)
    return found


def send_all(config: Config, secrets: Secrets, push: Push) -> list[PushResult]:
    """Send ``push`` on every configured channel; one result per channel, never raises
    for a channel's failure."""
    results = []
    for name, send in channels(config, secrets).items():
        try:
            send(push)
        except PapersiftError as exc:
            results.append(PushResult(name, False, str(exc)))
            continue
        results.append(PushResult(name, True, "sent"))
        log.info("%s: sent the push for %s", name, push.day)
    return results


def should_push(status: RunStatus, config: Config) -> bool:
    """Whether a morning with this status pushes anything."""
    if status.outcome == "no_announcements":
        return config.notify.on_no_announcements
    if status.outcome == "upstream_failure" and status.total == 0:  # nothing fetched
        return config.notify.on_failure
    return True


