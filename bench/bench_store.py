"""Store benchmark at chain scale (issue 3): not a test; run it by hand, it takes a few minutes.

    .venv/bin/python -m bench.bench_store [--clients 20000] [--weeks 44] [--import-rows 1000000]

Builds the demo history (20,000 clients, ~3,000,000 sessions, ~300,000 reports) in a temporary
directory, then measures, in the same run:
- CSV import rows/s through the real import function, next to a naive row-by-row INSERT on a slice;
- one client's history (their sessions and reports): median and p95 over many clients;
- weekly trend aggregates over everything (reports per week by level);
- one client's load ratio (7:28-day, backcare.load's SQL).
Prints a markdown table and writes bench/out/store.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from backcare.auth import SYSTEM
from backcare.cli.data import StderrProgress
from backcare.demo import build_demo
from backcare.store.db import open_database
from backcare.store.importer import import_sessions_csv
from bench.datagen import write_sessions_csv

OUT = Path(__file__).resolve().parent / "out"
TARGETS = {"import_rows_per_s": 500_000, "history_ms": 20.0, "weekly_trends_ms": 300.0}

HISTORY_SQL = (
    "SELECT id, date, minutes, rpe, exercises, warmup_minutes, cooldown_done FROM sessions "
    "WHERE client_id = ? ORDER BY date",
    "SELECT id, created_at, pain_score, level, rules_version FROM reports WHERE client_id = ? ORDER BY created_at",
)
WEEKLY_TRENDS_SQL = """
    SELECT date_trunc('week', created_at) AS week, level, count(*) AS reports
    FROM reports GROUP BY ALL ORDER BY week, level
