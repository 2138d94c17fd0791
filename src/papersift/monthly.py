"""``papersift monthly YYYY-MM``: the month's selected papers, grouped by topic.

With an LLM configured, the model writes a few sentences per topic (our own prompt; its
tokens and cost are recorded like a daily run's). Without one, or when its answer is
unusable, the overview is deterministic: counts per topic, the best papers of each topic,
and the followed authors who appeared most.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papersift import __version__
from papersift.atomic import Staging
from papersift.config import LLMConfig, Secrets
from papersift.errors import PapersiftError
from papersift.models import Usage
from papersift.render import markdown_environment, usage_record
from papersift.scoring.chat import Answer, AsyncChat, RequestFailed, make_async_client
from papersift.scoring.parse import iter_json_objects
from papersift.scoring.pricing import PriceTable
from papersift.scoring.prompts import default_text
from papersift.site import SiteOptions, best_first, build_site, load_days, site_environment
from papersift.store import Store
from papersift.text import capped, clean_text, load_json

log = logging.getLogger(__name__)
MAX_TOPIC_TEXT_CHARS = 1500  # a topic's paragraph; a longer answer is cut at a word
TOP_PER_TOPIC = 5
NO_TOPIC = "Other"


@dataclass
class TopicOverview:
    topic: str
    papers: list[dict[str, Any]]
    text: str = ""

    @property
    def top(self) -> list[dict[str, Any]]:
        return self.papers[:TOP_PER_TOPIC]


@dataclass
class MonthlyOverview:
    month: str
    days: int
    topics: list[TopicOverview]
    followed: list[tuple[str, int]]
    model: str | None = None
    usage: Usage = field(default_factory=Usage)
    prompt: str = ""

    @property
    def paper_count(self) -> int:
        return sum(len(t.papers) for t in self.topics)


def overview_of(out_dir: Path, month: str,
                pending: dict[dt.date, dict[str, Any]] | None = None) -> MonthlyOverview:
    """The deterministic overview of ``month`` (YYYY-MM) from its JSON digests (and
    ``pending`` ones being published)."""
    days = load_days(out_dir, pending, month=month)
    if not days:
        raise PapersiftError(f"no digests for {month} in {out_dir / 'json'}")
    by_topic: dict[str, list[dict[str, Any]]] = {}
    followed: Counter[str] = Counter()
    for day in days:
        for paper in day.papers:
            entry = {**paper, "date": day.date.isoformat(),
                     "path": f"{day.path}#arxiv-{paper['arxiv_id']}"}
            by_topic.setdefault(paper.get("topic") or NO_TOPIC, []).append(entry)
            followed.update(paper.get("author_match") or [])
    topics = [TopicOverview(name, sorted(papers, key=best_first))
              for name, papers in sorted(by_topic.items(), key=lambda kv: -len(kv[1]))]
    return MonthlyOverview(month, len(days), topics, followed.most_common(10))


def summarise(overview: MonthlyOverview, config: LLMConfig, secrets: Secrets,
              prices: PriceTable, store: Store) -> MonthlyOverview:
    """Ask the LLM for each topic's text; keep the deterministic overview if it fails."""
    run_id = store.start_run(dt.date.fromisoformat(f"{overview.month}-01"), kind="monthly")
    store.set_run_model(run_id, config.model)
    system = default_text("monthly").strip()
    overview.model, overview.prompt = config.model, system
    user = "\n\n".join(  # paper texts escaped as in scoring: data, not instructions
        f"## {t.topic}\n" + "\n".join(
            f"- [{p['arxiv_id']}] {_data(p['title'])}: {_data(p.get('COMMENT', ''))}"
            for p in t.papers[:25])
        for t in overview.topics)
    try:
        answer = asyncio.run(_ask_once(config, secrets, prices, system,
                                       f"Papers selected in {overview.month}:\n\n{user}\n"))
    except RequestFailed as exc:
        log.warning("monthly overview: the LLM request failed (%s); writing it without", exc)
        store.finish_run(run_id, status="failed")
        return overview
    store.record_request(run_id, "monthly", answer.usage)
    overview.usage.add(answer.usage)
    texts = next(iter_json_objects(answer.text), {})
    for topic in overview.topics:
        value = texts.get(topic.topic)
        topic.text = capped(clean_text(value), MAX_TOPIC_TEXT_CHARS) if isinstance(
            value, str) else ""
    store.finish_run(run_id, status="done", relevant=overview.paper_count)
    return overview


async def _ask_once(config: LLMConfig, secrets: Secrets, prices: PriceTable, system: str,
                    user: str) -> Answer:
    client = make_async_client(config, secrets)
    try:
        return await AsyncChat(config, client, prices).ask(system, user)
    finally:
        await client.close()


def _data(text: str) -> str:
    """A title or TL;DR inside the prompt: one line, markup escaped, at most 400 chars."""
    return html.escape(capped(clean_text(str(text)), 400), quote=False)


def write_overview(overview: MonthlyOverview, out_dir: Path,
                   site: SiteOptions | None = None) -> list[Path]:
    """``OUT/md/YYYY-MM/overview.md``, its JSON, and the site page the month page links."""
    site = site or SiteOptions()
    with Staging() as staging:
        written = stage_overview(overview, out_dir, staging,
                                 site.site_dir or out_dir / "site")
        # Touching the month (not one of its days) rewrites its page, which now links the
        # overview (staged above, so the page knows it will exist).
        build_site(out_dir, touched=[dt.date.fromisoformat(f"{overview.month}-01")],
                   staging=staging, options=site)
        staging.commit()
    return written


def stage_overview(overview: MonthlyOverview, out_dir: Path, staging: Staging,
                   site_dir: Path) -> list[Path]:
    """Stage the overview's Markdown, JSON and site page (in ``site_dir``) with the
    caller's files."""
    md = out_dir / "md" / overview.month / "overview.md"
    record = out_dir / "json" / overview.month / "overview.json"
    page = site_dir / overview.month / "overview.html"
    staging.write(md, markdown_environment().get_template("overview.md.j2").render(
        o=overview))
    staging.write(record, json.dumps(_record(overview), ensure_ascii=False, indent=2) + "\n")
    staging.write(page, site_environment().get_template("overview.html.j2").render(
        o=overview, root="../", version=__version__))
    return [md, record, page]


def written_by_llm(out_dir: Path, month: str) -> bool:
    """Whether the month's overview on disk was written by an LLM (``papersift monthly``
    with one): a run then leaves it as it is."""
    try:
        record = load_json((out_dir / "json" / month / "overview.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and bool(record.get("model"))


def _record(overview: MonthlyOverview) -> dict[str, Any]:
    return {
        "month": overview.month,
        "days": overview.days,
        "papers": overview.paper_count,
        "model": overview.model,
        "usage": usage_record(overview.usage),
        "topics": [{"topic": t.topic, "count": len(t.papers), "overview": t.text,
                    "top": [p["arxiv_id"] for p in t.top]} for t in overview.topics],
        "followed_authors": dict(overview.followed),
    }
