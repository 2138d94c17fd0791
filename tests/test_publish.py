"""Publishing a run's outputs: all together or not at all, readable by others."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from papersift.atomic import PublishError
from papersift.publish import publish
from test_site import digest_for, real_papers

DAY = dt.date(2026, 4, 14)
TESTS = Path(__file__).parent


def outputs(out: Path) -> dict[str, str]:
    """Every published file and its text (temporary files would show up here too)."""
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_a_write_that_fails_half_way_publishes_nothing(tmp_path):
    """A full disk (a file-size limit makes the write fail part-way, as ENOSPC would):
    the earlier digest stays whole in every format, and the next run works."""
    publish(digest_for(DAY, real_papers()[:3]), tmp_path, ["md", "json", "site"])
    before = outputs(tmp_path)
    script = textwrap.dedent(f"""
        import datetime as dt, resource, signal, sys
        sys.path.insert(0, {str(TESTS)!r})
        from papersift.publish import publish
        from papersift.atomic import PublishError
        from test_site import digest_for, real_papers
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, 30_000))
        try:
            publish(digest_for(dt.date(2026, 4, 14), real_papers()[:60]),
                    __import__("pathlib").Path({str(tmp_path)!r}), ["md", "json", "site"])
        except PublishError as exc:
            print(exc)
            sys.exit(1)
    """)
    failed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert failed.returncode == 1, failed.stderr
    assert failed.stdout.count("\n") == 1 and "nothing of this run was published" in \
        failed.stdout
    assert outputs(tmp_path) == before  # not one file changed, no temporary file left
    publish(digest_for(DAY, real_papers()[:60]), tmp_path, ["md", "json", "site"])
    digest = (tmp_path / "md" / "2026-04" / "2026-04-14.md").read_text()
    assert "Total relevant papers: 60" in digest


def test_a_rename_that_fails_part_way_puts_the_earlier_files_back(tmp_path):
    publish(digest_for(DAY, real_papers()[:3]), tmp_path, ["md", "json", "site"])
    before = outputs(tmp_path)
    (tmp_path / "site" / "feed.xml").unlink()
    (tmp_path / "site" / "feed.xml").mkdir()  # something in the way of one page
    del before["site/feed.xml"]
    with pytest.raises(PublishError, match=r"site/feed.xml: cannot replace it"):
        publish(digest_for(DAY, real_papers()[:8]), tmp_path, ["md", "json", "site"])
    assert outputs(tmp_path) == before


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        publish(digest_for(DAY, real_papers()[:3]), tmp_path, ["md", "json", "site"])
    finally:
        os.umask(old)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*") if p.is_file()}
    assert modes == {0o644}  # readable by a web server, not 0600


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    publish(digest_for(DAY, real_papers()[:3]), tmp_path, ["md"])
    digest = tmp_path / "md" / "2026-04" / "2026-04-14.md"
    digest.chmod(0o640)
    publish(digest_for(DAY, real_papers()[:4]), tmp_path, ["md"])
    assert stat.S_IMODE(digest.stat().st_mode) == 0o640


def test_each_days_markdown_links_the_previous_and_next_day_and_its_month(tmp_path):
    """As the reference's pages do: Previous Day / Monthly Overview / Next Day, true
    after a later day is added and after an earlier gap is backfilled."""
    out = tmp_path / "out"
    days = [dt.date(2026, 4, 14), dt.date(2026, 4, 20), dt.date(2026, 4, 16)]  # 16 last
    for index, day in enumerate(days):
        publish(digest_for(day, real_papers()[index * 2:index * 2 + 2]), out, ["md"])

    def head(day: dt.date) -> str:
        text = (out / "md" / "2026-04" / f"{day}.md").read_text()
        return text.split("<!-- /navigation -->")[0]

    first, middle, last = (head(dt.date(2026, 4, d)) for d in (14, 16, 20))
    assert "Previous Day" not in first
    assert "Next Day [2026-04-16](../2026-04/2026-04-16.md)" in first
    assert "Previous Day [2026-04-14](../2026-04/2026-04-14.md)" in middle
    assert "Next Day [2026-04-20](../2026-04/2026-04-20.md)" in middle
    assert "Previous Day [2026-04-16](../2026-04/2026-04-16.md)" in last
    assert "Next Day" not in last
    assert "Monthly Overview [2026-04](../2026-04/overview.md)" in middle
    latest = (out / "latest.md").read_text()
    assert "# Personalized Daily arXiv Papers 2026-04-20" in latest
    assert "Previous Day [2026-04-16](md/2026-04/2026-04-16.md)" in latest
    # Every link leads to a file that exists (the overview comes with `papersift monthly`).
    import re
    for page in [*out.glob("md/*/*.md"), out / "latest.md"]:
        for target in re.findall(r"\]\(([^)]+\.md)\)", page.read_text()):
            if not target.endswith("overview.md"):
                assert (page.parent / target).exists(), (page, target)