"""


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in
                  subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                  if line.startswith("Model name")), platform.processor())
    return {"date": date.today().isoformat(), "nproc": os.cpu_count(), "cpu": model,
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "load_average_at_start": os.getloadavg()[0]}


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def naive_insert(db, rows: list[list[str]]) -> float:
    """The baseline: one INSERT statement per row (in one transaction, to be fair to it)."""
    start = time.perf_counter()
    with db.write(SYSTEM, "bench.naive") as cur:
        ids = dict(cur.execute("SELECT external_id, id FROM clients").fetchall())
        for client, day, minutes, rpe, exercises, warmup, cooldown in rows:
            cur.execute(
                "INSERT INTO sessions (client_id, date, minutes, rpe, exercises, warmup_minutes, cooldown_done, "
                "source, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, 'import', 'bench')",
                [ids[client], day, float(minutes), float(rpe), exercises, float(warmup) if warmup else None,
                 {"yes": True, "no": False}.get(cooldown)])
    return time.perf_counter() - start


def latencies_ms(fn, keys) -> list[float]:
    out = []
    for key in keys:
        start = time.perf_counter()
        fn(key)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))],
            "n": len(ordered)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="BackCare store benchmark at chain scale")
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--weeks", type=int, default=44)
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=300, help="clients sampled for the per-client latencies")
    args = parser.parse_args(argv)
    results: dict = {"machine": machine(), "args": vars(args)}
    progress = StderrProgress()

    with tempfile.TemporaryDirectory(prefix="backcare-bench-") as tmp:
        tmp = Path(tmp)
        db = open_database(tmp / "bench.duckdb")
        try:
            built, seconds = timed(build_demo, db, clients=args.clients, weeks=args.weeks, seed=1,
                                   progress=progress)
            results["history"] = built.counts
            results["demo_build_s"] = seconds
            print(f"demo built in {seconds:.1f} s: {built.counts}", file=sys.stderr)

            # Imported rows fall in the years before the demo history, so none is a duplicate of it (the
            # importer refuses dates in the future).
            history_start = date.today() - timedelta(weeks=args.weeks, days=40)
            with db.read() as cur:
                big = write_sessions_csv(tmp / "import.csv", cursor=cur, rows=args.import_rows, seed=11,
                                         first_day=history_start - timedelta(days=365))
                small = write_sessions_csv(tmp / "naive.csv", cursor=cur, rows=args.naive_rows, seed=12,
                                           first_day=history_start - timedelta(days=730))
            with small.open(newline="") as handle:
                naive_rows = list(csv.reader(handle))[1:]

            naive_s = naive_insert(db, naive_rows)
            stages: dict[str, float] = {}
            started = time.perf_counter()

            def staged(stage, done, total):  # seconds from the start of the import to the end of each stage
                stages[stage] = round(time.perf_counter() - started, 3)
                progress(stage, done, total)

            cpu_before = time.process_time()
            imported, import_s = timed(import_sessions_csv, db, actor=SYSTEM, path=big, progress=staged)
            cpu_s = time.process_time() - cpu_before
            assert imported.bad_count == 0, imported.bad_rows[:3]
            results["import"] = {
                "rows": imported.rows, "inserted": imported.inserted, "seconds": import_s,
                "rows_per_s": imported.rows / import_s,
                "naive_rows": len(naive_rows), "naive_seconds": naive_s,
                "naive_rows_per_s": len(naive_rows) / naive_s,
                "stage_ends_s": stages, "cpu_seconds": cpu_s,
            }
            results["import"]["ratio_vs_naive"] = results["import"]["rows_per_s"] / results["import"]["naive_rows_per_s"]
            print(f"import: {results['import']}", file=sys.stderr)

            with db.read() as cur:
                sample = [i for (i,) in cur.execute(
                    f"SELECT id FROM clients USING SAMPLE {args.samples} ROWS (reservoir, 7) ORDER BY id").fetchall()]
                (last_day,) = cur.execute("SELECT max(created_at)::DATE FROM reports").fetchall()[0]

                def history(client_id):
                    for sql in HISTORY_SQL:
                        cur.execute(sql, [client_id]).fetchall()

                history(sample[0])  # warm the buffer cache once, as a running app would have it
                results["client_history_ms"] = summary(latencies_ms(history, sample))

                trends = latencies_ms(lambda _: cur.execute(WEEKLY_TRENDS_SQL).fetchall(), range(20))
                results["weekly_trends_ms"] = summary(trends)
                results["weekly_trends_rows"] = len(cur.execute(WEEKLY_TRENDS_SQL).fetchall())

                try:
                    from backcare.load import one_client_daily_sql
                    ratio_sql = f"SELECT acute_chronic_ratio FROM ({one_client_daily_sql()})"
                    ratio_params = lambda c: {"client_id": c, "first_day": last_day, "last_day": last_day}  # noqa
                    results["load_ratio_source"] = "backcare.load.one_client_daily_sql"
                except ImportError:
                    ratio_sql = ("SELECT sum(rpe * minutes) FILTER (WHERE date > $d - 7) / (sum(rpe * minutes) / 4) "
                                 "FROM sessions WHERE client_id = $client_id AND date BETWEEN $d - 27 AND $d")
                    ratio_params = lambda c: {"client_id": c, "d": last_day}  # noqa
                    results["load_ratio_source"] = "inline SQL"
                results["load_ratio_ms"] = summary(
                    latencies_ms(lambda c: cur.execute(ratio_sql, ratio_params(c)).fetchall(), sample))
            results["db_file_mb"] = (tmp / "bench.duckdb").stat().st_size / 1e6
        finally:
            db.close()

    results["load_average_at_end"] = os.getloadavg()[0]
    OUT.mkdir(exist_ok=True)
    (OUT / "store.json").write_text(json.dumps(results, indent=2, default=str))
    print(markdown(results))
    return 0


def markdown(r: dict) -> str:
    imp = r["import"]
    lines = [
        "| measure | result | target | vs target / baseline |",
        "|---|---|---|---|",
        f"| CSV import, {imp['rows']:,} rows (real import function) | {imp['rows_per_s']:,.0f} rows/s "
        f"({imp['seconds']:.2f} s) | >= 500,000 rows/s | {imp['rows_per_s'] / TARGETS['import_rows_per_s']:.2f}x target; "
        f"{imp['ratio_vs_naive']:.0f}x the naive insert |",
        f"| naive row-by-row INSERT, {imp['naive_rows']:,} rows (baseline) | {imp['naive_rows_per_s']:,.0f} rows/s | | 1x |",
        f"| one client's history (sessions + reports), median / p95 of {r['client_history_ms']['n']} clients | "
        f"{r['client_history_ms']['median']:.1f} / {r['client_history_ms']['p95']:.1f} ms | <= 20 ms | "
        f"{r['client_history_ms']['median'] / TARGETS['history_ms']:.2f} of target |",
        f"| weekly trends (reports per week by level, all {r['history']['reports']:,} reports), median / p95 of 20 | "
        f"{r['weekly_trends_ms']['median']:.1f} / {r['weekly_trends_ms']['p95']:.1f} ms | <= 300 ms | "
        f"{r['weekly_trends_ms']['median'] / TARGETS['weekly_trends_ms']:.2f} of target |",
        f"| one client's load ratio ({r['load_ratio_source']}), median / p95 | "
        f"{r['load_ratio_ms']['median']:.1f} / {r['load_ratio_ms']['p95']:.1f} ms | | |",
        f"| demo build ({r['history']['clients']:,} clients, {r['history']['sessions']:,} sessions, "
        f"{r['history']['reports']:,} reports) | {r['demo_build_s']:.1f} s | a few minutes | |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
