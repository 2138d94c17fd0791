"""What the reader sees: escaping, money, and the digest without any selected paper."""

from __future__ import annotations

import datetime as dt
import json

from papersift.models import (
    Candidate,
    Digest,
    NotScored,
    Paper,
    Prompts,
    Scored,
    Selected,
    Usage,
)
from papersift.publish import publish
from papersift.render import money, render_json, render_markdown
from papersift.render.latex import latex_html, latex_text
from papersift.render.links import code_links


def digest(selected=(), not_scored=(), usage=None) -> Digest:
    return Digest(
        day=dt.date(2026, 4, 14), model="gpt-5", total=10, scanned=8,
        selected=tuple(selected), not_scored=tuple(not_scored), filtered_counts={},
        usage=usage or Usage(), prompts=Prompts("SYSTEM TEXT", "Score these N papers.\n\n[X]"),
        relevance_cutoff=8, novelty_cutoff=7, source="arXiv RSS",
        generated_at=dt.datetime(2026, 4, 14, 12, tzinfo=dt.UTC),
    )


def hostile_paper() -> Paper:
    return Paper("2604.00001", "Attack <script>alert(1)</script> [click](http://evil) *bold*",
                 "Abstract with <img src=x onerror=alert(1)> and `code`.",
                 ("Mallory <b>",), ("cs.LG",))


def test_text_from_arxiv_and_the_llm_is_inert_in_markdown():
    scored = Scored(Candidate(hostile_paper()), 9, 8, "Comment </a><script>x</script>", "gpt-5")
    text = render_markdown(digest([Selected(scored, 17)]))
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\\[click\\](http://evil)" in text
    assert "\\*bold\\*" in text


def test_json_keeps_text_as_is():
    scored = Scored(Candidate(hostile_paper()), 9, 8, "ok", "gpt-5")
    record = render_json(digest([Selected(scored, 17)]))
    assert "Attack <script>alert(1)</script>" in record


def test_money_never_shows_unknown_as_zero():
    assert money(None) == "unknown"
    assert money(0.0) == "$0.00"
    assert money(0.534) == "$0.53"
    assert money(0.0012) == "$0.0012"


def test_a_day_without_selected_papers_says_so_and_lists_not_scored(tmp_path):
    failed = NotScored(Candidate(hostile_paper()), "request failed: HTTP 500")
    text = render_markdown(digest(not_scored=[failed]))
    assert "No paper passed the cutoffs today (relevance ≥ 8 and novelty ≥ 7)." in text
    assert "## Not scored (1)" in text
    assert "(2604.00001): request failed: HTTP 500" in text
    written = publish(digest(not_scored=[failed]), tmp_path, ["md", "json"])
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "md/2026-04/2026-04-14.md", "latest.md", "json/2026-04/2026-04-14.json"]
    assert not list(tmp_path.rglob("*.tmp"))


LATEX_PAPER = Paper(
    "2604.00002", r"S$^3$-Attention: $\mathcal{O}(n \log n)$ Sparse Attention",
    r"We reach 87\% of the accuracy with \emph{fewer} steps, $\alpha_t \leq 10^{-3}$. "
    r"Code: \url{https://github.com/someone/s3-attention}. Weights at "
    "https://huggingface.co/someone/s3-7b.",
    ("Ada Lovelace",), ("cs.LG",), comment="ICML 2026; code at github.com/someone/s3-attention")


def test_markdown_keeps_arxivs_latex_as_written_and_links_the_code():
    scored = Scored(Candidate(LATEX_PAPER), 9, 8, "ok", "gpt-5")
    text = render_markdown(digest([Selected(scored, 17)]))
    assert "## 1. [S$^3$-Attention: $\\mathcal{O}(n \\log n)$ Sparse Attention]" in text
    assert "87\\% of the accuracy with \\emph{fewer} steps, $\\alpha_t \\leq 10^{-3}$" in text
    assert "\\\\" not in text.split("## Paper selection prompt")[0]  # no doubled backslash
    assert ("**Code:** [GitHub](https://github.com/someone/s3-attention), "
            "[Hugging Face](https://huggingface.co/someone/s3-7b)") in text
    record = json.loads(render_json(digest([Selected(scored, 17)])))
    assert record["papers"]["2604.00002"]["code"] == [
        {"url": "https://github.com/someone/s3-attention", "label": "GitHub"},
        {"url": "https://huggingface.co/someone/s3-7b", "label": "Hugging Face"}]


def test_latex_reads_as_text_in_html_and_plain_text():
    assert str(latex_html(LATEX_PAPER.title)) == (
        'S<span class="math"><sup>3</sup></span>-Attention: '
        '<span class="math">𝒪(n log n)</span> Sparse Attention')
    assert latex_text(LATEX_PAPER.title) == "S³-Attention: 𝒪(n log n) Sparse Attention"
    assert latex_text(LATEX_PAPER.abstract).startswith(
        "We reach 87% of the accuracy with fewer steps, αₜ ≤ 10⁻³. Code: https://github.com/")
    assert latex_text(r"$\frac{a+b}{2}$, $\sqrt{d}$, $\mathbb{R}^d$, $\hat{y}$, ``q''") == (
        "(a+b)/2, √d, ℝ^d, ŷ, “q”")
    assert latex_text(r"0.67--0.94$\times$ faster --- or not") == "0.67–0.94× faster — or not"
    # what is not LaTeX stays as written, and nothing becomes markup
    assert str(latex_html("a $5 fee <b>x</b> & \\ours")) == \
        "a $5 fee &lt;b&gt;x&lt;/b&gt; &amp; \\ours"
    assert "<script" not in str(latex_html(r"$\text{<script>alert(1)</script>}$"))


def test_code_links_need_a_repository_and_come_once():
    links = code_links("250+ GitHub stars; see github.com/owner and https://github.com/a/b.git.",
                       "Project page: https://a-team.github.io/b/ code https://github.com/a/b")
    assert [(link.label, link.url) for link in links] == [
        ("GitHub", "https://github.com/a/b"), ("Project page", "https://a-team.github.io/b/")]


def test_links_go_only_to_the_listed_hosts_after_unicode_normalisation():
    lookalikes = ["gıthub.com/evil/repo",  # dotless i
                  "https://gіthub.com/evil/repo",  # Cyrillic і
                  "https://xn--gthub-2ya.com/evil/repo",  # its punycode
                  "github.com.evil.example/owner/repo",
                  "github.com-evil.example/owner/repo",
                  "evil.github.io.attacker.example/page",
                  "https://huggingface.co.evil.example/model"]
    for text in lookalikes:
        assert code_links(f"Code: {text}.") == [], text
    found = code_links("Code at ｇｉｔｈｕｂ.com/ada/tool and https://ada.github.io/site.")
    assert [(link.url, link.label) for link in found] == [
        ("https://github.com/ada/tool", "GitHub"), ("https://ada.github.io/site", "Project page")]
    strange = code_links("https://github.com/ada/tool\u202egpj.exe")[0].url
    assert strange.isascii() and strange.startswith("https://github.com/ada/")
