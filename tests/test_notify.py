"""Pushes as a reader receives them: email on a real SMTP server (aiosmtpd, STARTTLS or
SSL, with a login), Slack and a webhook on loopback HTTP servers; failures retried,
reported in one line, exit code 4, and resent with `papersift notify`."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest

from conftest import PICKS, SECRET_KEY, SMTP_PASSWORD, free_port, smtp_server, write_project
from papersift.health import digest_status
from papersift.models import Candidate, NotScored
from papersift.publish import publish
from papersift.render.latex import latex_text
from test_cli import all_output_text, papersift
from test_site import digest_for, real_papers

DAY = dt.date(2026, 4, 14)
HOSTILE = 'Attacks <script>alert("x")</script> & <!channel> tricks'
HOOK_TOKEN = "hook-token-do-not-leak-5150"


def stored_digest(folder: Path, papers, *, not_scored=()) -> dict:
    """A day's digest published in ``folder/out`` as a run would; its JSON record."""
    digest = digest_for(DAY, papers)
    status = digest_status(DAY, digest.model, selected=len(papers), total=digest.total,
                           not_scored=list(not_scored), scoring_failed=False,
                           finished_at=digest.generated_at)
    digest = type(digest)(**{**digest.__dict__, "status": status,
                             "not_scored": tuple(not_scored)})
    publish(digest, folder / "out", ["md", "json", "site"])
    return json.loads((folder / "out/json/2026-04/2026-04-14.json").read_text())


def project(folder: Path, channels: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "interests.md").write_text("# Interests\n\n1. Efficiency\n")
    config = folder / "papersift.toml"
    config.write_text('[output]\nsite_url = "https://ada.github.io/digest"\n'
                      "[notify]\nbackoff_seconds = 0\n" + channels + "\n")
    return config


def hostile_papers():
    papers = real_papers()[:4]
    return [type(papers[0])(**{**papers[0].__dict__, "title": HOSTILE}), *papers[1:]]


def test_email_digest_arrives_with_both_parts_every_paper_and_escaped_html(tmp_path, mailbox):
    papers = hostile_papers()
    record = stored_digest(tmp_path, papers)
    project(tmp_path, mailbox.config())
    result = papersift("notify", "--date", "2026-04-14", cwd=tmp_path, env_extra=mailbox.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "email: sent"

    assert [login for login, _ in mailbox.logins] == ["digest-bot"]
    [message] = mailbox.messages
    assert message["Subject"] == "papersift: 4 papers for 2026-04-14"
    assert message["From"] == "papersift@example.org"
    assert message.envelope_to == ["ada@example.org", "alan@example.org"]
    assert message["To"] == "ada@example.org, alan@example.org"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for paper in record["papers"].values():
        assert paper["abs_url"] in text and f'href="{paper["abs_url"]}"' in html
        if paper["title"] != HOSTILE:
            assert paper["title"] in text and paper["title"] in html
        assert paper["authors"][0] in text and paper["authors"][0] in html
        assert "Relevance 9" in text and "Relevance 9" in html and "Efficiency" in html
        assert paper["COMMENT"] in text
    assert HOSTILE in text  # plain text stays as arXiv wrote it
    assert "<script>" not in html and "&lt;script&gt;" in html
    # the abstract is shortened, with the site's day page to read the rest
    long_abstract = max(record["papers"].values(), key=lambda p: len(p["abstract"]))["abstract"]
    assert long_abstract not in text and long_abstract[:100] in text
    assert "https://ada.github.io/digest/2026-04/2026-04-14.html" in html
    assert "Digest for 2026-04-14: 4 of 100 papers selected by gpt-test." in text
    assert SMTP_PASSWORD not in result.stdout + result.stderr + all_output_text(tmp_path)


def test_email_over_implicit_tls(tmp_path):
    stored_digest(tmp_path, real_papers()[:2])
    with smtp_server(tmp_path, security="ssl") as box:
        project(tmp_path, box.config(to=("ada@example.org",)))
        result = papersift("notify", "--date", "2026-04-14", cwd=tmp_path, env_extra=box.env)
        assert result.returncode == 0, result.stderr
        assert [m["To"] for m in box.messages] == ["ada@example.org"]


def test_wrong_smtp_password_is_one_line_exit_4_without_the_password(tmp_path, mailbox):
    stored_digest(tmp_path, real_papers()[:2])
    project(tmp_path, mailbox.config())
    wrong = "wrong-password-123456"
    result = papersift("notify", "--date", "2026-04-14", cwd=tmp_path,
                       env_extra={**mailbox.env, "PAPERSIFT_SMTP_PASSWORD": wrong})
    assert result.returncode == 4
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: email via 127.0.0.1:{mailbox.port}: login refused for "
                           "'digest-bot' (535")
    assert "papersift notify --date 2026-04-14" in line
    assert wrong not in result.stdout + result.stderr
    assert not mailbox.messages


