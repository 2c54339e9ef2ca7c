"""Benchmark (not a test): the trends page's rerun on the chain-scale history next to its bare queries.

    .venv/bin/python -m bench.bench_trends [--runs 5] [--record] [--target-seconds 1] [--target-ratio 1.5]
                                           [--target-chart-kb 100]

The history (20,000 clients, about 3 million sessions and 300,000 reports) comes from bench/chain.py
(backcare.store.demo, 46 weeks, seed 5; cached in bench/out/). In one process and one run it times:
- bare: store.trends(...) for the page's range (every aggregate the page shows, SQL only);
- page: a rerun of pages/trends.py through Streamlit's AppTest (queries, tables, charts, CSVs);
- the full collection Streamlit's server runs after each script run while runner.postScriptGC is on, which
  AppTest leaves out (reported beside the page, and added to it where the config leaves it on);
and measures each chart's Vega-Lite JSON (chart.to_json()), then times each figure on its own (which
part of the page reads the daily rollups of issue 13, which the referrals and plan tables) and says how many
rollup rows and reports the range holds. Opening a file built before migration 0011 counts its rows into
the rollups first: that time is reported too. Targets: page/bare <= 1.5, page <= 1 s, each chart <= 100 kB;
exits 1 naming each missed target. --record writes the section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backcare import store  # noqa: E402
from backcare.auth import Actor, Role  # noqa: E402

CLIENTS, WEEKS, SEED = 20_000, 46, 5  # about 3.0 M sessions and 0.3 M reports
RANGE_WEEKS = 12  # the page's default range
SECTION = "## Trends from daily rollups (issue 13)"  # the issue-5 section above it stays as history
FIGURES = (  # (function of store.analytics, what it reads)
    ("trends_summary", "level rollups + the range's client ids"),
    ("weekly_levels", "level rollups"),
    ("weekly_red_flags", "level rollups"),
    ("causes_ranked", "cause rollups (+ the summary)"),
    ("causes_by_month", "cause rollups"),
    ("reports_by_gym", "level rollups"),
    ("reports_by_trainer", "trainer rollups"),
    ("first_contact_times", "referrals"),
    ("first_contact_weekly", "referrals"),
    ("plan_adherence", "plan rollups + the range's distinct (client, plan) pairs"),
    ("plan_outcome", "assignments and reports (not rolled up)"),
)
TARGET_RATIO, TARGET_SECONDS, TARGET_BYTES = 1.5, 1.0, 100_000


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory = next(
        (
            int(line.split()[1]) // 1024 // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return f"{model}, {os.cpu_count()} cores, {memory} GB RAM, Python {platform.python_version()}, {platform.system()}"


def timed(fn, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--weeks", type=int, default=WEEKS)
    parser.add_argument("--record", action="store_true", help="write the results to docs/PERFORMANCE.md")
    parser.add_argument("--target-seconds", type=float, default=TARGET_SECONDS, help="page rerun, median")
    parser.add_argument("--target-ratio", type=float, default=TARGET_RATIO, help="page / bare, medians")
    parser.add_argument("--target-chart-kb", type=float, default=TARGET_BYTES / 1000, help="each chart's JSON")
    parser.add_argument(
        "--per-report",
        action="store_true",
        help="also time the per-report queries the rollups replaced (kept in tests/test_rollups_reference.py), "
        "each interleaved with its rollup figure",
    )
    parser.add_argument(
        "--chain-file",
        type=Path,
        help="measure a COPY of this chain file (e.g. one cached before a new migration changed the digest), "
        "with the owed migrations applied on open, instead of finding or building the chain for the settings",
    )
    args = parser.parse_args(argv)

    from bench.chain import chain_database, working_copy
    from bench.common import Target, report_targets

    if args.chain_file is not None:
        import tempfile

        copies = tempfile.TemporaryDirectory(prefix="bench-trends-")
        path = working_copy(args.chain_file, Path(copies.name))  # the cache stays as built
    else:
        path = chain_database(args.clients, args.weeks, SEED)
    os.environ["BACKCARE_DB"] = str(path)
    import duckdb
    from streamlit.testing.v1 import AppTest

    from backcare.store import analytics
    from backcare.store.db import pending_migrations
    from backcare.ui import trend_charts

    connection = duckdb.connect(str(path), read_only=True)
    owed = pending_migrations(connection)
    connection.close()
    opened = time.perf_counter()
    db = store.open_database(path)  # applies what is owed; 0011 counts the existing rows into the rollups
    open_s = time.perf_counter() - opened
    cur = db.cursor()
    counts = cur.execute(
        "SELECT (SELECT count(*) FROM clients), (SELECT count(*) FROM sessions), "
        "(SELECT count(*) FROM reports), max(created_at)::DATE FROM reports"
    ).fetchone()
    cur.close()
    clients, sessions, reports, last_day = counts
    start, end = last_day - timedelta(weeks=RANGE_WEEKS) + timedelta(days=1), last_day
    manager = Actor(username="bench.manager", role=Role.MANAGER)

    def bare():
        return store.trends(db, actor=manager, start=start, end=end)

    at = AppTest.from_file(str(ROOT / "pages" / "trends.py"), default_timeout=120)
    at.session_state["actor"] = manager
    at.run()  # first run: imports, the cached connection
    at.date_input(key="tr_range").set_value((start, end))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    bare()  # warm the same way

    # interleaved, so all three see the same machine load
    page_times, bare_times, collect_times = [], [], []
    load_start = os.getloadavg()[0]
    for _ in range(args.runs):
        page_times += timed(at.run, 1)[1]
        collect_times += timed(lambda: gc.collect(2), 1)[1]
        bare_times += timed(bare, 1)[1]
    page_s, bare_s = statistics.median(page_times), statistics.median(bare_times)
    collect_s = statistics.median(collect_times)
    collection_on = _post_run_collection_on()
    ratio = page_s / bare_s

    recounts: list[int] = []
    real_recount = analytics._recounted

    def counting_recount(*args, **kwargs):
        recounts.append(len(args[2]))
        return real_recount(*args, **kwargs)

    analytics._recounted = counting_recount
    try:
        charts = trend_charts.all_charts(bare())
    finally:
        analytics._recounted = real_recount
    recounted_cells, recount_queries = sum(recounts), len(recounts)

    # each figure on its own (after the interleaved runs: the page's figures above are the targets)
    figure_s = {}
    per_report_s: dict[str, float] = {}
    reference = {}
    if args.per_report:
        from tests import test_rollups_reference

        reference = {fn.__name__: fn for fn in test_rollups_reference.REFERENCE.values()}
    for name, _ in FIGURES:
        fn = getattr(analytics, name)
        if name not in reference:
            figure_s[name] = timed(lambda fn=fn: fn(db, actor=manager, start=start, end=end), args.runs)[0]
            continue
        old = reference[name]
        new_times, old_times = [], []
        for _ in range(args.runs):  # interleaved: both see the same load
            new_times += timed(lambda fn=fn: fn(db, actor=manager, start=start, end=end), 1)[1]
            old_times += timed(lambda old=old: old(db, actor=manager, start=start, end=end), 1)[1]
        figure_s[name], per_report_s[name] = statistics.median(new_times), statistics.median(old_times)
    cur = db.cursor()
    rollup_rows, trainer_rows, cause_rows, range_reports, days, gyms = cur.execute(
        "SELECT (SELECT count(*) FROM trend_level_days WHERE day BETWEEN $s AND $e), "
        "(SELECT count(*) FROM trend_trainer_days WHERE day BETWEEN $s AND $e), "
        "(SELECT count(*) FROM trend_cause_days WHERE day BETWEEN $s AND $e), "
        "(SELECT count(*) FROM reports WHERE CAST(created_at AS DATE) BETWEEN $s AND $e), "
        "(SELECT count(DISTINCT day) FROM trend_level_days WHERE day BETWEEN $s AND $e), "
        "(SELECT count(*) FROM gyms)",
        {"s": start, "e": end},
    ).fetchone()
    cur.close()
    sizes = {name: (len(chart.to_json().encode()) if chart is not None else 0) for name, chart in charts.items()}
    db.close()

    server_s = page_s + (collect_s if collection_on else 0.0)
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    command = ".venv/bin/python -m bench.bench_trends " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [
        SECTION,
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} on {machine()}; load average {load_start:.1f} at the start "
        f"and {os.getloadavg()[0]:.1f} at the end (a shared machine).",
        f"`{command.strip()}`: history of {clients:,} clients, "
        f"{sessions:,} sessions, {reports:,} reports (backcare.store.demo, seed {SEED}, via bench/chain.py, cached in "
        f"`bench/out/{path.name}`); range {start} to {end} ({RANGE_WEEKS} weeks), all gyms, manager role.",
        "",
        "| measure | median of runs | target | |",
        "|---|---|---|---|",
        f"| bare queries (`store.trends`, every aggregate of the page) | {bare_s * 1000:.0f} ms | | |",
        f"| trends page rerun (AppTest) | {page_s * 1000:.0f} ms | <= {args.target_seconds * 1000:.0f} ms "
        f"| {ok(page_s <= args.target_seconds)} |",
        f"| ratio page / bare | {ratio:.2f} | <= {args.target_ratio} | {ok(ratio <= args.target_ratio)} |",
        f"| post-run collection (`gc.collect(2)`, {len(gc.get_objects()):,} tracked objects) | "
        f"{collect_s * 1000:.0f} ms | | {'run by the server' if collection_on else 'not run: off in config'} |",
        f"| rerun as the server runs it (page + collection where on) | {server_s * 1000:.0f} ms | | |",
        "",
        f"Opening the file took {open_s:.1f} s"
        + (
            f", applying {', '.join(owed)} (the file was built before them: the rollups were counted from its "
            "existing rows then)."
            if owed
            else " (nothing to migrate)."
        )
        + f" The range holds {range_reports:,} reports; the level rollups {rollup_rows:,} rows (a row per day, "
        f"gym and level: {days} days x {gyms} gyms), the cause rollups {cause_rows:,}, the trainer rollups "
        f"{trainer_rows:,} (a row per day, gym, trainer and red flag). Groups recounted from the reports "
        f"because their client bounds left the small-group rule open: {recounted_cells} cells in "
        f"{recount_queries} queries, in the page's store.trends().",
        "",
        "Each figure below is timed on its own (its own check and privacy-key read: store.trends() does those once "
        "for the page)"
        + (
            "; with --per-report, each rollup figure alternates with the per-report query it replaced (kept verbatim "
            "in tests/test_rollups_reference.py), so both see the same load."
            if per_report_s
            else "."
        ),
        "",
        "| figure (each on its own, median of runs) | reads | time | per-report query it replaced |",
        "|---|---|---|---|",
        *[
            f"| {name} | {reads} | {figure_s[name] * 1000:.0f} ms | "
            + (f"{per_report_s[name] * 1000:.0f} ms |" if name in per_report_s else "|")
            for name, reads in FIGURES
        ],
        f"| sum of the rollup figures | | {sum(figure_s[n] for n, r in FIGURES if 'rollups' in r) * 1000:.0f} ms | "
        + (f"{sum(per_report_s.values()) * 1000:.0f} ms |" if per_report_s else "|"),
        "",
        "| chart | Vega-Lite JSON | target | |",
        "|---|---|---|---|",
        *[
            f"| {name} | {size / 1000:.1f} kB | <= {args.target_chart_kb:g} kB | "
            f"{ok(size <= args.target_chart_kb * 1000)} |"
            for name, size in sizes.items()
        ],
        "",
        "How: page, collection and bare runs interleave in one process on one DuckDB instance, after a warm-up "
        "run of each; the page time is AppTest's script run (queries, frames, Altair specs, protobuf), not the "
        "browser's drawing. AppTest does not run the collection Streamlit's server runs after each script run "
        "while `runner.postScriptGC` is on; it is timed here in the same process and added where the project's "
        "config leaves it on. The machine is shared with other work, so single runs vary; the medians are "
        "the figures.",
        "",
        "Runs (s): page "
        + ", ".join(f"{t:.3f}" for t in page_times)
        + "; bare "
        + ", ".join(f"{t:.3f}" for t in bare_times)
        + ".",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.record:
        record(report)
    checks = [
        (Target("trends page rerun median", args.target_seconds * 1000, "ms"), page_s * 1000),
        (Target("trends page / bare store.trends", args.target_ratio, ""), ratio),
    ]
    checks += [(Target(f"{name} chart JSON", args.target_chart_kb, "kB"), size / 1000) for name, size in sizes.items()]
    return report_targets(checks)


def _post_run_collection_on() -> bool:
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    return bool(config.get("runner", {}).get("postScriptGC", True))


def record(section: str) -> None:
    """Replace (or append) this issue's section of docs/PERFORMANCE.md, leaving the others alone."""
    doc = ROOT / "docs" / "PERFORMANCE.md"
    text = doc.read_text() if doc.exists() else "# Performance\n\n"
    if SECTION in text:
        before, rest = text.split(SECTION, 1)
        after = rest[rest.find("\n## ") :] if "\n## " in rest else ""
        text = before + section.rstrip("\n") + "\n" + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
