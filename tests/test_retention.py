"""The store stays bounded over months of mornings: about a kilobyte per paper once its
day is published, a learner's sample of fixed size, old papers in archive shards that
a re-run of their day still reads, and an older store migrated without losing what the
reader taught."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from importlib import resources
from pathlib import Path

import numpy as np

from conftest import SECRET_KEY, write_project
from papersift.models import Paper
from papersift.store import MIGRATIONS, CachedScore, Store, retention
from papersift.store.retention import MAX_UNWANTED, MAX_WANTED
from test_cli import papersift


def real_papers() -> list[Paper]:
    """The bundled real days' papers (615), as arXiv wrote them."""
    papers = []
    folder = resources.files("papersift").joinpath("demo")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".jsonl"):
            for line in entry.read_text(encoding="utf-8").splitlines():
                r = json.loads(line)
                papers.append(Paper(r["arxiv_id"], r["title"], r["abstract"],
                                    tuple(r["authors"]), tuple(r["categories"]),
                                    comment=r.get("arxiv_comment") or ""))
    return papers


def a_day(papers: list[Paper], number: int, count: int) -> list[Paper]:
    """``count`` real papers under fresh ids for day ``number``."""
    chosen = [papers[(number * count + i) % len(papers)] for i in range(count)]
    return [Paper(f"26{number // 28 % 12 + 1:02d}.{number:03d}{i:02d}", p.title, p.abstract,
                  p.authors, p.categories, comment=p.comment)
            for i, p in enumerate(chosen)]


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def play_days(store: Store, days: int, per_day: int, start: dt.date, first: int = 0) -> int:
    """Mornings as the hybrid leaves them: every paper embedded and its zero-shot kept,
    half judged by the LLM (a tenth of those picked), a few clicks; then compaction."""
    papers = real_papers()
    for number in range(first, first + days):
        day = start + dt.timedelta(days=number - first)
        batch = a_day(papers, number, per_day)
        store.save_day(day, batch)
        keys = [p.arxiv_id for p in batch]
        store.save_embeddings("m", [(k, "h", v) for k, v in
                                    zip(keys, unit_vectors(len(keys), number), strict=True)])
        store.save_zero_shot("i", dict.fromkeys(keys, 0.5))
        judged = keys[: per_day // 2]
        store.save_scores("gpt", "fp", {k: CachedScore(9 if i % 10 == 0 else 3, 8,
                                                       "Matches your interest in sparse "
                                                       "attention; a new kernel.")
                                        for i, k in enumerate(judged)})
        store.add_label(keys[-1], "feedback", number % 2 == 0, title=batch[-1].title)
        store.compact(day, cutoffs={"default": (8, 7)}, novelty_days=30)
    return days * per_day


def store_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.sqlite*") if p.is_file())


def test_the_store_grows_less_than_a_kilobyte_per_paper(tmp_path):
    """Once the learner's sample is full, what a published paper adds to the store (hot
    file and archive shards together) is what it costs for good."""
    path = tmp_path / "out" / "papersift.sqlite"
    with Store(path) as store:
        play_days(store, 90, 200, dt.date(2026, 1, 5))
        hot_at_90, all_at_90 = path.stat().st_size, store_bytes(tmp_path / "out")
        added = play_days(store, 30, 200, dt.date(2026, 4, 5), first=90)
        hot_at_120, all_at_120 = path.stat().st_size, store_bytes(tmp_path / "out")
        examples = store.labelled_papers(relevance_cutoff=8, novelty_cutoff=7,
                                         today=dt.date(2026, 5, 5))
        feedback = store.feedback_labels()
    per_paper = (all_at_120 - all_at_90) / added
    assert per_paper < 1024, per_paper
    assert hot_at_120 < 1.1 * hot_at_90  # the store a morning opens does not grow
    assert len(list((tmp_path / "out" / "archive").glob("*.sqlite"))) > 40
    # The learner reads a bounded sample, and every click of the reader is still there.
    assert len(feedback) == 120
    assert len(examples) <= MAX_WANTED + MAX_UNWANTED + 120
    assert {key for key in feedback} <= {e.key for e in examples}


def test_an_older_store_migrates_keeping_what_the_reader_taught(tmp_path):
    path = tmp_path / "papersift.sqlite"
    with sqlite3.connect(path) as db:  # a store papersift wrote before migration 6
        for number, steps in enumerate(MIGRATIONS[:5], start=1):
            db.executescript(f"BEGIN;\n{steps[0]}\nPRAGMA user_version = {number};\nCOMMIT;")
        vector = unit_vectors(1, 7)[0]
        db.execute("INSERT INTO embeddings VALUES ('2604.00001', 'm', 'h', ?)",
                   (vector.tobytes(),))
        db.execute("INSERT INTO labels VALUES ('2604.00001', 'feedback', 1, 'T', 'A', "
                   "'2026-04-14T00:00:00+00:00')")
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.feedback_labels() == {"2604.00001": True}
        [stored] = store.embeddings(["2604.00001"], "m", ["h"]).values()
        blob = store.db.execute("SELECT vector FROM embeddings").fetchone()[0]
    assert float(stored @ vector) > 0.999  # int8 keeps the direction
    assert len(blob) < len(vector.tobytes()) / 3


def test_a_rerun_of_an_archived_day_pays_nothing(tmp_path, arxiv, llm, monkeypatch):
    """Months later the day's papers live in an archive shard (here the learner's sample
    is made full, as a year of labels makes it); re-running that day finds their LLM
    scores there."""
    arxiv.rss_day = "2026-04-18"
    write_project(tmp_path, arxiv=arxiv, llm=llm, extra="[llm]\ntitle_pass = false\n")
    env = {"OPENAI_API_KEY": SECRET_KEY}
    first = papersift("run", "--date", "2026-04-14", cwd=tmp_path, env_extra=env)
    assert first.returncode == 0, first.stderr
    paid = len(llm.requests)
    path = tmp_path / "out" / "papersift.sqlite"
    later = dt.date(2026, 6, 15)
    monkeypatch.setattr(retention, "MAX_WANTED", 0)
    monkeypatch.setattr(retention, "MAX_UNWANTED", 0)
    with Store(path) as store:
        store.save_day(later, a_day(real_papers(), 1, 5))
        done = store.compact(later, cutoffs={"default": (8, 7)}, novelty_days=30)
        assert done.archived == 663 and done.shard is not None
        assert store.paper_count() == 5  # June's
    again = papersift("run", "--date", "2026-04-14", cwd=tmp_path, env_extra=env)
    assert again.returncode == 0, again.stderr
    assert len(llm.requests) == paid
    record = json.loads((tmp_path / "out/json/2026-04/2026-04-14.json").read_text())
    assert record["papers"]
