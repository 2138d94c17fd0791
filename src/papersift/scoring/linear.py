"""The learner's two building blocks, on NumPy and SciPy: TF-IDF rows of words and word
pairs, and an L2-regularised, class-balanced logistic regression fitted by L-BFGS.

They were scikit-learn's (``TfidfVectorizer``, ``LogisticRegression``) and compute the
same things with the same settings; scikit-learn itself took 1.9 s to import every
morning, more than the fits, and 51 MB of the install.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

_TOKEN = re.compile(r"\w{2,}")  # a run of two word characters or more
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


def _words(text: str) -> list[str]:
    """The text's words: lower case, two characters or more, no stop words."""
    return [w for w in _TOKEN.findall(text.lower()) if w not in STOP_WORDS]


@dataclass(frozen=True)
class _Tokens:
    """Texts as word ids: ``words`` the distinct words (by id), ``ids`` every word's id
    in reading order, ``rows`` the text each came from; ``pairs`` each adjacent pair of
    words within a text (first id, second id) and ``pair_rows`` its text."""

    words: list[str]
    ids: np.ndarray
    rows: np.ndarray
    pairs: np.ndarray
    pair_rows: np.ndarray

    @classmethod
    def of(cls, texts: Sequence[str]) -> _Tokens:
        lists = [_words(text) for text in texts]
        flat = list(itertools.chain.from_iterable(lists))
        words = list(dict.fromkeys(flat))  # distinct, in order of first sight
        index = {word: i for i, word in enumerate(words)}
        ids = np.fromiter(map(index.__getitem__, flat), dtype=np.int64, count=len(flat))
        rows = np.repeat(np.arange(len(lists)), [len(words) for words in lists])
        within = rows[1:] == rows[:-1]  # a pair never spans two texts
        pairs = np.stack([ids[:-1][within], ids[1:][within]], axis=1)
        return cls(words, ids, rows, pairs, rows[:-1][within])


@dataclass(frozen=True)
class _PairIndex:
    """The word-pair terms by their two words' columns (``keys``: first * width +
    second, sorted) and each one's own column."""

    keys: np.ndarray
    columns: np.ndarray
    width: int

    @classmethod
    def of(cls, firsts: np.ndarray, seconds: np.ndarray, columns: np.ndarray,
           width: int) -> _PairIndex:
        keys = firsts.astype(np.int64) * width + seconds
        order = np.argsort(keys)
        return cls(keys[order], columns[order].astype(np.int64), width)

    def find(self, pairs: np.ndarray) -> np.ndarray:
        """The column of each pair of word columns (-1: a word or the pair unknown)."""
        if not len(self.keys) or not len(pairs):
            return np.full(len(pairs), -1, dtype=np.int64)
        keys = pairs[:, 0] * self.width + pairs[:, 1]
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        hit = (pairs >= 0).all(axis=1) & (self.keys[at] == keys)
        return np.where(hit, self.columns[at], -1)


@dataclass
class TfIdf:
    """Sublinear TF-IDF (smoothed idf, unit-length rows) over the terms (words and
    adjacent word pairs) found in at least ``min_documents`` of the texts it was fitted
    on; the columns are the words in alphabetical order, then the pairs in the order of
    their words' columns (first word, then second)."""

    min_documents: int = 2
    vocabulary: dict[str, int] | None = None  # the words' columns
    idf: np.ndarray | None = None
    pairs: _PairIndex | None = field(default=None, repr=False)
    _names: list[str] | None = field(default=None, repr=False)

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        tokens = _Tokens.of(texts)
        width = len(tokens.words)
        base = width or 1
        # Counted first in columns of their own: the words, then each distinct pair.
        distinct, pair_columns = np.unique(tokens.pairs[:, 0] * base + tokens.pairs[:, 1],
                                           return_inverse=True)
        counts = _matrix(len(texts), width + len(distinct),
                         np.concatenate([tokens.rows, tokens.pair_rows]),
                         np.concatenate([tokens.ids, width + pair_columns.ravel()]))
        documents = np.bincount(counts.indices, minlength=counts.shape[1])
        kept = np.flatnonzero(documents >= self.min_documents)
        kept_words, kept_pairs = kept[kept < width], kept[kept >= width]
        names = [tokens.words[j] for j in kept_words.tolist()]
        alphabetical = np.array(sorted(range(len(names)), key=names.__getitem__),
                                dtype=np.int64)
        column = np.full(counts.shape[1], -1, dtype=np.int64)
        column[kept_words[alphabetical]] = np.arange(len(names))
        self.vocabulary = {names[i]: at for at, i in enumerate(alphabetical.tolist())}
        # A pair in two texts has its words in them too, so they are kept: each pair is
        # known by its words' columns (new texts' pairs are found without their names).
        pair_keys = distinct[kept_pairs - width]
        firsts, seconds = column[pair_keys // base], column[pair_keys % base]
        by_words = np.lexsort((seconds, firsts))
        column[kept_pairs[by_words]] = len(names) + np.arange(len(kept_pairs))
        total = len(names) + len(kept_pairs)
        self.pairs = _PairIndex.of(firsts, seconds, column[kept_pairs], total)
        self._names = None
        source = np.empty(total, dtype=np.int64)  # the counted column of each term's column
        source[column[kept]] = kept
        self.idf = (np.log((1 + len(texts)) / (1 + documents[source])) + 1).astype(np.float32)
        return self._weighted(counts[:, source])

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        vocabulary, _ = self._fitted()
        assert self.pairs is not None  # fitted with the vocabulary
        tokens = _Tokens.of(texts)
        word_columns = np.array([vocabulary.get(word, -1) for word in tokens.words] or [-1])
        pair_columns = self.pairs.find(word_columns[tokens.pairs])
        rows = np.concatenate([tokens.rows, tokens.pair_rows])
        columns = np.concatenate([word_columns[tokens.ids], pair_columns])
        found = columns >= 0
        return self._weighted(_matrix(len(texts), len(self._fitted()[1]), rows[found],
                                      columns[found]))

    @property
    def names(self) -> list[str]:
        """The terms, in column order."""
        if self._names is None:
            words = list(self._fitted()[0])  # in column order: a dict keeps insertion
            assert self.pairs is not None  # fitted with the vocabulary
            width = self.pairs.width
            self._names = words + [f"{words[key // width]} {words[key % width]}"
                                   for key in self.pairs.keys.tolist()]
        return self._names

    def _fitted(self) -> tuple[dict[str, int], np.ndarray]:
        if self.vocabulary is None or self.idf is None:
            raise ValueError("TfIdf is not fitted")
        return self.vocabulary, self.idf

    def _weighted(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        _, idf = self._fitted()
        matrix = sparse.csr_matrix(counts, dtype=np.float32, copy=True)
        matrix.sort_indices()
        weights = (1 + np.log(matrix.data)) * idf[matrix.indices]
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        norms = np.sqrt(np.bincount(rows, weights=np.square(weights, dtype=np.float64),
                                    minlength=matrix.shape[0]))
        norms[norms == 0] = 1.0
        matrix.data = (weights / norms[rows]).astype(np.float32)
        return matrix


def _matrix(height: int, width: int, rows: np.ndarray,
            columns: np.ndarray) -> sparse.csr_matrix:
    """How often each column occurs in each row (one entry per occurrence)."""
    return sparse.coo_matrix((np.ones(len(columns), dtype=np.float32), (rows, columns)),
                             shape=(height, width)).tocsr()  # duplicates summed


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
