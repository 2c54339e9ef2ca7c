"""Training-load metrics against values computed by hand for a small fixed history."""

from __future__ import annotations

import math
from datetime import date, datetime, time

import pytest

from backcare import store
from backcare.errors import InvalidInput
from backcare.store import load

# Sessions (minutes x RPE = load):
#   Mar 3: 60 x 5 = 300    Mar 10: 60 x 5 = 300    Mar 17: 60 x 5 = 300
#   Mar 24: 60 x 8 = 480   Mar 25: 30 x 6 = 180    Mar 27: 40 x 5 = 200 and 20 x 4 = 80 (daily 280)
# plus Jan 20: 30 x 3 = 90, outside every window below; it makes the history older than 28 days, which the
# acute:chronic ratio needs before it is shown.
HISTORY = [
    ("2025-01-20", 30, 3),
    ("2025-03-03", 60, 5),
    ("2025-03-10", 60, 5),
    ("2025-03-17", 60, 5),
    ("2025-03-24", 60, 8),
    ("2025-03-25", 30, 6),
    ("2025-03-27", 40, 5),
    ("2025-03-27", 20, 4),
]
# Week Mar 22-28, daily loads 0, 0, 480, 180, 0, 280, 0:
WEEK = 940.0
MEAN = 940 / 7  # 134.2857
SD_POP = math.sqrt((480**2 + 180**2 + 280**2) / 7 - MEAN**2)  # 175.243 (population SD)
MONOTONY = MEAN / SD_POP  # 0.7663
# 28 days Mar 1-28: 3 x 300 + 940 = 1840 -> 460 a week; ratio 940 / 460 = 2.0435
CHRONIC_WEEK = 460.0
RATIO = 940 / 460


@pytest.fixture
def history(db, client, trainer_actor):
    for day, minutes, rpe in HISTORY:
        store.log_session(
            db, actor=trainer_actor, client_id=client.id, session={"date": day, "minutes": minutes, "rpe": rpe}
        )
    return client


def test_hand_computed_values_match(db, history, trainer_actor):
    (day,) = store.daily_load(
        db, actor=trainer_actor, client_id=history.id, start=date(2025, 3, 28), end=date(2025, 3, 28)
    )
    assert day.load == 0 and day.sessions == 0
    assert day.weekly_load == pytest.approx(WEEK)
    assert SD_POP == pytest.approx(175.2430, abs=1e-3) and MONOTONY == pytest.approx(0.76628, abs=1e-4)
    assert day.monotony == pytest.approx(MONOTONY)
    assert day.strain == pytest.approx(WEEK * MONOTONY)
    assert day.chronic_weekly_load == pytest.approx(CHRONIC_WEEK)
    assert day.acute_chronic_ratio == pytest.approx(RATIO)


def test_daily_load_has_every_day_and_sums_sessions_of_a_day(db, history, trainer_actor):
    days = store.daily_load(
        db, actor=trainer_actor, client_id=history.id, start=date(2025, 3, 24), end=date(2025, 3, 28)
    )
    assert [(d.day.day, d.sessions, d.load) for d in days] == [
        (24, 1, 480),
        (25, 1, 180),
        (26, 0, 0),
        (27, 2, 280),
        (28, 0, 0),
    ]


@pytest.mark.parametrize(
    "on, expected",
    [
        (date(2025, 3, 28), RATIO),
        (date(2025, 3, 2), None),  # no load at all in 28 days: chronic 0 -> no ratio
        (date(2025, 3, 3), 4.0),  # 300 / (300 / 4)
    ],
)
def test_load_ratio(db, history, trainer_actor, on, expected):
    ratio = store.load_ratio(db, actor=trainer_actor, client_id=history.id, on=on)
    assert ratio.ratio == (None if expected is None else pytest.approx(expected))
    assert ratio.spike == (expected is not None and expected >= load.LOAD_RATIO_SPIKE)


@pytest.mark.parametrize(
    "first_session, shown",
    [
        (date(2025, 3, 1), True),  # 27 days before Mar 28: a full 28-day window of history
        (date(2025, 3, 2), False),  # 26 days: the chronic window is not yet filled
    ],
)
def test_ratio_waits_for_28_days_of_history(db, client, trainer_actor, first_session, shown):
    for day in (first_session, date(2025, 3, 28)):
        store.log_session(db, actor=trainer_actor, client_id=client.id, session={"date": day, "minutes": 60, "rpe": 5})
    ratio = store.load_ratio(db, actor=trainer_actor, client_id=client.id, on=date(2025, 3, 28))
    (day,) = store.daily_load(
        db, actor=trainer_actor, client_id=client.id, start=date(2025, 3, 28), end=date(2025, 3, 28)
    )
    assert (ratio.ratio is not None) is shown
    assert (day.acute_chronic_ratio is not None) is shown
    if shown:
        assert ratio.ratio == pytest.approx(300 / (600 / 4)) == day.acute_chronic_ratio


