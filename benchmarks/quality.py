"""How well the local scorer agrees with an LLM's picks on real labelled days.

    python benchmarks/quality.py --days ../shared/data/labelled-days \
        --criteria ../shared/data/criteria/paper_topics.txt [--train-days DIR] [--variants]

DIR holds labelled days (``YYYY-MM-DD.jsonl``, ``selected`` = the reference's pick).
Without --train-days the days are split in time: the first half trains the learner, the
second half is scored (the learner never sees a scored day). Prints, per day and on
average, for the zero-shot embedding scorer, the learned scorer and the lexical fallback:
ROC-AUC, recall of picks in the top K (K = picks, 2 x picks), and the share of papers a
prefilter must pass to keep 95% of picks; then speed; the last line is one JSON object.
``--variants`` also prints what each ingredient of the zero-shot score buys.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from papersift.config import LocalConfig
from papersift.scoring.encoders import SentenceEncoder, TfidfEncoder
from papersift.scoring.interests import parse_interests
from papersift.scoring.learn import TrainingSet, fit
from papersift.scoring.relevance import InterestVectors, ZeroShotParams, paper_text, zero_shot


@dataclass
class Day:
    name: str
    texts: list[str]
    labels: np.ndarray
    vectors: np.ndarray | None = None


def load_days(folder: Path) -> list[Day]:
    days = []
    for path in sorted(folder.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        days.append(Day(path.stem, [paper_text(r["title"], r["abstract"]) for r in rows],
                        np.array([bool(r["selected"]) for r in rows], dtype=int)))
    return days


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
    parser.add_argument("--max-seq-length", type=int, default=LocalConfig().max_seq_length,
                        help="tokens of each paper the model reads (default: papersift's)")
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
    names = ", ".join(d.name for d in scored_days)
    print(f"scored days: {names}")
    print(f"training days for the learner: {', '.join(d.name for d in train_days)}")

    started = time.perf_counter()
    encoder = SentenceEncoder(max_seq_length=args.max_seq_length)
    load_seconds = time.perf_counter() - started
    vectors = InterestVectors.build(interests, encoder)
    embed_started = time.perf_counter()
    papers = 0
    for day in [*train_days, *scored_days]:
        day.vectors = encoder.encode(day.texts)
        papers += len(day.texts)
    embed_seconds = time.perf_counter() - embed_started
    rate = papers / embed_seconds

    zero = {d.name: metrics(zero_shot(d.vectors, vectors).score, d.labels)
            for d in scored_days}
    zero_mean = report("zero-shot (all-MiniLM-L6-v2 embeddings)", zero)

    labels = np.concatenate([d.labels for d in train_days])
    model = fit(TrainingSet(
        np.vstack([d.vectors for d in train_days]), [t for d in train_days for t in d.texts],
        labels, np.concatenate([np.full(len(d.texts), i) for i, d in enumerate(train_days)])))
    learned = {}
    for day in scored_days:
        learned[day.name] = metrics(model.decision(day.vectors, day.texts), day.labels)
    learned_mean = report(f"learned (embeddings + TF-IDF, logistic regressions on "
                          f"{len(labels)} labelled papers of {len(train_days)} earlier days)",
                          learned)

    lexical = {}
    for day in scored_days:
        tfidf = TfidfEncoder()
        tfidf.fit(day.texts)
        lexical_vectors = InterestVectors.build(interests, tfidf)
        lexical[day.name] = metrics(
            zero_shot(tfidf.encode(day.texts), lexical_vectors).score, day.labels)
    lexical_mean = report("fallback: zero-shot TF-IDF (base install, no extra)", lexical)

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
            "  (top 1 phrase)": replace(defaults, top_phrases=1),
            "  (top 3 phrases)": replace(defaults, top_phrases=3),
        }
        for label, params in variants.items():
            values = [metrics(zero_shot(d.vectors, vectors, params).score, d.labels)
                      for d in scored_days]
            print(f"  {label:<32} AUC {statistics.mean(v['auc'] for v in values):.3f}  "
                  f"R@2K {statistics.mean(v['recall_2k'] for v in values):.3f}  "
                  f"pass95 {statistics.mean(v['share_95'] for v in values):.3f}")

    print(f"\nspeed: model load {load_seconds:.1f} s, {rate:.1f} papers/s "
          f"({papers} papers, max_seq_length {encoder.model.max_seq_length})")
    print(f"a 600-paper day end to end: ~{load_seconds + 600 / rate:.0f} s")
    summary = {
        "auc_zero_shot": round(zero_mean["auc"], 4),
        "auc_learned": round(learned_mean["auc"], 4),
        "auc_lexical": round(lexical_mean["auc"], 4),
        "recall_2k_zero_shot": round(zero_mean["recall_2k"], 4),
        "recall_2k_learned": round(learned_mean["recall_2k"], 4),
        "prefilter_share_95": round(learned_mean["share_95"], 4),
        "prefilter_share_95_zero_shot": round(zero_mean["share_95"], 4),
        "papers_per_second": round(rate, 1),
        "model_load_seconds": round(load_seconds, 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
