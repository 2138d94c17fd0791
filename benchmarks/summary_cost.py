"""What a TL;DR per selected paper costs: inside the scoring requests, or one extra request.

Inside the scoring request, the model must write a summary for *every* paper it judges
(it does not know yet which will be selected), and every scoring request carries the
instruction. An extra request sends only the selected papers again (title + abstract as
the scoring request cut it) and gets one summary each. Which is cheaper depends on how
many of the judged papers are selected; this measures it on the labelled days, with
papersift's own prompt texts, the day's real abstracts and the reference's real picks.

Tokens are characters / 4 of every message and answer, as in ../shared/anchors. A summary
answer is ``--summary-chars`` (default 300: two sentences of the 45 words the prompt
allows). ``--abstract-share``: the share of the day that reaches the abstract stage
(hybrid: ~0.5, measured in issue 11; llm with the title pass: most of the day).

    python benchmarks/summary_cost.py --days ../shared/data/labelled-days
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from papersift.models import Paper
from papersift.scoring.pricing import PriceTable
from papersift.summaries import BATCH, _user, summary_prompt

ABSTRACT_BATCH = 20  # llm.abstract_batch_size's default
# What the scoring prompt would need to say, in our words, to ask for a summary too.
INSTRUCTION = ("Also give each paper a TLDR field: one or two plain sentences, at most 45 "
               "words, in English, saying what the paper does and finds.")


def load_day(path: Path) -> tuple[list[Paper], list[Paper]]:
    papers, picks = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        paper = Paper(row["arxiv_id"], row["title"], row["abstract"], tuple(row["authors"]),
                      tuple(row["categories"]))
        papers.append(paper)
        if row.get("selected"):
            picks.append(paper)
    return papers, picks


def tokens(chars: int) -> int:
    return math.ceil(chars / 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=Path, required=True)
    parser.add_argument("--summary-chars", type=int, default=300)
    parser.add_argument("--abstract-share", type=float, nargs="+", default=[0.5, 0.9])
    parser.add_argument("--model", default="gpt-4.1-mini")
    args = parser.parse_args()
    prices = PriceTable({})
    answer_chars = args.summary_chars + len('{"id": "2604.01234", "tldr": ""}, ')
    system = summary_prompt("English")
    rows = []
    for path in sorted(args.days.glob("*.jsonl")):
        papers, picks = load_day(path)
        extra_prompt = sum(tokens(len(system) + len(_user(picks[i:i + BATCH], "English", 1000)))
                           for i in range(0, len(picks), BATCH))
        extra_completion = tokens(answer_chars * len(picks))
        for share in args.abstract_share:
            judged = round(share * len(papers))
            requests = math.ceil(judged / ABSTRACT_BATCH)
            inside_prompt = tokens(len(INSTRUCTION)) * requests
            inside_completion = tokens((args.summary_chars + len(', "TLDR": ""')) * judged)
            rows.append({
                "day": path.stem, "papers": len(papers), "selected": len(picks),
                "abstract_share": share,
                "inside": [inside_prompt, inside_completion,
                           prices.usage(args.model, inside_prompt, 0, inside_completion)
                           .total_cost],
                "extra": [extra_prompt, extra_completion,
                          prices.usage(args.model, extra_prompt, 0, extra_completion)
                          .total_cost],
            })
    print(f"{'day':<12}{'papers':>7}{'picks':>6}{'share':>6}  {'inside (prompt+compl.)':>24}"
          f"  {'extra request':>20}  cheaper")
    for row in rows:
        inside, extra = row["inside"], row["extra"]
        print(f"{row['day']:<12}{row['papers']:>7}{row['selected']:>6}{row['abstract_share']:>6}"
              f"  {inside[0]:>8}+{inside[1]:>7} ${inside[2]:.4f}  {extra[0]:>6}+{extra[1]:>5}"
              f" ${extra[2]:.4f}  {'extra' if extra[2] < inside[2] else 'inside'}")
    summary = {}
    for share in args.abstract_share:
        chosen = [r for r in rows if r["abstract_share"] == share]
        summary[f"share_{share}"] = {
            "inside_tokens": sum(r["inside"][0] + r["inside"][1] for r in chosen),
            "extra_tokens": sum(r["extra"][0] + r["extra"][1] for r in chosen),
            "inside_cost": round(sum(r["inside"][2] for r in chosen), 4),
            "extra_cost": round(sum(r["extra"][2] for r in chosen), 4),
            "days_extra_cheaper": sum(r["extra"][2] < r["inside"][2] for r in chosen),
            "days": len(chosen)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
