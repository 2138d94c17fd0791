"""The per-user model, trained from every label the store holds (LLM picks and rejections
of earlier days, the reader's likes and dislikes, an imported library). Three signals,
each knowing something the others miss:

- a class-balanced logistic regression on TF-IDF counts of words and word pairs (the
  exact vocabulary: "kv cache", "mixture of experts"; negatively "clinical");
- one on the paper embeddings (the sense of topic, whatever the wording);
- the zero-shot score against the written interests (what no label has taught yet).

They are added with weights learned by stacking: on each of the last labelled days, the
two regressions are fitted on the days before it and score it; a logistic regression on
those out-of-sample scores (and the zero-shot score) gives each signal its weight. The
same out-of-sample scores calibrate the prefilter cut (``calibrate``): the score that
the wanted papers of those days reach with the requested probability (split-conformal,
so a day it has not seen keeps that share of its wanted papers above the cut, as long
as days resemble each other). Days drift (new topics, new words the lexical model has
never weighed), which lowers scores, so the hybrid never sends a smaller share of a day
than the smallest share a calibration day needed. The model never trains on the day it
scores: the caller leaves that day's papers out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from papersift.scoring.linear import Logistic, TfIdf

MIN_POSITIVES = 5
MIN_NEGATIVES = 5
# Chosen on a temporal split of the labelled days (train on the first five, score the six
# after; checked training on seven): both regressions learn best regularised (lexical
# C 10 -> 1: AUC +0.005 both ways).
EMBEDDING_REGULARIZATION = 0.1
LEXICAL_REGULARIZATION = 1.0
# Weights (lexical, embedding, zero-shot) while the store holds too few labelled days to
# learn them; about what stacking learns on the labelled April days.
DEFAULT_WEIGHTS = (2.0, 1.0, 0.5)
# The solver stops at this gradient: 1e-4 (scikit-learn's default) took twice the time
# for no better ranking (quality.py: learned AUC 0.9245 with it, 0.9261 with this).
TOLERANCE = 1e-3
CALIBRATION_DAYS = 4  # the last labelled days that weigh the signals and set the cut
SIGNALS = ("words", "embedding", "interests")


@dataclass(frozen=True)
class TrainingSet:
    """Labelled papers: embedding rows, texts, labels (1 wanted), announcement days and
    their zero-shot scores against the interests."""

    vectors: np.ndarray
    texts: list[str]
    labels: np.ndarray
    days: np.ndarray  # proleptic ordinals; only their order matters
    zero_shot: np.ndarray
    keys: tuple[str, ...] = ()  # the papers' ids, when known

    def rows(self, mask: np.ndarray) -> TrainingSet:
        def kept(items: Sequence[str]) -> list[str]:
            return [item for item, m in zip(items, mask, strict=True) if m]

        return TrainingSet(self.vectors[mask], kept(self.texts), self.labels[mask],
                           self.days[mask], self.zero_shot[mask], tuple(kept(self.keys))
                           if self.keys else ())


@dataclass(frozen=True)
class Fold:
    """One labelled day scored by a model of the days before it."""

    signals: np.ndarray  # (papers, 3) in SIGNALS order
    labels: np.ndarray


@dataclass(frozen=True)
class Regressions:
    vectorizer: TfIdf
    lexical: Logistic  # on TF-IDF rows
    embedding: Logistic  # on embeddings

    def signals(self, vectors: np.ndarray, texts: list[str], zero: np.ndarray,
                matrix: object = None) -> np.ndarray:
        """``matrix``: the texts' TF-IDF rows when the caller has them already."""
        if matrix is None:
            matrix = self.vectorizer.transform(texts)
        return np.column_stack([self.lexical.decision(matrix),  # type: ignore[arg-type]
                                self.embedding.decision(vectors), zero])


@dataclass(frozen=True)
class LearnedModel:
    """A fitted model, its signal weights and its out-of-sample folds."""

    regressions: Regressions
    weights: tuple[float, float, float]  # SIGNALS order
    weights_learned: bool  # False: DEFAULT_WEIGHTS (too few labelled days to stack)
    positives: int
    negatives: int
    folds: tuple[Fold, ...] = field(default=(), repr=False)

    def weights_text(self) -> str:
        """``words 3.10, embedding 1.37, interests 0.68`` and where they came from."""
        weights = ", ".join(f"{n} {w:.2f}" for n, w in zip(SIGNALS, self.weights, strict=True))
        return weights + (" (stacked on earlier days)" if self.weights_learned
                          else " (defaults: too few labelled days to weigh them)")

    def signals(self, vectors: np.ndarray, texts: list[str], zero: np.ndarray,
                matrix: object = None) -> np.ndarray:
        """Each signal's score, weighted: (papers, 3); their row sum is ``decision``."""
        return self.regressions.signals(vectors, texts, zero, matrix) * np.array(self.weights)

    def decision(self, vectors: np.ndarray, texts: list[str], zero: np.ndarray,
                 matrix: object = None) -> np.ndarray:
        """Log-odds-scale scores: higher is more wanted; comparable across days."""
        return self.signals(vectors, texts, zero, matrix).sum(axis=1)

    def transform(self, texts: list[str]) -> object:
        """The texts' TF-IDF rows (to pass to ``decision`` and ``top_words`` once)."""
        return self.regressions.vectorizer.transform(texts)

    def top_words(self, texts: list[str], count: int = 3,
                  matrix: object = None) -> list[list[str]]:
        """Per text, the words and word pairs that raised its lexical score most."""
        vectorizer, lexical = self.regressions.vectorizer, self.regressions.lexical
        if matrix is None:
            matrix = vectorizer.transform(texts)
        matrix = matrix.tocsr()  # type: ignore[attr-defined]
        names = vectorizer.names
        weights = lexical.coef
        assert weights is not None  # fitted
        found = []
        for row in range(matrix.shape[0]):
            start, end = matrix.indptr[row], matrix.indptr[row + 1]
            columns = matrix.indices[start:end]
            contributions = matrix.data[start:end] * weights[columns]
            chosen: list[str] = []
            for index in np.argsort(-contributions):
                if contributions[index] <= 0 or len(chosen) == count:
                    break
                term = str(names[columns[index]])
                if not any(term in c or c in term for c in chosen):
                    chosen.append(term)
            found.append(chosen)
        return found


