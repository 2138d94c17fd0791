"""Writing outputs: every file of a run is published together or not at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from papersift.atomic import Staging
from papersift.config import Config, Secrets, site_address
from papersift.health import stage_status
from papersift.models import Digest
from papersift.monthly import overview_of, stage_overview, written_by_llm
from papersift.render import digest_record, output_path, record_json, render_markdown
from papersift.render.navigation import archived_days, navigation, neighbours, with_navigation
from papersift.render.record import digest_from_record
from papersift.site import SiteOptions, build_site
from papersift.verdicts import Verdicts, changed_days


def publish(digest: Digest, out_dir: Path, formats: list[str],
            site: SiteOptions | None = None, verdicts: Verdicts | None = None
            ) -> list[Path]:
    """Write the digest in each format, plus ``OUT/latest.md``, the month's overview (so
    the Markdown's Monthly Overview link always leads somewhere) and the site pages it
    touches (``site``: where, and what they link to); with the reader's ``verdicts``, the
    days they change are written again (``verdicts``). Return the main paths written.
    Raises ``PublishError`` (nothing written)."""
    site = site or SiteOptions()
    site_dir = site.site_dir or out_dir / "site"
    shown: list[Path] = []
    record = digest_record(digest)
    rewritten = changed_days(out_dir, verdicts or {}, {digest.day: record})
    today_changed = digest.day in rewritten
    record = rewritten.pop(digest.day, record)
    records = {digest.day: record, **rewritten}
    with Staging() as staging:
        if "md" in formats:
            texts = {day: render_markdown(digest_from_record(r)) for day, r in rewritten.items()}
            texts[digest.day] = render_markdown(digest_from_record(record) if today_changed
                                                else digest)
            shown += _write_markdown(digest.day, texts, out_dir, staging)
            for month in sorted({f"{day:%Y-%m}" for day in records}):
                if not written_by_llm(out_dir, month):
                    stage_overview(overview_of(out_dir, month, {
                        day: r for day, r in records.items() if f"{day:%Y-%m}" == month}),
                        out_dir, staging, site_dir)
        if "json" in formats or "site" in formats:  # the site is built from the JSON
            for day, day_record in records.items():
                path = output_path(out_dir, "json", day)
                staging.write(path, record_json(day_record))
                if day == digest.day:
                    shown.append(path)
        if "site" in formats:
            build_site(out_dir, touched=sorted(records), pending=records,
                       staging=staging, options=site)
            shown.append(site_dir / "index.html")
        if digest.status is not None:
            stage_status(staging, out_dir, digest.status,
                         site_dir=site_dir if "site" in formats else None)
        staging.commit()
    return shown


def _write_markdown(day: dt.date, texts: dict[dt.date, str], out_dir: Path,
                    staging: Staging) -> list[Path]:
    """Each day's Markdown of ``texts`` (``day``'s is the one being published), their
    neighbours' navigation lines, and ``latest.md`` (the newest day's digest: backfilling
    an older day only updates its navigation)."""
    days = sorted({*archived_days(out_dir), day})
    texts = dict(texts)
    for written_day in list(texts):
        for other in neighbours(days, written_day):
            if other is not None and other not in texts:
                texts[other] = output_path(out_dir, "md", other).read_text(encoding="utf-8")
    written = []
    for text_day, text in texts.items():
        previous, following = neighbours(days, text_day)
        path = output_path(out_dir, "md", text_day)
        staging.write(path, with_navigation(text, navigation(text_day, previous, following,
                                                             "../")))
        if text_day == days[-1]:  # links from OUT/ rather than OUT/md/YYYY-MM/
            staging.write(out_dir / "latest.md",
                          with_navigation(text, navigation(text_day, previous, following,
                                                           "md/")))
        if text_day == day:
            written += [path] + ([out_dir / "latest.md"] if text_day == days[-1] else [])
    return written


def site_options(config: Config, secrets: Secrets) -> SiteOptions:
    """Where the reader's site is written and served, and what its pages link to."""
    return SiteOptions(config.site_dir, site_address(config, secrets),
                       secrets.github_repository,
                       config.profile if config.readers else None, config.readers)
