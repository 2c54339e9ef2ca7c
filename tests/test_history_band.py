"""The history page's weekly band, as store.client_history reads it (one GROUP BY, the 4-week window in Python,
issue 13), gives exactly the rows of load.one_client_band_sql, which tests/test_load_band.py holds equal to the
daily definition."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from backcare import store
from backcare.store import load
from backcare.store.history import _band_in

ON = date(2025, 6, 30)


def sql_band(db, client_id: int, weeks: int) -> list[tuple]:
    with db.read() as cur:
        rows = cur.execute(
            load.one_client_band_sql(), {"client_id": client_id, "last_day": ON, "weeks": weeks}
        ).fetchall()
    return [
        (start, end, int(n), float(weekly), float(chronic), None if ratio is None else float(ratio))
        for start, end, n, weekly, chronic, ratio in rows
    ]


def history_band(db, client_id: int, weeks: int) -> list[tuple]:
    with db.read() as cur:
        rows = _band_in(cur, client_id, weeks, ON)
    return [(w.week_start, w.week_end, w.sessions, w.load, w.chronic_weekly_load, w.ratio) for w in rows]


@pytest.mark.parametrize(
    ("seed", "span_days", "sessions", "weeks", "after_on"),
    [
        (1, 200, 60, 12, 0),  # a long history: every ratio defined
        (2, 40, 12, 12, 0),  # a history younger than most of the window: ratios start late
        (3, 29, 3, 4, 0),  # the first session right at the 28-day edge
        (4, 120, 0, 6, 0),  # no sessions at all: loads 0, no ratio
        (5, 400, 200, 1, 0),  # one week
        (6, 90, 40, 12, 5),  # sessions after the band's last day count for neither loads nor first session
        (7, 10, 0, 3, 4),  # only sessions after the last day: no ratio
    ],
)
def test_the_history_band_equals_the_band_sql(db, trainer_actor, client, seed, span_days, sessions, weeks, after_on):
    rng = random.Random(seed)
    days = [ON - timedelta(days=rng.randrange(span_days)) for _ in range(sessions)]
    days += [ON + timedelta(days=rng.randint(1, 20)) for _ in range(after_on)]
    for day in days:
        store.log_session(
            db,
            actor=trainer_actor,
            client_id=client.id,
            session={"date": day, "minutes": rng.choice((20, 45, 60, 90)), "rpe": rng.randint(1, 10)},
        )
    expected = sql_band(db, client.id, weeks)
    got = history_band(db, client.id, weeks)
    assert len(got) == weeks
    assert [row[:3] for row in got] == [row[:3] for row in expected]
    assert [x for row in got for x in row[3:5]] == pytest.approx([x for row in expected for x in row[3:5]])
    assert [row[5] is None for row in got] == [row[5] is None for row in expected]
    assert [row[5] for row in got if row[5] is not None] == pytest.approx(
        [row[5] for row in expected if row[5] is not None], rel=1e-12
    )
