"""What one statement of a reader's interests says: whether it rules something out ("I
skip…", "not interested in…", "… do not interest me"), and what it names once the words
around that are gone ("I work on X" names X). Used by ``interests`` for every layout."""

from __future__ import annotations

import re

# What a reader writes when they mean "not this"; at the start of a statement, or as its
# verb ("Papers on X do not interest me").
NEGATIVE = re.compile(
    r"\b(?:not (?:interested|relevant|into|for me|wanted)|uninterested|no interest"
    r"|(?:do not|don't|never) (?:want|care|need|read|follow|like)|not (?:want|care)"
    r"|do(?: not|n't) interest|(?:i |we )?(?:skip|avoid|ignore|exclude|excluding)"
    r"|leave (?:out|aside)|filter(?:ed)? out|rather not|less interested|irrelevant"
    r"|not relevant|without interest|uninteresting|(?:i|we) dislike"
    r"|(?:is|are) (?:out of scope|off[- ]topic)|(?:out of scope|off[- ]topic) for (?:me|us)"
    r"|not (?:my|our) (?:thing|area|field)"
    # a statement that opens with a refusal: "No RLHF papers, no plain RAG", "Please, no…"
    r"|^(?:please,?\s+)?(?:no|not(?!\s+only\b)|nothing (?:on|about)|none of)(?=\s+[^\s-])"
    r"|please,?\s+no)\b", re.I)
# A heading or label that is nothing but "not this": "Exclusions", "Unwanted papers",
# "Negatives". Words that also name topics ("negative results", "unwanted concepts") count
# only standing alone.
_NEGATIVE_NAME = re.compile(
    r"^\W*(?:no|unwanted|exclu(?:sions?|ded|des?)|negatives?|nope|don'?ts|not wanted|"
    r"dislikes?|blacklist|blocked|off[- ]limits|off[- ]topic|out of scope|less relevant|"
    r"low priority|never)"
    r"(?:\s+(?:topics?|papers?|areas?|subjects?|list|things|for me|please))?\W*$", re.I)
# The words before what is (not) wanted: "I skip papers that", "I am not interested in".
_NEGATIVE_LEAD = re.compile(
    r"^.*?" + NEGATIVE.pattern +
    r"(?:\s+(?:in|about|on|with|by|to|of|me))?(?:\s*:)?"
    r"(?:\s+(?:any|papers?|work|anything|studies|articles)(?:\s+(?:that|which|on|about|"
    r"in|where|with))?)?\s*", re.I)
# The words before what is wanted: "I work on", "my main interest is".
_POSITIVE_LEAD = re.compile(
    r"^(?:(?:and|also|finally|mostly|mainly|especially|in particular|above all|lately|"
    r"first|second|third|then|besides|beyond that|next|last|lastly),?\s+)*"
    r"(?:(?:i|we)(?:'m| am| are)?\s+(?:also\s+|mostly\s+|mainly\s+|especially\s+)?"
    r"(?:work(?:ing)?|research(?:ing)?|stud(?:y|ying)|focus(?:ing)?|follow(?:ing)?|"
    r"read(?:ing)?|care|want(?: to read)?|like(?: to read)?|track(?:ing)?|look(?:ing)? for|"
    r"interested|enjoy|keep up with)\s*(?:on|about|in|with|for)?\s+"
    # "I'm drawn to", "we are keen on", "I am fascinated by"
    r"|(?:i|we)(?:'m| am| are)\s+(?:also\s+)?\w+\s+(?:to|on|by|about)\s+"
    r"|interested\s+in\s*:?\s+"
    r"|(?:my|our)\s+(?:\w+\s+)?(?:interests?|focus|area|topics?|work|research)\s+"
    r"(?:is|are|include|includes|lies|lie)\s+(?:in\s+|on\s+)?"
    r"|(?:i|we)\s+(?:want|like|read)\s+)"
    r"|^(?:(?:and|also|finally|first|second|third|then|besides|next|last|lastly),\s+)+",
    re.I)
# …and after it: "… is another focus", "…, too", "… interest me".
_POSITIVE_TAIL = re.compile(
    r"(?:\s+(?:is|are)\s+(?:also\s+)?(?:another|my|our|a)\s+(?:\w+\s+)?"
    r"(?:focus|interest|area|topic)s?|,?\s+(?:too|as well|also)"
    r"|\s+(?:also\s+)?interests?\s+(?:me|us))\s*$", re.I)
_OBJECT_LEAD = re.compile(r"^(?:(?:any|most|the)\s+)?(?:papers?|work|studies|articles)\s+"
                          r"(?:on|about|in|that|which|with)\s+", re.I)
# The shapes of a line: a Markdown heading, a "Label: text" line ("Keep:", "Exclusions:").
HEADING = re.compile(r"^\s*#{1,6}\s+(.+?)\s*$")
LABEL = re.compile(r"^\s*\**\s*([A-Za-z][A-Za-z \-']{1,30}?)\s*\**\s*:\s*\**\s*(.*)$")
KEYWORD_HINT = re.compile(r"\bkeywords?\b", re.I)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def says_not(heading: str) -> bool:
    """Whether a heading, label or lead line ("What I skip:", "Exclusions") announces
    what the reader does not want."""
    return bool(NEGATIVE.search(heading) or _NEGATIVE_NAME.match(heading))


def wanted(statement: str) -> str:
    """What a statement says is wanted, without its lead-in and tail."""
    return _POSITIVE_TAIL.sub("", _POSITIVE_LEAD.sub("", statement, count=1)).strip(" .:;")


def negated(statement: str, cue: re.Match[str]) -> str:
    """What a negative statement rules out: the words after its cue ("I skip X"), or
    before it when nothing follows ("Papers on X do not interest me")."""
    after = _NEGATIVE_LEAD.sub("", statement, count=1)
    if re.search(r"\w{3,}", re.sub(r"\b(?:me|us|at all|much|really)\b", "", after)):
        return after
    before = _OBJECT_LEAD.sub("", statement[:cue.start()]).strip(" ,;:")
    return re.sub(r"\s+(?:is|are|seems?|feels?)$", "", before, flags=re.I)  # "X are not…"


def clean(text: str) -> str:
    """One line of a statement, without Markdown bold and runs of spaces."""
    return " ".join(text.replace("**", "").split()).strip()
