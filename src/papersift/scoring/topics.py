"""Topic tags for papers whose scorer named none (the LLM, author matches).

The nearest topic of the interests file by TF-IDF similarity: cheap, offline, and good
enough to group a digest, a month overview or a per-topic feed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from papersift.models import Scored
from papersift.scoring.encoders import TfidfEncoder
from papersift.scoring.interests import Interests
from papersift.scoring.relevance import InterestVectors, paper_text, zero_shot


def tag_topics(scored: Sequence[Scored], interests: Interests,
               context: Sequence[str] = ()) -> list[Scored]:
    """``scored`` with ``topic`` filled in where it was empty.

    ``context`` (the day's other paper texts) sharpens the word statistics.
    """
    untagged = [s for s in scored if not s.topic]
    if not untagged or not interests.topics:
        return list(scored)
    texts = [paper_text(s.paper.title, s.paper.abstract) for s in untagged]
    encoder = TfidfEncoder()
    encoder.fit([*texts, *context])
    vectors = InterestVectors.build(interests, encoder)
    best = zero_shot(encoder.encode(texts), vectors).topic_scores.argmax(axis=1)
    names = {id(s): interests.topics[int(b)].name for s, b in zip(untagged, best, strict=True)}
    return [dataclasses.replace(s, topic=names[id(s)]) if id(s) in names else s
            for s in scored]