def test_slack_message_keeps_to_slacks_limits_and_links_the_rest(tmp_path, slack):
    papers = hostile_papers() + real_papers()[10:70]
    stored_digest(tmp_path, papers)
    project(tmp_path, '[notify.slack]\nmax_papers = 10')
    result = papersift("notify", "--date", "2026-04-14", cwd=tmp_path,
                       env_extra={"PAPERSIFT_SLACK_WEBHOOK_URL": slack.url})
    assert result.returncode == 0, result.stderr
    [payload] = slack.posts
    assert payload["text"] == "papersift: 64 papers for 2026-04-14"
    blocks = payload["blocks"]
    assert len(blocks) <= 50
    assert blocks[0] == {"type": "header",
                         "text": {"type": "plain_text", "text": "papersift · 2026-04-14"}}
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == 10
    for block in sections:
        assert block["text"]["type"] == "mrkdwn" and len(block["text"]["text"]) <= 3000
    first = sections[0]["text"]["text"]
    assert first.startswith(f"*<{papers[0].abs_url}|Attacks &lt;script&gt;")
    assert "<!channel>" not in json.dumps(payload)  # no @channel from a title
    assert blocks[-1]["elements"][0]["text"] == (
        "54 more papers in <https://ada.github.io/digest/2026-04/2026-04-14.html|the day's page>.")
    assert slack.url not in result.stdout + result.stderr


def test_webhook_gets_the_days_json_with_a_secret_header(tmp_path, webhook):
    record = stored_digest(tmp_path, real_papers()[:3])
    project(tmp_path, f'[notify.webhook]\nurl = "{webhook.url}"\n'
                      'headers = {Authorization = "Bearer ${HOOK_TOKEN}", X-Source = "papersift"}')
    result = papersift("notify", "--date", "2026-04-14", cwd=tmp_path,
                       env_extra={"HOOK_TOKEN": HOOK_TOKEN})
    assert result.returncode == 0, result.stderr
    assert webhook.posts == [record]
    assert webhook.headers[0]["Authorization"] == f"Bearer {HOOK_TOKEN}"
    assert webhook.headers[0]["X-Source"] == "papersift"
    assert webhook.headers[0]["Content-Type"].startswith("application/json")


def test_a_failing_push_is_retried_then_reported_and_notify_resends_it(tmp_path, slack,
                                                                         webhook):
    stored_digest(tmp_path, real_papers()[:3])
    project(tmp_path, f'[notify.webhook]\nurl = "{webhook.url}"\n[notify.slack]\n')
    env = {"PAPERSIFT_SLACK_WEBHOOK_URL": slack.url}
    slack.always_fail = True
    webhook.failures = 2  # recovers on the third attempt
    failed = papersift("notify", "--date", "2026-04-14", cwd=tmp_path, env_extra=env)
    assert failed.returncode == 4
    [line] = failed.stderr.strip().splitlines()
    assert line == ("error: slack (127.0.0.1): HTTP 500 after 4 attempts; the digest is kept; "
                    "resend it with `papersift notify --date 2026-04-14`")
    assert len(slack.headers) == 4  # attempts = 4
    assert len(webhook.posts) == 1 and len(webhook.headers) == 3
    assert "webhook: sent" in failed.stdout

    slack.always_fail = False
    again = papersift("notify", "--date", "2026-04-14", cwd=tmp_path, env_extra=env)
    assert again.returncode == 0, again.stderr
    assert len(slack.posts) == 1


