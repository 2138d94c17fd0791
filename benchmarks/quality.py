"""How well the local scorer agrees with an LLM's picks on real labelled days, beside a peer.

    pip install -e ".[bench]"   # the peer below is scikit-learn's
    python benchmarks/quality.py --days DIR --criteria FILE --train-days DIR [--variants]

DIR holds labelled days (``YYYY-MM-DD.jsonl``, ``selected`` = the reference's pick).
Without --train-days the days are split in time: the first half trains the learner, the
second half is scored (the learner never sees a scored day). Prints, per day and on
average, for each signal alone (zero-shot on the interests: embeddings, words, both; the
learned regressions on words and on embeddings), papersift's learned combination, the
lexical fallback, and arxiv-sanity-lite's method (TF-IDF of words and word pairs + a
linear SVM, its published settings; re-implemented here, never in the product):
ROC-AUC, recall of picks in the top K (K = picks, 2 x picks), and the share of papers a
prefilter must pass to keep 95% of picks; then speed; the last line is one JSON object.
``--variants`` also prints what each ingredient of the zero-shot score buys.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from papersift.config import LocalConfig
from papersift.scoring import learn
from papersift.scoring.encoders import OnnxEncoder, TfidfEncoder
from papersift.scoring.interests import Interests, parse_interests
from papersift.scoring.lexical import LexicalMatcher
from papersift.scoring.relevance import InterestVectors, ZeroShotParams, paper_text, zero_shot
from papersift.store import retention
from papersift.store.migrations import pack_vector, unpack_vector


@dataclass
class Day:
    name: str
    texts: list[str]
    labels: np.ndarray
    peer_texts: list[str]  # what arxiv-sanity-lite indexes: title, abstract, authors
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def load_days(folder: Path) -> list[Day]:
    days = []
    for path in sorted(folder.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        days.append(Day(path.stem, [paper_text(r["title"], r["abstract"]) for r in rows],
                        np.array([bool(r["selected"]) for r in rows], dtype=int),
                        [" ".join([r["title"], r["abstract"], " ".join(r.get("authors", []))])
                         for r in rows]))
    return days


def arxiv_sanity_scores(train_days: list[Day], scored_days: list[Day]) -> list[np.ndarray]:
    """arxiv-sanity-lite's recommendation (compute.py + serve.py defaults): TF-IDF of
    words and word pairs over every paper it indexes (20,000 features, min_df 5, max_df
    0.1, sublinear tf), then a class-balanced linear SVM (C 0.01) on the tagged papers;
    here the tags are the training days' picks, the rest of those days the negatives."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(
        strip_accents="unicode", lowercase=True, analyzer="word", stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
        max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
        max_df=0.1, min_df=5)
    vectorizer.fit([t for d in [*train_days, *scored_days] for t in d.peer_texts])
    svm = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01).fit(
        vectorizer.transform([t for d in train_days for t in d.peer_texts]),
        np.concatenate([d.labels for d in train_days]))
    return [svm.decision_function(vectorizer.transform(d.peer_texts)) for d in scored_days]


def zero_shot_scores(day: Day, vectors: InterestVectors, matcher: LexicalMatcher,
                     params: ZeroShotParams | None = None) -> dict[str, np.ndarray]:
    """The zero-shot score as papersift computes it, and its halves."""
    params = params or ZeroShotParams()
    lexical = matcher.match(day.texts)
    spread = lexical.negative.std() + 1e-6
    return {"embeddings": zero_shot(day.vectors, vectors, params).score,
            "words": lexical.positive - params.lexical_negative * lexical.negative / spread,
            "both": zero_shot(day.vectors, vectors, params, lexical).score}


