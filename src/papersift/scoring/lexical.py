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
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from papersift.scoring.encoders import STOP_WORDS, stem
from papersift.scoring.interests import Interests, phrases

_WORD_OR_BREAK = re.compile(r"[A-Za-z][A-Za-z0-9]+|[.,;:!?()\[\]]")
_CONJUNCTION = re.compile(r"\s+(?:and|or|and/or)\s+|\s*/\s*", re.I)
TOP_PHRASES = 3  # phrase matches summed per topic
# Less than this share of a phrase's weight is a passing word ("neural networks" of "how
# neural networks form features"), not a match. Tried 0, 1/3, 1/2, 2/3: 1/3 was the best
# over the 11 labelled days and better than none in both halves of them.
LEAST_MATCH = 0.34
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
class Phrase:
    text: str  # as the reader wrote it
    terms: frozenset[str]
    words: frozenset[str]  # its single stemmed words
    single_parts: frozenset[str]  # its "and" / "or" parts of one word ("sparse")

    @property
    def pairs(self) -> frozenset[str]:
        return self.terms - self.words


@dataclass(frozen=True)
class LexicalMatch:
    """Per paper: the best topic-phrase match, the best filter match, and the evidence."""

    topic_scores: np.ndarray  # (papers, topics) summed best phrase matches
    positive: np.ndarray  # (papers,) the best topic's
    negative: np.ndarray  # (papers,) the best filter/avoid phrase match
    evidence: list[list[list[str]]]  # [paper][topic] -> the paper's matched words
    best_phrase: list[list[str | None]]  # [paper][topic] -> its best-matched phrase
    filtered: list[str | None]  # [paper] a filter/avoid phrase wholly present, if any
    whole: np.ndarray  # (papers, topics) a phrase of the topic squarely present


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

    @staticmethod
    def _phrase(text: str) -> Phrase:
        pairs = words(text)
        parts = [[k for k, _ in words(part) if " " not in k]
                 for part in _CONJUNCTION.split(text)]
        return Phrase(text, frozenset(k for k, _ in pairs),
                      frozenset(k for k, _ in pairs if " " not in k),
                      frozenset(part[0] for part in parts if len(part) == 1))

    def match(self, texts: Sequence[str]) -> LexicalMatch:
        """Match every text; word rarity is measured among ``texts`` themselves."""
        found = [words(t) for t in texts]
        papers = [Counter(k for k, _ in terms) for terms in found]
        surfaces = [dict(reversed(terms)) for terms in found]  # the first spelling wins
        frequency: Counter[str] = Counter()
        for paper in papers:
            frequency.update(paper.keys())
        n = len(texts)
        unseen = math.log(n + 1)

        def weight(term: str) -> float:
            return math.log((n + 1) / (frequency[term] + 1)) if term in frequency else unseen

        totals = {id(p): sum(weight(t) for t in p.terms) or 1.0
                  for p in [*self.negatives, *(p for topic in self.topics for p in topic)]}

        def score(paper: Counter[str], phrase: Phrase) -> float:
            # One word of a longer phrase is not the phrase ("mixture" of "mixture of
            # experts", "laws" of "scaling laws"): two of its words side by side are, or
            # a one-word part of it ("sparse" of "sparse or dictionary learning").
            if len(phrase.words) > 1 and not (phrase.single_parts | phrase.pairs) & paper.keys():
                return 0.0
            total = totals[id(phrase)]
            found = sum(weight(t) * (1 + math.log(paper[t])) for t in phrase.terms if t in paper)
            return found / total if found / total >= LEAST_MATCH else 0.0

        topic_scores = np.zeros((n, len(self.topics)))
        wholly = np.zeros((n, len(self.topics)), dtype=bool)
        negative = np.zeros(n)
        evidence: list[list[list[str]]] = []
        best_phrase: list[list[str | None]] = []
        filtered: list[str | None] = []
        for row, paper in enumerate(papers):
            per_topic = []
            best_phrase.append([])
            for column, topic in enumerate(self.topics):
                matches = [score(paper, p) for p in topic]
                topic_scores[row, column] = sum(sorted(matches, reverse=True)[:TOP_PHRASES])
                # Named squarely: a part of a phrase ("KV-cache eviction" of "KV-cache
                # eviction and compression") all there, or a one-word phrase.
                wholly[row, column] = any(
                    (len(p.words) == 1 and p.words <= paper.keys()) or p.pairs & paper.keys()
                    for p in topic)
                best = int(np.argmax(matches)) if matches else -1
                best_phrase[row].append(topic[best].text if best >= 0 and matches[best] > 0
                                        else None)
                # Evidence: the phrase's word pairs, a one-word phrase ("pruning"), or a
                # rare word of a longer one; not "low" of "low-rank methods".
                found = [t for p, m in zip(topic, matches, strict=True) if m > 0
                         for t in p.terms if t in paper
                         and (" " in t or len(p.words) == 1
                              or frequency[t] <= EVIDENCE_SHARE * n)]
                # Name the pairs, and single words only where no pair already says them.
                pairs = [t for t in found if " " in t]
                inside = {w for t in pairs for w in t.split()}
                named = [t for t in dict.fromkeys(found) if " " in t or t not in inside]
                per_topic.append([surfaces[row][t] for t in named])
            evidence.append(per_topic)
            scores = [score(paper, p) for p in self.negatives]
            negative[row] = max(scores, default=0.0)
            # Said in a comment only when plain: every word of the phrase there, and a
            # one-word phrase ("benchmark") more than in passing.
            whole = [p.text for p in self.negatives if p.terms and p.terms <= paper.keys()
                     and (len(p.words) > 1 or paper[next(iter(p.words))] >= 2)]
            filtered.append(whole[0] if whole else None)
        positive = topic_scores.max(axis=1) if self.topics else np.zeros(n)
        return LexicalMatch(topic_scores, positive, negative, evidence, best_phrase,
                            filtered, wholly)
