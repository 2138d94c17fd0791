"""The learner's word statistics: which terms it counts and how it weighs them."""

import math

import numpy as np
import pytest

from papersift.scoring.linear import TfIdf


def test_terms_are_words_and_pairs_seen_in_two_texts_words_first_alphabetically():
    tfidf = TfIdf()
    tfidf.fit_transform(["Sparse attention for long context.",
                         "Long context needs sparse attention",
                         "The attention of the reader"])
    # Stop words ("for", "the", "of") never count, and a pair is two words side by side
    # in one text: "context sparse" spans two texts and is no term.
    assert tfidf.names == ["attention", "context", "long", "sparse", "long context",
                           "sparse attention"]


def test_rows_are_sublinear_tf_idf_of_unit_length():
    tfidf = TfIdf()
    rows = tfidf.fit_transform(["graph graph graph networks", "graph networks", "kernels"])
    columns = {name: i for i, name in enumerate(tfidf.names)}
    assert set(columns) == {"graph", "graph networks", "networks"}
    idf = math.log(4 / 3) + 1  # smoothed: (1 + texts) / (1 + texts with the term)
    first = rows.toarray()[0]
    expected = np.array([(1 + math.log(3)) * idf, idf, idf])
    expected /= np.linalg.norm(expected)
    got = [first[columns[n]] for n in ("graph", "graph networks", "networks")]
    assert got == pytest.approx(expected, rel=1e-6)
    assert rows.toarray()[2] == pytest.approx([0, 0, 0])  # no known term: a zero row


def test_new_texts_count_only_known_terms_and_their_own_pairs():
    tfidf = TfIdf()
    tfidf.fit_transform(["deep learning models", "deep learning rocks", "kernels rock"])
    rows = tfidf.transform(["", "unknown words only", "learning deep", "deep learning"])
    names = tfidf.names
    assert names == ["deep", "learning", "deep learning"]
    assert rows.shape == (4, 3)
    assert rows[0].nnz == 0 and rows[1].nnz == 0
    # "learning deep" holds both words but not the pair, which reads in order.
    assert rows.toarray()[2] == pytest.approx([2 ** -0.5, 2 ** -0.5, 0])
    assert rows.toarray()[3] == pytest.approx([3 ** -0.5] * 3)


def test_nothing_to_count_gives_empty_rows():
    tfidf = TfIdf()
    assert tfidf.fit_transform(["", "a"]).shape == (2, 0)
    assert tfidf.transform(["anything"]).shape == (1, 0)