def fallback_scores(day: Day, interests: Interests) -> np.ndarray:
    tfidf = TfidfEncoder()
    tfidf.fit(day.texts)
    return zero_shot(tfidf.encode(day.texts), InterestVectors.build(interests, tfidf),
                     lexical=LexicalMatcher(interests).match(day.texts)).score


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC-AUC by the rank-sum formula (ties get average ranks)."""
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    positives = labels.sum()
    negatives = len(labels) - positives
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2)
                 / (positives * negatives))


def recall_at(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    top = scores.argsort()[::-1][:k]
    return float(labels[top].sum() / labels.sum())


def share_for_recall(scores: np.ndarray, labels: np.ndarray, recall: float = 0.95) -> float:
    order = scores.argsort()[::-1]
    found = np.cumsum(labels[order])
    needed = int(np.ceil(recall * labels.sum()))
    return float((np.searchsorted(found, needed) + 1) / len(labels))


def metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    k = int(labels.sum())
    return {"auc": auc(scores, labels), "recall_k": recall_at(scores, labels, k),
            "recall_2k": recall_at(scores, labels, 2 * k),
            "share_95": share_for_recall(scores, labels)}


def report(name: str, per_day: dict[str, dict[str, float]]) -> dict[str, float]:
    print(f"\n{name}")
    print(f"  {'day':<12} {'AUC':>6} {'R@K':>6} {'R@2K':>6} {'pass95':>7}")
    for day, m in per_day.items():
        print(f"  {day:<12} {m['auc']:6.3f} {m['recall_k']:6.3f} {m['recall_2k']:6.3f} "
              f"{m['share_95']:7.3f}")
    mean = {key: statistics.mean(m[key] for m in per_day.values())
            for key in ("auc", "recall_k", "recall_2k", "share_95")}
    print(f"  {'mean':<12} {mean['auc']:6.3f} {mean['recall_k']:6.3f} "
          f"{mean['recall_2k']:6.3f} {mean['share_95']:7.3f}")
    return mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=Path, required=True)
    parser.add_argument("--criteria", type=Path, required=True)
    parser.add_argument("--train-days", type=Path)
    parser.add_argument("--model", default=LocalConfig().model,
                        help="embedding model folder (default: the one papersift ships)")
    parser.add_argument("--max-seq-length", type=int, default=LocalConfig().max_seq_length,
                        help="tokens of each paper the model reads (default: papersift's)")
    parser.add_argument("--sample-unwanted", type=float, default=0.5,
                        help="share of the unwanted training papers the bounded sample keeps "
                             "(the store keeps 4,000: about this share of 8 days at 1,000 a "
                             "day through the hybrid)")
    parser.add_argument("--variants", action="store_true",
                        help="also measure each ingredient of the zero-shot score")
    args = parser.parse_args()

    interests = parse_interests(args.criteria.read_text())
    scored_days = load_days(args.days)
    if args.train_days:
        train_days = load_days(args.train_days)
    else:
        half = len(scored_days) // 2
        train_days, scored_days = scored_days[:half], scored_days[half:]
    print(f"scored days: {', '.join(d.name for d in scored_days)}")
    print(f"training days for the learner: {', '.join(d.name for d in train_days)}")

    started = time.perf_counter()
    encoder = OnnxEncoder(args.model, max_seq_length=args.max_seq_length)
    load_seconds = time.perf_counter() - started
    vectors = InterestVectors.build(interests, encoder)
    matcher = LexicalMatcher(interests)
    embed_started, cpu_started = time.perf_counter(), time.process_time()
    papers = 0
    for day in [*train_days, *scored_days]:
        day.vectors = encoder.encode(day.texts)
        papers += len(day.texts)
    embed_seconds = time.perf_counter() - embed_started
    cpu_per_paper = (time.process_time() - cpu_started) / papers
    rate = papers / embed_seconds

    zero = {d.name: zero_shot_scores(d, vectors, matcher) for d in scored_days}
    means = {}
    for part, label in (("embeddings", "zero-shot, embeddings only (all-MiniLM-L6-v2)"),
                        ("words", "zero-shot, the interests' words only"),
                        ("both", "zero-shot as papersift ranks a first day (both)")):
        means[f"zero_{part}"] = report(label, {d.name: metrics(zero[d.name][part], d.labels)
                                               for d in scored_days})

    learn_started = time.perf_counter()
    # The training days are one population for the zero-shot score, as the store's are.
    everything = Day("train", [t for d in train_days for t in d.texts],
                     np.concatenate([d.labels for d in train_days]), [],
                     np.vstack([d.vectors for d in train_days]))
    model = learn.fit(learn.TrainingSet(
        everything.vectors, everything.texts, everything.labels,
        np.concatenate([np.full(len(d.texts), i) for i, d in enumerate(train_days)]),
        zero_shot_scores(everything, vectors, matcher)["both"]))
    learn_seconds = time.perf_counter() - learn_started
    signals = {d.name: model.signals(d.vectors, d.texts, zero[d.name]["both"])
               for d in scored_days}
    for column, label in ((0, "learned, words alone (TF-IDF words + pairs, logistic regression)"),
                          (1, "learned, embeddings alone (logistic regression)")):
        means[f"signal_{column}"] = report(label, {
            d.name: metrics(signals[d.name][:, column], d.labels) for d in scored_days})
    means["learned"] = report(
        f"learned combination (weights {model.weights_text()}; "
        f"{len(everything.labels)} labelled papers of {len(train_days)} earlier days)",
        {d.name: metrics(signals[d.name].sum(axis=1), d.labels) for d in scored_days})

    # What the store keeps costs: int8 embeddings, and a bounded sample of the unwanted
    # papers (recent days preferred), as papersift's store hands the learner.
    days_index = np.concatenate([np.full(len(d.texts), i) for i, d in enumerate(train_days)])
    zero_train = zero_shot_scores(everything, vectors, matcher)["both"]
    stored = np.vstack([unpack_vector(pack_vector(v)) for v in everything.vectors])
    quantised = learn.fit(learn.TrainingSet(stored, everything.texts, everything.labels,
                                            days_index, zero_train))
    means["learned_int8"] = report(
        "learned from int8 embeddings (as the store keeps them)",
        {d.name: metrics(quantised.decision(
            np.vstack([unpack_vector(pack_vector(v)) for v in d.vectors]), d.texts,
            zero[d.name]["both"]), d.labels) for d in scored_days})
    unwanted_total = int((everything.labels == 0).sum())
    keep_unwanted = max(1, int(unwanted_total * args.sample_unwanted))
    last = dt.date(2026, 1, 1) + dt.timedelta(days=len(train_days))
    rows = [retention.LabelRow(str(i), bool(label), dt.date(2026, 1, 1) +
                               dt.timedelta(days=int(day)), False)
            for i, (label, day) in enumerate(zip(everything.labels, days_index, strict=True))]
    saved = retention.MAX_UNWANTED
    retention.MAX_UNWANTED = keep_unwanted
    try:
        chosen = retention.learning_sample(rows, last)
    finally:
        retention.MAX_UNWANTED = saved
    mask = np.array([str(i) in chosen for i in range(len(rows))])
    sampled = learn.fit(learn.TrainingSet(
        everything.vectors[mask], [t for t, m in zip(everything.texts, mask, strict=True) if m],
        everything.labels[mask], days_index[mask], zero_train[mask]))
    means["learned_sampled"] = report(
        f"learned from a bounded sample ({keep_unwanted} of {unwanted_total} unwanted, "
        "recent days preferred; every wanted)",
        {d.name: metrics(sampled.decision(d.vectors, d.texts, zero[d.name]["both"]),
                         d.labels) for d in scored_days})

    peer = arxiv_sanity_scores(train_days, scored_days)
    means["peer"] = report("peer: arxiv-sanity-lite's method (TF-IDF + linear SVM, same labels)",
                           {d.name: metrics(s, d.labels)
                            for d, s in zip(scored_days, peer, strict=True)})
    means["fallback"] = report("fallback: TF-IDF zero-shot (if the model cannot load)", {
        d.name: metrics(fallback_scores(d, interests), d.labels) for d in scored_days})

    if args.variants:
        print("\nwhat each ingredient buys (zero-shot, mean over scored days)")
        defaults = ZeroShotParams()
        naive = replace(defaults, whole_topic=1.0, negative=0.0, standardise=False)
        variants = {
            "naive: whole topic, raw cosine": naive,
            "+ phrase hits (query expansion)": replace(naive, whole_topic=0.5),
            "+ negative penalty": replace(naive, whole_topic=0.5, negative=0.4),
            "+ per-column standardising": defaults,
            "  (standardised, no phrases)": replace(defaults, whole_topic=1.0),
            "  (standardised, no penalty)": replace(defaults, negative=0.0),
            "+ words: no filter penalty": replace(defaults, lexical_negative=0.0),
            "+ words (papersift)": defaults,
        }
        for label, params in variants.items():
            part = "both" if label.startswith("+ words") else "embeddings"
            values = [metrics(zero_shot_scores(d, vectors, matcher, params)[part], d.labels)
                      for d in scored_days]
            print(f"  {label:<32} AUC {statistics.mean(v['auc'] for v in values):.3f}  "
                  f"R@2K {statistics.mean(v['recall_2k'] for v in values):.3f}  "
                  f"pass95 {statistics.mean(v['share_95'] for v in values):.3f}")

    print(f"\nspeed: model load {load_seconds:.2f} s, {rate:.1f} papers/s embedded "
          f"({cpu_per_paper * 1000:.0f} ms of CPU per paper, {papers} papers, "
          f"max_seq_length {args.max_seq_length}); learning {learn_seconds:.1f} s")
    print(f"a 600-paper day end to end: ~{load_seconds + 600 / rate:.0f} s")
    summary = {
        "auc_zero_shot": round(means["zero_both"]["auc"], 4),
        "auc_learned": round(means["learned"]["auc"], 4),
        "auc_learned_int8": round(means["learned_int8"]["auc"], 4),
        "auc_learned_sampled": round(means["learned_sampled"]["auc"], 4),
        "sample_unwanted_share": args.sample_unwanted,
        "recall_k_zero_shot": round(means["zero_both"]["recall_k"], 4),
        "recall_k_learned": round(means["learned"]["recall_k"], 4),
        "recall_2k_learned": round(means["learned"]["recall_2k"], 4),
        "prefilter_share_95": round(means["learned"]["share_95"], 4),
        "auc_peer_arxiv_sanity": round(means["peer"]["auc"], 4),
        "papers_per_second": round(rate, 1),
        "auc_zero_shot_embeddings": round(means["zero_embeddings"]["auc"], 4),
        "auc_zero_shot_words": round(means["zero_words"]["auc"], 4),
        "auc_learned_words": round(means["signal_0"]["auc"], 4),
        "auc_learned_embeddings": round(means["signal_1"]["auc"], 4),
        "auc_fallback": round(means["fallback"]["auc"], 4),
        "recall_2k_zero_shot": round(means["zero_both"]["recall_2k"], 4),
        "recall_2k_peer_arxiv_sanity": round(means["peer"]["recall_2k"], 4),
        "prefilter_share_95_zero_shot": round(means["zero_both"]["share_95"], 4),
        "prefilter_share_95_peer_arxiv_sanity": round(means["peer"]["share_95"], 4),
        "weights": dict(zip(learn.SIGNALS, (round(w, 3) for w in model.weights), strict=True)),
        "model_load_seconds": round(load_seconds, 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
