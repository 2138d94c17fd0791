"""The digest in Slack: an incoming webhook with Block Kit, within Slack's limits (at
most 50 blocks, 3,000 characters a section, 150 a header): the top papers, then a link
to the day's page for the rest."""

from __future__ import annotations

from typing import Any

from papersift.config import NotifyConfig, SlackConfig
from papersift.notify.push import Push, headline, shorten
from papersift.notify.webhook import post_json

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150


def send_slack(push: Push, url: str, settings: SlackConfig, notify: NotifyConfig) -> None:
    """Post the push to a Slack incoming webhook; ``PushError`` when Slack refuses it."""
    post_json("slack", url, slack_message(push, settings.max_papers), notify)


def slack_message(push: Push, max_papers: int) -> dict[str, Any]:
    """The webhook payload: a notification text and the blocks."""
    title = f"papersift · {push.day}" if push.day else "papersift"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:MAX_HEADER]}},
        _context(push),
    ]
    papers = push.papers
    shown = papers[:max_papers] if push.is_digest else []
    for paper in shown:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _paper(paper)}})
    rest = len(papers) - len(shown)
    if push.day_url or rest:
        link = f"<{push.day_url}|the day's page>" if push.day_url else "the digest"
        more = f"{rest} more paper{'s' if rest != 1 else ''} in {link}." if rest else \
            f"Abstracts and the full table in {link}."
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {"text": escape(f"papersift: {headline(push)}"), "blocks": blocks[:MAX_BLOCKS]}


def _context(push: Push) -> dict[str, Any]:
    status = push.status
    run = push.record.get("run", {})
    parts = [escape(status.get("message") or headline(push))]
    if push.is_digest and run.get("model"):
        parts.append(f"{run.get('total', 0)} papers scanned · {escape(run['model'])}")
    text = " · ".join(parts)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_SECTION]}]}


def _paper(paper: dict[str, Any]) -> str:
    title = escape(shorten(paper.get("title", ""), 300))
    scores = []
    if paper.get("author_match"):
        scores.append("followed author: " + escape(", ".join(paper["author_match"])))
    if paper.get("RELEVANCE") is not None:
        scores.append(f"relevance {paper['RELEVANCE']} · novelty {paper.get('NOVELTY')}")
    if paper.get("topic"):
        scores.append(escape(paper["topic"]))
    lines = [f"*<{paper['abs_url']}|{title}>*", " · ".join(scores),
             escape(shorten(paper.get("COMMENT", ""), 600)),
             "_" + escape(shorten(", ".join(paper.get("authors", [])), 300)) + "_"]
    return "\n".join(line for line in lines if line.strip("_"))[:MAX_SECTION]


def escape(text: str) -> str:
    """Text inert in Slack's mrkdwn: no links, mentions or ``<!channel>`` from a title."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