def test_notify_for_a_day_without_a_digest_or_without_channels(tmp_path, webhook):
    project(tmp_path, f'[notify.webhook]\nurl = "{webhook.url}"')
    missing = papersift("notify", "--date", "2026-04-15", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith(
        f"error: {tmp_path / 'out/json/2026-04/2026-04-15.json'}: no digest for 2026-04-15")
    project(tmp_path, "")
    stored_digest(tmp_path, real_papers()[:1])
    none = papersift("notify", "--date", "2026-04-14", cwd=tmp_path)
    assert none.returncode == 2 and "no push is configured" in none.stderr


def test_bad_email_settings_name_the_key(tmp_path):
    project(tmp_path, '[notify.email]\nhost = "smtp.example.org"\nsender = "me@example.org"\n'
                      'to = ["ada@example.org, alan@example.org"]')
    result = papersift("notify", "--date", "2026-04-14", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {Path('papersift.toml')}: notify.email.to = "
        "['ada@example.org, alan@example.org']: 'ada@example.org, alan@example.org' is not "
        "one email address")


def test_partial_digest_says_so_in_every_push(tmp_path, mailbox, webhook):
    papers = real_papers()
    left = [NotScored(Candidate(p), "HTTP 500 after 5 attempts") for p in papers[10:15]]
    stored_digest(tmp_path, papers[:3], not_scored=left)
    project(tmp_path, mailbox.config() + f'\n[notify.webhook]\nurl = "{webhook.url}"')
    result = papersift("notify", "--date", "2026-04-14", cwd=tmp_path, env_extra=mailbox.env)
    assert result.returncode == 0, result.stderr
    [message] = mailbox.messages
    assert message["Subject"] == "papersift: 3 papers for 2026-04-14 (partial)"
    assert "5 of 100 could not be scored" in message.get_body(("plain",)).get_content()
    assert webhook.posts[0]["run"]["status"]["outcome"] == "partial"


# -- a morning run sends what it wrote ---------------------------------------------------

def test_run_publishes_then_pushes_to_every_channel(tmp_path, arxiv, llm, mailbox, slack,
                                                      webhook):
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        mailbox.config() + f'\n[notify.webhook]\nurl = "{webhook.url}"'
        '\n[notify]\nbackoff_seconds = 0\n[output]\nsite_url = "https://ada.github.io/digest/"'
        '\n[summary]\nenabled = true'))
    env = {**mailbox.env, "OPENAI_API_KEY": SECRET_KEY, "PAPERSIFT_SLACK_WEBHOOK_URL": slack.url}
    result = papersift("run", "--date", "2026-04-14", cwd=tmp_path, env_extra=env)
    assert result.returncode == 0, result.stderr
    assert re.findall(r"^(\w+): sent$", result.stdout, flags=re.MULTILINE) == [
        "email", "slack", "webhook"]
    record = json.loads((tmp_path / "out/json/2026-04/2026-04-14.json").read_text())
    assert webhook.posts == [record]
    assert record["run"]["status"]["outcome"] == "digest"
    assert len(record["papers"]) == len(PICKS)
    [message] = mailbox.messages
    text = message.get_body(("plain",)).get_content()
    # titles read as text: "Muon$^2$" is "Muon²" in the text part
    assert all(latex_text(paper["title"]) in text for paper in record["papers"].values())
    # The spotlight opens the email, in both parts, before the full list.
    first = record["spotlight"][0]
    first_paper = latex_text(record["papers"][first["arxiv_id"]]["title"])
    assert text.index("Spotlight:") < text.index(f"1. {first_paper}")
    assert f"{latex_text(first['title'])}: {first['why']}" in text
    page = message.get_body(("html",)).get_content()
    assert "Spotlight</h2>" in page and first["why"] in html.unescape(page)
    # Each paper's TL;DR comes before its abstract, in both parts.
    summary = record["papers"][first["arxiv_id"]]["summary"]["text"]
    entry = text[text.index(f"1. {first_paper}"):]
    assert entry.index(f"TL;DR: {summary}") < entry.index("Abstract:")
    entry = html.unescape(page)[html.unescape(page).index(first_paper):]
    assert entry.index(f"TL;DR:</b> {summary}") < entry.index(record["papers"][
        first["arxiv_id"]]["abstract"][:40])
    assert slack.posts[0]["text"] == f"papersift: {len(PICKS)} papers for 2026-04-14"
    status = json.loads((tmp_path / "out/status.json").read_text())
    assert [(p["channel"], p["ok"]) for p in status["pushes"]] == [
        ("email", True), ("slack", True), ("webhook", True)]
    everything = result.stdout + result.stderr + all_output_text(tmp_path / "out")
    for secret in (SECRET_KEY, SMTP_PASSWORD, slack.url):
        assert secret not in everything


