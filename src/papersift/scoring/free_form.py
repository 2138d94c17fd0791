"""Interests in any words but the numbered layout: prose, bullets, headings.

Each sentence or bullet is a statement. One that says what the reader does not want ("I
skip…", "not interested in…", "Exclusions: …", or anything under a heading, lead line or
parent bullet such as "What I skip:" or "Not interested") is a filter; the rest say what
they want. A heading starts a topic, as does a bullet with indented bullets under it, a
statement of the shape "name: item, item", or any statement that lists three things or
more; the lead-ins of prose ("I work on", "my main interest is") are not phrases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from papersift.scoring.interest_model import Interests, Topic, phrases
from papersift.scoring.statements import (
    HEADING,
    KEYWORD_HINT,
    LABEL,
    NEGATIVE,
    SENTENCE,
    clean,
    negated,
    says_not,
    wanted,
)

_BULLET = re.compile(r"^(\s*)(?:[-*+•]|\d+[.)])\s+(.*)$")
# Headings and labels that announce the file or say "wanted", not a topic.
_GENERIC = re.compile(r"^(?:what i (?:want to )?read|(?:my )?(?:research )?interests?|"
                      r"topics?|about( me)?|overview|reading list|papers?|yes|keep|include|"
                      r"wanted|want|relevant|positive|must[- ]reads?|likes?|favou?rites?|"
                      r"interested(?: in)?|(?:high |top )?priorit(?:y|ies))\W*$", re.I)
# "World models: model-based RL, …", and in running prose "efficiency and compression,
# meaning quantization, …" or "memory in agents too, from episodic memory to …".
_NAMED = re.compile(r"^([^:]{3,80}?)(?::|,?\s+(?:such as|including|meaning|namely|especially"
                    r"|in particular|for example|for instance|e\.g\.)|,\s+(?:from|like))\s+"
                    r"(\S.*)$", re.I)
_MAX_NAME_WORDS = 8
_LIST_ITEMS = 3  # phrases in a statement that make it a topic of its own


@dataclass(frozen=True)
class _Context:
    """Where a statement's items go: the topic of the heading or parent bullet above it,
    and whether everything there is a filter, or keywords."""

    topic: Topic | None = None
    negative: bool = False
    keywords: bool = False


@dataclass(frozen=True)
class _Block:
    kind: str  # heading | bullet | prose
    text: str
    indent: int = 0


def free_form(text: str) -> Interests:
    """Interests from prose, bullets or headings (any layout but numbered topics)."""
    interests = Interests(topics=[])
    general = Topic(name="Your interests", named=False)
    section = _Context()  # set by headings and lead lines
    parents: list[tuple[int, _Context]] = []  # bullets with indented bullets under them
    blocks = _blocks(text)
    for index, block in enumerate(blocks):
        if block.kind == "heading":
            parents.clear()
            section = _group(block.text, _Context(), interests)
            continue
        if block.kind == "bullet":
            while parents and parents[-1][0] >= block.indent:
                parents.pop()
            context = parents[-1][1] if parents else section
            after = blocks[index + 1] if index + 1 < len(blocks) else None
            if after and after.kind == "bullet" and after.indent > block.indent:
                parents.append((block.indent, _group(block.text.rstrip(":"), context,
                                                     interests)))
                continue
            statements = [block.text]
        else:
            parents.clear()
            context = section
            statements = SENTENCE.split(block.text)
        for statement in statements:
            statement = statement.strip().rstrip(".")
            if statement.endswith(":"):  # a lead line: "What I skip:", "I follow:"
                section = context = replace(context, negative=says_not(statement[:-1]))
                continue
            _place(statement, context, interests, general)
    if general.keep:
        interests.topics.append(general)
    return interests


def _group(name: str, outer: _Context, interests: Interests) -> _Context:
    """The context a heading or parent bullet opens: keywords, filters, or a topic."""
    if KEYWORD_HINT.search(name):
        return _Context(keywords=True, negative=says_not(KEYWORD_HINT.sub("", name)))
    if says_not(name):
        return _Context(topic=outer.topic, negative=True)
    core = wanted(name + " ")  # "I work on" leads in to the items under it
    if outer.negative or outer.keywords or not core or _GENERIC.match(core):
        return outer
    topic = Topic(name=core[:1].upper() + core[1:])
    interests.topics.append(topic)
    return _Context(topic=topic)


def _place(statement: str, context: _Context, interests: Interests, general: Topic) -> None:
    """File one statement's items where they belong."""
    cue = NEGATIVE.search(statement)
    label = LABEL.match(statement)
    if label and not cue and _announces(label.group(1)):
        # "Exclusions: a, b", "Negative keywords: c", "Must read: d"
        context = _group(label.group(1), context, interests)
        negative, what = context.negative, label.group(2).strip(" .:;*")
    else:
        negative = context.negative or bool(cue)
        what = negated(statement, cue).strip(" .:;") if cue else wanted(statement)
    if not what:
        return
    if context.keywords:
        (interests.negative_keywords if negative else interests.keywords).extend(
            phrases([what]))
    elif negative:
        (context.topic.filter if context.topic else interests.avoid).append(what)
    elif context.topic is not None:
        context.topic.keep.append(what)
    elif named := _topic_named(what):
        interests.topics.append(named)
    elif len(items := phrases([what])) >= _LIST_ITEMS:
        interests.topics.append(Topic(name=items[0][:1].upper() + items[0][1:], keep=[what],
                                      named=False))
    else:
        general.keep.append(what)


def _announces(label: str) -> bool:
    """Whether a label says what kind of list follows ("Skip", "Keywords", "Must read")
    rather than naming a topic."""
    return says_not(label) or bool(KEYWORD_HINT.search(label) or _GENERIC.match(label))


def _topic_named(statement: str) -> Topic | None:
    """"World models and RL: model-based RL, planning agents" names a topic."""
    found = _NAMED.match(statement)
    if not found or len(found.group(1).split()) > _MAX_NAME_WORDS:
        return None
    name = wanted(found.group(1))
    if not name or _GENERIC.match(name):  # "papers such as …": a list, not a topic
        return None
    return Topic(name=name[:1].upper() + name[1:], keep=[found.group(2)])


def _blocks(text: str) -> list[_Block]:
    """Headings, bullets and paragraphs, wrapped lines joined. A line that opens with a
    label ("Keywords:", "Skip:") after a finished sentence starts a block of its own."""
    blocks: list[list] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            if blocks and blocks[-1][0] == "prose":
                blocks.append(["break", "", 0])
            continue
        if heading := HEADING.match(line):
            blocks.append(["heading", heading.group(1).strip("#*_ "), 0])
        elif bullet := _BULLET.match(line):
            blocks.append(["bullet", bullet.group(2).strip(),
                           len(bullet.group(1).expandtabs(4))])
        elif blocks and blocks[-1][0] in ("bullet", "prose") and (
                raw[:1].isspace() or blocks[-1][0] == "prose") and not (
                (label := LABEL.match(line)) and (_announces(label.group(1)) or blocks[-1][1]
                                                  .rstrip().endswith((".", "!", "?", ":")))):
            blocks[-1][1] += " " + line.strip()  # a wrapped line
        else:
            blocks.append(["prose", line.strip(), 0])
    return [_Block(kind, clean(body), indent) for kind, body, indent in blocks
            if kind != "break" and body.strip()]
