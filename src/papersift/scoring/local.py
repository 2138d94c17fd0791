"""The local default scorer: no API key, no network, seconds per day.

Relevance: zero-shot similarity of each paper to the topics of ``interests.md`` (the
shipped ONNX sentence embeddings, TF-IDF only if they cannot load) plus the interests'
words found in it, replaced by a learned ranking once the store holds enough labels.
Both are mapped onto 1–10 by rank within the day, calibrated so the default cutoffs keep
a digest of about the size an LLM picks; before any label, a paper needs a phrase of its
topic in its own words to reach the cutoff.

Novelty: how closely a paper restates one of the last days' papers (``novelty``).

Many readers of one morning share a ``SharedDay``: the day's vectors, words and novelty
are computed once, and ``rank_together`` matches every reader's phrases in one pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from papersift import DEFAULT_PROFILE
from papersift.errors import ScorerUnavailable
from papersift.models import Candidate, Scored, ScoringOutcome, Usage
from papersift.progress import NULL_PROGRESS, Progress
from papersift.scoring import learn
from papersift.scoring.background import background_for
from papersift.scoring.comments import comment_for
from papersift.scoring.day_terms import DayTerms
from papersift.scoring.encoders import (
    PACKAGED_MODEL,
    Encoder,
    OnnxEncoder,
    TfidfEncoder,
)
from papersift.scoring.interests import Interests
from papersift.scoring.lexical import LexicalMatcher
from papersift.scoring.novelty import nearest_recent, novelty
from papersift.scoring.relevance import (
    InterestVectors,
    ZeroShot,
    paper_text,
    scale_by_rank,
    zero_shot,
)
from papersift.scoring.shared_day import SharedDay
from papersift.store import Store

log = logging.getLogger(__name__)

# Cumulative share of the day's papers reaching 10, 9, 8, ... 2 (the rest get 1).
# Relevance >= 8 goes to the top 12%; novelty >= 7 to the 75% least like recent papers,
# so the default cutoffs (8 and 7) keep about 9% of a day, as the reference LLM did.
RELEVANCE_SHARES = (0.02, 0.05, 0.12, 0.20, 0.30, 0.45, 0.60, 0.75, 0.90)


@dataclass(frozen=True)
class LocalSettings:
    model: str = PACKAGED_MODEL
    max_seq_length: int = 192
    novelty_days: int = 30
    learn: bool = True
    # Set by the hybrid scorer: calibrate a prefilter cut that keeps this share of the
    # papers the LLM would pick (``cut``), from the store's labelled days.
    prefilter_recall: float | None = None
    relevance_cutoff: int = 8
    novelty_cutoff: int = 7


def make_encoder(settings: LocalSettings) -> Encoder:
    """The embedding model; TF-IDF only when it cannot load (said in the log, with why)."""
    try:
        return OnnxEncoder(settings.model, max_seq_length=settings.max_seq_length)
    except ScorerUnavailable as error:
        log.warning("%s: scoring with TF-IDF instead (vocabulary only, no learning)", error)
        return TfidfEncoder()


class LocalScorer:
    """Scores candidates offline; learns from the store's labels when it can."""

    def __init__(self, interests: Interests, encoder: Encoder, store: Store,
                 settings: LocalSettings, *, day: dt.date | None = None,
                 progress: Progress = NULL_PROGRESS, shared: SharedDay | None = None):
        self.interests, self.encoder, self.store = interests, encoder, store
        self.settings, self.day, self.progress = settings, day, progress
        self.shared = shared or SharedDay()  # the morning's work shared with other readers
        self.matcher = LexicalMatcher(interests)
        self.learned: learn.LearnedModel | None = None
        self.cut: learn.Cut | None = None
        self.day_matrix: object = None  # the TF-IDF rows of the texts being ranked
        self.labels_seen = (0, 0)  # (wanted, unwanted) labels the store held for learning

    @property
    def model(self) -> str:
        return f"local ({self.encoder.name})"

    def settings_lines(self) -> list[str]:
        """The settings this run scored with, as the digest's appendix lists them."""
        settings = self.settings
        if self.embeds:
            lines = [f"Embedding model: {self.encoder.name} (ONNX, on this machine), "
                     f"reading {settings.max_seq_length} tokens of each title + abstract"]
        else:
            lines = ["Embedding model: not loaded; scored on vocabulary alone (TF-IDF)"]
        lines.append("Zero-shot: similarity to each topic and its phrases, plus the "
                     "interests' words found in the paper, minus what you filter out")
        if self.learned:
            lines.append(f"Learned from {self.learned.positives} wanted and "
                         f"{self.learned.negatives} unwanted papers; weights: "
                         f"{self.learned.weights_text()}")
        else:
            wanted, unwanted = self.labels_seen
            lines.append("Learning: " + (
                "off (local.learn = false)" if not settings.learn else
                f"not yet: the ranking starts to learn once the store holds "
                f"{learn.MIN_POSITIVES} wanted and {learn.MIN_NEGATIVES} unwanted papers "
                f"(your Likes and Dislikes, or an LLM's picks); it holds {wanted} and "
                f"{unwanted}"))
        lines.append(f"Novelty: how closely a paper restates one of the last "
                     f"{settings.novelty_days} days (8 when there is no earlier day)")
        lines.append(f"Selected: relevance at least {settings.relevance_cutoff} and novelty "
                     f"at least {settings.novelty_cutoff}")
        return lines

    @property
    def embeds(self) -> bool:
        return not isinstance(self.encoder, TfidfEncoder)

    def score(self, candidates: Sequence[Candidate]) -> ScoringOutcome:
        scored = tuple(s for s, _ in self.ranked(candidates))
        return ScoringOutcome(scored, (), (), Usage(), asked=len(scored), fresh=len(scored))

    def ranked(self, candidates: Sequence[Candidate]) -> list[tuple[Scored, float]]:
        """Each candidate scored, with the continuous ranking score behind its relevance.

        The 1-10 relevance is a coarse bucket of that ranking; a prefilter cuts by the
        ranking itself, so that papers inside one bucket are not ordered by chance.
        """
        if not candidates:
            return []
        n = len(candidates)
        keys, texts = self.population(candidates)
        if not self.embeds:
            self.encoder.fit(texts)
        vectors = self.shared.vectors(keys, lambda: self.vectors(keys, texts))
        interest_vectors = InterestVectors.build(
            self.interests, self.encoder, self.shared.phrase_vectors if self.embeds else None)
        zero = self._zero_shot(vectors, texts, interest_vectors,
                               self.shared.terms(keys, texts))
        if self.embeds:  # kept: tomorrow's learner reads it instead of recomputing it
            self.store.save_zero_shot(self.interests_key, dict(zip(
                keys[:n], zero.score[:n].tolist(), strict=True)))
        ranking = self._learned_ranking(vectors, texts, zero.score, candidates,
                                        interest_vectors)
        relevance = scale_by_rank(ranking, RELEVANCE_SHARES)
        lexical = zero.lexical
        assert lexical is not None  # _zero_shot always matches the words
        if self.learned is None:
            # Not by rank alone: before any label, a paper in which no phrase of its
            # topic appears (at least a third of the phrase's weight) stays below the
            # cutoff, however well it ranks by meaning ("quantum circuits" near
            # "quantization"). On the labelled days 10 of 135 picks in the zero-shot top
            # 12% lack one; it keeps the best of an off-topic day, and look-alikes, out.
            unmatched = lexical.topic_scores[np.arange(n), zero.best_topic[:n]] <= 0
            below = max(1, self.settings.relevance_cutoff - 1)  # a score is 1-10
            relevance[:n][unmatched] = np.minimum(relevance[:n][unmatched], below)
        novelty = self._novelty(keys, vectors)
        # A paper the interests name squarely (a whole phrase of its topic in its words,
        # ranked relevant) is never cut for resembling a recent one.
        squarely = (lexical.whole[np.arange(n), zero.best_topic[:n]]
                    & (relevance[:n] >= self.settings.relevance_cutoff))
        novelty[:n][squarely] = np.maximum(novelty[:n][squarely],
                                           self.settings.novelty_cutoff)
        weighed = (self.learned.top_words(texts[:n], matrix=self.day_matrix[:n])
                   if self.learned else [[]] * n)
        scored = []
        for row, candidate in enumerate(candidates):
            comment = comment_for(self.interests, interest_vectors, zero, lexical, row,
                                  embeds=self.embeds, learned=self.learned,
                                  weighed=weighed[row])
            topic = self.interests.topics[int(zero.best_topic[row])].name
            scored.append((Scored(candidate, int(relevance[row]), int(novelty[row]), comment,
                                  self.model, topic), float(ranking[row])))
        return scored

    def population(self, candidates: Sequence[Candidate]) -> tuple[list[str], list[str]]:
        """The keys and texts of the papers ranked together: the candidates, then, for a
        small day, background papers (its scale needs a population), which are dropped
        from every result."""
        keys = [c.paper.arxiv_id for c in candidates]
        texts = [paper_text(c.paper.title, c.paper.abstract) for c in candidates]
        extra = background_for(self.store, self.day, len(candidates), set(keys),
                               self.settings.novelty_days)
        keys += extra.keys
        texts += [paper_text(t, a) for t, a in zip(extra.titles, extra.abstracts, strict=True)]
        return keys, texts

    # -- vectors ------------------------------------------------------------------------

    def vectors(self, keys: list[str], texts: list[str]) -> np.ndarray:
        """Unit vectors for the texts; embeddings come from the store when it has them."""
        if not self.embeds:
            return self.encoder.encode(texts)
        hashes = [hashlib.sha256(t.encode()).hexdigest()[:16] for t in texts]
        stored = self.store.embeddings(keys, self.encoder.name, hashes)
        missing = [i for i, key in enumerate(keys) if key not in stored]
        if missing:
            task = self.progress.start("Embedding papers", total=len(missing))
            fresh = []
            for start in range(0, len(missing), 64):
                chunk = missing[start:start + 64]
                for index, vector in zip(chunk, self.encoder.encode([texts[i] for i in chunk]),
                                         strict=True):
                    fresh.append((keys[index], hashes[index], vector))
                self.progress.advance(task, len(chunk))
            stored.update(self.store.save_embeddings(self.encoder.name, fresh))
        return np.vstack([stored[key] for key in keys])

    # -- learning -----------------------------------------------------------------------

    def _zero_shot(self, vectors: np.ndarray, texts: list[str],
                   interest_vectors: InterestVectors, terms: DayTerms | None = None
                   ) -> ZeroShot:
        return zero_shot(vectors, interest_vectors, lexical=self.matcher.match(texts, terms))

    def _learned_ranking(self, vectors: np.ndarray, texts: list[str], zero: np.ndarray,
                         candidates: Sequence[Candidate],
                         interest_vectors: InterestVectors) -> np.ndarray:
        """The learned model's scores of ``vectors`` / ``texts`` (the day's papers, then
        any background rows), else the zero-shot score; sets ``cut`` when asked for."""
        if not (self.settings.learn and self.embeds):
            return zero
        today = {c.paper.arxiv_id for c in candidates}
        examples = [e for e in self.store.labelled_papers(
            relevance_cutoff=self.settings.relevance_cutoff,
            novelty_cutoff=self.settings.novelty_cutoff, exclude_day=self.day)
            if e.key not in today]
        labels = np.array([e.wanted for e in examples], dtype=int)
        self.labels_seen = (int(labels.sum()), int(len(labels) - labels.sum()))
        if not learn.can_learn(labels):
            return zero
        example_texts = [paper_text(e.title, e.abstract) for e in examples]
        example_vectors = self.vectors([e.key for e in examples], example_texts)
        unknown_day = (self.day or dt.date.today()).toordinal()
        training = learn.TrainingSet(
            example_vectors, example_texts, labels,
            np.array([e.day.toordinal() if e.day else unknown_day for e in examples]),
            self._known_zero_shot([e.key for e in examples], example_vectors, example_texts,
                                  interest_vectors), tuple(e.key for e in examples))
        folds = _StoredFolds(self.store, f"{self.interests_key}|"
                             f"{self.settings.relevance_cutoff}|{self.settings.novelty_cutoff}"
                             + ("" if self.store.profile == DEFAULT_PROFILE
                                else f"|{self.store.profile}"))
        model = self.learned = learn.fit(training, cache=folds)
        log.info("ranking learned from %d wanted and %d unwanted papers; weights %s",
                 model.positives, model.negatives, model.weights_text())
        if self.settings.prefilter_recall is not None:
            self.cut = learn.calibrate(model, self.settings.prefilter_recall)
        self.day_matrix = model.transform(texts)
        signals = model.regressions.signals(vectors, texts, zero, self.day_matrix)
        if self.day is not None:  # tomorrow's fold of today, once today is labelled
            folds.predicted(self.day.toordinal(), sorted(today), {
                c.paper.arxiv_id: row for c, row in zip(candidates, signals, strict=False)})
        return (signals * np.array(model.weights)).sum(axis=1)

    @property
    def interests_key(self) -> str:
        """What a stored zero-shot score was computed against (interests and encoder)."""
        text = f"{self.interests!r}|{self.encoder.name}|{self.settings.max_seq_length}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _known_zero_shot(self, keys: list[str], vectors: np.ndarray, texts: list[str],
                         interest_vectors: InterestVectors) -> np.ndarray:
        """The zero-shot scores of labelled papers: computed once (on their own day) and
        kept, so a morning's cost does not grow with the labels the store holds."""
        known = self.store.zero_shot_scores(keys, self.interests_key)
        missing = [i for i, key in enumerate(keys) if key not in known]
        if missing:
            fresh = self._zero_shot(vectors[missing], [texts[i] for i in missing],
                                    interest_vectors).score
            computed = {keys[i]: float(score) for i, score in zip(missing, fresh, strict=True)}
            self.store.save_zero_shot(self.interests_key, computed)
            known.update(computed)
        return np.array([known[key] for key in keys], dtype=np.float32)

    # -- novelty ------------------------------------------------------------------------

    def _novelty(self, keys: list[str], vectors: np.ndarray) -> np.ndarray:
        """1-10 by how closely each paper restates one of the last ``novelty_days`` days
        (``scoring.novelty``), the same for every reader of the morning."""
        day = self.day if self.embeds else None
        return novelty(self.shared.nearest(
            keys, self.settings.novelty_days, lambda: nearest_recent(
                self.store, self.encoder.name, day, self.settings.novelty_days, vectors)),
            len(vectors))


