"""The per-user model, trained from every label the store holds (LLM picks and rejections
of earlier days, the reader's likes and dislikes, an imported library): two class-balanced
logistic regressions, one on paper embeddings and one on TF-IDF counts of words and word
pairs, added in log-odds. The exact vocabulary ("kv cache", "mixture of experts") and the
embedding's sense of topic are only partly redundant; together they rank better than
either (benchmarks/quality.py).

``calibrate`` turns the model into a prefilter cut: on each of the last labelled days, a
model trained on the days before it scores that day; the cut is the score that the
wanted papers of those days reach with the requested probability (split-conformal, so a
day it has not seen keeps that share of its wanted papers above the cut, as long as days
resemble each other). Days drift (new topics, new words the lexical model has never
weighed), which lowers scores, so the hybrid never sends a smaller share of a day than
the smallest share a calibration day needed. The model never trains on the day it
scores: the caller leaves that day's papers out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

MIN_POSITIVES = 5
MIN_NEGATIVES = 5
# Chosen on a temporal split of the labelled days (train on the days before, score the
# next): the embedding model learns best strongly regularised, the sparse lexical one
# lightly; equal weights in log-odds.
EMBEDDING_REGULARIZATION = 0.1
LEXICAL_REGULARIZATION = 10.0
LEXICAL_WEIGHT = 1.0
CALIBRATION_DAYS = 4  # the last labelled days that set the cut


@dataclass(frozen=True)
class TrainingSet:
    """Labelled papers: embedding rows, texts, labels (1 wanted) and announcement days."""

    vectors: np.ndarray
    texts: list[str]
    labels: np.ndarray
    days: np.ndarray  # proleptic ordinals; only their order matters

    def rows(self, mask: np.ndarray) -> TrainingSet:
        return TrainingSet(self.vectors[mask], [t for t, m in zip(self.texts, mask, strict=True)
                                                if m], self.labels[mask], self.days[mask])


@dataclass(frozen=True)
class LearnedModel:
    """A fitted model and what it was fitted on."""

    embedding: object  # sklearn LogisticRegression on embeddings
    vectorizer: object  # sklearn TfidfVectorizer
    lexical: object  # sklearn LogisticRegression on TF-IDF rows
    positives: int
    negatives: int
    matrix: object = field(default=None, repr=False)  # the training texts' TF-IDF rows

    def decision(self, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        """Log-odds-scale scores: higher is more wanted; comparable across days."""
        lexical = self.lexical.decision_function(  # type: ignore[attr-defined]
            self.vectorizer.transform(texts))  # type: ignore[attr-defined]
        return (self.embedding.decision_function(vectors)  # type: ignore[attr-defined]
                + LEXICAL_WEIGHT * lexical)


@dataclass(frozen=True)
class Cut:
    """A calibrated prefilter threshold on ``LearnedModel.decision``."""

    threshold: float
    recall: float  # the share of wanted papers it is meant to keep
    positives: int  # wanted papers of the calibration days
    days: int  # calibration days
    share: float  # share of those days' papers at or above the threshold
    least_share: float  # the smallest such share of one calibration day


def learning_available() -> bool:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def can_learn(labels: np.ndarray) -> bool:
    positives = int(labels.sum())
    return positives >= MIN_POSITIVES and len(labels) - positives >= MIN_NEGATIVES


def fit(training: TrainingSet) -> LearnedModel:
    """Fit both models (scikit-learn, from the local extra)."""
    vectorizer = _vectorizer()
    return _fit(training, vectorizer, vectorizer.fit_transform(training.texts))


def calibrate(model: LearnedModel, training: TrainingSet, recall: float,
              days: int = CALIBRATION_DAYS) -> Cut | None:
    """The cut on ``model``'s scores that keeps ``recall`` of the wanted papers, from the
    last ``days`` labelled days of ``training`` (what ``model`` was fitted on), each scored
    by a model of the days before it; ``None`` when the store holds too few labelled days
    or wanted papers to say. The word statistics are the whole set's (no labels in them)."""
    vectorizer, matrix = model.vectorizer, model.matrix
    wanted_scores: list[np.ndarray] = []
    day_scores: list[np.ndarray] = []
    used = 0
    for day in sorted(set(training.days.tolist()), reverse=True):
        if used == days:
            break
        today, before = training.days == day, training.days < day
        if not training.labels[today].any() or not can_learn(training.labels[before]):
            continue
        earlier = _fit(training.rows(before), vectorizer, matrix[before])  # type: ignore[index]
        scores = earlier.decision(training.vectors[today],
                                [t for t, m in zip(training.texts, today, strict=True) if m])
        wanted_scores.append(scores[training.labels[today] == 1])
        day_scores.append(scores)
        used += 1
    positives = np.sort(np.concatenate(wanted_scores)) if wanted_scores else np.zeros(0)
    # Split-conformal: the k-th lowest calibration score keeps a new wanted paper with
    # probability >= recall; with too few wanted papers no such k exists.
    k = math.floor((1 - recall) * (len(positives) + 1))
    if k < 1:
        return None
    threshold = float(positives[k - 1])
    every = np.concatenate(day_scores)
    least = min(float((scores >= threshold).mean()) for scores in day_scores)
    return Cut(threshold, recall, len(positives), used, float((every >= threshold).mean()),
               least)


def _vectorizer() -> object:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                           stop_words="english", dtype=np.float32)


def _fit(training: TrainingSet, vectorizer: object, matrix: object) -> LearnedModel:
    from sklearn.linear_model import LogisticRegression

    embedding = LogisticRegression(C=EMBEDDING_REGULARIZATION, class_weight="balanced",
                                   max_iter=3000).fit(training.vectors, training.labels)
    lexical = LogisticRegression(C=LEXICAL_REGULARIZATION, class_weight="balanced",
                                 max_iter=3000).fit(matrix, training.labels)
    positives = int(training.labels.sum())
    return LearnedModel(embedding, vectorizer, lexical, positives,
                        len(training.labels) - positives, matrix)