@dataclass(frozen=True)
class Cut:
    """A calibrated prefilter threshold on ``LearnedModel.decision``."""

    threshold: float
    recall: float  # the share of wanted papers it is meant to keep
    positives: int  # wanted papers of the calibration days
    days: int  # calibration days
    share: float  # share of those days' papers at or above the threshold
    least_share: float  # the smallest such share of one calibration day


def can_learn(labels: np.ndarray) -> bool:
    positives = int(labels.sum())
    return positives >= MIN_POSITIVES and len(labels) - positives >= MIN_NEGATIVES


class FoldCache(Protocol):
    """Folds kept between mornings: a labelled day's out-of-sample scores do not change
    when later days are added, so each is computed once (``None``: not kept yet). The
    newest day's fold is what that morning's own model said of its papers (the same
    regressions: fitted on the days before it), when the cache kept it for ``keys``."""

    def get(self, day: int, keys: Sequence[str], labels: np.ndarray) -> Fold | None: ...

    def put(self, day: int, fold: Fold) -> None: ...


def fit(training: TrainingSet, days: int = CALIBRATION_DAYS,
        cache: FoldCache | None = None) -> LearnedModel:
    """Fit the regressions, and the signal weights on the last ``days`` labelled days
    The word statistics are the whole set's (no labels in them)."""
    vectorizer = TfIdf()
    matrix = vectorizer.fit_transform(training.texts)
    folds = _folds(training, vectorizer, matrix, days, cache)
    weights = _stack(folds)
    positives = int(training.labels.sum())
    return LearnedModel(_fit(training, vectorizer, matrix), weights or DEFAULT_WEIGHTS,
                        weights is not None, positives, len(training.labels) - positives,
                        tuple(folds))


def calibrate(model: LearnedModel, recall: float) -> Cut | None:
    """The cut on ``model``'s scores that keeps ``recall`` of the wanted papers, from its
    out-of-sample folds; ``None`` when the store holds too few labelled days or wanted
    papers to say."""
    weights = np.array(model.weights)
    day_scores = [fold.signals @ weights for fold in model.folds]
    wanted = [scores[fold.labels == 1] for scores, fold in zip(day_scores, model.folds,
                                                               strict=True)]
    positives = np.sort(np.concatenate(wanted)) if wanted else np.zeros(0)
    # Split-conformal: the k-th lowest calibration score keeps a new wanted paper with
    # probability >= recall; with too few wanted papers no such k exists.
    k = math.floor((1 - recall) * (len(positives) + 1))
    if k < 1:
        return None
    threshold = float(positives[k - 1])
    every = np.concatenate(day_scores)
    least = min(float((scores >= threshold).mean()) for scores in day_scores)
    return Cut(threshold, recall, len(positives), len(day_scores),
               float((every >= threshold).mean()), least)


def _folds(training: TrainingSet, vectorizer: TfIdf, matrix: object,
           days: int, cache: FoldCache | None = None) -> list[Fold]:
    """The last ``days`` labelled days (with a wanted paper and enough labels before),
    each scored by regressions fitted on the days before it (or taken from ``cache``)."""
    folds: list[Fold] = []
    for day in sorted(set(training.days.tolist()), reverse=True):
        if len(folds) == days:
            break
        today, before = training.days == day, training.days < day
        if not training.labels[today].any() or not can_learn(training.labels[before]):
            continue
        keys = [k for k, m in zip(training.keys, today, strict=True) if m] \
            if training.keys else []
        kept = cache.get(day, keys, training.labels[today]) if cache is not None else None
        if kept is not None:
            folds.append(kept)
            continue
        earlier = _fit(training.rows(before), vectorizer, matrix[before])  # type: ignore[index]
        texts = [t for t, m in zip(training.texts, today, strict=True) if m]
        fold = Fold(earlier.signals(training.vectors[today], texts,
                                    training.zero_shot[today]), training.labels[today])
        if cache is not None:
            cache.put(day, fold)
        folds.append(fold)
    return folds


def _stack(folds: list[Fold]) -> tuple[float, float, float] | None:
    """Signal weights from the folds' out-of-sample scores (a logistic regression on
    them); ``None`` with fewer than two folds or too few wanted papers in them."""
    labels = np.concatenate([f.labels for f in folds]) if folds else np.zeros(0)
    if len(folds) < 2 or not can_learn(labels):
        return None
    stacker = Logistic(strength=1.0).fit(np.vstack([f.signals for f in folds]), labels)
    assert stacker.coef is not None
    weights = np.clip(stacker.coef, 0.0, None)  # a signal may be ignored, not inverted
    if not weights.any():
        return None
    return (float(weights[0]), float(weights[1]), float(weights[2]))


def _fit(training: TrainingSet, vectorizer: TfIdf, matrix: object) -> Regressions:
    embedding = Logistic(EMBEDDING_REGULARIZATION, TOLERANCE, 3000).fit(training.vectors,
                                                                       training.labels)
    lexical = Logistic(LEXICAL_REGULARIZATION, TOLERANCE, 3000).fit(
        matrix, training.labels)  # type: ignore[arg-type]
    return Regressions(vectorizer, lexical, embedding)
