"""Deterministic session CSVs for the store benchmark, written by DuckDB's COPY (no Python row loops).

python -m bench.datagen OUT.csv --rows 1000000 --db FILE   # client ids taken from FILE's clients
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import duckdb

from backcare.store.importer import COLUMNS

EXERCISES = (
    "back squat;bench press",
    "deadlift;pull-up",
    "plank;dead bug",
    "running",
    "cycling;glute bridge",
    "leg press;hamstring curl",
    "yoga;mobility",
    "kettlebell swing;farmer carry",
)


def sessions_select_sql(*, rows: int, seed: int, first_day: date, days: int, client_ids_sql: str) -> str:
    """A SELECT of `rows` session rows in the import's columns, pseudo-random from `seed`."""
    u = lambda k: f"((hash({seed}, i, {k}) % 1000003) / 1000003.0)"  # noqa: E731
    sets = "[" + ", ".join(f"'{s}'" for s in EXERCISES) + "]"
    return f"""
        WITH ids AS (SELECT list(external_id ORDER BY external_id) AS ids FROM ({client_ids_sql}))
        SELECT ids[1 + (hash({seed}, i, 1) % len(ids))::INTEGER] AS client_id,
               strftime(DATE '{first_day.isoformat()}' + (hash({seed}, i, 2) % {days})::INTEGER, '%Y-%m-%d') AS date,
               (15 + 5 * floor({u(3)} * 30))::INTEGER AS minutes,
               (1 + floor({u(4)} * 10))::INTEGER AS rpe,
               {sets}[1 + (hash({seed}, i, 5) % {len(EXERCISES)})::INTEGER] AS exercises,
               CASE WHEN {u(6)} < 0.1 THEN NULL ELSE floor({u(6)} * 12)::INTEGER END AS warmup_minutes,
               CASE WHEN {u(7)} < 0.1 THEN NULL WHEN {u(7)} < 0.6 THEN 'yes' ELSE 'no' END AS cooldown_done
        FROM range({rows}) AS t(i), ids
        ORDER BY i
    """


def write_sessions_csv(
    path: str | Path,
    *,
    cursor,
    rows: int,
    seed: int = 1,
    first_day: date = date(2027, 1, 1),
    days: int = 365,
    client_ids_sql: str = "SELECT external_id FROM clients",
) -> Path:
    """Write a sessions CSV with a header (the import's columns) through `cursor` (a duckdb connection)."""
    path = Path(path)
    query = sessions_select_sql(rows=rows, seed=seed, first_day=first_day, days=days, client_ids_sql=client_ids_sql)
    escaped = str(path).replace("'", "''")
    cursor.execute(f"COPY ({query}) TO '{escaped}' (FORMAT csv, HEADER)")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", required=True, help="database whose clients the rows refer to")
    args = parser.parse_args(argv)
    with duckdb.connect(args.db, read_only=True) as connection:
        write_sessions_csv(args.out, cursor=connection, rows=args.rows, seed=args.seed)
    print(f"wrote {args.rows:,} rows ({','.join(COLUMNS)}) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
