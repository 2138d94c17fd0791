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

Any other words (``free_form``): prose, bullets, headings. Each sentence or bullet is a
statement; one that says what the reader does not want ("I skip…", "not interested
in…", or under a heading or lead line like "What I skip:") is a filter, the rest say
what they want. A heading starts a topic, as does a statement of the shape "name: item,
item" or any statement that lists three things or more; the lead-ins of prose ("I work
on", "my main interest is") are not phrases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from papersift.scoring.statements import (
    NEGATIVE,
    SENTENCE,
    negated,
    says_not,
    wanted,
)

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
_CHUNK = re.compile(r"\s*(?:;|\.\s|[—–]|\bsuch as\b|\be\.g\.|\bi\.e\.|\bincluding\b|\(|\)|:)\s*",
                    re.I)
# "unless the method itself is new", "without a new mechanism, principle or analysis":
# the reader's exceptions, not what they want or filter out; dropped to the clause's end.
_EXCEPTION = re.compile(r"\b(?:unless|except|excepting|without|other than|but not|apart from)"
                        r"\b[^;.]*", re.I)
# "chemistry and other domain applications": the category of the items before it.
_AND_OTHER = re.compile(r",?\s*\b(?:and|or) (?:other|similar)\b[^,;.:(—–]*", re.I)
# Heads of a list ("work on X", "applications in X, Y"): the list items are the phrases.
_LIST_HEAD = re.compile(r"^(?:(?:papers?|work|methods?|studies)\s+(?:that|which|where|on|about)"
                        r"\s+|(?:downstream\s+|domain\s+)?applications?\s+(?:in|to|of)\s+)", re.I)
_LEADING = re.compile(r"^(?:(?:and|or|nor|no|not|etc\.?|other|also)\s+)+(?:(?:in|on|about)\s+)?",
                      re.I)
_MAX_PHRASE_WORDS = 8  # longer pieces are prose, not phrases


@dataclass
class Topic:
    name: str
    keep: list[str] = field(default_factory=list)
    filter: list[str] = field(default_factory=list)
    named: bool = True  # False: a name papersift gave it ("Your interests"), not a phrase

    @property
    def keep_text(self) -> str:
        return " ".join([self.name, *self.keep] if self.named else self.keep)

    def keep_phrases(self) -> list[str]:
        """The topic broken into short phrases: one embedding each finds specific hits."""
        return phrases([self.name, *self.keep] if self.named else self.keep)

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
    """Parse an interests file: the numbered layout (``_items``), or any other words
    (``free_form``: prose, bullets, headings)."""
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
    return label in _FILTER or (bool(label) and says_not(label))


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
                       else "avoid" if _AVOID_HINT.search(title) or says_not(title)
                       else "other" if has_topics else "intro")
            items.append(["heading", "", ""])
            continue
        bullet = _BULLET.match(line)
        if (not bullet and items and items[-1][0] not in ("heading", "topic-start")
                and (raw[:1].isspace() or previous_prose)):
            items[-1][2] = f"{items[-1][2]} {_clean(line)}"  # a wrapped line
            in_paragraph = previous_prose
            continue
        if (has_topics and not bullet and line.endswith(":")
                and (_AVOID_HINT.search(line) or says_not(line[:-1]))):
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


# -- any other words ---------------------------------------------------------------

_FREE_BULLET = re.compile(r"^(\s*)(?:[-*+•]|\d+[.)])\s+(.*)$")
# Headings that announce the file, not a topic.
_GENERIC = re.compile(r"^(?:what i (?:want to )?read|(?:my )?(?:research )?interests?|"
                      r"topics?|about( me)?|overview|reading list|papers?)\W*$", re.I)
# "World models: model-based RL, …", and in running prose "efficiency and compression,
# meaning quantization, …" or "memory in agents too, from episodic memory to …".
_NAMED = re.compile(r"^([^:]{3,80}?)(?::|,?\s+(?:such as|including|meaning|namely|especially"
                    r"|in particular|for example|for instance|e\.g\.)|,\s+(?:from|like))\s+"
                    r"(\S.*)$", re.I)
_MAX_NAME_WORDS = 8
_LIST_ITEMS = 3  # phrases in a statement that make it a topic of its own


def free_form(text: str) -> Interests:
    """Interests from prose, bullets or headings (any layout but numbered topics)."""
    topics: list[Topic] = []
    interests = Interests(topics=topics)
    general = Topic(name="Your interests", named=False)
    heading: Topic | None = None
    negative_section = keywords = False
    for kind, body in _blocks(text):
        if kind == "heading":
            heading, keywords = None, bool(_KEYWORD_HINT.search(body))
            negative_section = says_not(body)
            if not (keywords or negative_section or _GENERIC.match(body)):
                heading = Topic(name=body)
                topics.append(heading)
            continue
        statements = [body] if kind == "bullet" else SENTENCE.split(body)
        for statement in statements:
            statement = statement.strip().rstrip(".")
            if statement.endswith(":"):  # a lead line: "What I skip:", "I follow:"
                negative_section = says_not(statement[:-1])
                continue
            cue = NEGATIVE.search(statement)
            label = _LABEL.match(statement)
            if label and not cue and says_not(label.group(1)):  # "Exclusions: a, b"
                negative, what = True, label.group(2).strip(" .:;")
            else:
                negative = negative_section or bool(cue)
                what = negated(statement, cue).strip(" .:;") if cue else wanted(statement)
            if not what:
                continue
            if keywords:
                (interests.negative_keywords if negative else interests.keywords).extend(
                    phrases([what]))
            elif negative:
                (heading.filter if heading else interests.avoid).append(what)
            elif heading is not None:
                heading.keep.append(what)
            elif named := _topic_named(what):
                topics.append(named)
            elif len(items := phrases([what])) >= _LIST_ITEMS:
                topics.append(Topic(name=items[0][:1].upper() + items[0][1:], keep=[what],
                                    named=False))
            else:
                general.keep.append(what)
    if general.keep:
        topics.append(general)
    return interests


def usable(interests: Interests) -> bool:
    """Whether the interests name anything to look for."""
    return any(t.keep_phrases() for t in interests.topics) or bool(interests.keywords)


def _topic_named(statement: str) -> Topic | None:
    """"World models and RL: model-based RL, planning agents" names a topic."""
    found = _NAMED.match(statement)
    if not found or len(found.group(1).split()) > _MAX_NAME_WORDS:
        return None
    name = wanted(found.group(1))
    if not name or _GENERIC.match(name):  # "papers such as …": a list, not a topic
        return None
    return Topic(name=name[:1].upper() + name[1:], keep=[found.group(2)])


def _blocks(text: str) -> list[tuple[str, str]]:
    """("heading" | "bullet" | "prose", text): wrapped lines joined."""
    blocks: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            if blocks and blocks[-1][0] == "prose":
                blocks.append(["break", ""])
            continue
        if heading := _HEADING.match(line):
            blocks.append(["heading", heading.group(1).strip("#*_ ")])
        elif bullet := _FREE_BULLET.match(line):
            blocks.append(["bullet", bullet.group(2).strip()])
        elif blocks and blocks[-1][0] in ("bullet", "prose") and (
                raw[:1].isspace() or blocks[-1][0] == "prose"):
            blocks[-1][1] += " " + line.strip()  # a wrapped line
        else:
            blocks.append(["prose", line.strip()])
    return [(kind, " ".join(body.replace("**", "").split())) for kind, body in blocks
            if kind != "break" and body.strip()]
