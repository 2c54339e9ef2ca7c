"""The history page's weekly band (load.one_client_band_sql) gives the figures of the daily definition
(load.daily_metrics_sql) on each week's last day, for varied histories."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from backcare import store
from backcare.store import load

ON = date(2025, 6, 30)


def band(db, client_id: int, weeks: int) -> list[tuple]:
    with db.read() as cur:
        return cur.execute(
            load.one_client_band_sql(), {"client_id": client_id, "last_day": ON, "weeks": weeks}
        ).fetchall()


def daily_on_week_ends(db, client_id: int, weeks: int) -> list[tuple]:
    with db.read() as cur:
        rows = cur.execute(
            f"SELECT day, weekly_sessions, weekly_load, chronic_weekly_load, acute_chronic_ratio "
            f"FROM ({load.one_client_daily_sql()}) AS daily ORDER BY day",
            {"client_id": client_id, "first_day": ON - timedelta(days=7 * (weeks - 1)), "last_day": ON},
        ).fetchall()
    return [
        (day - timedelta(days=6), day, sessions, weekly, chronic, ratio)
        for day, sessions, weekly, chronic, ratio in rows
        if (ON - day).days % 7 == 0
    ]


def rounded(rows: list[tuple]) -> list[tuple]:
    return [
        (start, end, int(n), float(weekly), float(chronic), None if ratio is None else round(ratio, 9))
        for start, end, n, weekly, chronic, ratio in rows
    ]


@pytest.mark.parametrize(
    ("seed", "span_days", "sessions", "weeks"),
    [
        (1, 200, 60, 12),  # a long history: every ratio defined
        (2, 40, 12, 12),  # a history younger than most of the window: ratios start late
        (3, 29, 3, 4),  # the first session right at the 28-day edge
        (4, 120, 0, 6),  # no sessions at all: loads 0, no ratio
        (5, 400, 200, 1),  # one week
    ],
)
def test_the_band_equals_the_daily_definition_on_each_weeks_last_day(
    db, trainer_actor, client, seed, span_days, sessions, weeks
):
    rng = random.Random(seed)
    for _ in range(sessions):
        day = ON - timedelta(days=rng.randrange(span_days))
        store.log_session(
            db,
            actor=trainer_actor,
            client_id=client.id,
            session={"date": day, "minutes": rng.choice((20, 45, 60, 90)), "rpe": rng.randint(1, 10)},
        )
    expected = rounded(daily_on_week_ends(db, client.id, weeks))
    assert len(expected) == weeks
    assert rounded(band(db, client.id, weeks)) == expected


@pytest.mark.parametrize(("first_session_days_back", "has_ratio"), [(27, True), (26, False)])
def test_the_ratio_needs_a_first_session_28_days_back_in_both_definitions(
    db, trainer_actor, client, first_session_days_back, has_ratio
):
    for days_back in (first_session_days_back, 3):
        store.log_session(
            db,
            actor=trainer_actor,
            client_id=client.id,
            session={"date": ON - timedelta(days=days_back), "minutes": 60, "rpe": 5},
        )
    last_week = rounded(band(db, client.id, 2))[-1]
    assert last_week == rounded(daily_on_week_ends(db, client.id, 2))[-1]
    assert (last_week[-1] is not None) is has_ratio
