"""Store benchmark at chain scale (issues 3, 13, 16): the store functions the product calls, each next to a
baseline measured in the same run. Not a test; run it by hand.

    .venv/bin/python -m bench.bench_store [--clients 20000] [--weeks 44] [--import-rows 1000000] [--write-doc]

On a copy of the chain-scale demo history (bench/chain.py: 20,000 clients, ~2.9 M sessions, ~0.3 M reports):
- CSV import through `store.importer.import_sessions_csv` (read, validate, insert, commit with its audit
  row); baseline: one INSERT per row on a slice, in one transaction.
- `store.client_history`, what the history page calls on every rerun (client, status, sessions, reports,
  pain per day, weekly load band, plans, referrals), median and p95 over sampled clients; baseline,
  interleaved with it: two bare SELECTs of the client's sessions and reports (the floor of any history read).
- `store.weekly_levels` over the whole history (the trends page's reports per week and level, with its
  small-group suppression); baseline: the bare GROUP BY.
- `store.load_ratio` for one client (no target; for the record).

Targets (options set them, e.g. an impossible one to see the benchmark fail): import >= 500,000 rows/s,
client_history median <= 20 ms, weekly_levels median <= 300 ms. Exits 1 naming each missed target.

On PostgreSQL (issue 17): `--database-url postgresql://.../EMPTY_DATABASE` (an empty database made with
createdb; the benchmark fills it) or `--throwaway-postgres` (initdb + a server of its own in a temporary
directory, tests/pg_server.py: fsync off, so its import figures are an upper bound). The chain-scale file is
loaded with migrate-to-postgres (COPY), timed as "transfer"; then the same reads, and the CSV import through
`import_sessions_csv` into PostgreSQL. Targets there: client_history median <= 20 ms, transfer and CSV
import each >= 300,000 rows/s (`--target-import-rows-per-s` sets both), weekly_levels as above;
`store.load_ratio` is not timed (the load figures run on DuckDB only so far). Its own section of
docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.store.db import redacted
from backcare.store.importer import import_sessions_csv
from bench import postgres
from bench.chain import CHAIN_CLIENTS, CHAIN_SEED, CHAIN_WEEKS, chain_database, working_copy
from bench.common import OUT, Target, load_average, machine, median, now_utc, percentile, report_targets, write_section
from bench.datagen import write_sessions_csv

SECTION = "Store at chain scale (issues 3, 13 and 16)"
SECTION_PG = "Store at chain scale on PostgreSQL (issue 17)"
BARE_HISTORY_SQL = (
    "SELECT id, date, minutes, rpe, exercises, warmup_minutes, cooldown_done FROM sessions "
    "WHERE client_id = ? ORDER BY date",
    "SELECT id, created_at, pain_score, level, rules_version FROM reports WHERE client_id = ? ORDER BY created_at",
)
BARE_WEEKLY_SQL = """
    SELECT date_trunc('week', created_at) AS week, level, count(*) AS reports
    FROM reports WHERE created_at BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY week, level
"""


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
                [
                    ids[client],
                    day,
                    float(minutes),
                    float(rpe),
                    exercises,
                    float(warmup) if warmup else None,
                    {"yes": True, "no": False}.get(cooldown),
                ],
            )
    return time.perf_counter() - start


def interleaved_ms(actions: dict, keys, rounds: int = 1) -> dict[str, list[float]]:
    """Each action on each key, the actions taking turns, so a burst of load from other processes hits
    them alike. Milliseconds per call."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for key in keys:
            for name, action in actions.items():
                start = time.perf_counter()
                action(key)
                times[name].append((time.perf_counter() - start) * 1000)
    return times


def stats(values: list[float]) -> dict:
    return {"median": median(values), "p95": percentile(values, 0.95), "n": len(values)}


