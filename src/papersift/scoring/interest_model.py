"""What a reader's interests are once read, whatever the layout: topics (what each keeps
and filters out), keywords, what to avoid; and the short phrases each is looked for by."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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


def usable(interests: Interests) -> bool:
    """Whether the interests name anything to look for."""
    return any(t.keep_phrases() for t in interests.topics) or bool(interests.keywords)
