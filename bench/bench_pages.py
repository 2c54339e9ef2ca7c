"""Rerun time of the trainer's triage and history pages at chain scale, against an empty page plus the
bare store queries each page runs, measured in the same process and the same run.

    .venv/bin/python -m bench.bench_pages [--clients 20000] [--runs 61] [--target-ratio 1.5] [--write-doc]

The chain-scale demo history comes from bench/chain.py (built once, cached in bench/out/, git-ignored).
Target: page / (empty page + bare queries) <= --target-ratio (1.5), for the history page and for every step
of the triage page; exits 1 naming each page or step that misses it.

AppTest runs a page's script but not the full garbage collection Streamlit's server runs after every script
run while `runner.postScriptGC` is on (Streamlit's default). The benchmark times that collection in the same
process, interleaved with the pages, and reports it beside them, with the page time plus the collection where
the project's .streamlit/config.toml leaves it on: the figure a real rerun pays. bench_load measures the
server itself.

On PostgreSQL (issue 17): `--database-url postgresql://.../EMPTY_DATABASE` or `--throwaway-postgres`
(bench/postgres.py). The chain file is copied in by migrate-to-postgres, BACKCARE_DATABASE_URL is set as a
deployment sets it, and the same pages, bare queries and target (every page's ratio to its floor) run on the
server; its own section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from backcare import intake, store
from backcare.plans import load_library
from backcare.store.db import redacted
from bench.chain import CHAIN_CLIENTS, CHAIN_SEED, CHAIN_WEEKS, chain_database, working_copy
from bench.common import ROOT, Target, load_average, machine, now_utc, report_targets, write_section
from bench.postgres import add_options, describe, load_chain
from bench.postgres import database as postgres_database

SECTION = "Trainer pages at chain scale (issue 4)"
SECTION_PG = "Trainer pages at chain scale on PostgreSQL (issue 17)"
EMPTY_PAGE = "import streamlit as st\nst.title('Empty page')\n"


def post_run_collection_on() -> bool:
    """Whether the server collects after each run, as .streamlit/config.toml (or Streamlit's default) says."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    return bool(config.get("runner", {}).get("postScriptGC", True))


def busiest_client(db, actor) -> int:
    """The client of the trainer's gym with the most sessions and reports: the heaviest history page."""
    with db.read() as cur:
        (client_id,) = cur.execute(
            "SELECT c.id FROM clients AS c "
            "LEFT JOIN (SELECT client_id, count(*) AS n FROM sessions GROUP BY client_id) AS s ON s.client_id = c.id "
            "LEFT JOIN (SELECT client_id, count(*) AS n FROM reports GROUP BY client_id) AS r ON r.client_id = c.id "
            "WHERE c.gym_id = ? ORDER BY coalesce(s.n, 0) + 10 * coalesce(r.n, 0) DESC, c.id LIMIT 1",
            [actor.gym_id],
        ).fetchone()
    return int(client_id)


def median_seconds_interleaved(actions, runs: int) -> list[float]:
    """The median time of each action over `runs` rounds, the actions taking turns within each round."""
    for action in actions:
        action()  # warm caches, as a rerun would find them
    samples: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, times in zip(actions, samples, strict=True):
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
    return [statistics.median(times) for times in samples]


class ServerLikeBytecode:
    """AppTest compiles the page script again on every run (a new ScriptCache each time); the server keeps
    one ScriptCache, so a real rerun reuses the bytecode. Inside this context every run shares one cache."""

    def __enter__(self):
        from streamlit.runtime.scriptrunner.script_cache import ScriptCache
        from streamlit.testing.v1 import app_test, local_script_runner

        shared = ScriptCache()
        self._modules = (app_test, local_script_runner)
        self._saved = [m.ScriptCache for m in self._modules]
        for module in self._modules:
            module.ScriptCache = lambda: shared
        return self

    def __exit__(self, *exc):
        for module, saved in zip(self._modules, self._saved, strict=True):
            module.ScriptCache = saved


def page(script: str, actor, client_id: int) -> AppTest:
    at = AppTest.from_file(str(ROOT / script), default_timeout=120)
    at.session_state["actor"] = actor
    at.session_state["client_id"] = client_id
    return at


def triage_steps(db, actor, client_id: int) -> list[tuple[str, AppTest]]:
    """The triage page with every question answered (context included), open at each of its steps in
    turn: a rerun of each computes the full result and draws that step. Each walk starts from step 1: the
    draft the previous walk left on the server (issue 14) is removed first."""
    from tests.app_helpers import answer_triage

    opened = []
    for index, step in enumerate(intake.STEPS):
        store.delete_draft(db, actor=actor, client_id=client_id)
        at = answer_triage(
            page("pages/triage.py", actor, client_id).run(),
            warmup=2,
            sleep=6.5,
            sitting=9,
            core=1,
            flags=["load_increased"],
        )
        assert intake.STEPS[intake.RESULT_STEP].title in str(at.subheader[-1].value), "the walk did not finish"
        if index != intake.RESULT_STEP:
            at.segmented_control(key="triage_nav_0").set_value(index).run()
        assert f"{index + 1} · {step.title}" in str(at.subheader[-1].value)
        opened.append((f"triage, step {index + 1} ({step.name})", at))
    return opened


def triage_queries(db, actor, client_id: int) -> None:
    """What the triage page asks the store on a rerun with a client chosen and the form answered."""
    store.get_client(db, actor=actor, client_id=client_id, audit=False)  # current client, once per run
    store.list_sessions(db, actor=actor, client_id=client_id, limit=40)
    store.triage_history(db, actor=actor, client_id=client_id)


def history_queries(db, actor, client_id: int) -> None:
    """What the history page asks the store on a rerun (the history view is audited once, not per rerun). The
    client's record comes with client_history: the page reads it on its own (store.get_client) only the first
    time it shows that client, for the audit row, never on a rerun (issue 17), so the floor leaves it out."""
    store.client_history(db, actor=actor, client_id=client_id, audit=False)
    store.client_plan_feedback(db, actor=actor, client_id=client_id)  # the active plans' feedback (issue 15)
    load_library()


FEEDBACK_PLANS = ("core", "posture")
FEEDBACK_EVERY_DAYS = 2


def year_of_feedback(db, actor, client_id: int, days: int) -> int:
    """Give the client two active plans with feedback every other day for `days` days (issue 15: the history page
    must meet its target with a year of feedback); returns the entries written. Written to a working copy."""
    from datetime import timedelta

    from backcare.errors import Conflict

    today = store.utcnow().date()
    running = {
        a.plan_id.value: a.id for a in store.list_assignments(db, actor=actor, client_id=client_id, active_only=True)
    }
    for plan_id in FEEDBACK_PLANS:
        if plan_id not in running:
            try:
                running[plan_id] = store.assign_plan(
                    db,
                    actor=actor,
                    client_id=client_id,
                    plan_id=plan_id,
                    start_date=today - timedelta(days=days),
                    review_date=today + timedelta(days=14),
                ).id
            except Conflict as paused:
                raise SystemExit(f"the benchmark's client {client_id} cannot take a plan: {paused}") from None
    written = 0
    for back in range(days, 0, -FEEDBACK_EVERY_DAYS):
        day = today - timedelta(days=back)
        entries = [
            {
                "assignment_id": running[plan_id],
                "entry_date": day,
                "done": ("all", "some", "none")[(back + i) % 3],
                "pain_during": (back + i) % 4,
                "pain_morning_after": (back // 7 + i) % 4,
            }
            for i, plan_id in enumerate(FEEDBACK_PLANS)
        ]
        written += len(store.record_feedback(db, actor=actor, client_id=client_id, entries=entries).entries)
    return written


def not_paused(db, actor, client_id: int) -> int:
    """The busiest client, or, when a referral pauses their plans (the history page then shows no feedback), the
    busiest of the gym's clients whose plans may run."""
    from backcare.ui import views

    if not views.is_paused(store.client_status(db, actor=actor, client_id=client_id)):
        return client_id
    for client in store.list_clients(db, actor=actor, gym_id=actor.gym_id):
        if not views.is_paused(store.client_status(db, actor=actor, client_id=client.id)):
            return client.id
    raise SystemExit("every client of the trainer's gym is paused: no plan can run")


def on_postgres(path: Path, url: str) -> str:
    """The chain copied into the empty database at `url`; the pages then open it as a deployment does."""
    load_chain(path, url)
    os.environ["BACKCARE_DATABASE_URL"] = url
    return url


def measure(clients: int, weeks: int, runs: int, feedback_days: int = 365, database_url: str | None = None) -> dict:
    path = chain_database(clients, weeks, CHAIN_SEED)
    if feedback_days:  # the feedback is written to a copy: the cached history stays as built
        copies = Path(tempfile.mkdtemp(prefix="bench-pages-"))
        atexit.register(shutil.rmtree, copies, ignore_errors=True)  # some 200 MB at chain scale, left behind before
        path = working_copy(path, copies)
    os.environ["BACKCARE_DB"] = str(path)
    target = on_postgres(path, database_url) if database_url else str(path)
    from backcare.ui import context

    db = context._open_database(target)  # the very handle the pages use (st.cache_resource)
    actor = store.actor_for(store.get_user_by_username(db, username="demo.trainer"))
    client_id = busiest_client(db, actor)
    feedback_entries = 0
    if feedback_days:
        client_id = not_paused(db, actor, client_id)
        feedback_entries = year_of_feedback(db, actor, client_id, feedback_days)
    with db.read() as cur:
        sessions, reports = cur.execute(
            "SELECT (SELECT count(*) FROM sessions WHERE client_id = $c), "
            "(SELECT count(*) FROM reports WHERE client_id = $c)",
            {"c": client_id},
        ).fetchone()
        totals = cur.execute(
            "SELECT (SELECT count(*) FROM clients), (SELECT count(*) FROM sessions), (SELECT count(*) FROM reports)"
        ).fetchone()

    empty = AppTest.from_string(EMPTY_PAGE, default_timeout=60).run()
    triage = triage_steps(db, actor, client_id)
    history = page("pages/history.py", actor, client_id).run()
    pages = [(name, at, triage_queries) for name, at in triage] + [("history", history, history_queries)]
    for _, at, _ in pages:
        assert not at.exception, at.exception

    results = {}
    load_start = load_average()
    for name, at, queries in pages:
        # Interleaved, so a burst of load from other processes hits all the measures alike.
        bare = lambda queries=queries: queries(db, actor, client_id)  # noqa: E731
        collect = lambda: gc.collect(2)  # noqa: E731  (what the server runs after each script run)
        recompiled_s, raw_empty_s = median_seconds_interleaved((at.run, empty.run), runs)
        with ServerLikeBytecode():
            page_s, empty_s, bare_s, collect_s = median_seconds_interleaved((at.run, empty.run, bare, collect), runs)
        assert not at.exception, at.exception
        results[name] = {
            "page": page_s,
            "recompiled": recompiled_s,
            "bare": bare_s,
            "empty": empty_s,
            "collection": collect_s,
            "ratio": page_s / (empty_s + bare_s),
            "ratio_recompiled": recompiled_s / (raw_empty_s + bare_s),
        }
    from streamlit import config

    return {
        "clients": totals[0],
        "sessions": totals[1],
        "reports": totals[2],
        "client_sessions": sessions,
        "client_reports": reports,
        "client_feedback": feedback_entries,
        "runs": runs,
        "pages": results,
        "weeks": weeks,
        "usage_stats": config.get_option("browser.gatherUsageStats"),
        "when": now_utc(),
        "machine": machine(),
        "load_start": load_start,
        "load_end": load_average(),
        "tracked_objects": len(gc.get_objects()),
        "collection_on": post_run_collection_on(),
    }


def markdown(result: dict, target: float, command: str) -> str:
    ms = lambda s: f"{1000 * s:.0f} ms"  # noqa: E731
    on = result["collection_on"]
    lines = [
        f"Run {result['when']} on {result['machine']}; load average {result['load_start']:.1f} at the start and "
        f"{result['load_end']:.1f} at the end (a shared machine). `{command}`.",
        f"Demo history: {result['clients']:,} clients, {result['sessions']:,} sessions, {result['reports']:,} reports; "
        f"the page shows the trainer's busiest client ({result['client_sessions']} sessions, "
        f"{result['client_reports']} reports, {result['client_feedback']} plan feedback entries on two active plans). "
        f"Median of {result['runs']} reruns each (AppTest, after one warm-up), "
        "in one process and one run, the measures interleaved.",
        "",
        "| page | page rerun (AppTest) | empty page rerun | bare store queries | page ÷ (empty + queries) | target "
        "| post-run collection | rerun as the server runs it | AppTest as is: page, ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["pages"].items():
        verdict = "met" if r["ratio"] <= target else "MISSED"
        server = r["page"] + (r["collection"] if on else 0.0)
        lines.append(
            f"| {name} | {ms(r['page'])} | {ms(r['empty'])} | {ms(r['bare'])} | "
            f"{r['ratio']:.2f} | ≤ {target} ({verdict}) | {ms(r['collection'])} "
            f"({'run' if on else 'not run'}) | {ms(server)} | {ms(r['recompiled'])}, "
            f"{r['ratio_recompiled']:.2f} |"
        )
    lines += [
        "",
        "AppTest leaves out the full garbage collection (`gc.collect(2)`) that Streamlit's server runs after "
        'every script run while `runner.postScriptGC` is on. The column "post-run collection" is that '
        f"collection timed in this process ({result['tracked_objects']:,} tracked objects at the end), "
        "interleaved with the pages. `.streamlit/config.toml` "
        + (
            "leaves it on, so a real rerun pays it: the next column adds it to the page."
            if on
            else "turns it off (see the load section), so the server does not run it and the next "
            "column equals the page rerun."
        )
        + " The ratio target compares AppTest figures with AppTest figures and leaves the collection out of "
        "both sides.",
        "",
        "Bare queries are the store calls the page makes on a rerun, called directly on the same handle: "
        "triage = current client (once a run), 40 latest sessions, triage history (previous pain, "
        "recurrence, load ratio); history = `store.client_history` (the client's record comes with it: the page "
        "reads the record on its own only on a client's first showing), `store.client_plan_feedback` and the "
        "plan library.",
        "",
        "Page and empty-page reruns share one compiled-script cache, as the server does "
        "(`ServerLikeBytecode` in the benchmark): AppTest on its own recompiles the script on every run, "
        "which a real rerun does not pay. The last column is the same measurement without that.",
        "",
        f"Streamlit usage statistics (`browser.gatherUsageStats`) were "
        f"{'on' if result['usage_stats'] else 'off'} for this run.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=CHAIN_CLIENTS)
    parser.add_argument("--weeks", type=int, default=CHAIN_WEEKS)
    parser.add_argument("--runs", type=int, default=61)
    parser.add_argument(
        "--feedback-days",
        type=int,
        default=365,
        help="plan feedback for the measured client over this many days (two plans, every other day); 0: none",
    )
    parser.add_argument(
        "--target-ratio", type=float, default=1.5, help="page / (empty page + bare queries), for every page and step"
    )
    add_options(parser)
    parser.add_argument("--write-doc", action="store_true", help="update this engine's section of docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    with postgres_database(args, "bench_pages") as url:
        result = measure(args.clients, args.weeks, args.runs, args.feedback_days, url)
        engine = (
            f"\nEngine: PostgreSQL ({describe(args, url)}), the chain copied in by migrate-to-postgres.\n"
            if url
            else ""
        )
    command = redacted(".venv/bin/python -m bench.bench_pages " + " ".join(argv if argv is not None else sys.argv[1:]))
    text = markdown(result, args.target_ratio, command.strip()) + engine
    print(text)
    if args.write_doc:
        write_section(SECTION_PG if url else SECTION, text)
    return report_targets(
        [
            (Target(f"{name}: page / (empty page + bare queries)", args.target_ratio, ""), r["ratio"])
            for name, r in result["pages"].items()
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
