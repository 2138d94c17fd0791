"""The summary without an LLM: the abstract's most informative sentence, as written.

Informative means rare on the day: a sentence scores the inverse document frequency of
its distinct words (over the day's papers) divided by the square root of its length, so
that background sentences made of the field's common words ("Large language models have
shown ...") lose to the one that names what this paper does; very short or very long
ones get a penalty. A sentence that states the contribution ("we propose", "we show")
is preferred to any other, and one that needs the sentence before it ("However, ...",
"we remove this restriction") is never chosen.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[a-z][a-z0-9-]{2,}")
# A sentence ends at . ! ? before a capital, a digit or a bracket, unless the period
# closes an abbreviation or an initial.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[$\\“\"])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Eq|Sec|Tab|approx|resp|Dr|Prof|No)\.|\b[A-Z]\.)$")
_CONTRIBUTION = re.compile(
    r"\b(?:we|our|this (?:paper|work|study))\b[^.]{0,60}?\b(?:propose|introduce|present|"
    r"show|find|demonstrate|develop|prove|achiev|outperform|reduc|improv|establish)",
    re.IGNORECASE)
# A sentence that leans on the one before it ("However, ...", "To address this, ...",
# "In this paper, we remove this restriction"): shown alone it says nothing. "This
# paper" and its kin name the paper itself and are fine.
_REFERS_BACK = re.compile(
    r"^(?:however|moreover|furthermore|additionally|also|thus|therefore|hence|"
    r"consequently|in contrast|instead|yet|still|nevertheless|nonetheless|similarly|"
    r"likewise|accordingly|meanwhile|besides|otherwise|in addition|as a result|"
    r"in (?:doing so|turn|particular)|to (?:this end|that end|do so|address|tackle|"
    r"overcome|solve|bridge|fill|close|mitigate|remedy|alleviate)|"
    r"it|its|they|their|them|he|she|there)\b"
    r"|\b(?:this|these|those|such|the above|the aforementioned)\s+"
    r"(?!(?:paper|work|study|article|letter|note|report|survey|thesis|manuscript|"
    r"position paper|technical report|as)\b)[a-z]", re.IGNORECASE)
# Common English words, and the words every abstract uses for itself (no library: the
# summary must work wherever papersift runs, with or without the learner's packages).
_STOP = frozenset((
    "the", "and", "for", "with", "that", "this", "from", "are", "was", "were", "which",
    "have", "has", "been", "their", "its", "into", "these", "those", "such", "can", "our",
    "also", "than", "more", "most", "other", "over", "under", "between", "both", "each",
    "while", "when", "where", "how", "what", "not", "only", "but", "all", "any", "may",
    "they", "them", "there", "then", "thus", "however", "often", "well", "very", "many",
    "much", "some", "one", "two", "three", "first", "second", "new", "via", "using", "use",
    "used", "based", "paper", "work", "study", "approach", "method", "methods", "results",
    "show", "shows", "propose", "proposed", "existing", "recent", "address", "across",
))
MAX_CHARS = 400
MIN_WORDS, MAX_WORDS = 8, 60


def sentences(abstract: str) -> list[str]:
    """The abstract's sentences (abbreviations such as "e.g." do not end one)."""
    text = " ".join(abstract.split())
    parts: list[str] = []
    for piece in _BOUNDARY.split(text):
        if parts and _ABBREVIATION.search(parts[-1]):
            parts[-1] += " " + piece
        else:
            parts.append(piece)
    return [p for p in parts if p]


def document_frequencies(texts: Iterable[str]) -> tuple[Counter[str], int]:
    """How many of ``texts`` hold each word, and how many texts there were."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        counts.update(set(_WORD.findall(text.lower())))
        total += 1
    return counts, total


def most_informative_sentence(abstract: str, frequencies: Counter[str], total: int) -> str:
    """The sentence of ``abstract`` that says most that the day's other papers do not."""
    candidates = sentences(abstract)
    if not candidates:
        return ""

    def score(sentence: str) -> float:
        words = [w for w in _WORD.findall(sentence.lower()) if w not in _STOP]
        if not words:
            return 0.0
        rarity = sum(math.log((total + 1) / (frequencies.get(w, 0) + 1)) + 1 for w in set(words))
        value = rarity / math.sqrt(len(words))
        length = len(sentence.split())
        if length < MIN_WORDS or length > MAX_WORDS:
            value *= 0.6
        if _CONTRIBUTION.search(sentence):
            value *= 1.3
        return value

    # The first sentence has none before it; a later one must stand on its own. Of
    # those, one that states the contribution wins over background.
    alone = [c for i, c in enumerate(candidates) if i == 0 or not _REFERS_BACK.search(c)]
    stating = [c for c in alone if _CONTRIBUTION.search(c)]
    best = max(stating or alone, key=score)
    if len(best) > MAX_CHARS:
        best = best[:MAX_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return best
