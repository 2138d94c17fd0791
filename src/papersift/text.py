"""Text hygiene at the edges: whatever a source or a model sends is made safe to store,
render and serialise before anything else sees it.

Control characters (other than white space), lone surrogates and the two Unicode
non-characters are removed: one of them in a title once made the Atom feed ill-formed
XML for the next thirty days, and a lone surrogate cannot even be written as UTF-8.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# White-space controls (\t \n \v \f \r, \x1c-\x1f, NEL) are left for str.split() to turn
# into single spaces; everything else in the control ranges is dropped.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
# Characters XML 1.0 forbids outright (for texts that keep their line breaks).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """One line of text: control characters removed, runs of white space collapsed."""
    return " ".join(_CONTROL.sub("", text).split())


def capped(text: str, limit: int) -> str:
    """``text`` of at most ``limit`` characters (cut at a word, marked with "…")."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (line breaks are kept)."""
    return _NOT_XML.sub("", text)


def script_assignment(name: str, json_text: str) -> str:
    """``window.NAME = JSON;``, inert inside a script element or file: no markup, no
    line separators that would end a JavaScript string."""
    text = (json_text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return f"window.{name} = {text};\n"


# Deeper than any document papersift reads or writes: deeper ones are refused whole
# (Python's own reader would stop with a recursion error somewhere past ~1,000 levels,
# and every function walking the result would have to be careful of its depth).
MAX_JSON_DEPTH = 64


def load_json(text: str | bytes) -> Any:
    """JSON from outside (a file, an HTTP body, a model's answer). ``ValueError`` (with
    why) for what is not JSON, nests deeper than ``MAX_JSON_DEPTH`` or holds a
    non-finite number (``NaN``, ``Infinity``: no JSON has them)."""
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not a JSON number")

    def finite(number: str) -> float:
        value = float(number)
        return value if math.isfinite(value) else refuse(number)

    try:
        document = json.loads(text, parse_constant=refuse, parse_float=finite)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, dict | list))
    return document
