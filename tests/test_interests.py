"""Interests in any words, and lexical matches that mean something (issue 22)."""

from __future__ import annotations

import pytest

from conftest import write_project
from papersift.models import Candidate
from papersift.scoring.interests import parse_interests
from papersift.scoring.lexical import LexicalMatcher
from papersift.scoring.local import LocalScorer, LocalSettings
from papersift.store import Store
from test_cli import papersift
from test_local_scorer import INTERESTS, by_id, encoder, papers  # noqa: F401 - a fixture

WANTED = {"sim-to-real transfer", "domain randomization", "dexterous manipulation"}
UNWANTED = {"llm alignment", "rl for fine-tuning language models"}
LAYOUTS = {
    "prose": """I work on reinforcement learning for robotics: sim-to-real transfer,
domain randomization, dexterous manipulation. I am not interested in LLM alignment, or in
RL for fine-tuning language models.
""",
    "bullets": """- reinforcement learning for robotics
- sim-to-real transfer, domain randomization
- dexterous manipulation

What I skip:
- LLM alignment
- RL for fine-tuning language models
""",
    "headings": """# Reinforcement learning for robotics
Sim-to-real transfer, domain randomization, dexterous manipulation.

## Not interested
LLM alignment, RL for fine-tuning language models.
""",
    "casual": """Hi! Here's roughly what I'd like to see.

Anything new on robot learning — sim-to-real transfer, domain randomization,
dexterous manipulation.

Please no LLM alignment, no RL for fine-tuning language models.
""",
    "numbered": """1. Reinforcement learning for robotics
   - Keep: sim-to-real transfer, domain randomization, dexterous manipulation.
   - Not relevant: LLM alignment, RL for fine-tuning language models.
""",
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_interests_read_alike_in_prose_bullets_headings_and_numbers(layout):
    interests = parse_interests(LAYOUTS[layout])
    wanted = {p.lower() for t in interests.topics for p in t.keep_phrases()}
    assert wanted >= WANTED
    assert not wanted & UNWANTED, "an exclusion became something wanted"
    assert {p.lower() for p in interests.negative_phrases} >= UNWANTED
    assert not any(p.lower().startswith(("i ", "what i")) for p in wanted), wanted


def test_prose_lead_ins_are_not_phrases_and_a_named_list_is_a_topic():
    interests = parse_interests(
        "My main interest is model compression: quantization, pruning and low-rank "
        "methods. I also follow mechanistic interpretability. Papers on federated "
        "learning do not interest me.")
    assert [t.name for t in interests.topics] == ["Model compression", "Your interests"]
    assert interests.topics[0].keep_phrases() == [
        "Model compression", "quantization", "pruning and low-rank methods"]
    assert interests.topics[1].keep_phrases() == ["mechanistic interpretability"]
    assert interests.negative_phrases == ["federated learning"]


def test_running_prose_names_its_topics_without_a_colon():
    """Prose names a topic and then its items with "meaning", "such as", ", from"… as
    often as with a colon; these had all gone into one catch-all topic."""
    interests = parse_interests(
        "I also care about efficiency and compression, meaning quantization, pruning and "
        "low-rank adaptation. I follow memory in agents too, from episodic memory to "
        "memory consolidation. Sequence models interest me, such as state-space models. "
        "I like papers such as mechanistic interpretability studies.")
    assert [t.name for t in interests.topics] == [
        "Efficiency and compression", "Memory in agents", "Sequence models", "Your interests"]
    assert interests.topics[0].keep_phrases() == [
        "Efficiency and compression", "quantization", "pruning and low-rank adaptation"]
    assert "episodic memory to memory consolidation" in interests.topics[1].keep_phrases()
    assert interests.topics[2].keep_phrases() == ["Sequence models", "state-space models"]
    assert "mechanistic interpretability studies" in interests.topics[3].keep_phrases()


def test_each_sentence_that_lists_things_is_a_topic_of_its_own():
    """A paragraph's sentences that list what the reader wants, with lead-ins the parser
    does not know, had all gone into one catch-all topic whose average meant nothing."""
    interests = parse_interests(
        "What I want each morning is foundational work. That covers mixture-of-experts "
        "routing, attention variants, normalization and residual design. I'm drawn to "
        "representation learning as a science — feature formation, dictionary learning, "
        "identifiability. Last, world models: model-based RL, planning, exploration.")
    topics = {t.name: t.keep_phrases() for t in interests.topics}
    assert len(topics) == 4, topics
    assert topics.pop("That covers mixture-of-experts routing")[1:] == [
        "attention variants", "normalization and residual design"]
    assert topics.pop("World models") == [
        "World models", "model-based RL", "planning", "exploration"]
    assert topics.pop("Representation learning as a science") == [
        "representation learning as a science", "feature formation", "dictionary learning",
        "identifiability"]
    assert list(topics) == ["Your interests"]
    assert not parse_interests("Not only transformers but also state-space models interest "
                               "me. No-regret learning too.").negative_phrases


@pytest.mark.parametrize("text", [
    "## Wanted\n- sim-to-real transfer\n\n## Exclusions\n- LLM alignment\n",
    "## Wanted\n- sim-to-real transfer\n\n## Unwanted papers\n- LLM alignment\n",
    "## Wanted\n- sim-to-real transfer\n\n## Out of scope\n- LLM alignment\n",
    "- sim-to-real transfer\n\nNegatives:\n- LLM alignment\n",
    "I work on sim-to-real transfer. Off-topic: LLM alignment.",
    "I work on sim-to-real transfer. LLM alignment is out of scope.",
    "I work on sim-to-real transfer. I dislike LLM alignment papers.",
    "1. Robotics\n   - Keep: sim-to-real transfer\n   - Exclusions: LLM alignment\n",
    "1. Robotics\n   - Keep: sim-to-real transfer\n\n## Out of scope\n- LLM alignment\n",
])
def test_every_way_of_saying_not_this_is_a_filter(text):
    """"Exclusions", "Unwanted", "Out of scope", "Negatives", "I dislike": each had made
    what the reader rules out a topic they want."""
    interests = parse_interests(text)
    wanted = " ".join(p.lower() for t in interests.topics for p in t.keep_phrases())
    assert "alignment" not in wanted
    assert any(p.lower().startswith("llm alignment") for p in interests.negative_phrases)


@pytest.mark.parametrize("text", [
    "## Negative results in deep learning\n- null results\n",
    "I work on contrastive learning with hard negatives and negative sampling.",
    "I study erasing unwanted concepts from diffusion models.",
    "Out-of-scope intent detection, off-policy RL and off-topic detection in dialogue.",
])
def test_topics_that_use_those_words_stay_wanted(text):
    interests = parse_interests(text)
    assert not interests.negative_phrases
    assert [p for t in interests.topics for p in t.keep_phrases()]


@pytest.mark.parametrize("text", [
    "I work on model compression.\nKeywords: quantization, pruning\n"
    "Negative keywords: medical imaging\n",
    "\ufeff## Compression\r\n- quantization, pruning\r\n\r\n## Not interested\r\n"
    "- medical imaging\r\n",
    "* Compression\n  * quantization\n  * pruning\n* Not interested\n  * medical imaging\n",
    "- Compression:\n\t- quantization\n\t- pruning\n- Skip:\n\t- medical imaging\n",
    "Yes: quantization, pruning\nNo: medical imaging\n",
    "**Must read:** quantization, pruning.\n**Skip:** medical imaging.\n",
])
def test_labels_nested_bullets_and_editor_marks_are_read_for_what_they_say(text):
    """A label line joined to the sentence before it, a byte-order mark before the first
    heading, a "Not interested" bullet over indented ones: each had turned what the
    reader excludes into a wanted topic, or a label into a phrase."""
    interests = parse_interests(text)
    wanted = {p.lower() for t in interests.topics for p in t.keep_phrases()}
    wanted |= {k.lower() for k in interests.keywords}
    assert {"quantization", "pruning"} <= wanted, wanted
    assert not any("medical" in p or "\ufeff" in p or p in ("keywords", "must read", "yes")
                   for p in wanted), wanted
    assert "medical imaging" in [p.lower() for p in interests.negative_phrases]


def test_prose_interests_rank_the_day_like_the_numbered_layout(tmp_path, encoder):  # noqa: F811
    prose = ("I work on efficiency and compression of large models: quantization of weights "
             "and activations, pruning, KV-cache eviction and compression. I also follow "
             "representation learning: how neural networks form features, contrastive "
             "representation structure. I skip medical imaging, autonomous driving and "
             "agriculture, and standard compression methods applied to a medical or vision "
             "application.")
    tops = []
    for name, text in (("numbered", INTERESTS), ("prose", prose)):
        with Store(tmp_path / f"{name}.sqlite") as store:
            scorer = LocalScorer(parse_interests(text), encoder, store, LocalSettings())
            ranked = sorted(by_id(scorer.score([Candidate(p) for p in papers()])).values(),
                            key=lambda s: -s.relevance)
            tops.append({s.paper.arxiv_id for s in ranked if s.relevance >= 8})
    numbered, prose_top = tops
    assert numbered and len(numbered & prose_top) >= 0.9 * len(numbered)


def test_interests_with_nothing_to_look_for_stop_the_run_in_one_line(tmp_path, arxiv):
    write_project(tmp_path, arxiv=arxiv, extra='[scoring]\nscorer = "local"\n')
    (tmp_path / "interests.md").write_text("# My interests\n\n## Topics\n")
    result = papersift("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "interests.md: nothing to look for in it" in lines[0], lines
    assert not arxiv.requests


def matched(phrase: str, text: str) -> bool:
    interests = parse_interests(f"1. Topic\n   - Keep: {phrase}\n")
    matcher = LexicalMatcher(interests)
    # The phrase among other papers, so that its words are rare and weigh what they do;
    # the look-alike word comes back, as it does in an abstract.
    found = matcher.match([text] + ["A study of graph neural networks for molecules."] * 30)
    return bool(found.positive[0] > 0)


@pytest.mark.parametrize(("phrase", "text", "expected"), [
    ("mixture of experts", "A Gaussian mixture model for survival: each mixture component "
     "is a cohort, and the mixture weights are learned.", False),
    ("mixture of experts", "Sparse mixture-of-experts layers with learned routing.", True),
    ("scaling laws", "Laws of cooperation among language agents: which laws emerge, "
     "and which laws hold.", False),
    ("scaling laws", "Scaling laws for sparse autoencoders.", True),
    ("sim-to-real transfer", "A SIM card fraud detector with transfer learning.", False),
    ("sim-to-real transfer", "Zero-shot sim-to-real transfer of legged locomotion.", True),
    ("RL for robotics", "RL fine-tuning of language models for math: RL with verifiable "
     "rewards, and RL from feedback.", False),
    ("RL for robotics", "Offline RL for robotics from play data.", True),
    ("sparse or dictionary learning", "A dictionary of slang from social media; the dictionary has "
     "40k entries and the dictionary is public.",
     False),
    ("sparse or dictionary learning", "Dictionary learning recovers monosemantic features.",
     True),
    ("MoE routing", "Moe, a caching layer for web services, and its routing tables.", False),
    ("MoE routing", "Load-balanced MoE routing without auxiliary losses.", True),
])
def test_one_word_of_a_phrase_or_a_look_alike_of_an_abbreviation_is_no_match(
        phrase, text, expected):
    assert matched(phrase, text) is expected


@pytest.mark.parametrize("cutoffs", [(1, 1), (10, 10), (5, 3)])
def test_scores_stay_within_one_to_ten_at_every_cutoff(tmp_path, encoder, cutoffs):  # noqa: F811
    relevance_cutoff, novelty_cutoff = cutoffs
    with Store(tmp_path / "store.sqlite") as store:
        scorer = LocalScorer(parse_interests(INTERESTS), encoder, store, LocalSettings(
            relevance_cutoff=relevance_cutoff, novelty_cutoff=novelty_cutoff))
        scored = scorer.score([Candidate(p) for p in papers()]).scored
    assert {s.relevance for s in scored} <= set(range(1, 11))
    assert {s.novelty for s in scored} <= set(range(1, 11))


def test_an_exclusion_in_the_numbered_layouts_introduction_is_a_filter():
    interests = parse_interests(
        "I work on efficient training. Papers that only apply existing methods to a new "
        "domain do not interest me.\n\n1. Efficiency\n   - Keep: pruning, quantization.\n")
    assert interests.negative_phrases == ["only apply existing methods to a new domain"]
    assert interests.topics[0].keep_phrases() == ["Efficiency", "pruning", "quantization"]