def measure(args) -> dict:
    results: dict = {"when": now_utc(), "machine": machine(), "load_average_start": load_average(), "args": vars(args)}
    source = chain_database(args.clients, args.weeks, CHAIN_SEED)
    with tempfile.TemporaryDirectory(prefix="backcare-bench-") as tmp:
        tmp = Path(tmp)
        path = working_copy(source, tmp)
        if args.database_url:
            with store.open_database(path, read_only=True) as file_db, file_db.read() as cur:
                # the same clients on both engines: sampled from the file (DuckDB's SAMPLE), ids are copied
                sample = cur.execute(
                    f"SELECT id, gym_id FROM clients USING SAMPLE {args.samples} ROWS (reservoir, 7) ORDER BY id"
                ).fetchall()
            results["transfer"] = postgres.load_chain(path, args.database_url)
            db = store.open_database(args.database_url)
        else:
            db = store.open_database(path)
        try:
            with db.read() as cur:
                results["history"] = dict(
                    zip(
                        ("clients", "sessions", "reports"),
                        cur.execute(
                            "SELECT (SELECT count(*) FROM clients), (SELECT count(*) FROM sessions), "
                            "(SELECT count(*) FROM reports)"
                        ).fetchone(),
                        strict=True,
                    )
                )
                first_day, last_day = cur.execute(
                    "SELECT CAST(min(created_at) AS DATE), CAST(max(created_at) AS DATE) FROM reports"
                ).fetchone()
                if not args.database_url:
                    sample = cur.execute(
                        f"SELECT id, gym_id FROM clients USING SAMPLE {args.samples} ROWS (reservoir, 7) ORDER BY id"
                    ).fetchall()

            # --- the history page's read, next to the two bare SELECTs ---------------------------------
            trainers = {
                gym: Actor(username="bench.trainer", role=Role.TRAINER, gym_id=gym, user_id=0) for _, gym in sample
            }
            on = last_day  # the demo's last day: every panel has rows

            def history(key):
                client_id, gym = key
                store.client_history(db, actor=trainers[gym], client_id=client_id, audit=False, on=on)

            def bare(key):
                with db.read() as cur:
                    for sql in BARE_HISTORY_SQL:
                        cur.execute(sql, [key[0]]).fetchall()

            interleaved_ms({"history": history, "bare": bare}, sample[:5])  # warm, as a running app is
            times = interleaved_ms({"history": history, "bare": bare}, sample, rounds=args.rounds)
            results["client_history_ms"] = stats(times["history"])
            results["bare_history_ms"] = stats(times["bare"])

            # --- trends: reports per week and level over everything ------------------------------------
            manager = Actor(username="bench.manager", role=Role.MANAGER)

            def weekly(_):
                store.weekly_levels(db, actor=manager, start=first_day, end=last_day)

            def weekly_bare(_):
                with db.read() as cur:
                    cur.execute(BARE_WEEKLY_SQL, [first_day, last_day + timedelta(days=1)]).fetchall()

            interleaved_ms({"weekly": weekly, "bare": weekly_bare}, range(2))
            times = interleaved_ms({"weekly": weekly, "bare": weekly_bare}, range(args.trend_runs))
            results["weekly_levels_ms"] = stats(times["weekly"])
            results["bare_weekly_ms"] = stats(times["bare"])

            if not db.is_postgres:  # the load figures run on DuckDB only so far
                ratio_times = interleaved_ms(
                    {"ratio": lambda key: store.load_ratio(db, actor=trainers[key[1]], client_id=key[0], on=on)},
                    sample,
                )
                results["load_ratio_ms"] = stats(ratio_times["ratio"])

            # --- import, last: it adds a million sessions --------------------------------------------
            # Imported rows fall in the years before the demo history, so none is a duplicate of it (the
            # importer refuses dates in the future).
            history_start = date.today() - timedelta(weeks=args.weeks, days=40)
            # the CSV files are written by DuckDB (bench/datagen.py) from the file's clients (the same ids)
            file_db = store.open_database(path, read_only=True) if db.is_postgres else db
            with file_db.read() as cur:
                big = write_sessions_csv(
                    tmp / "import.csv",
                    cursor=cur,
                    rows=args.import_rows,
                    seed=11,
                    first_day=history_start - timedelta(days=365),
                )
                small = write_sessions_csv(
                    tmp / "naive.csv",
                    cursor=cur,
                    rows=args.naive_rows,
                    seed=12,
                    first_day=history_start - timedelta(days=730),
                )
            if file_db is not db:
                file_db.close()
            with small.open(newline="") as handle:
                naive_rows = list(csv.reader(handle))[1:]
            naive_s = naive_insert(db, naive_rows)
            imported, import_s = timed(import_sessions_csv, db, actor=SYSTEM, path=big)
            assert imported.bad_count == 0, imported.bad_rows[:3]
            results["import"] = {
                "rows": imported.rows,
                "seconds": import_s,
                "rows_per_s": imported.rows / import_s,
                "naive_rows": len(naive_rows),
                "naive_rows_per_s": len(naive_rows) / naive_s,
            }
        finally:
            db.close()
    results["load_average_end"] = load_average()
    return results


