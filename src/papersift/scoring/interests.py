"""Reading the structure of an interests file: topics, keep/filter lines, keywords, and
what to avoid. The LLM reads the file as prose; the local scorer needs its parts.

Understood layout (Markdown, loosely):

    1. Topic name                      (or "## 1. Topic name")
       - Keep: / Relevant: ...         what belongs to the topic
       - Filter: / Not relevant: ...   what does not
    ## Keywords
    - Relevant: a, b, c
    - Not relevant: d, e
    ## Applications to avoid          (any heading or line that mentions avoiding)
    - medical imaging, ...

Lines under a topic that are neither keep nor filter describe the topic (they count as keep).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOPIC = re.compile(r"^\s*(?:#{1,6}\s*)?(\d+)[.)]\s+(.+?)\s*$")
_HEADING = re.compile(r"^\s*#{1,6}\s+(.+?)\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_LABEL = re.compile(r"^\s*\**\s*([A-Za-z][A-Za-z \-]{1,30}?)\s*\**\s*:\s*(.*)$")
_KEEP = {"keep", "relevant", "include", "yes", "interested", "want", "positive"}
_FILTER = {"filter", "not relevant", "irrelevant", "exclude", "no", "skip", "avoid",
           "not interested", "negative", "ignore"}
_AVOID_HINT = re.compile(r"\b(avoid|leave these|not interested|exclude|ignore)\b", re.I)
_KEYWORD_HINT = re.compile(r"\bkeywords?\b", re.I)
_SPLIT = re.compile(r"\s*(?:[,;]|\bsuch as\b|\be\.g\.|\bincluding\b|\(|\))\s*", re.I)


@dataclass
class Topic:
    name: str
    keep: list[str] = field(default_factory=list)
    filter: list[str] = field(default_factory=list)

    @property
    def keep_text(self) -> str:
        return " ".join([self.name, *self.keep])

    def keep_phrases(self) -> list[str]:
        """The topic broken into short phrases: one embedding each finds specific hits."""
        return _phrases([self.name, *self.keep])

    def filter_phrases(self) -> list[str]:
        return _phrases(self.filter)


@dataclass
class Interests:
    topics: list[Topic]
    keywords: list[str] = field(default_factory=list)
    negative_keywords: list[str] = field(default_factory=list)
    avoid: list[str] = field(default_factory=list)

    @property
    def negative_phrases(self) -> list[str]:
        """Everything the reader said not to want, as short phrases."""
        phrases = [p for t in self.topics for p in t.filter_phrases()]
        return list(dict.fromkeys([*phrases, *_phrases(self.negative_keywords),
                                   *_phrases(self.avoid)]))


def parse_interests(text: str) -> Interests:
    """Parse an interests file; a file without numbered topics becomes one topic."""
    items = _items(text)
    topics: list[Topic] = []
    interests = Interests(topics=topics)
    intro: list[str] = []
    for section, kind, value in items:
        if section == "topic-start":
            topics.append(Topic(name=value))
        elif section == "topic" and topics:
            (topics[-1].filter if kind in _FILTER else topics[-1].keep).append(value)
        elif section == "keywords":
            target = interests.negative_keywords if kind in _FILTER else interests.keywords
            target.extend(_phrases([value]))
        elif section == "avoid":
            interests.avoid.extend(_phrases([value]))
        elif section == "intro":
            intro.append(value)
    if not topics:
        topics.append(Topic(name="Interests", keep=[" ".join(intro)] if intro else []))
    return interests


def _items(text: str) -> list[tuple[str, str, str]]:
    """(section, label, text) per bullet or paragraph line, wrapped lines joined."""
    items: list[list[str]] = []
    section = "intro"  # intro | topic | keywords | avoid | other
    has_topics = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        topic = _TOPIC.match(line)
        if topic and (section != "avoid" or _HEADING.match(line)):
            items.append(["topic-start", "", _clean(topic.group(2))])
            section, has_topics = "topic", True
            continue
        if heading := _HEADING.match(line):
            title = heading.group(1)
            section = ("keywords" if _KEYWORD_HINT.search(title)
                       else "avoid" if _AVOID_HINT.search(title)
                       else "other" if has_topics else "intro")
            items.append(["heading", "", ""])
            continue
        bullet = _BULLET.match(line)
        if (not bullet and items and items[-1][0] not in ("heading", "topic-start")
                and raw[:1].isspace()):
            items[-1][2] = f"{items[-1][2]} {_clean(line)}"  # a wrapped line
            continue
        if has_topics and not bullet and _AVOID_HINT.search(line) and line.endswith(":"):
            section = "avoid"  # "Usually leave these to ... unless ...:"
            items.append(["heading", "", ""])
            continue
        body = bullet.group(1) if bullet else line.strip()
        label = _LABEL.match(body)
        kind = label.group(1).strip().lower() if label else ""
        items.append([section, kind, _clean(label.group(2) if label else body)])
    return [(a, b, c) for a, b, c in items if a != "heading" and c]


def _phrases(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for part in _SPLIT.split(text):
            part = re.sub(r"^(and|or|etc\.?|other)\s+", "", part.strip(" .:"), flags=re.I)
            part = re.sub(r"\s+(etc\.?)$", "", part)
            if len(part) >= 3 and part.lower() not in ("etc", "etc."):
                found.append(part)
    return list(dict.fromkeys(found))


def _clean(text: str) -> str:
    return " ".join(text.replace("**", "").split()).strip()
