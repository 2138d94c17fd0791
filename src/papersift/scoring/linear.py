"""The learner's two building blocks, on NumPy and SciPy: TF-IDF rows of words and word
pairs, and an L2-regularised, class-balanced logistic regression fitted by L-BFGS.

They were scikit-learn's (``TfidfVectorizer``, ``LogisticRegression``) and compute the
same things with the same settings; scikit-learn itself took 1.9 s to import every
morning, more than the fits, and 51 MB of the install.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

_TOKEN = re.compile(r"\b\w\w+\b")
# The usual English stop-word list of information retrieval (the Glasgow list, as
# scikit-learn ships it): what the word model ignores.
STOP_WORDS = frozenset("""
a about above across after afterwards again against all almost alone along already also
although always am among amongst amoungst amount an and another any anyhow anyone anything
anyway anywhere are around as at back be became because become becomes becoming been before
beforehand behind being below beside besides between beyond bill both bottom but by call can
cannot cant co con could couldnt cry de describe detail do done down due during each eg
eight either eleven else elsewhere empty enough etc even ever every everyone everything
everywhere except few fifteen fifty fill find fire first five for former formerly forty
found four from front full further get give go had has hasnt have he hence her here
hereafter hereby herein hereupon hers herself him himself his how however hundred i ie if
in inc indeed interest into is it its itself keep last latter latterly least less ltd made
many may me meanwhile might mill mine more moreover most mostly move much must my myself
name namely neither never nevertheless next nine no nobody none noone nor not nothing now
nowhere of off often on once one only onto or other others otherwise our ours ourselves out
over own part per perhaps please put rather re same see seem seemed seeming seems serious
several she should show side since sincere six sixty so some somehow someone something
sometime sometimes somewhere still such system take ten than that the their them
themselves then thence there thereafter thereby therefore therein thereupon these they
thick thin third this those though three through throughout thru thus to together too top
toward towards twelve twenty two un under until up upon us very via was we well were what
whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever
whether which while whither who whoever whole whom whose why will with within without would
yet you your yours yourself yourselves
""".split())  # noqa: SIM905 - a word list reads best as prose


def terms(text: str) -> list[str]:
    """The text's words (lower case, two characters or more, no stop words) and each
    adjacent pair of them, joined by a space."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in STOP_WORDS]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


@dataclass
class TfIdf:
    """Sublinear TF-IDF (smoothed idf, unit-length rows) over the terms found in at least
    ``min_documents`` of the texts it was fitted on."""

    min_documents: int = 2
    vocabulary: dict[str, int] | None = None
    idf: np.ndarray | None = None

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        seen: dict[str, int] = {}  # every term, in order of first sight
        counts = _counts(texts, lambda term: seen.setdefault(term, len(seen)), 0)
        documents = np.bincount(counts.indices, minlength=len(seen))
        names = np.array(list(seen), dtype=object)
        kept = np.flatnonzero(documents >= self.min_documents)
        kept = kept[np.argsort(names[kept].astype(str), kind="stable")]  # columns by term
        self.vocabulary = {str(names[j]): i for i, j in enumerate(kept)}
        self.idf = (np.log((1 + len(texts)) / (1 + documents[kept])) + 1).astype(np.float32)
        return self._weighted(counts[:, kept])

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        vocabulary, _ = self._fitted()
        return self._weighted(_counts(texts, vocabulary.get, len(vocabulary)))

    @property
    def names(self) -> list[str]:
        """The terms, in column order."""
        return list(self._fitted()[0])

    def _fitted(self) -> tuple[dict[str, int], np.ndarray]:
        if self.vocabulary is None or self.idf is None:
            raise ValueError("TfIdf is not fitted")
        return self.vocabulary, self.idf

    def _weighted(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        _, idf = self._fitted()
        matrix = counts.astype(np.float32)
        matrix.data = 1 + np.log(matrix.data)
        matrix = sparse.csr_matrix(matrix @ sparse.diags(idf))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        matrix = sparse.csr_matrix(sparse.diags(1 / norms.astype(np.float32)) @ matrix)
        matrix.sort_indices()
        return matrix


def _counts(texts: Sequence[str], column: Callable[[str], int | None],
            width: int) -> sparse.csr_matrix:
    """How often each term occurs in each text (``column``: a term's column, or None to
    leave it out; ``width`` columns at least)."""
    rows: list[int] = []
    columns: list[int] = []
    for row, text in enumerate(texts):
        found = [j for j in map(column, terms(text)) if j is not None]
        columns.extend(found)
        rows.extend([row] * len(found))
    width = max(width, max(columns, default=-1) + 1)
    return sparse.coo_matrix((np.ones(len(columns), dtype=np.float32), (rows, columns)),
                             shape=(len(texts), width)).tocsr()  # duplicates summed


@dataclass
class Logistic:
    """A logistic regression: ``strength`` is the inverse of the L2 penalty (the
    intercept is not penalised); each class weighs as much as the other."""

    strength: float = 1.0
    tolerance: float = 1e-4
    max_iterations: int = 1000
    coef: np.ndarray | None = None
    intercept: float = 0.0

    def fit(self, rows: np.ndarray | sparse.spmatrix, labels: np.ndarray) -> Logistic:
        labels = np.asarray(labels)
        positives = labels == 1
        count = len(labels)
        sample_weight = np.where(positives, count / (2 * max(1, positives.sum())),
                                 count / (2 * max(1, count - positives.sum())))
        sample_weight = sample_weight / sample_weight.sum()
        sign = np.where(positives, 1.0, -1.0)
        penalty = 1.0 / self.strength / count  # the weights sum to 1, not to n
        features = rows.shape[1]
        if sparse.issparse(rows):  # once, not at every step: the solver takes hundreds
            rows = sparse.csr_matrix(rows, dtype=np.float64)
            transposed = rows.T.tocsr()
        else:
            rows = np.asarray(rows, dtype=np.float64)
            transposed = rows.T

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            coef, intercept = theta[:features], theta[features]
            margin = sign * (rows @ coef + intercept)
            # log(1 + exp(-m)) and its derivative, without overflow
            value = float(sample_weight @ np.logaddexp(0.0, -margin))
            weighted = -sample_weight * sign * _sigmoid(-margin)
            gradient = np.empty_like(theta)
            gradient[:features] = transposed @ weighted + penalty * coef
            gradient[features] = weighted.sum()
            return value + 0.5 * penalty * float(coef @ coef), gradient

        found = minimize(loss, np.zeros(features + 1), jac=True, method="L-BFGS-B",
                         options={"maxiter": self.max_iterations, "gtol": self.tolerance,
                                  "maxls": 50, "ftol": 64 * np.finfo(float).eps})
        self.coef, self.intercept = found.x[:features], float(found.x[features])
        return self

    def decision(self, rows: np.ndarray | sparse.spmatrix) -> np.ndarray:
        """The log-odds of each row."""
        if self.coef is None:
            raise ValueError("Logistic is not fitted")
        return np.asarray(rows @ self.coef + self.intercept, dtype=np.float64).ravel()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))
