"""(b) The trends' published figures from the rollups are exactly those of the per-report queries they
replace: the old queries are kept here, verbatim (backcare/store/analytics.py before issue 13), as the
reference, and both run on the same random history with the real cell-key perturbation on."""

# ruff: noqa: E501

from __future__ import annotations

import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.store import analytics, privacy, rollups
from backcare.store.analytics import (
    _CAUSES,
    _LEVELS,
    _RED,
    _REPORTS_IN_RANGE,
    TrendTable,
    _as_timestamps,
    _counted,
    _full,
    _label,
    _months,
    _params,
    _publish,
    _query,
    _ranked,
    _Spec,
    _weeks,
)
from backcare.store.db import Database
from backcare.store.privacy import with_record_keys
from tests.fresh_db import fresh_database
from tests.test_rollups import START, build_history

MANAGER = Actor(username="mia", role=Role.MANAGER)

# --- the reference: the per-report queries as they were ----------------------------------------

# Reports in the range with their record keys (rk: the report's, ck: its client's) and the red-flag mark.
_REPORTS_ROWS = f"""
        SELECT r.id, r.client_id, r.gym_id, r.author_id, r.author, r.level, r.created_at,
               r.level IN {_RED} AS red
        FROM reports AS r WHERE {_REPORTS_IN_RANGE}"""
_REPORTS_BASE = f"base AS ({with_record_keys(_REPORTS_ROWS, [('report', 'id', 'rk'), ('client', 'client_id', 'ck')])})"
_REPORT_COUNTS = (
    f"{_counted('reports')}, {_counted('clients', clients=True)}, {_counted('red_flag_reports', where='red')}"
)
_REPORT_SPEC = _Spec(
    counts=("reports", "clients", "red_flag_reports"),
    shares=(("red_flag_pct", "red_flag_reports", "reports"),),
    at_most=(("clients", "reports"),),
)
_REPORT_GUARDED = ("reports", "clients", "red_flag_reports", "red_flag_pct")


def _summary_frame(db: Database, p: dict) -> pd.DataFrame:
    frame = _query(db, f"WITH {_REPORTS_BASE} SELECT {_REPORT_COUNTS} FROM base", p, "summarising reports")
    return _publish(frame, _REPORT_SPEC)


