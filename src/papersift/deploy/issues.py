"""Like / Dislike from a site on GitHub Pages, carried by GitHub issues.

A static site cannot write into the store on the data branch, so its "Send to GitHub"
button opens a new issue in the deployment's repository, prefilled with the clicks as a
papersift feedback file (title ``papersift feedback``, the JSON in a fenced block). The
next morning's workflow reads the open issues with that title, imports the verdicts of
those opened by someone with write access (owner, member, collaborator: on a public
repository anyone can open an issue), and closes each imported issue with a comment.
Issues it cannot use are named and left open; nothing of a bad issue is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from papersift.errors import PapersiftError
from papersift.feedback import Verdict, verdicts_of
from papersift.http import HttpClient, HTTPFailure, RetryPolicy, request
from papersift.text import load_json

ISSUE_TITLE = "papersift feedback"
TRUSTED = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
MAX_ISSUES = 100  # one page; more wait for the next morning
_FENCED = re.compile(r"```(?:json)?\s*\n(.*?)\n\s*```", re.DOTALL)


class GitHubFeedbackError(PapersiftError):
    """The repository's issues could not be read or closed."""


@dataclass
class IssueImport:
    verdicts: list[Verdict] = field(default_factory=list)
    imported: list[int] = field(default_factory=list)  # issue numbers
    skipped: list[str] = field(default_factory=list)  # "#12: why"


def verdicts_in(body: str) -> list[Verdict]:
    """The verdicts of a feedback issue's body; ``ValueError`` says what is wrong."""
    found = _FENCED.search(body or "")
    try:
        document = load_json(found.group(1) if found else body or "")
    except ValueError as exc:
        raise ValueError(f"no feedback JSON in it ({exc})") from None
    return verdicts_of(document)


class GitHubIssues:
    """The feedback issues of ``repository`` through GitHub's REST API at ``api_url``."""

    def __init__(self, api_url: str, repository: str, token: str, *,
                 timeout: float = 30.0, policy: RetryPolicy | None = None):
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
            raise GitHubFeedbackError(f"GITHUB_REPOSITORY {repository!r}: expected OWNER/REPO")
        self.base = f"{api_url.rstrip('/')}/repos/{repository}"
        self.repository = repository
        self.policy = policy or RetryPolicy(attempts=3)
        self.client = HttpClient(timeout, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28"})

    def __enter__(self) -> GitHubIssues:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def collect(self) -> IssueImport:
        """Read the open feedback issues: verdicts of the trusted ones, the rest named."""
        found = IssueImport()
        url = (f"{self.base}/issues?state=open&per_page={MAX_ISSUES}&sort=created"
               "&direction=asc")
        for issue in self._json("GET", url):
            if not isinstance(issue, dict) or "pull_request" in issue:
                continue
            if str(issue.get("title", "")).strip().lower() != ISSUE_TITLE:
                continue
            number = issue.get("number")
            who = issue.get("author_association", "NONE")
            if who not in TRUSTED:
                found.skipped.append(f"#{number}: opened by someone without write access "
                                     f"({who}); left open")
                continue
            try:
                verdicts = verdicts_in(str(issue.get("body") or ""))
            except ValueError as exc:
                found.skipped.append(f"#{number}: {exc}; left open")
                continue
            found.verdicts.extend(verdicts)
            found.imported.append(int(number))
        return found

    def close(self, number: int, comment: str) -> None:
        """Comment on issue ``number`` and close it."""
        self._json("POST", f"{self.base}/issues/{number}/comments", json={"body": comment})
        self._json("PATCH", f"{self.base}/issues/{number}",
                   json={"state": "closed", "state_reason": "completed"})

    def _json(self, method: str, url: str, **kwargs: object) -> list | dict:
        try:
            response = request(self.client, method, url, policy=self.policy, **kwargs)
            return load_json(response.content)
        except HTTPFailure as exc:
            raise GitHubFeedbackError(f"GitHub issues of {self.repository}: {exc}") from None
        except ValueError as exc:
            raise GitHubFeedbackError(f"{url}: not JSON ({exc})") from None


def new_issue_url(repository: str) -> str:
    """Where the site's "Send to GitHub" opens a prefilled issue (the body is added by
    the page)."""
    return f"https://github.com/{repository}/issues/new?title={quote(ISSUE_TITLE)}"
