"""The benchmarks' PostgreSQL options (issue 17) on tiny data and the tests' throwaway server: each runs, times
what it says on PostgreSQL, and a target it cannot meet makes it exit non-zero naming the target (as
tests/test_bench_targets.py does for the file). The figures themselves are the benchmarks' job."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.test_bench_targets import TINY, run


@pytest.fixture(scope="module")
def bench_out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bench-out-pg")


@pytest.fixture
def empty_database(pg_server):
    name = f"b_{uuid.uuid4().hex[:16]}"
    pg_server.admin(f"CREATE DATABASE {name}")
    yield pg_server.url(name)
    pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_bench_store_on_postgresql_loads_by_copy_and_names_a_missed_history_target(bench_out, empty_database):
    done = run(
        "bench.bench_store",
        [
            *TINY,
            *("--import-rows", "2000", "--naive-rows", "20", "--samples", "8", "--rounds", "1", "--trend-runs", "1"),
            *("--database-url", empty_database, "--target-import-rows-per-s", "1", "--target-history-ms", "0.001"),
        ],
        bench_out,
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "MISSED: store.client_history median" in done.stdout
    assert (
        "met: migrate-to-postgres of" in done.stdout
        and "met: import of 2,000 rows (import_sessions_csv)" in done.stdout
    )
    assert "Engine: PostgreSQL" in done.stdout and (bench_out / "store-postgres.json").exists()


def test_bench_pages_on_postgresql_runs_the_pages_on_the_server_and_names_a_missed_ratio(bench_out, empty_database):
    done = run(
        "bench.bench_pages",
        [*TINY, "--runs", "1", "--feedback-days", "6", "--database-url", empty_database, "--target-ratio", "0.001"],
        bench_out,
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "MISSED: history: page / (empty page + bare queries)" in done.stdout
    assert "MISSED: triage, step 5 (result)" in done.stdout and "Engine: PostgreSQL" in done.stdout
