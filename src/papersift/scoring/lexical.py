"""The words of the interests found in a paper: the lexical half of the zero-shot score,
and the evidence a comment names.

Each phrase of the interests (a topic's keep phrases, the keywords; separately the
filter, "not relevant" and avoid phrases) becomes a set of stemmed words and word
pairs. A paper matches a phrase by the share of the phrase's weight it contains, each
word weighted by how rare it is among the papers scored together (so "quantization"
counts, "training" hardly). Exact technical vocabulary ("KV cache", "GRPO", "medical
imaging") is what an embedding blurs and a reader means literally.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from papersift.scoring.day_terms import DayTerms, Phrase
from papersift.scoring.encoders import STOP_WORDS, stem
from papersift.scoring.interests import Interests, phrases

_WORD_OR_BREAK = re.compile(r"[A-Za-z][A-Za-z0-9]+|[.,;:!?()\[\]]")
_CONJUNCTION = re.compile(r"\s+(?:and|or|and/or)\s+|\s*/\s*", re.I)
TOP_PHRASES = 3  # phrase matches summed per topic
ABBREVIATION_CHARS = 8  # "RL", "MoE", "LoRA", "GRPO": two capitals or more, this short
EVIDENCE_SHARE = 0.05  # a word of a longer phrase is evidence if this few papers use it


@functools.lru_cache(maxsize=8192)  # the day's texts, read again for every reader
def words(text: str) -> tuple[tuple[str, str], ...]:
    """(stem, words as written) for each content word of ``text`` and each adjacent pair
    of them (a pair as the text has it: "mixture of experts" for mixture + expert).
    An abbreviation ("RL", "MoE", "LLMs") is its own key, as written: it matches only
    itself, never a word that happens to share its letters ("sim", "moe")."""
    singles: list[tuple[str, str]] = []
    doubles: list[tuple[str, str]] = []
    previous: tuple[str, int] | None = None  # the last content word: its key and start
    for match in _WORD_OR_BREAK.finditer(text.replace("-", " ")):
        word = match.group()
        if len(word) == 1:  # a comma or a sentence's end: no pair across it
            previous = None
            continue
        if word.lower() in STOP_WORDS:
            continue
        key, start = _key(word), match.start()
        singles.append((key, text[start:match.end()]))
        if previous is not None:
            doubles.append((f"{previous[0]} {key}", text[previous[1]:match.end()]))
        previous = (key, start)
    return tuple(singles + doubles)


@functools.lru_cache(maxsize=65536)  # a day's abstracts repeat their words
def _key(word: str) -> str:
    bare = word[:-1] if word.endswith("s") and len(word) > 2 else word  # LLMs, SSMs
    if len(bare) <= ABBREVIATION_CHARS and sum(c.isupper() for c in bare) >= 2:
        return "=" + bare
    return stem(word.lower())


@dataclass(frozen=True)
class LexicalMatch:
    """Per paper: the best topic-phrase match, the best filter match, and the evidence."""

    topic_scores: np.ndarray  # (papers, topics) summed best phrase matches
    positive: np.ndarray  # (papers,) the best topic's
    negative: np.ndarray  # (papers,) the best filter/avoid phrase match
    best_phrase: list[list[str | None]]  # [paper][topic] -> its best-matched phrase
    filtered: list[str | None]  # [paper] a filter/avoid phrase wholly present, if any
    whole: np.ndarray  # (papers, topics) a phrase of the topic squarely present
    terms: DayTerms  # the papers' words
    topics: list[list[Phrase]]  # each topic's phrases
    matched: np.ndarray  # (papers, the topics' phrases in order) each phrase's match

    def evidence(self, row: int, topic: int) -> list[str]:
        """The words of paper ``row`` that matched ``topic``, as the paper writes them:
        the phrases' word pairs, a one-word phrase ("pruning"), or a rare word of a
        longer one; not "low" of "low-rank methods"."""
        first = sum(len(t) for t in self.topics[:topic])
        if not self.matched[row, first:first + len(self.topics[topic])].any():
            return []
        terms, n = self.terms, self.terms.n
        here = terms.terms_of(row)
        found = [t for column, p in enumerate(self.topics[topic], start=first)
                 if self.matched[row, column] > 0 for t in p.ordered if t in here
                 and (" " in t or len(p.words) == 1
                      or terms.frequency[terms.vocabulary[t]] <= EVIDENCE_SHARE * n)]
        # Name the pairs, and single words only where no pair already says them.
        pairs = [t for t in found if " " in t]
        inside = {w for t in pairs for w in t.split()}
        named = [t for t in dict.fromkeys(found) if " " in t or t not in inside]
        surfaces = dict(reversed(terms.found[row]))  # the first spelling wins
        return [surfaces[t] for t in named]


def day_terms(texts: Sequence[str]) -> DayTerms:
    """The words of ``texts``, ready for every reader's matcher."""
    return DayTerms([words(t) for t in texts])


