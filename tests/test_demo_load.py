"""The demo's load figures come from the store's definitions (backcare.store.load), not from a ratio of its own:
every chain-scale benchmark runs on the demo history, so a demo that computed load its own way would make
them measure data the product never writes."""

from __future__ import annotations

from datetime import datetime

import pytest

from backcare.models import TriageHistory
from backcare.store.db import open_database
from backcare.store.demo import build_demo
from backcare.store.reports import triage_history_in

NOW = datetime(2026, 3, 2, 12, 0)


@pytest.fixture
def demo_db(tmp_path):
    db = open_database(tmp_path / "demo.duckdb")
    build_demo(db, seed=5, now=NOW, clients=40, weeks=12)
    yield db
    db.close()


def test_each_demo_reports_load_ratio_is_the_one_save_report_computes(demo_db):
    """The stored acute:chronic ratio of each report equals what save_report's own query gives on the
    report's day (sessions already logged then; the report's own row does not enter the ratio)."""
    mismatches, with_ratio = [], 0
    with demo_db.read() as cur:
        stored = cur.execute("SELECT id, client_id, created_at, history_json FROM reports ORDER BY id").fetchall()
        for report_id, client_id, created_at, history_json in stored:
            seen = TriageHistory.model_validate_json(history_json).acute_chronic_ratio
            expected = triage_history_in(cur, client_id, created_at).acute_chronic_ratio
            with_ratio += seen is not None
            if seen != expected:
                mismatches.append((report_id, seen, expected))
    assert len(stored) > 100 and with_ratio > 50  # a sample with ratios both present and absent
    assert mismatches == []