def test_run_whose_push_fails_keeps_the_digest_and_exits_4(tmp_path, arxiv, llm, webhook):
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        f'[notify.webhook]\nurl = "{webhook.url}"\n[notify]\nbackoff_seconds = 0'))
    webhook.always_fail = True
    result = papersift("run", "--date", "2026-04-14", "-q", cwd=tmp_path,
                       env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 4
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: webhook (127.0.0.1): HTTP 500 after 4 attempts")
    assert (tmp_path / "out/md/2026-04/2026-04-14.md").exists()
    sent = len(llm.requests)
    webhook.always_fail = False
    resent = papersift("notify", "--date", "2026-04-14", cwd=tmp_path)
    assert resent.returncode == 0 and len(webhook.posts) == 1
    assert len(llm.requests) == sent


@pytest.mark.parametrize("push_on_quiet_days", [False, True])
def test_weekend_pushes_only_when_asked(tmp_path, arxiv, llm, webhook, push_on_quiet_days):
    arxiv.rss_day = "2026-04-18"
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        f'[notify.webhook]\nurl = "{webhook.url}"\n[notify]\n'
        f"on_no_announcements = {str(push_on_quiet_days).lower()}"))
    result = papersift("run", cwd=tmp_path, env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 0, result.stderr
    if not push_on_quiet_days:
        assert webhook.headers == []
        return
    [post] = webhook.posts
    assert post["papers"] == {} and post["date"] == "2026-04-18"
    assert post["run"]["status"]["outcome"] == "no_announcements"
    assert "(Saturday)" in post["run"]["status"]["message"]


def test_llm_unreachable_is_an_upstream_failure_in_status_and_push(tmp_path, arxiv, llm,
                                                                  webhook):
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
        f'[notify.webhook]\nurl = "{webhook.url}"\n[notify]\nbackoff_seconds = 0\n'
        "[llm]\nrequest_attempts = 1\nretries = 0"))
    llm.fail_stages = {"title", "abstract"}
    result = papersift("run", "--date", "2026-04-14", "-q", cwd=tmp_path,
                       env_extra={"OPENAI_API_KEY": SECRET_KEY})
    assert result.returncode == 3
    status = json.loads((tmp_path / "out/status.json").read_text())
    assert status["outcome"] == "upstream_failure"
    assert status["message"].startswith("The scorer (gpt-4.1-mini) could score none of the "
                                        "papers of 2026-04-14")
    assert "kept in the store" in status["message"]
    [post] = webhook.posts
    assert post["run"]["status"] == {k: v for k, v in status.items() if k != "pushes"}


def test_a_server_without_login_is_one_attempt_not_four(tmp_path):
    """Every SMTPException is an OSError: a protocol refusal must not be retried as a
    network error."""
    from aiosmtpd.controller import Controller

    class Count:
        connections = 0

        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            Count.connections += 1
            session.host_name = hostname
            return responses

    stored_digest(tmp_path, real_papers()[:1])
    port = free_port()
    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        project(tmp_path, f'[notify.email]\nhost = "127.0.0.1"\nport = {port}\n'
                          'security = "none"\nplaintext_login = true\nusername = "bot"\n'
                          'sender = "a@example.org"\nto = ["b@example.org"]')
        result = papersift("notify", "--date", "2026-04-14", cwd=tmp_path,
                           env_extra={"PAPERSIFT_SMTP_PASSWORD": "x" * 12})
    finally:
        controller.stop()
    assert result.returncode == 4
    assert "after 4 attempts" not in result.stderr
    assert Count.connections == 1


def test_email_templates_and_clear_text_logins_are_checked_when_the_config_loads(tmp_path):
    from papersift.config import load_config
    from papersift.errors import ConfigError

    base = ('[notify.email]\nhost = "smtp.example.org"\nsender = "me@example.org"\n'
            'to = ["ada@example.org"]\n')
    for subject in ("{nope}", "{count.__class__}", "{date!r}", "{0}", "{"):
        config = project(tmp_path, base + f"subject = {json.dumps(subject)}")
        with pytest.raises(ConfigError, match=r"notify\.email\.subject.*only \{count\} and"):
            load_config(config)
    config = project(tmp_path, base + 'subject = "{count} new ({{weekly}}) {date}"')
    assert load_config(config).notify.email.subject.startswith("{count}")
    config = project(tmp_path, base + 'security = "none"\nusername = "me"')
    with pytest.raises(ConfigError, match=r"in clear.*plaintext_login = true"):
        load_config(config)
    config = project(tmp_path, base + 'security = "none"\nusername = "me"\n'
                                      'plaintext_login = true')
    assert load_config(config).notify.email.plaintext_login


def test_a_webhook_that_redirects_did_not_get_the_digest(tmp_path, webhook):
    from conftest import own_server

    stored_digest(tmp_path, real_papers()[:2])
    with own_server() as elsewhere:
        elsewhere.expect_request("/catch").respond_with_data("ok")
        webhook.server.expect_request("/moved", method="POST").respond_with_data(
            "", status=302, headers={"Location": elsewhere.url_for("/catch")})
        project(tmp_path, f'[notify.webhook]\nurl = "{webhook.url.replace("/hook", "/moved")}"'
                          '\nheaders = { "X-Hook-Token" = "${HOOK_SECRET}" }')
        result = papersift("notify", "--date", "2026-04-14", cwd=tmp_path,
                           env_extra={"HOOK_SECRET": HOOK_TOKEN})
        assert result.returncode == 4, result.stdout + result.stderr
        assert "redirect" in result.stderr and "not delivered" in result.stderr
        assert not elsewhere.log  # neither the digest nor the secret header went there
