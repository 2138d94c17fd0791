"""The local scorer's one-line comment: why a paper scored as it did, in the evidence of
its own words (the phrase it mentions, the words it shares, or the phrase nearest in
meaning), what it mentions that the reader filters out, and what the learned ranking
weighed."""

from __future__ import annotations

from collections.abc import Sequence

from papersift.scoring.interests import Interests
from papersift.scoring.learn import LearnedModel
from papersift.scoring.lexical import LexicalMatch
from papersift.scoring.relevance import InterestVectors, ZeroShot


def comment_for(interests: Interests, vectors: InterestVectors, zero: ZeroShot,
                lexical: LexicalMatch, row: int, *, embeds: bool,
                learned: LearnedModel | None, weighed: Sequence[str]) -> str:
    """The comment of paper ``row``; ``embeds``: the embedding model was loaded;
    ``weighed``: the paper's words the learned ranking weighed most."""
    topic_index = int(zero.best_topic[row])
    topic = interests.topics[topic_index].name
    matched = lexical.evidence(row, topic_index)[:4]
    if not embeds:
        parts = [f"{topic}: scored on vocabulary alone (the embedding model did not load)"
                 + (f", matching {quoted(matched)}" if matched else "")]
    elif matched:
        parts = [f"{topic}: mentions {quoted(matched)}"]
    elif lexical.best_phrase[row][topic_index]:
        parts = [f"{topic}: shares words with your "
                 f"{quoted([lexical.best_phrase[row][topic_index]])}"]
    else:
        phrase_index = int(zero.best_phrase[row])
        nearest = vectors.phrases[phrase_index] if phrase_index >= 0 else topic
        parts = [f"{topic}: closest in meaning to {quoted([nearest])} (no phrase of "
                 "your interests appears in it)"]
    if lexical.filtered[row]:
        parts.append(f"it also mentions {quoted([lexical.filtered[row]])}, "
                     "which you filter out")
    if learned:
        ranking = (f"ranked by what you kept ({learned.positives}) and skipped "
                   f"({learned.negatives})")
        if weighed:
            ranking += f"; its words that weighed most: {quoted(weighed)}"
        parts.append(ranking)
    return "; ".join(parts) + "."


def quoted(phrases: Sequence[str]) -> str:
    """Phrases in curly quotes, comma-separated."""
    return ", ".join(f"\u201c{p}\u201d" for p in phrases)
