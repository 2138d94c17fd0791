"""Zero-shot relevance: how close a paper's vector lies to the reader's topics.

Each topic is embedded whole and phrase by phrase ("MoE routing", "KV-cache design"...).
Every similarity column is standardised over the day's papers first, so a phrase that
resembles every ML abstract ("training") counts less than one that singles papers out.
A paper's topic score mixes its standing on the whole topic with its best phrase hits;
its relevance is the best topic's score minus a penalty for standing out on what the
reader asked to filter out. The parts are kept so the comment can name the evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from papersift.scoring.encoders import Encoder
from papersift.scoring.interests import Interests
from papersift.scoring.lexical import LexicalMatch


@dataclass(frozen=True)
class ZeroShotParams:
    """Weights of the zero-shot score (measured on labelled days: benchmarks/quality.py)."""

    whole_topic: float = 0.5  # weight of the whole-topic similarity vs. phrase hits
    top_phrases: int = 2  # phrase hits averaged per topic
    negative: float = 0.4  # penalty weight of the closest filter/avoid phrase
    standardise: bool = True  # z-score each similarity column over the day's papers
    # The lexical half (interest words present in the paper), chosen on the first five
    # labelled days and checked on the six after (benchmarks/quality.py): AUC 0.815 ->
    # 0.827 on those six.
    lexical: float = 0.25  # weight of the best topic's word matches
    lexical_negative: float = 0.3  # penalty weight of the best filter/avoid word match
    # A filter phrase that reads like the reader's own topics ("using a standard
    # architecture for a task") qualifies the *kind* of contribution, which a vector
    # cannot judge: its closeness mostly marks on-topic papers. Its vector penalty fades
    # from full (nearest topic at cosine <= 0.3: "medical imaging") to none (>= 0.5); its
    # words still count. Chosen on the first five labelled days (top K 0.381 -> 0.394, AUC
    # 0.865 -> 0.868), checked on the six after (0.277 -> 0.279, 0.826 -> 0.830; share
    # for 95% of picks 0.586 -> 0.533).
    qualifier_similarity: tuple[float, float] = (0.3, 0.5)


@dataclass(frozen=True)
class InterestVectors:
    interests: Interests
    topic_vectors: np.ndarray  # (topics, dim)
    phrases: list[str]
    phrase_topic: np.ndarray  # (phrases,) topic index of each phrase
    phrase_vectors: np.ndarray  # (phrases, dim)
    negatives: list[str]
    negative_vectors: np.ndarray  # (negatives, dim)

    def negative_weights(self, params: ZeroShotParams) -> np.ndarray:
        """(negatives,) how much each filter phrase's vector counts (see
        ``ZeroShotParams.qualifier_similarity``)."""
        if not len(self.negative_vectors):
            return np.zeros(0, dtype=np.float32)
        nearest = (self.negative_vectors @ self.topic_vectors.T).max(axis=1)
        full, none = params.qualifier_similarity
        return np.clip((none - nearest) / (none - full), 0.0, 1.0).astype(np.float32)

    @classmethod
    def build(cls, interests: Interests, encoder: Encoder,
              memo: dict[str, np.ndarray] | None = None) -> InterestVectors:
        """The interests' vectors; ``memo``: vectors of texts already encoded by this
        ``encoder`` (shared by readers whose interests say the same things)."""
        memo = {} if memo is None else memo

        def encode(texts: list[str]) -> np.ndarray:
            missing = list(dict.fromkeys(t for t in texts if t not in memo))
            if missing:
                memo.update(zip(missing, encoder.encode(missing), strict=True))
            return np.vstack([memo[t] for t in texts]) if texts else encoder.encode([])

        phrases, owners = [], []
        for index, topic in enumerate(interests.topics):
            for phrase in topic.keep_phrases():
                phrases.append(phrase)
                owners.append(index)
        for phrase in interests.keywords:  # keywords count for the topic they resemble most
            phrases.append(phrase)
            owners.append(-1)
        topic_vectors = encode([t.keep_text for t in interests.topics])
        phrase_vectors = encode(phrases)
        owner = np.array(owners, dtype=int)
        if (owner == -1).any():
            nearest = (phrase_vectors[owner == -1] @ topic_vectors.T).argmax(axis=1)
            owner[owner == -1] = nearest
        negatives = interests.negative_phrases
        return cls(interests, topic_vectors, phrases, owner, phrase_vectors, negatives,
                   encode(negatives) if negatives else
                   np.zeros((0, topic_vectors.shape[1]), dtype=np.float32))


@dataclass(frozen=True)
class ZeroShot:
    score: np.ndarray  # (papers,) the zero-shot relevance, higher is better
    topic_scores: np.ndarray  # (papers, topics)
    best_topic: np.ndarray  # (papers,)
    best_phrase: np.ndarray  # (papers,) index into InterestVectors.phrases
    negative: np.ndarray  # (papers,) similarity to the closest negative phrase
    best_negative: np.ndarray  # (papers,) its index, -1 when there are none
    lexical: LexicalMatch | None = None  # the interests' words found in each paper

    def features(self) -> np.ndarray:
        """Per-paper features for the learner: topic scores, negative, overall score."""
        return np.column_stack([self.topic_scores, self.negative, self.score])


def zero_shot(papers: np.ndarray, vectors: InterestVectors,
              params: ZeroShotParams = ZeroShotParams(),
              lexical: LexicalMatch | None = None) -> ZeroShot:
    """Score paper vectors (unit rows) against the interests; with ``lexical`` (the same
    papers' word matches) the words count too."""
    n_topics = len(vectors.interests.topics)
    prepare = _standardise if params.standardise else (lambda m: m)
    whole = prepare(papers @ vectors.topic_vectors.T)  # (papers, topics)
    phrase_sims = prepare(papers @ vectors.phrase_vectors.T)  # (papers, phrases)
    hits = np.zeros_like(whole)
    best_phrase = np.zeros(len(papers), dtype=int)
    for topic in range(n_topics):
        columns = np.flatnonzero(vectors.phrase_topic == topic)
        if len(columns) == 0:
            hits[:, topic] = whole[:, topic]
            continue
        sims = phrase_sims[:, columns]
        k = min(params.top_phrases, len(columns))
        hits[:, topic] = np.sort(sims, axis=1)[:, -k:].mean(axis=1)
    topic_scores = params.whole_topic * whole + (1 - params.whole_topic) * hits
    if lexical is not None:
        topic_scores = topic_scores + params.lexical * prepare(lexical.topic_scores)
    best_topic = topic_scores.argmax(axis=1)
    for row, topic in enumerate(best_topic):
        columns = np.flatnonzero(vectors.phrase_topic == topic)
        best_phrase[row] = columns[phrase_sims[row, columns].argmax()] if len(columns) else -1
    if vectors.negatives:
        negative_sims = prepare(papers @ vectors.negative_vectors.T) \
            * vectors.negative_weights(params)
        negative = negative_sims.max(axis=1)
        best_negative = negative_sims.argmax(axis=1)
    else:
        negative = np.zeros(len(papers), dtype=np.float32)
        best_negative = np.full(len(papers), -1)
    score = topic_scores.max(axis=1) - params.negative * negative
    if lexical is not None:
        spread = lexical.negative.std() if len(papers) > 1 else 0.0
        score = score - params.lexical_negative * lexical.negative / (spread + 1e-6)
    return ZeroShot(score, topic_scores, best_topic, best_phrase, negative, best_negative,
                    lexical)


def _standardise(matrix: np.ndarray) -> np.ndarray:
    if len(matrix) < 2:
        return np.zeros_like(matrix)
    return (matrix - matrix.mean(axis=0)) / (matrix.std(axis=0) + 1e-6)


def standardised(values: np.ndarray) -> np.ndarray:
    """One score column on a common scale (mean 0, unit spread) for blending."""
    return _standardise(values.reshape(-1, 1)).ravel()


def paper_text(title: str, abstract: str) -> str:
    return f"{title}. {abstract}"


def scale_by_rank(values: Sequence[float] | np.ndarray, shares: Sequence[float]) -> np.ndarray:
    """Map values to 1–10 by rank: ``shares[i]`` is the share of papers scoring ``10 - i``
    or more (cumulative, best first). Ties share the better score."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return np.zeros(0, dtype=int)
    order = (-values).argsort(kind="stable")
    descending = -values[order]
    ranks = np.empty(len(values))
    ranks[order] = np.searchsorted(descending, descending, side="left")  # ties: best rank
    share = (ranks + 1) / len(values)
    scores = np.ones(len(values), dtype=int)
    for index, cumulative in enumerate(shares):
        scores[(share <= cumulative) & (scores == 1)] = 10 - index
    return scores
