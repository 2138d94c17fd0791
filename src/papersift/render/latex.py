"""The LaTeX of arXiv titles and abstracts (``S$^3$``, ``\\emph{…}``, ``$\\mathcal{O}(n^2)$``,
``87\\%``) made readable as HTML or plain text, with no math renderer and nothing loaded
from another site: commands become Unicode symbols or tags (``<sup>``, ``<em>``), and what
is not known stays as arXiv wrote it. Every literal character is HTML-escaped."""

from __future__ import annotations

import functools
import html
import re
import unicodedata

from markupsafe import Markup, escape

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "varpi": "ϖ", "rho": "ρ",
    "varrho": "ϱ", "sigma": "σ", "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_SYMBOLS = {
    **_GREEK,
    "times": "×", "cdot": "·", "pm": "±", "mp": "∓", "div": "÷", "ast": "∗", "star": "⋆",
    "circ": "∘", "bullet": "•", "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "dagger": "†",
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈",
    "sim": "∼", "simeq": "≃", "cong": "≅", "equiv": "≡", "propto": "∝", "asymp": "≍",
    "ll": "≪", "gg": "≫", "prec": "≺", "succ": "≻", "preceq": "⪯", "succeq": "⪰",
    "in": "∈", "notin": "∉", "ni": "∋", "subset": "⊂", "subseteq": "⊆", "supset": "⊃",
    "supseteq": "⊇", "cup": "∪", "cap": "∩", "setminus": "∖", "emptyset": "∅",
    "varnothing": "∅", "forall": "∀", "exists": "∃", "neg": "¬", "lnot": "¬", "land": "∧",
    "wedge": "∧", "lor": "∨", "vee": "∨", "top": "⊤", "bot": "⊥", "perp": "⊥", "mid": "∣",
    "parallel": "∥", "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←",
    "leftrightarrow": "↔", "Rightarrow": "⇒", "Leftarrow": "⇐", "Leftrightarrow": "⇔",
    "implies": "⟹", "iff": "⟺", "mapsto": "↦", "uparrow": "↑", "downarrow": "↓",
    "longrightarrow": "⟶", "infty": "∞", "partial": "∂", "nabla": "∇", "sum": "∑",
    "prod": "∏", "int": "∫", "oint": "∮", "sqrt": "√", "ell": "ℓ", "hbar": "ℏ",
    "Re": "ℜ", "Im": "ℑ", "aleph": "ℵ", "angle": "∠", "triangle": "△", "prime": "′",
    "ldots": "…", "dots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱", "langle": "⟨",
    "rangle": "⟩", "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋", "lvert": "|",
    "rvert": "|", "lVert": "‖", "rVert": "‖", "vert": "|", "Vert": "‖", "checkmark": "✓",
    "textdegree": "°", "degree": "°", "textendash": "–", "textemdash": "—", "S": "§",
    "copyright": "©", "textregistered": "®", "texttrademark": "™", "quad": "\u2003",
    "qquad": "\u2003\u2003",
}
_OPERATORS = ("log", "ln", "exp", "min", "max", "sup", "inf", "lim", "arg", "argmin",
              "argmax", "sin", "cos", "tan", "det", "dim", "ker", "Pr", "mod", "softmax",
              "tr", "rank", "diag", "sgn", "sign", "poly", "polylog", "deg", "gcd", "liminf",
              "limsup", "tanh", "sinh", "cosh")
_STYLE_TAGS = {
    "emph": "em", "textit": "em", "textsl": "em", "mathit": "em", "it": "em", "em": "em",
    "textbf": "strong", "mathbf": "strong", "boldsymbol": "strong", "bm": "strong",
    "bf": "strong", "texttt": "code", "mathtt": "code", "underline": "u",
    "textsuperscript": "sup", "textsubscript": "sub",
}
_PLAIN = ("text", "textrm", "mathrm", "textsc", "textsf", "mathsf", "mbox", "operatorname",
          "textnormal", "hbox", "textup", "url")
_DROPPED = ("cite", "citep", "citet", "label", "ref", "eqref", "cref", "Cref", "footnote",
            "vspace", "hspace", "thanks")
_IGNORED = ("left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
            "biggl", "biggr", "middle", "limits", "nolimits", "displaystyle", "textstyle",
            "rm", "sf", "tt", "normalfont", "small", "large", "scriptsize", "footnotesize",
            "noindent", "centering", "relax", "xspace")
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303",
            "bar": "\u0304", "overline": "\u0305", "vec": "\u20d7", "dot": "\u0307",
            "ddot": "\u0308", "check": "\u030c", "breve": "\u0306", "acute": "\u0301",
            "grave": "\u0300"}
_TEXT_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303",
                 "=": "\u0304", ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306",
                 "H": "\u030b", "k": "\u0328"}
_ESCAPED = {"%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", ",": "\u2009",
            ";": "\u2005", ":": "\u2005", "!": "", " ": " ", "|": "‖", "\\": " ", "/": ""}
