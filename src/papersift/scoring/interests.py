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
# Where one phrase list ends and the next begins; commas then separate the items.
_CHUNK = re.compile(r"\s*(?:;|\.\s|\bsuch as\b|\be\.g\.|\bi\.e\.|\bincluding\b|\(|\)|:)\s*",
                    re.I)
# "unless the method itself is new", "without a new mechanism, principle or analysis":
# the reader's exceptions, not what they want or filter out; dropped to the clause's end.
_EXCEPTION = re.compile(r"\b(?:unless|except|excepting|without|other than|but not|apart from)"
                        r"\b[^;.]*", re.I)
# "chemistry and other domain applications": the category of the items before it.
_AND_OTHER = re.compile(r",?\s*\b(?:and|or) (?:other|similar)\b[^,;.]*", re.I)
# Heads of a list ("work on X", "applications in X, Y"): the list items are the phrases.
_LIST_HEAD = re.compile(r"^(?:(?:papers?|work|methods?|studies)\s+(?:that|which|where|on|about)"
                        r"\s+|(?:downstream\s+|domain\s+)?applications?\s+(?:in|to|of)\s+)", re.I)
_LEADING = re.compile(r"^(?:(?:and|or|etc\.?|other|also)\s+)+", re.I)
_MAX_PHRASE_WORDS = 8  # longer pieces are prose, not phrases


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
        return phrases([self.name, *self.keep])

    def filter_phrases(self) -> list[str]:
        return phrases(self.filter)


@dataclass
class Interests:
    topics: list[Topic]
    keywords: list[str] = field(default_factory=list)
    negative_keywords: list[str] = field(default_factory=list)
    avoid: list[str] = field(default_factory=list)

    @property
    def negative_phrases(self) -> list[str]:
        """Everything the reader said not to want, as short phrases."""
        filters = [p for t in self.topics for p in t.filter_phrases()]
        return list(dict.fromkeys([*filters, *phrases(self.negative_keywords),
                                   *phrases(self.avoid)]))


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
            target.extend(phrases([value]))
        elif section == "avoid":
            interests.avoid.extend(phrases([value]))
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
    in_paragraph = False  # the previous line was prose, with no blank line since
    for raw in text.splitlines():
        line = raw.rstrip()
        previous_prose, in_paragraph = in_paragraph, False
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
                and (raw[:1].isspace() or previous_prose)):
            items[-1][2] = f"{items[-1][2]} {_clean(line)}"  # a wrapped line
            in_paragraph = previous_prose
            continue
        if has_topics and not bullet and _AVOID_HINT.search(line) and line.endswith(":"):
            section = "avoid"  # "Usually leave these to ... unless ...:"
            items.append(["heading", "", ""])
            continue
        body = bullet.group(1) if bullet else line.strip()
        in_paragraph = not bullet
        label = _LABEL.match(body)
        kind = label.group(1).strip().lower() if label else ""
        items.append([section, kind, _clean(label.group(2) if label else body)])
    return [(a, b, c) for a, b, c in items if a != "heading" and c]


def phrases(texts: list[str]) -> list[str]:
    """The short phrases of ``texts``: list items, without exception clauses or list heads.

    A piece too long to be a list item is prose: it is kept whole with the comma items
    after it, which continue it ("a principle for storing, updating, recalling"), rather
    than cut into fragments."""
    found = []
    for text in texts:
        for chunk in _CHUNK.split(_AND_OTHER.sub("", _EXCEPTION.sub("", text))):
            parts = chunk.split(",")
            for index, part in enumerate(parts):
                part = _tidy(part)
                if len(part.split()) > _MAX_PHRASE_WORDS:
                    found.append(_tidy(",".join([part, *parts[index + 1:]])))
                    break
                if len(part) >= 2 and part.lower() not in ("etc", "etc."):
                    found.append(part)
    return list(dict.fromkeys(found))


def _tidy(part: str) -> str:
    part = _LEADING.sub("", _LIST_HEAD.sub("", part.strip(" .:")))
    return " ".join(re.sub(r"\s+(etc\.?)$", "", part).strip(" .:").split())


def _clean(text: str) -> str:
    return " ".join(text.replace("**", "").split()).strip()