class LexicalMatcher:
    """The interests' phrases, ready to be looked for in papers."""

    def __init__(self, interests: Interests):
        # A topic's name is a heading ("Representation learning"): its words are too
        # general to be evidence wherever the topic lists what it keeps.
        self.topics = [[self._phrase(p) for p in (phrases(topic.keep) or [topic.name])]
                       for topic in interests.topics]
        keyword_phrases = [self._phrase(p) for p in interests.keywords]
        for phrase in keyword_phrases:  # a keyword counts for the topic sharing most words
            overlap = [sum(len(phrase.words & p.words) for p in topic) for topic in self.topics]
            if self.topics:
                self.topics[int(np.argmax(overlap))].append(phrase)
        self.negatives = [self._phrase(p) for p in interests.negative_phrases]

    @property
    def phrases(self) -> list[Phrase]:
        """Every phrase looked for: the topics', then the filters'."""
        return [*(p for topic in self.topics for p in topic), *self.negatives]

    @staticmethod
    def _phrase(text: str) -> Phrase:
        pairs = words(text)
        parts = [[k for k, _ in words(part) if " " not in k]
                 for part in _CONJUNCTION.split(text)]
        ordered = tuple(dict.fromkeys(k for k, _ in pairs))
        return Phrase(text, frozenset(ordered), frozenset(k for k in ordered if " " not in k),
                      frozenset(part[0] for part in parts if len(part) == 1), ordered)

    def match(self, texts: Sequence[str], terms: DayTerms | None = None) -> LexicalMatch:
        """Match every text; word rarity is measured among ``texts`` themselves
        (``terms``: their words already counted, shared with other readers)."""
        terms = terms or day_terms(texts)
        n = terms.n
        columns = terms.columns(self.phrases)
        sizes = [len(topic) for topic in self.topics]
        edges = np.cumsum([0, *sizes])
        topic_scores = np.zeros((n, len(self.topics)))
        wholly = np.zeros((n, len(self.topics)), dtype=bool)
        best_phrase: list[list[str | None]] = [[] for _ in range(n)]
        for column, topic in enumerate(self.topics):
            scores = columns.score[:, edges[column]:edges[column + 1]]
            if not topic:
                for row in range(n):
                    best_phrase[row].append(None)
                continue
            ordered = -np.sort(-scores, axis=1)
            topic_scores[:, column] = ordered[:, :TOP_PHRASES].sum(axis=1)
            wholly[:, column] = columns.squarely[:, edges[column]:edges[column + 1]].any(axis=1)
            best = scores.argmax(axis=1)
            for row in range(n):
                best_phrase[row].append(topic[best[row]].text if scores[row, best[row]] > 0
                                        else None)
        negatives = slice(edges[-1], None)
        negative = (columns.score[:, negatives].max(axis=1) if self.negatives
                    else np.zeros(n))
        plainly = columns.plainly[:, negatives]
        filtered = [self.negatives[int(row.argmax())].text if row.any() else None
                    for row in plainly]
        positive = topic_scores.max(axis=1) if self.topics else np.zeros(n)
        return LexicalMatch(topic_scores, positive, negative, best_phrase, filtered, wholly,
                            terms, self.topics, columns.score[:, :edges[-1]])
