"""The benchmarks' PostgreSQL options (issue 17) on tiny data and the tests' throwaway server: each runs, times
what it says on PostgreSQL, and a target it cannot meet makes it exit non-zero naming the target (as
tests/test_bench_targets.py does for the file). The figures themselves are the benchmarks' job."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_bench_targets import TINY, run


@pytest.fixture(scope="module")
def bench_out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bench-out-pg")


def test_bench_store_on_postgresql_loads_by_copy_and_names_a_missed_history_target(bench_out, empty_pg_url):
    done = run(
        "bench.bench_store",
        [
            *TINY,
            *("--import-rows", "2000", "--naive-rows", "20", "--samples", "8", "--rounds", "1", "--trend-runs", "1"),
            *("--database-url", empty_pg_url, "--target-import-rows-per-s", "1", "--target-history-ms", "0.001"),
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


def test_bench_pages_on_postgresql_runs_the_pages_on_the_server_and_names_a_missed_ratio(bench_out, empty_pg_url):
    done = run(
        "bench.bench_pages",
        [*TINY, "--runs", "1", "--feedback-days", "6", "--database-url", empty_pg_url, "--target-ratio", "0.001"],
        bench_out,
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "MISSED: history: page / (empty page + bare queries)" in done.stdout
    assert "MISSED: triage, step 5 (result)" in done.stdout and "Engine: PostgreSQL" in done.stdout


def test_bench_load_quick_runs_one_and_two_processes_sticky_and_names_a_missed_scale_target(bench_out, empty_pg_url):
    done = run(
        "bench.bench_load",
        [
            "--quick",
            *TINY,
            # a short window: this checks the two set-ups and the verdict, not the mix (test_bench_targets.py)
            *("--users", "2", "--duration", "2", "--max-duration", "2", "--burst", "1"),
            *("--database-url", empty_pg_url, "--processes", "2", "--target-scale", "1000"),
        ],
        bench_out,
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "MISSED: 2 processes' throughput over one process's at p95 <= 1,000 ms" in done.stdout
    assert "| 2 | " in done.stdout and "(trainers per process: 2, 1)" in done.stdout  # 2 trainers + the burst's one
    assert '"processes": 1' in done.stderr and '"processes": 2' in done.stderr
    assert "errors)" not in done.stdout.split("### 1 process")[0]  # every tap answered on both set-ups


def test_bench_load_refuses_several_processes_on_the_file(bench_out):
    done = run("bench.bench_load", ["--quick", *TINY, "--processes", "2"], bench_out)
    assert done.returncode == 2 and "one process per DuckDB file" in done.stderr
