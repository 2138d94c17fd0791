"""How high the top of the list can get with the signals papersift ships: each labelled
day scored by models trained on *all the other* labelled days (twice the history of
quality.py's temporal split, and days on both sides of it).

    pip install -e ".[bench]"   # scikit-learn for the supervised ceiling
    python benchmarks/ceiling.py --days ../shared/data/labelled-days \
        --criteria ../shared/data/criteria/paper_topics.txt

Per day and on average (all days, and the later half that quality.py scores): picks in
the top K (K = the day's picks), ROC-AUC and the share of the day a prefilter must pass
to keep 95% of the picks, for
- papersift's zero-shot score (no labels at all);
- a logistic regression on the paper embeddings alone, trained on the other days' picks
  (what any score built on the shipped embedding model could learn from ten days);
- papersift's learned combination, trained on the other days.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from papersift.scoring import learn  # noqa: E402
from papersift.scoring.interests import parse_interests  # noqa: E402
from papersift.scoring.lexical import LexicalMatcher  # noqa: E402
from papersift.scoring.local import LocalSettings, make_encoder  # noqa: E402
from papersift.scoring.relevance import InterestVectors  # noqa: E402
from quality import load_days, metrics, zero_shot_scores  # noqa: E402

KEYS = ("recall_k", "auc", "share_95")


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=Path, required=True)
    parser.add_argument("--criteria", type=Path, required=True)
    parser.add_argument("--regularization", type=float, default=1.0,
                        help="C of the embeddings-only logistic regression")
    args = parser.parse_args()
    days = load_days(args.days)
    encoder = make_encoder(LocalSettings())
    interests = parse_interests(args.criteria.read_text(encoding="utf-8"))
    vectors = InterestVectors.build(interests, encoder)
    matcher = LexicalMatcher(interests)
    for day in days:
        day.vectors = encoder.encode(day.texts)
    zero = [zero_shot_scores(day, vectors, matcher)["both"] for day in days]

    rows: dict[str, list[dict[str, float]]] = {"zero_shot": [], "embeddings": [],
                                                "learned": []}
    for index, day in enumerate(days):
        others = [i for i in range(len(days)) if i != index]
        x = np.vstack([days[i].vectors for i in others])
        y = np.concatenate([days[i].labels for i in others])
        linear = LogisticRegression(C=args.regularization, max_iter=5000,
                                    class_weight="balanced").fit(x, y)
        model = learn.fit(learn.TrainingSet(
            x, [t for i in others for t in days[i].texts], y,
            np.concatenate([np.full(len(days[i].texts), n) for n, i in enumerate(others)]),
            np.concatenate([zero[i] for i in others])))
        scores = {"zero_shot": zero[index],
                  "embeddings": linear.decision_function(day.vectors),
                  "learned": model.decision(day.vectors, day.texts, zero[index])}
        for name, values in scores.items():
            rows[name].append(metrics(values, day.labels))
        print(day.name, "  ".join(f"{name} top K {rows[name][-1]['recall_k']:.3f}"
                                  for name in rows), flush=True)

    later = len(days) // 2
    summary = {}
    for name, found in rows.items():
        for part, chosen in (("all", found), ("later", found[later:])):
            for key in KEYS:
                summary[f"{name}_{key}_{part}"] = round(
                    statistics.mean(r[key] for r in chosen), 4)
        print(f"{name:<11} top K {summary[f'{name}_recall_k_all']:.3f} "
              f"(later days {summary[f'{name}_recall_k_later']:.3f})  "
              f"AUC {summary[f'{name}_auc_all']:.3f}  "
              f"pass95 {summary[f'{name}_share_95_all']:.3f}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
