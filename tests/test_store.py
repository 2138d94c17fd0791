"""The SQLite store: migrations, persistence across runs, and refusing unknown schemas."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from papersift.models import Paper, Usage
from papersift.store import MIGRATIONS, CachedScore, Store, StoreError

DAY = dt.date(2026, 4, 14)


def test_new_store_is_at_the_latest_schema_and_keeps_data(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        store.save_day(DAY, [Paper("2604.00001", "T", "A", ("X Y",), ("cs.LG",))])
        store.save_scores("m", "fp", {"2604.00001": CachedScore(9, 7, "why")})
        run_id = store.start_run(DAY)
        store.record_request(run_id, "abstract", Usage(1, 100, 10, 50, None, 0.1))
    with Store(path) as store:
        assert store.paper_count() == 1
        assert store.cached_scores(["2604.00001", "2604.00002"], "m", "fp") == {
            "2604.00001": CachedScore(9, 7, "why")}
        assert store.cached_scores(["2604.00001"], "m", "other") == {}
        store.set_run_model(run_id, "m")
        usage = store.day_usage(DAY, "m")
        assert (usage.prompt_tokens, usage.completion_tokens) == (100, 50)
        assert usage.total_cost is None  # one request had an unknown price


def test_a_store_from_a_newer_papersift_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer papersift"):
        Store(path)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "s.sqlite"
    path.write_text("this is not sqlite " * 100)
    with pytest.raises(StoreError, match=f"{path}: the store is damaged"):
        Store(path)