def trends_summary(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """One row: reports, clients, red-flag reports and their share (a cell of its own, not a sum)."""
    frame = _summary_frame(db, _params(db, actor, start, end, gym_id, "summary"))
    return TrendTable("summary", "Summary", frame, _REPORT_GUARDED)


def weekly_levels(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Reports a week by triage level (weeks start on Monday): every week of the range, every level."""
    p = _params(db, actor, start, end, gym_id, "weekly_levels")
    frame = _query(
        db,
        f"""
        WITH {_REPORTS_BASE}
        SELECT CAST(date_trunc('week', created_at) AS DATE) AS week, level,
               {_counted("reports")}, {_counted("clients", clients=True)}
        FROM base GROUP BY 1, 2
    """,
        p,
        "counting reports a week",
    )
    frame = _full(_as_timestamps(frame, "week"), {"week": _weeks(p), "level": _LEVELS})
    frame = _publish(frame, _Spec(counts=("reports", "clients"), at_most=(("clients", "reports"),)))
    return TrendTable("reports_per_week_by_level", "Reports a week by level", frame, ("reports", "clients"))


def weekly_red_flags(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Per week: reports, and the share at refer or above (a professional needed)."""
    p = _params(db, actor, start, end, gym_id, "weekly_red_flags")
    frame = _query(
        db,
        f"""
        WITH {_REPORTS_BASE}
        SELECT CAST(date_trunc('week', created_at) AS DATE) AS week, {_REPORT_COUNTS}
        FROM base GROUP BY 1
    """,
        p,
        "counting red flags a week",
    )
    frame = _publish(_full(_as_timestamps(frame, "week"), {"week": _weeks(p)}), _REPORT_SPEC)
    return TrendTable("red_flag_share_per_week", "Share of red flags (refer and above) a week", frame, _REPORT_GUARDED)


def causes_ranked(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Contributing causes over the whole range, most reports first; share of all reports in the range
    (the summary's published total)."""
    p = _params(db, actor, start, end, gym_id, "causes")
    frame = _query(
        db,
        f"""
        WITH {_REPORTS_BASE}
        SELECT rc.cause, {_counted("reports")}, {_counted("clients", clients=True)}
        FROM report_causes AS rc JOIN base ON base.id = rc.report_id GROUP BY rc.cause
    """,
        p,
        "ranking causes",
    )
    frame = _publish(
        _full(frame, {"cause": _CAUSES}), _Spec(counts=("reports", "clients"), at_most=(("clients", "reports"),))
    )
    total = _summary_frame(db, p)["reports"].iloc[0]
    frame["pct_of_reports"] = pd.array([privacy.share(n, total) for n in frame["reports"]], dtype="Float64")
    frame["cause"] = frame["cause"].map(_label)
    frame = _ranked(frame, [])
    return TrendTable(
        "causes_ranked",
        "Contributing causes, ranked",
        frame[["rank", "cause", "reports", "clients", "pct_of_reports"]],
        ("rank", "reports", "clients", "pct_of_reports"),
    )


def causes_by_month(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Causes ranked within each calendar month of the range: every month, every cause."""
    p = _params(db, actor, start, end, gym_id, "causes_monthly")
    frame = _query(
        db,
        f"""
        WITH {_REPORTS_BASE}
        SELECT CAST(date_trunc('month', base.created_at) AS DATE) AS month, rc.cause,
               {_counted("reports")}, {_counted("clients", clients=True)}
        FROM report_causes AS rc JOIN base ON base.id = rc.report_id GROUP BY 1, 2
    """,
        p,
        "ranking causes by month",
    )
    frame = _full(_as_timestamps(frame, "month"), {"month": _months(p), "cause": _CAUSES})
    frame = _publish(frame, _Spec(counts=("reports", "clients"), at_most=(("clients", "reports"),)))
    frame["cause"] = frame["cause"].map(_label)
    frame = _ranked(frame, ["month"])
    return TrendTable(
        "causes_by_month",
        "Causes ranked by month",
        frame[["month", "rank", "cause", "reports", "clients"]],
        ("rank", "reports", "clients"),
    )


def reports_by_gym(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """Every gym in scope, with or without reports."""
    p = _params(db, actor, start, end, gym_id, "by_gym")
    with db.read("listing gyms") as cur:
        gyms = cur.execute(
            "SELECT id, name FROM gyms WHERE $gym_id IS NULL OR id = $gym_id ORDER BY name", {"gym_id": p["gym_id"]}
        ).fetchall()
    frame = _query(
        db,
        f"WITH {_REPORTS_BASE} SELECT gym_id, {_REPORT_COUNTS} FROM base GROUP BY gym_id",
        p,
        "counting reports by gym",
    )
    frame = _publish(_full(frame, {"gym_id": [g for g, _ in gyms]}), _REPORT_SPEC)
    frame.insert(0, "gym", frame.pop("gym_id").map(dict(gyms)))
    return TrendTable("reports_by_gym", "By gym", frame, _REPORT_GUARDED)


_TRAINER = "coalesce(u.display_name, base.author)"


def reports_by_trainer(db: Database, *, actor: Actor, start: date, end: date, gym_id: int | None = None) -> TrendTable:
    """By the trainer who made the report (staff names are not client data). Every trainer of the gyms in
    scope is listed, and everyone who ever made a report there, whether or not they did in the range."""
    p = _params(db, actor, start, end, gym_id, "by_trainer")
    with db.read("listing trainers") as cur:
        people = cur.execute(
            """
            SELECT DISTINCT g.name AS gym, coalesce(u.display_name, r.author) AS trainer
            FROM reports AS r JOIN gyms AS g ON g.id = r.gym_id LEFT JOIN users AS u ON u.id = r.author_id
            WHERE $gym_id IS NULL OR r.gym_id = $gym_id
            UNION
            SELECT g.name, u.display_name FROM users AS u JOIN gyms AS g ON g.id = u.gym_id
            WHERE u.role = 'trainer' AND ($gym_id IS NULL OR u.gym_id = $gym_id)
            ORDER BY 1, 2
        """,
            {"gym_id": p["gym_id"]},
        ).fetchall()
    frame = _query(
        db,
        f"""
        WITH {_REPORTS_BASE}
        SELECT g.name AS gym, {_TRAINER} AS trainer, {_REPORT_COUNTS}
        FROM base JOIN gyms AS g ON g.id = base.gym_id LEFT JOIN users AS u ON u.id = base.author_id
        GROUP BY 1, 2
    """,
        p,
        "counting reports by trainer",
    )
    grid = pd.MultiIndex.from_tuples(people, names=["gym", "trainer"])
    frame = frame.set_index(["gym", "trainer"]).reindex(grid).reset_index()
    return TrendTable("reports_by_trainer", "By trainer", _publish(frame, _REPORT_SPEC), _REPORT_GUARDED)


# --- the comparison ------------------------------------------------------------------------------

REFERENCE = {
    "summary": trends_summary,
    "weekly_levels": weekly_levels,
    "weekly_red_flags": weekly_red_flags,
    "causes": causes_ranked,
    "causes_monthly": causes_by_month,
    "by_gym": reports_by_gym,
    "by_trainer": reports_by_trainer,
}


# Issue 13's rollups keep no client per row: the distinct clients of a week, cause, gym or trainer are no longer
# published (they do not add up over days); the summary keeps its own. Every other figure is the reference's.
DROPPED = {name: ("clients",) for name in REFERENCE if name != "summary"}


def _as_published(name: str, old: TrendTable) -> TrendTable:
    """The reference table without the columns no longer published."""
    gone = DROPPED.get(name, ())
    return TrendTable(
        old.name,
        old.title,
        old.frame.drop(columns=[c for c in gone if c in old.frame.columns]),
        tuple(c for c in old.guarded if c not in gone),
    )


@pytest.fixture(scope="module")
def random_history(tmp_path_factory) -> tuple[Path, dict]:
    """The random history, written through the store once for this module (600 writes take some 15 s); each
    test opens a copy of the file."""
    path = tmp_path_factory.mktemp("random-history") / "history.duckdb"
    database = fresh_database(path)
    try:
        made = build_history(database, random.Random(11), clients=40, steps=600, pace=(1, 2, 3), erase=0.004)
    finally:
        database.close()
    return path, made


REAL_BITS = rollups.CLIENT_BITS


@pytest.mark.parametrize("bits", [REAL_BITS, 1])
def test_published_trends_from_the_rollups_equal_the_per_report_queries(random_history, tmp_path, bits, monkeypatch):
    """With the real client bits, and with one bit for every client (each group's lower bound at most 1, so
    every group the upper bound does not hide is recounted from the reports): the small-group rule decides
    exactly as the per-report distinct count did, and every figure is the same."""
    assert privacy.TABLE is privacy.CELL_KEY_TABLE  # the real perturbation, not the exact table
    source, history = random_history
    shutil.copyfile(source, tmp_path / "t.duckdb")
    monkeypatch.setattr(rollups, "CLIENT_BITS", bits)
    with store.open_database(tmp_path / "t.duckdb") as db:
        if bits != REAL_BITS:
            with db.write(SYSTEM, "test.rollups_rebuild") as cur:  # the rollups as writes with these bits make them
                rollups.rebuild(cur)
        top = db.cursor().execute("SELECT max(client_bits) FROM trend_level_days").fetchone()[0]
        assert (top == 1) == (bits == 1)  # every client's bit is bit 0 only when the bits are patched to one
        _compare_every_range(db, history)


def _compare_every_range(db: Database, history: dict) -> None:
    first, last = START.date(), history["last"].date()
    ranges = [
        (first, last),  # everything
        (first + timedelta(days=2), last - timedelta(days=3)),  # partial weeks and months at both ends
        (first + timedelta(days=9), first + timedelta(days=9)),  # one day
        (first - timedelta(days=40), first + timedelta(days=20)),  # before the history started
    ]
    shown = 0
    for start, end in ranges:
        for gym_id in (None, *(g.id for g in history["gyms"])):
            new = store.trends(db, actor=MANAGER, start=start, end=end, gym_id=gym_id)
            for name, reference in REFERENCE.items():
                old = _as_published(name, reference(db, actor=MANAGER, start=start, end=end, gym_id=gym_id))
                got = getattr(new, name)
                pd.testing.assert_frame_equal(got.frame, old.frame, obj=f"{name} {start}..{end} gym {gym_id}")
                assert (got.name, got.title, got.guarded) == (old.name, old.title, old.guarded)
                public = getattr(analytics, reference.__name__)(db, actor=MANAGER, start=start, end=end, gym_id=gym_id)
                pd.testing.assert_frame_equal(public.frame, old.frame)
                shown += int(sum(got.frame[c].notna().sum() for c in got.guarded if c in got.frame.columns))
    assert shown > 200  # many figures shown (groups of 5 clients or more), not only "fewer than 5"


@pytest.mark.parametrize("day", [date(2025, 3, 3), date(2025, 3, 9)])
def test_a_range_of_a_single_day_at_either_end_of_a_week_matches(db, history, day):
    for name, reference in REFERENCE.items():
        old = _as_published(name, reference(db, actor=MANAGER, start=day, end=day + timedelta(days=1)))
        got = getattr(store.trends(db, actor=MANAGER, start=day, end=day + timedelta(days=1)), name)
        pd.testing.assert_frame_equal(got.frame, old.frame)
