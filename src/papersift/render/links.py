"""Code and project links found in a paper's abstract or arXiv comment (GitHub, GitLab,
Hugging Face, GitHub Pages project pages), for a link under each paper.

Only the hosts listed here are linked, matched in ASCII after Unicode normalisation
(NFKC: full-width letters are the letters they look like): a look-alike such as
``gıthub.com`` (a dotless i) or ``ｇithub.com`` never becomes a link to somewhere else,
and the link's host is always written by papersift, never copied from the text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

# A host we know, then a path up to white space or LaTeX/Markdown punctuation
# ("\url{…}", "[this https URL](…)", "$\href{…}{…}$").
_LINK = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:www\.)?"
    r"(github\.com|gitlab\.com|huggingface\.co|hf\.co|[A-Za-z0-9-]+\.github\.io)"
    r"(?![A-Za-z0-9-]|\.[A-Za-z0-9])"  # the whole host: not github.com.evil.example
    r"(/[^\s<>\"'{}\[\]()|\\$,;]*)?", re.IGNORECASE | re.ASCII)
_LABELS = {"github.com": "GitHub", "gitlab.com": "GitLab", "huggingface.co": "Hugging Face",
           "hf.co": "Hugging Face"}


@dataclass(frozen=True)
class CodeLink:
    url: str
    label: str  # "GitHub", "GitLab", "Hugging Face", "Project page"


def code_links(*texts: str) -> list[CodeLink]:
    """The distinct code/project links in ``texts``, in order of appearance."""
    found: dict[str, CodeLink] = {}
    for text in texts:
        for match in _LINK.finditer(unicodedata.normalize("NFKC", text or "")):
            host = match.group(1).lower()
            path = (match.group(2) or "").rstrip(".:-_")
            segments = [s for s in path.split("/") if s]
            least = 2 if host in ("github.com", "gitlab.com") else 1 if host in _LABELS else 0
            if len(segments) < least:
                continue  # "github.com/owner", "huggingface.co": no repository named
            if host in ("github.com", "gitlab.com") and len(segments) == 2:
                path = "/" + "/".join([segments[0], segments[1].removesuffix(".git")])
            url = f"https://{host}{quote(path, safe='/-._~%!$&*+=:@?#')}"
            key = url.lower().rstrip("/")
            if key not in found:
                found[key] = CodeLink(url, _LABELS.get(host, "Project page"))
    return list(found.values())
