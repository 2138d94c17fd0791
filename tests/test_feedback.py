"""Teaching the local scorer: feedback on a paper and an imported library."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from papersift.cli import app
from papersift.library import read_library
from papersift.models import Paper
from papersift.store import Store

BIBTEX = """
@article{vaswani2017,
  title = {Attention Is {All} You Need},
  author = {Vaswani, Ashish and others},
  abstract = {The dominant sequence transduction models are based on complex recurrent
              or convolutional neural networks.},
  year = 2017
}
@inproceedings{shazeer2017, title = "Outrageously Large Neural Networks: The Sparsely-Gated
  Mixture-of-Experts Layer", year = {2017}}
"""
ZOTERO_CSV = ('"Key","Item Type","Title","Abstract Note"\n'
              '"AB12","journalArticle","Switch Transformers","We simplify MoE routing."\n')
ZOTERO_RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:bib="http://purl.org/net/biblio#" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:dcterms="http://purl.org/dc/terms/">
  <bib:Article rdf:about="#item_1">
    <dc:title>GShard: Scaling Giant Models</dc:title>
    <dcterms:abstract>Conditional computation and automatic sharding.</dcterms:abstract>
  </bib:Article>
</rdf:RDF>"""


def test_library_formats(tmp_path):
    (tmp_path / "lib.bib").write_text(BIBTEX)
    (tmp_path / "lib.csv").write_text(ZOTERO_CSV)
    (tmp_path / "lib.rdf").write_text(ZOTERO_RDF)
    bib = read_library(tmp_path / "lib.bib")
    assert [i.title for i in bib] == [
        "Attention Is All You Need",
        "Outrageously Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer"]
    assert bib[0].abstract.startswith("The dominant sequence transduction models")
    assert read_library(tmp_path / "lib.csv")[0].abstract == "We simplify MoE routing."
    assert read_library(tmp_path / "lib.rdf")[0].title == "GShard: Scaling Giant Models"


def test_feedback_and_learn_commands(tmp_path):
    runner = CliRunner()
    runner.invoke(app, ["init", str(tmp_path)])
    config = str(tmp_path / "papersift.toml")
    liked = runner.invoke(app, ["feedback", "arXiv:2604.01234v2", "--like", "-c", config])
    assert liked.exit_code == 0, liked.output
    assert "2604.01234: liked" in liked.output
    assert "2604.01234: not in the store yet" in liked.output
    (tmp_path / "lib.bib").write_text(BIBTEX)
    learned = runner.invoke(app, ["learn", "--library", str(tmp_path / "lib.bib"), "-c", config])
    assert learned.exit_code == 0, learned.output
    assert "imported 2 papers" in learned.output
    assert "labels in the store: 2 wanted, 0 not wanted" in learned.output
    with Store(tmp_path / "out" / "papersift.sqlite") as store:
        keys = {row[0] for row in store.db.execute("SELECT key FROM labels")}
    assert "2604.01234" in keys and len(keys) == 3
    bad = runner.invoke(app, ["feedback", "not-an-id", "--like", "-c", config])
    assert bad.exit_code == 2 and "is not an arXiv id" in bad.output


def test_feedback_and_learn_use_the_store_of_out_like_run(tmp_path, monkeypatch):
    """After `run -o DIR`, `feedback -o DIR` and `learn -o DIR` use DIR's store; no
    ./out store appears beside it. Several papers take one command."""
    runner = CliRunner()
    runner.invoke(app, ["init", str(tmp_path)])
    monkeypatch.chdir(tmp_path)
    elsewhere = tmp_path / "digests"
    with Store(elsewhere / "papersift.sqlite") as store:
        store.save_day(dt.date(2026, 4, 14), [
            Paper(key, "A title", "An abstract.", ("A B",), ("cs.LG",))
            for key in ("2604.01234", "2604.05678")])
    result = runner.invoke(app, ["feedback", "2604.01234", "arXiv:2604.05678v1", "--dislike",
                                 "-o", str(elsewhere)])
    assert result.exit_code == 0, result.output
    assert "2604.01234, 2604.05678: disliked" in result.output
    assert "not in the store" not in result.output
    learned = runner.invoke(app, ["learn", "--out", str(elsewhere)])
    assert "labels in the store: 0 wanted, 2 not wanted" in learned.output
    assert not (tmp_path / "out").exists()
    with Store(elsewhere / "papersift.sqlite") as store:
        assert store.feedback_labels() == {"2604.01234": False, "2604.05678": False}
    bad = runner.invoke(app, ["feedback", "2604.01234", "nope", "--like", "-o", str(elsewhere)])
    assert bad.exit_code == 2 and "'nope' is not an arXiv id; nothing recorded" in bad.output
    with Store(elsewhere / "papersift.sqlite") as store:
        assert store.feedback_labels()["2604.01234"] is False


def test_a_dislike_is_stored_as_not_wanted_and_the_latest_verdict_wins(tmp_path):
    runner = CliRunner()
    runner.invoke(app, ["init", str(tmp_path)])
    config = str(tmp_path / "papersift.toml")
    with Store(tmp_path / "out" / "papersift.sqlite") as store:  # a run has seen it
        store.save_day(dt.date(2026, 4, 14), [Paper("2604.01234", "A title", "An abstract.",
                                                    ("A B",), ("cs.LG",))])
    for verdict in ("--like", "--dislike"):
        result = runner.invoke(app, ["feedback", "2604.01234", verdict, "-c", config])
        assert result.exit_code == 0, result.output
    assert "2604.01234: disliked (in " in result.output
    with Store(tmp_path / "out" / "papersift.sqlite") as store:
        labels = store.db.execute("SELECT key, label FROM labels").fetchall()
    assert labels == [("2604.01234", 0)]
    learned = runner.invoke(app, ["learn", "-c", config])
    assert "labels in the store: 0 wanted, 1 not wanted" in learned.output
