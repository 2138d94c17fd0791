"""The per-user model: logistic regression on paper embeddings, trained from every label
the store holds (LLM picks and rejections of earlier days, the reader's likes and
dislikes, an imported library), blended with the zero-shot score. It never trains on
the day it scores: the caller leaves that day's papers out of the training set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from papersift.scoring.relevance import standardised

MIN_POSITIVES = 5
MIN_NEGATIVES = 5
# Measured on labelled days (benchmarks/quality.py): the embedding alone learns best
# (C = 0.1), and adding a third of the standardised zero-shot score helps a little more.
ZERO_SHOT_WEIGHT = 0.35
REGULARIZATION = 0.1


@dataclass(frozen=True)
class LearnedModel:
    """A fitted model and what it was fitted on."""

    model: object  # sklearn.linear_model.LogisticRegression
    positives: int
    negatives: int

    def decision(self, vectors: np.ndarray) -> np.ndarray:
        return self.model.decision_function(vectors)  # type: ignore[attr-defined]


def learning_available() -> bool:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def can_learn(labels: np.ndarray) -> bool:
    positives = int(labels.sum())
    return positives >= MIN_POSITIVES and len(labels) - positives >= MIN_NEGATIVES


def fit(vectors: np.ndarray, labels: np.ndarray, *,
        regularization: float = REGULARIZATION) -> LearnedModel:
    """Fit a class-balanced logistic regression (scikit-learn, from the local extra)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=regularization, class_weight="balanced", max_iter=3000)
    model.fit(vectors, labels)
    positives = int(labels.sum())
    return LearnedModel(model, positives, len(labels) - positives)


def blend(model: LearnedModel, vectors: np.ndarray, zero_shot_score: np.ndarray) -> np.ndarray:
    """The learned ranking of the day's papers, with the zero-shot score mixed in."""
    return (standardised(model.decision(vectors))
            + ZERO_SHOT_WEIGHT * standardised(zero_shot_score))
