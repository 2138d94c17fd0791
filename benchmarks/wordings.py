"""The same interests in other words: zero-shot top of the list per wording.

    python benchmarks/wordings.py --days ../shared/data/labelled-days \
        ../shared/data/criteria/paper_topics.txt benchmarks/wordings/prose.md \
        benchmarks/wordings/bullets.md

The first file is the reference wording (the numbered layout the labels were made
with); the others say the same in prose and in bullets (``benchmarks/wordings/``, our
own words). Each is read by papersift and scores every labelled day zero-shot, as a
first morning would; printed per wording: picks in the top K (K = the day's picks) and
ROC-AUC on the first five days and the rest, and the share of the reference wording's
top-K figure each reaches. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from papersift.scoring.interests import parse_interests  # noqa: E402
from papersift.scoring.lexical import LexicalMatcher  # noqa: E402
from papersift.scoring.local import LocalSettings, make_encoder  # noqa: E402
from papersift.scoring.relevance import InterestVectors  # noqa: E402
from quality import load_days, metrics, zero_shot_scores  # noqa: E402

EARLY_DAYS = 5  # the days settings are chosen on; the rest check them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=Path, required=True)
    parser.add_argument("wordings", type=Path, nargs="+")
    args = parser.parse_args()
    days = load_days(args.days)
    encoder = make_encoder(LocalSettings())
    for day in days:
        day.vectors = encoder.encode(day.texts)
    results = {}
    for path in args.wordings:
        interests = parse_interests(path.read_text(encoding="utf-8"))
        vectors = InterestVectors.build(interests, encoder)
        matcher = LexicalMatcher(interests)
        found = [metrics(zero_shot_scores(d, vectors, matcher)["both"], d.labels)
                 for d in days]

        def mean(rows: list[dict[str, float]], key: str) -> float:
            return round(statistics.mean(r[key] for r in rows), 3)

        results[path.stem] = {
            "recall_k": mean(found, "recall_k"), "auc": mean(found, "auc"),
            "recall_k_early": mean(found[:EARLY_DAYS], "recall_k"),
            "recall_k_late": mean(found[EARLY_DAYS:], "recall_k"),
            "auc_late": mean(found[EARLY_DAYS:], "auc")}
    reference = next(iter(results.values()))["recall_k"]
    for name, row in results.items():
        row["share_of_reference"] = round(row["recall_k"] / reference, 3) if reference else 0.0
        print(f"{name:<16} top K {row['recall_k']:.3f} (early {row['recall_k_early']:.3f}, "
              f"late {row['recall_k_late']:.3f})  AUC {row['auc']:.3f}  "
              f"{row['share_of_reference']:.0%} of the first wording's top K")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
