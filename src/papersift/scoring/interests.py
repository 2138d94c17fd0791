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

Any other words: prose, bullets, headings (``free_form``).
"""

from __future__ import annotations

import re

from papersift.scoring.free_form import free_form
from papersift.scoring.interest_model import Interests, Topic, phrases, usable
from papersift.scoring.statements import (
    HEADING,
    KEYWORD_HINT,
    LABEL,
    NEGATIVE,
    SENTENCE,
    clean,
    negated,
    says_not,
)

__all__ = ["Interests", "Topic", "parse_interests", "phrases", "usable"]

_TOPIC = re.compile(r"^\s*(?:#{1,6}\s*)?(\d+)[.)]\s+(.+?)\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
# "Usually leave these to the hotspot digest:" — what ``says_not`` does not already read
# as a list of things to avoid.
_AVOID_HINT = re.compile(r"\bleave these\b", re.I)


def parse_interests(text: str) -> Interests:
    """Parse an interests file: the numbered layout (``_items``), or any other words
    (``free_form``: prose, bullets, headings)."""
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    if not any(_TOPIC.match(line) for line in text.splitlines()):
        return free_form(text)
    items = _items(text)
    topics: list[Topic] = []
    interests = Interests(topics=topics)
    intro: list[str] = []
    for section, kind, value in items:
        if section == "topic-start":
            topics.append(Topic(name=value))
        elif section == "topic" and topics:
            (topics[-1].filter if _filters(kind) else topics[-1].keep).append(value)
        elif section == "keywords":
            target = interests.negative_keywords if _filters(kind) else interests.keywords
            target.extend(phrases([value]))
        elif section == "avoid":
            interests.avoid.extend(phrases([value]))
        elif section == "intro":
            intro.append(value)
            for sentence in SENTENCE.split(value):  # "… do not interest me."
                if cue := NEGATIVE.search(sentence):
                    interests.avoid.append(negated(sentence.rstrip(". "), cue))
    if not topics:
        topics.append(Topic(name="Interests", keep=[" ".join(intro)] if intro else []))
    return interests


def _filters(label: str) -> bool:
    """Whether a line's label ("Filter:", "Exclusions:") lists what is not wanted."""
    return label == "filter" or says_not(label)


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
        if topic and (section != "avoid" or HEADING.match(line)):
            items.append(["topic-start", "", clean(topic.group(2))])
            section, has_topics = "topic", True
            continue
        if heading := HEADING.match(line):
            title = heading.group(1)
            section = ("keywords" if KEYWORD_HINT.search(title)
                       else "avoid" if _AVOID_HINT.search(title) or says_not(title)
                       else "other" if has_topics else "intro")
            items.append(["heading", "", ""])
            continue
        bullet = _BULLET.match(line)
        if (not bullet and items and items[-1][0] not in ("heading", "topic-start")
                and (raw[:1].isspace() or previous_prose)):
            items[-1][2] = f"{items[-1][2]} {clean(line)}"  # a wrapped line
            in_paragraph = previous_prose
            continue
        if (has_topics and not bullet and line.endswith(":")
                and (_AVOID_HINT.search(line) or says_not(line[:-1]))):
            section = "avoid"  # "Usually leave these to ... unless ...:"
            items.append(["heading", "", ""])
            continue
        body = bullet.group(1) if bullet else line.strip()
        in_paragraph = not bullet
        label = LABEL.match(body)
        kind = label.group(1).strip().lower() if label else ""
        items.append([section, kind, clean(label.group(2) if label else body)])
    return [(a, b, c) for a, b, c in items if a != "heading" and c]