def test_monotony_is_null_when_every_day_of_the_week_is_the_same(db, client, trainer_actor):
    for day in range(1, 8):
        store.log_session(
            db, actor=trainer_actor, client_id=client.id, session={"date": date(2025, 3, day), "minutes": 30, "rpe": 4}
        )
    (week_end,) = store.daily_load(
        db, actor=trainer_actor, client_id=client.id, start=date(2025, 3, 7), end=date(2025, 3, 7)
    )
    assert week_end.weekly_load == 840 and week_end.monotony is None and week_end.strain is None
    (empty,) = store.daily_load(
        db, actor=trainer_actor, client_id=client.id, start=date(2025, 2, 1), end=date(2025, 2, 1)
    )
    assert (empty.weekly_load, empty.monotony, empty.acute_chronic_ratio) == (0, None, None)


def test_weekly_load_is_consecutive_weeks_ending_on_the_day(db, history, trainer_actor):
    weeks = store.weekly_load(db, actor=trainer_actor, client_id=history.id, weeks=4, on=date(2025, 3, 28))
    assert [(w.week_start, w.week_end) for w in weeks] == [
        (date(2025, 3, 1), date(2025, 3, 7)),
        (date(2025, 3, 8), date(2025, 3, 14)),
        (date(2025, 3, 15), date(2025, 3, 21)),
        (date(2025, 3, 22), date(2025, 3, 28)),
    ]
    assert [(w.sessions, w.load) for w in weeks] == [(1, 300), (1, 300), (1, 300), (4, 940)]
    # one session of 300 in a week: mean 300/7, population SD 300*sqrt(6)/7 -> monotony 1/sqrt(6)
    assert weeks[0].monotony == pytest.approx(1 / math.sqrt(6))
    assert weeks[3].strain == pytest.approx(WEEK * MONOTONY)


def test_metrics_for_many_clients_come_from_one_query(db, gym, history, trainer_actor):
    other = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Bo", consent_by="tara")
    store.log_session(
        db, actor=trainer_actor, client_id=other.id, session={"date": "2025-03-28", "minutes": 10, "rpe": 10}
    )
    sql = load.daily_metrics_sql("SELECT id AS client_id FROM clients WHERE gym_id = $gym_id", "true")
    cur = db.cursor().execute(sql, {"gym_id": gym.id, "first_day": date(2025, 3, 28), "last_day": date(2025, 3, 28)})
    names = [d[0] for d in cur.description]
    by_client = {row["client_id"]: row for row in (dict(zip(names, r, strict=True)) for r in cur.fetchall())}
    assert by_client[history.id]["weekly_load"] == pytest.approx(WEEK)
    assert by_client[history.id]["acute_chronic_ratio"] == pytest.approx(RATIO)
    # the other client's only session is today: too little history for a ratio
    assert by_client[other.id]["weekly_load"] == 100 and by_client[other.id]["acute_chronic_ratio"] is None


@pytest.mark.parametrize(
    "call, field",
    [
        (
            lambda db, a, c: store.daily_load(db, actor=a, client_id=c, start=date(2025, 3, 2), end=date(2025, 3, 1)),
            "end",
        ),
        (lambda db, a, c: store.weekly_load(db, actor=a, client_id=c, weeks=0), "weeks"),
    ],
)
def test_load_ranges_are_checked(db, client, trainer_actor, call, field):
    with pytest.raises(InvalidInput) as error:
        call(db, trainer_actor, client.id)
    assert error.value.field == field


@pytest.mark.parametrize("day", [date(2025, 3, 3), date(2025, 3, 20), date(2025, 3, 28), date(2025, 4, 20)])
def test_the_ratio_triage_sees_is_the_ratio_the_screens_show(db, history, trainer_actor, day):
    shown = store.load_ratio(db, actor=trainer_actor, client_id=history.id, on=day).ratio
    seen = store.triage_history(
        db, actor=trainer_actor, client_id=history.id, now=datetime.combine(day, time(12))
    ).acute_chronic_ratio
    assert seen == (None if shown is None else pytest.approx(shown, abs=1e-4))