# Letter styles as Unicode runs (A–Z, a–z) with the letters Unicode placed elsewhere.
_ALPHABETS = {
    "mathcal": (0x1D49C, 0x1D4B6, {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ",
                                   "M": "ℳ", "R": "ℛ", "e": "ℯ", "g": "ℊ", "o": "ℴ"}),
    "mathscr": (0x1D49C, 0x1D4B6, {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ",
                                   "M": "ℳ", "R": "ℛ", "e": "ℯ", "g": "ℊ", "o": "ℴ"}),
    "mathbb": (0x1D538, 0x1D552, {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ",
                                  "Z": "ℤ"}),
    "mathfrak": (0x1D504, 0x1D51E, {"C": "ℭ", "H": "ℌ", "I": "ℑ", "R": "ℜ", "Z": "ℨ"}),
}
_SUPERSCRIPT = str.maketrans("0123456789+-=()nixT*", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱˣᵀ*")
_SUBSCRIPT = str.maketrans("0123456789+-=()aeoxijklmnprstuv", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓᵢⱼₖₗₘₙₚᵣₛₜᵤᵥ")
_SCRIPT_TAG = re.compile(r"<(sup|sub)>(.*?)</\1>")
_TAG = re.compile(r"</?[a-z]+(?: class=\"math\")?>")
# A command's name; the space after it is kept (math spacing, "\ours is" stays readable).
_COMMAND = re.compile(r"\\([A-Za-z]+)|\\(.)?", re.S)
_TAKES_ARGUMENT = {*_STYLE_TAGS, *_PLAIN, *_ALPHABETS, *_ACCENTS}
_ORDINARY = re.compile(r"[^\\$\{\}^_~\-`'\)]*")
_NEEDS_PARENS = re.compile(r"[\s+\-−/·×=,<>]")


# Deeper nesting than any real title or abstract has (groups, arguments, math spans,
# chained accents): past it the text is shown as written, never a recursion error.
MAX_NESTING = 64


class _TooDeep(Exception):
    """The text nests deeper than ``MAX_NESTING``."""


@functools.lru_cache(maxsize=8192)  # one site build renders an abstract on several pages
def latex_html(text: str) -> Markup:
    """``text`` as safe HTML: math in ``<span class="math">``, commands as Unicode or tags.
    Text nested deeper than ``MAX_NESTING`` is shown as written (escaped)."""
    text = str(text)
    try:
        rendered = _Reader(text).read()
    except _TooDeep:
        rendered = str(escape(text))
    # NFC: a base letter and its accent become one character where Unicode has it (ŷ, é)
    return Markup(unicodedata.normalize("NFC", rendered))


def _nested(method):
    """Count ``method``'s calls in progress; past ``MAX_NESTING`` give up on the text."""
    @functools.wraps(method)
    def counted(self, *args, **kwargs):
        if self.level >= MAX_NESTING:
            raise _TooDeep
        self.level += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            self.level -= 1
    return counted


@functools.lru_cache(maxsize=8192)
def latex_text(text: str) -> str:
    """``text`` as plain Unicode (superscripts as ² where Unicode has them, else ``^(…)``)."""
    def script(match: re.Match[str]) -> str:
        inner = html.unescape(_TAG.sub("", match.group(2)))
        table = _SUPERSCRIPT if match.group(1) == "sup" else _SUBSCRIPT
        mapped = inner.translate(table)
        if all(a != b or a == "*" for a, b in zip(inner, mapped, strict=True)):
            return html.escape(mapped, quote=False)
        mark = "^" if match.group(1) == "sup" else "_"
        return html.escape(mark + (inner if len(inner) == 1 else f"({inner})"), quote=False)

    rendered = str(latex_html(text))
    while _SCRIPT_TAG.search(rendered):
        rendered = _SCRIPT_TAG.sub(script, rendered)
    return html.unescape(_TAG.sub("", rendered))


class _Reader:
    """One pass over the text; ``math`` is true between ``$…$`` (or ``\\(…\\)``)."""

    def __init__(self, text: str, level: int = 0):
        self.text, self.pos, self.math, self.depth = text, 0, False, 0
        self.level = level  # calls of read/_argument in progress, this reader's and outer

    @_nested
    def read(self, closing: str = "") -> str:
        parts: list[str] = []
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if closing and text.startswith(closing, self.pos):
                self.pos += len(closing)
                return "".join(parts)
            if char == "\\":
                parts.append(self._command())
            elif char == "$" and not self.math:
                parts.append(self._math_span())
            elif char == "{":
                parts.append(self._group())
            elif char == "}" and self.depth:
                return "".join(parts)  # the caller's group ends here
            elif char in "^_" and self.math:
                self.pos += 1
                tag = "sup" if char == "^" else "sub"
                parts.append(f"<{tag}>{self._argument()}</{tag}>")
            elif char == "~":
                self.pos += 1
                parts.append("\u00a0")
            elif not self.math and text.startswith("--", self.pos):  # LaTeX's dashes
                long = text.startswith("---", self.pos)
                self.pos += 3 if long else 2
                parts.append("—" if long else "–")
            elif not self.math and text.startswith(("``", "''"), self.pos):
                self.pos += 2
                parts.append("“" if char == "`" else "”")
            elif self.math and char == "'":
                self.pos += 1
                parts.append("′")
            else:  # a run of characters that mean nothing to LaTeX, escaped at once
                end = max(_ORDINARY.match(text, self.pos).end(), self.pos + 1)
                parts.append(str(escape(text[self.pos:end])))
                self.pos = end
        return "".join(parts)

    def _math_span(self) -> str:
        text = self.text
        fence = "$$" if text.startswith("$$", self.pos) else "$"
        end = _closing_dollar(text, self.pos + len(fence), fence)
        if end < 0:  # a lone dollar sign is a dollar sign
            self.pos += 1
            return "$"
        inner = _Reader(text[self.pos + len(fence):end], self.level)
        inner.math = True
        self.pos = end + len(fence)
        return f'<span class="math">{inner.read()}</span>'

    def _group(self) -> str:
        self.pos += 1
        self.depth += 1
        inner = self.read()
        self.depth -= 1
        if self.pos < len(self.text) and self.text[self.pos] == "}":
            self.pos += 1
        return inner

    @_nested
    def _argument(self) -> str:
        """The next argument: a ``{group}``, one command, or one character."""
        text = self.text
        while self.pos < len(text) and text[self.pos] == " ":
            self.pos += 1
        if self.pos >= len(text):
            return ""
        if text[self.pos] == "{":
            return self._group()
        if text[self.pos] == "\\":
            return self._command()
        self.pos += 1
        return str(escape(text[self.pos - 1]))

    def _raw_argument(self) -> str:
        """The next ``{…}`` argument's source text (for letter styles and accents)."""
        start = self.pos
        self._argument()
        return self.text[start:self.pos].strip().removeprefix("{").removesuffix("}")

    def _command(self) -> str:
        text = self.text
        match = _COMMAND.match(text, self.pos)
        assert match is not None
        self.pos = match.end()
        if match.group(1) and not self.math and text.startswith(" ", self.pos) \
                and match.group(1) in _TAKES_ARGUMENT:
            self.pos += 1  # "\emph {x}": the space only ends the command's name
        name = match.group(1)
        if name is None:
            other = match.group(2) or ""
            if other == "(" and not self.math:
                inner = _Reader(text[self.pos:], self.level)
                inner.math = True
                body = inner.read(closing="\\)")
                self.pos += inner.pos
                return f'<span class="math">{body}</span>'
            if other in _TEXT_ACCENTS and not self.math and other not in "{}":
                return self._accented(_TEXT_ACCENTS[other])
            return str(escape(_ESCAPED.get(other, other)))
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        if name in _OPERATORS:
            return name
        if name in _STYLE_TAGS:
            tag = _STYLE_TAGS[name]
            if name in ("em", "it", "bf"):  # {\em text}: the rest of the group
                return f"<{tag}>{self.read()}</{tag}>"
            return f"<{tag}>{self._argument()}</{tag}>"
        if name in _PLAIN:
            return self._argument()
        if name in _ALPHABETS:
            return str(escape(_styled(self._raw_argument(), _ALPHABETS[name])))
        if name in _ACCENTS:
            return self._accented(_ACCENTS[name])
        if name in _TEXT_ACCENTS and not self.math:
            return self._accented(_TEXT_ACCENTS[name])
        if name in ("frac", "dfrac", "tfrac"):
            top, bottom = self._argument(), self._argument()
            return f"{_operand(top)}/{_operand(bottom)}"
        if name == "sqrt":
            return f"√{_operand(self._argument())}"
        if name in ("href", "textcolor", "color"):  # keep the text, not the target
            self._argument()
            return self._argument() if name != "color" else ""
        if name in _DROPPED:
            self._argument()
            return ""
        if name in _IGNORED:
            return ""
        return str(escape(match.group(0).rstrip()))  # an author's own macro: as written

    def _accented(self, mark: str) -> str:
        base = self._argument()
        return base[:1] + mark + base[1:] if base and not base.startswith("<") else base


def _closing_dollar(text: str, start: int, fence: str) -> int:
    position = start
    while True:
        end = text.find(fence, position)
        if end < 0:
            return -1
        if text[end - 1] != "\\":
            return end
        position = end + 1


def _operand(html_text: str) -> str:
    plain = _TAG.sub("", html_text)
    return f"({html_text})" if _NEEDS_PARENS.search(html.unescape(plain)) else html_text


def _styled(letters: str, alphabet: tuple[int, int, dict[str, str]]) -> str:
    upper, lower, exceptions = alphabet
    out = []
    for char in letters:
        if char in exceptions:
            out.append(exceptions[char])
        elif "A" <= char <= "Z":
            out.append(chr(upper + ord(char) - ord("A")))
        elif "a" <= char <= "z":
            out.append(chr(lower + ord(char) - ord("a")))
        else:
            out.append(char)
    return "".join(out)
