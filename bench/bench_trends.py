"""Benchmark (not a test): the trends page's rerun on the chain-scale history next to its bare queries.

    .venv/bin/python -m bench.bench_trends [--runs 5] [--record]

The history (20,000 clients, about 3 million sessions and 300,000 reports) is generated once with
backcare.demo into bench/out/trends-chain.duckdb and reused. In one process and one run it times:
- bare: store.trends(...) for the page's range (every aggregate the page shows, SQL only);
- page: a rerun of pages/trends.py through Streamlit's AppTest (queries, tables, charts, CSVs);
and measures each chart's Vega-Lite JSON (chart.to_json()). Targets: page/bare <= 1.5, page <= 1 s,
each chart <= 100 kB. --record writes the section of docs/PERFORMANCE.md for issue 5.
"""

from __future__ import annotations

import argparse
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
from backcare.auth import SYSTEM, Actor, Role  # noqa: E402

OUT = ROOT / "bench" / "out"
CHAIN = OUT / "trends-chain.duckdb"
CLIENTS, WEEKS, SEED = 20_000, 46, 5   # about 3.0 M sessions and 0.3 M reports
RANGE_WEEKS = 12                        # the page's default range
SECTION = "## Referral queue and trends (issue 5)"
TARGET_RATIO, TARGET_SECONDS, TARGET_BYTES = 1.5, 1.0, 100_000


def chain_database() -> Path:
    """The cached chain-scale file; generated (a few minutes) when missing."""
    if CHAIN.exists():
        return CHAIN
    from backcare.demo import build_demo

    OUT.mkdir(parents=True, exist_ok=True)
    partial = CHAIN.with_suffix(".partial.duckdb")
    partial.unlink(missing_ok=True)
    db = store.open_database(partial)
    try:
        build_demo(db, actor=SYSTEM, clients=CLIENTS, weeks=WEEKS, seed=SEED,
                   progress=lambda stage, done, total: print(f"  {stage}: {done:,}/{total:,}", file=sys.stderr))
    finally:
        db.close()
    partial.rename(CHAIN)
    return CHAIN


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
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
    parser.add_argument("--record", action="store_true", help="write the results to docs/PERFORMANCE.md")
    args = parser.parse_args(argv)

    path = chain_database()
    os.environ["BACKCARE_DB"] = str(path)
    from streamlit.testing.v1 import AppTest

    from backcare.ui import trend_charts

    db = store.open_database(path)
    cur = db.cursor()
    counts = cur.execute("SELECT (SELECT count(*) FROM clients), (SELECT count(*) FROM sessions), "
                         "(SELECT count(*) FROM reports), max(created_at)::DATE FROM reports").fetchone()
    cur.close()
    clients, sessions, reports, last_day = counts
    start, end = last_day - timedelta(weeks=RANGE_WEEKS) + timedelta(days=1), last_day
    manager = Actor(username="bench.manager", role=Role.MANAGER)

    def bare():
        return store.trends(db, actor=manager, start=start, end=end)

    at = AppTest.from_file(str(ROOT / "pages" / "trends.py"), default_timeout=120)
    at.session_state["actor"] = manager
    at.run()                                           # first run: imports, the cached connection
    at.date_input(key="tr_range").set_value((start, end))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    bare()                                             # warm the same way

    # interleaved, so both see the same machine load
    page_times, bare_times = [], []
    for _ in range(args.runs):
        page_times += timed(at.run, 1)[1]
        bare_times += timed(bare, 1)[1]
    page_s, bare_s = statistics.median(page_times), statistics.median(bare_times)
    ratio = page_s / bare_s

    charts = trend_charts.all_charts(bare())
    sizes = {name: (len(chart.to_json().encode()) if chart is not None else 0) for name, chart in charts.items()}
    db.close()

    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    lines = [
        SECTION, "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} on {machine()}.",
        f"`.venv/bin/python -m bench.bench_trends --runs {args.runs}`: history of {clients:,} clients, "
        f"{sessions:,} sessions, {reports:,} reports (backcare.demo, seed {SEED}, cached in "
        f"`bench/out/{path.name}`); range {start} to {end} ({RANGE_WEEKS} weeks), all gyms, manager role.",
        "", "| measure | median of runs | target | |", "|---|---|---|---|",
        f"| bare queries (`store.trends`, 11 aggregates) | {bare_s * 1000:.0f} ms | | |",
        f"| trends page rerun (AppTest) | {page_s * 1000:.0f} ms | <= {TARGET_SECONDS * 1000:.0f} ms "
        f"| {ok(page_s <= TARGET_SECONDS)} |",
        f"| ratio page / bare | {ratio:.2f} | <= {TARGET_RATIO} | {ok(ratio <= TARGET_RATIO)} |",
        "", "| chart | Vega-Lite JSON | target | |", "|---|---|---|---|",
        *[f"| {name} | {size / 1000:.1f} kB | <= {TARGET_BYTES // 1000} kB | {ok(size <= TARGET_BYTES)} |"
          for name, size in sizes.items()],
        "",
        "How: page and bare runs interleave in one process on one DuckDB instance, after a warm-up run of each; "
        "the page time is AppTest's script run (queries, frames, Altair specs, protobuf), not the browser's "
        "drawing. The machine is shared with other test runs, so single runs vary; the medians are the figures.",
        "",
        "Runs (s): page " + ", ".join(f"{t:.3f}" for t in page_times)
        + "; bare " + ", ".join(f"{t:.3f}" for t in bare_times) + ".",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.record:
        record(report)
    return 0


def record(section: str) -> None:
    """Replace (or append) this issue's section of docs/PERFORMANCE.md, leaving the others alone."""
    doc = ROOT / "docs" / "PERFORMANCE.md"
    text = doc.read_text() if doc.exists() else "# Performance\n\n"
    if SECTION in text:
        before, rest = text.split(SECTION, 1)
        after = rest[rest.find("\n## "):] if "\n## " in rest else ""
        text = before + section.rstrip("\n") + "\n" + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