def markdown(r: dict, command: str, verdicts: list[str]) -> str:
    h, b = r["client_history_ms"], r["bare_history_ms"]
    w, wb = r["weekly_levels_ms"], r["bare_weekly_ms"]
    imp = r["import"]
    counts = r["history"]
    return "\n".join(
        [
            f"Run {r['when']} on {r['machine']}; load average {r['load_average_start']:.1f} at the start and "
            f"{r['load_average_end']:.1f} at the end (a shared machine: other work ran alongside). `{command}`.",
            f"History: {counts['clients']:,} clients, {counts['sessions']:,} sessions, {counts['reports']:,} reports "
            "(backcare.store.demo via bench/chain.py, a copy per run). Each figure and its baseline were measured "
            "interleaved in the same run.",
            "",
            "| measure (the product's code) | result | baseline (same run) | ratio to baseline |",
            "|---|---|---|---|",
            f"| `store.client_history`, median / p95 over {h['n']} client reads | "
            f"{h['median']:.1f} / {h['p95']:.1f} ms "
            f"| two bare SELECTs of the client's sessions and reports: {b['median']:.1f} / {b['p95']:.1f} ms "
            f"| {h['median'] / b['median']:.1f}x |",
            f"| `store.weekly_levels` over all {counts['reports']:,} reports, median / p95 of {w['n']} | "
            f"{w['median']:.0f} / {w['p95']:.0f} ms | bare GROUP BY week and level: {wb['median']:.0f} / "
            f"{wb['p95']:.0f} ms | {w['median'] / wb['median']:.1f}x |",
            f"| `import_sessions_csv`, {imp['rows']:,} rows | {imp['rows_per_s']:,.0f} rows/s ({imp['seconds']:.2f} s) "
            f"| one INSERT per row, {imp['naive_rows']:,} rows: {imp['naive_rows_per_s']:,.0f} rows/s "
            f"| {imp['rows_per_s'] / imp['naive_rows_per_s']:.0f}x faster |",
            *(
                [
                    f"| `store.load_ratio`, one client, median / p95 | {r['load_ratio_ms']['median']:.1f} / "
                    f"{r['load_ratio_ms']['p95']:.1f} ms | | |"
                ]
                if "load_ratio_ms" in r
                else []
            ),
            *(
                [
                    f"| migrate-to-postgres (DuckDB writes CSV slices, PostgreSQL COPYs them, every table counted on "
                    f"both sides), {r['transfer']['rows']:,} rows | {r['transfer']['rows_per_s']:,.0f} rows/s "
                    f"({r['transfer']['seconds']:.1f} s) | | |"
                ]
                if "transfer" in r
                else []
            ),
            "",
            *([f"Engine: PostgreSQL ({r['server']})."] if "server" in r else []),
            "Verdicts of this run: " + "; ".join(verdicts) + ".",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=CHAIN_CLIENTS)
    parser.add_argument("--weeks", type=int, default=CHAIN_WEEKS)
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=300, help="clients sampled for the per-client reads")
    parser.add_argument("--rounds", type=int, default=2, help="reads of each sampled client")
    parser.add_argument("--trend-runs", type=int, default=15)
    parser.add_argument(
        "--target-import-rows-per-s", type=float, default=None, help="default 500,000 (300,000 on PostgreSQL)"
    )
    parser.add_argument("--target-history-ms", type=float, default=20.0)
    parser.add_argument("--target-weekly-ms", type=float, default=300.0)
    postgres.add_options(parser)
    parser.add_argument("--write-doc", action="store_true", help="update this engine's section of docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    with postgres.database(args, "bench_store") as url:
        args.database_url = url
        return run(args, argv)


def run(args, argv: list[str] | None) -> int:
    on_postgres = bool(args.database_url)
    import_target = args.target_import_rows_per_s or (300_000 if on_postgres else 500_000)
    r = measure(args)
    if on_postgres:
        r["server"] = postgres.describe(args, args.database_url)
    checks = [
        (
            Target(
                f"import of {r['import']['rows']:,} rows (import_sessions_csv)", import_target, "rows/s", at_most=False
            ),
            r["import"]["rows_per_s"],
        ),
        (Target("store.client_history median", args.target_history_ms, "ms"), r["client_history_ms"]["median"]),
        (
            Target("store.weekly_levels median over the whole history", args.target_weekly_ms, "ms"),
            r["weekly_levels_ms"]["median"],
        ),
    ]
    if on_postgres:
        checks.append(
            (
                Target(
                    f"migrate-to-postgres of {r['transfer']['rows']:,} rows (COPY)",
                    import_target,
                    "rows/s",
                    at_most=False,
                ),
                r["transfer"]["rows_per_s"],
            )
        )
    verdicts = [target.verdict(value) for target, value in checks]
    command = redacted(".venv/bin/python -m bench.bench_store " + " ".join(argv if argv is not None else sys.argv[1:]))
    text = markdown(r, command.strip(), verdicts)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ("store-postgres.json" if on_postgres else "store.json")).write_text(json.dumps(r, indent=2, default=str))
    if args.write_doc:
        write_section(SECTION_PG if on_postgres else SECTION, text)
    return report_targets(checks)


if __name__ == "__main__":
    raise SystemExit(main())