@dataclass(frozen=True)
class _StoredFolds:
    """The learner's folds kept in the store, under what they were computed against."""

    store: Store
    model: str

    def get(self, day: int, keys: Sequence[str], labels: np.ndarray) -> learn.Fold | None:
        kept = self.store.learner_fold(self.model, day)
        if kept is not None:
            return learn.Fold(*kept)
        said = self.store.learner_predictions(self.model, day)
        if not keys or not all(key in said for key in keys):
            return None
        fold = learn.Fold(np.vstack([said[key] for key in keys]), labels)
        self.put(day, fold)
        return fold

    def predicted(self, day: int, keys: Sequence[str], signals: dict[str, np.ndarray]
                  ) -> None:
        """Keep the signals the model gave ``keys`` (papers of ``day``) this morning."""
        self.store.save_learner_predictions(self.model, day, keys,
                                            np.vstack([signals[key] for key in keys]))

    def put(self, day: int, fold: learn.Fold) -> None:
        self.store.save_learner_fold(self.model, day, fold.signals, fold.labels)


def rank_together(readers: Sequence[tuple[LocalScorer, Sequence[Candidate]]], *,
                  words: bool = True) -> None:
    """The papers each reader will rank read (embedded if new) once, and with ``words``
    every reader's phrases matched against them in one pass (kept in the readers'
    ``SharedDay``), before each reader ranks on its own."""
    groups: dict[tuple[object, ...], tuple[LocalScorer, list[str], list[str], list]] = {}
    for scorer, candidates in readers:
        if candidates:
            keys, texts = scorer.population(candidates)
            slot = groups.setdefault((id(scorer.shared), *keys), (scorer, keys, texts, []))
            slot[3].extend(scorer.matcher.phrases)
    for scorer, keys, texts, phrases in groups.values():
        if not scorer.embeds:
            continue  # TF-IDF: fitted per reader, nothing kept to share
        scorer.shared.vectors(keys, lambda: scorer.vectors(keys, texts))  # noqa: B023 - called here
        if words:
            scorer.shared.match_all(keys, texts, phrases)
