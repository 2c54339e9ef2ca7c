"""store.client_history, which the history page calls on every rerun: one query per panel on one cursor, and
the same permission check and audit rows as reading the record and the reports one by one (issue 13)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import Conflict, NotFound, PermissionDenied
from backcare.models import TriageReport
from backcare.store import load
from backcare.store.history import _band_in
from backcare.store.records import ClientStatus
from tests.conftest import report_payload

ON = date(2025, 3, 10)
# The statements of a history read: the client with its status and the bounds of the other reads; the
# sessions (the latest ones and the weekly load band from one read); the reports (the latest ones and the pain
# per day from one read); plans; referrals.
STATEMENTS = 5


class CountingDatabase:
    """The database, counting the statements run and the cursors opened through it."""

    def __init__(self, db):
        self._db, self.statements, self.cursors = db, [], 0

    def __getattr__(self, name):
        return getattr(self._db, name)

    def cursor(self):
        self.cursors += 1
        return _CountingCursor(self._db.cursor(), self.statements)

    def read(self, doing: str = "reading the database"):
        from contextlib import contextmanager

        @contextmanager
        def reading():
            cur = self.cursor()
            try:
                yield cur
            finally:
                cur.close()

        return reading()


class _CountingCursor:
    def __init__(self, cur, statements):
        self._cur, self._statements = cur, statements

    def __getattr__(self, name):
        return getattr(self._cur, name)

    def execute(self, sql, *args, **kwargs):
        self._statements.append(sql)
        self._cur.execute(sql, *args, **kwargs)
        return self


def audit_rows(db) -> list[tuple]:
    with db.read() as cur:
        return cur.execute("SELECT action, outcome FROM audit_log WHERE action LIKE 'client.%' ORDER BY id").fetchall()


def save_at(db, actor, client_id: int, at: datetime, **answers):
    """A report with these answers (the rest a normal one), saved at `at`."""
    return store.save_report(
        db, actor=actor, client_id=client_id, report=TriageReport.model_validate(report_payload(**answers)), now=at
    )


@pytest.fixture
def busy_client(db, trainer_actor, client):
    store.log_session(db, actor=trainer_actor, client_id=client.id, session={"date": ON, "minutes": 30, "rpe": 4})
    store.save_report(
        db,
        actor=trainer_actor,
        client_id=client.id,
        report=TriageReport.model_validate(report_payload(pain_score=2)),
        now=datetime(2025, 3, 9, 9),
    )
    return client


def test_the_history_is_five_statements_at_most_on_one_cursor(db, trainer_actor, busy_client):
    counting = CountingDatabase(db)
    history = store.client_history(counting, actor=trainer_actor, client_id=busy_client.id, audit=False, on=ON)
    assert len(history.sessions) == 1 and len(history.reports) == 1 and history.referrals == ()
    # a panel the client's own statement shows empty (no referrals here) reads nothing
    assert (len(counting.statements), counting.cursors) == (STATEMENTS - 1, 1)


def test_reading_the_history_audits_one_history_view_and_nothing_else(db, trainer_actor, busy_client):
    before = audit_rows(db)
    store.client_history(db, actor=trainer_actor, client_id=busy_client.id, on=ON)
    assert audit_rows(db)[len(before) :] == [("client.history", "ok")]


def test_a_refused_history_is_audited_as_a_refused_view_of_the_record(db, busy_client):
    other = store.create_gym(db, actor=SYSTEM, name="Elsewhere")
    stranger = Actor(username="sam", role=Role.TRAINER, gym_id=other.id, user_id=99)
    before = audit_rows(db)
    with pytest.raises(PermissionDenied):
        store.client_history(db, actor=stranger, client_id=busy_client.id, on=ON)
    assert audit_rows(db)[len(before) :] == [("client.view", "denied")]


def test_the_history_of_no_such_client_reads_like_a_refusal(db, trainer_actor):
    # issue 12: a missing record and a refused one read the same, so ids cannot be probed
    with pytest.raises(NotFound, match="does not exist or is not open to you"):
        store.client_history(db, actor=trainer_actor, client_id=4242, on=ON)


# --- the weekly band as client_history reads it: one GROUP BY, the 4-week window in Python ------------------
# It gives exactly the rows of load.one_client_band_sql, which tests/test_load_band.py holds equal to the
# daily definition.
BAND_ON = date(2025, 6, 30)


def sql_band(db, client_id: int, weeks: int) -> list[tuple]:
    with db.read() as cur:
        rows = cur.execute(
            load.one_client_band_sql(), {"client_id": client_id, "last_day": BAND_ON, "weeks": weeks}
        ).fetchall()
    return [
        (start, end, int(n), float(weekly), float(chronic), None if ratio is None else float(ratio))
        for start, end, n, weekly, chronic, ratio in rows
    ]


def history_band(db, client_id: int, weeks: int, actor=None) -> list[tuple]:
    """The band as _band_in reads it alone or, given `actor`, as client_history reads it (from the one read of
    the sessions that also gives the latest ones)."""
    if actor is None:
        with db.read() as cur:
            rows = _band_in(cur, client_id, weeks, BAND_ON)
    else:
        rows = list(
            store.client_history(db, actor=actor, client_id=client_id, weeks=weeks, audit=False, on=BAND_ON).load
        )
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
    days = [BAND_ON - timedelta(days=rng.randrange(span_days)) for _ in range(sessions)]
    days += [BAND_ON + timedelta(days=rng.randint(1, 20)) for _ in range(after_on)]
    for day in days:
        store.log_session(
            db,
            actor=trainer_actor,
            client_id=client.id,
            session={"date": day, "minutes": rng.choice((20, 45, 60, 90)), "rpe": rng.randint(1, 10)},
        )
    expected = sql_band(db, client.id, weeks)
    for got in (history_band(db, client.id, weeks), history_band(db, client.id, weeks, trainer_actor)):
        assert len(got) == weeks
        assert [row[:3] for row in got] == [row[:3] for row in expected]
        assert [x for row in got for x in row[3:5]] == pytest.approx([x for row in expected for x in row[3:5]])
        assert [row[5] is None for row in got] == [row[5] is None for row in expected]
        assert [row[5] for row in got if row[5] is not None] == pytest.approx(
            [row[5] for row in expected if row[5] is not None], rel=1e-12
        )


@pytest.mark.parametrize("recent", [1, 3, 4, 20])
def test_the_latest_reports_are_those_of_list_reports_ties_on_the_time_included(db, trainer_actor, client, recent):
    """client_history reads its reports bounded by the recent-th latest time, not by ORDER BY ... LIMIT: the
    same rows in the same order, also when reports share a time at the bound."""
    times = [datetime(2025, 3, 1, 9), datetime(2025, 3, 2, 9), datetime(2025, 3, 2, 9), datetime(2025, 3, 3, 9)]
    for at, pain in zip(times, (1, 2, 3, 4), strict=True):
        save_at(db, trainer_actor, client.id, at, pain_score=pain)
    history = store.client_history(db, actor=trainer_actor, client_id=client.id, recent=recent, audit=False, on=ON)
    listed = store.list_reports(db, actor=trainer_actor, client_id=client.id, limit=recent, audit=False)
    assert [r.id for r in history.reports] == [r.id for r in listed]
    assert len(history.reports) == min(recent, 4)
    # the same reports, as summaries: without the context and history the rules saw
    assert [r.model_dump() for r in history.reports] == [r.model_dump(exclude={"context", "history"}) for r in listed]
    assert all(type(r) is store.ReportSummary for r in history.reports)


@pytest.mark.parametrize("recent", [1, 2, 3, 20])
def test_the_latest_sessions_are_those_of_list_sessions_same_days_included(db, trainer_actor, client, recent):
    """client_history reads its sessions bounded by the recent-th latest date, not by ORDER BY ... LIMIT: the
    same rows in the same order, also when sessions share the day at the bound."""
    for day, minutes in ((date(2025, 3, 1), 10), (date(2025, 3, 2), 20), (date(2025, 3, 2), 30), (ON, 40)):
        store.log_session(
            db, actor=trainer_actor, client_id=client.id, session={"date": day, "minutes": minutes, "rpe": 4}
        )
    history = store.client_history(db, actor=trainer_actor, client_id=client.id, recent=recent, audit=False, on=ON)
    listed = store.list_sessions(db, actor=trainer_actor, client_id=client.id, limit=recent)
    assert len(history.sessions) == min(recent, 4)
    assert history.sessions == tuple(listed)


# The pain series as an SQL GROUP BY (what client_history ran before issue 13's round trips were cut): the
# Python grouping of the window's reports must give the same days.
_PAIN_SQL = """
SELECT CAST(created_at AS DATE) AS day, count(*) AS reports, max(pain_score) AS worst_pain,
       (array_agg(pain_score ORDER BY created_at DESC, id DESC) FILTER (WHERE pain_score IS NOT NULL))[1] AS last_pain,
       (array_agg(level ORDER BY CASE level WHEN 'emergency' THEN 4 WHEN 'urgent' THEN 3
                                            WHEN 'refer' THEN 2 WHEN 'monitor' THEN 1 ELSE 0 END DESC))[1]
           AS worst_level
FROM reports WHERE client_id = ? AND created_at >= ? AND created_at < ?
GROUP BY CAST(created_at AS DATE) ORDER BY day
"""


def test_the_pain_days_equal_the_sql_group_by(db, trainer_actor, client):
    from backcare.store.history import _pain_in

    reports = [
        (datetime(2025, 3, 1, 9), {"pain_score": 6}),
        (datetime(2025, 3, 1, 18), {"pain_score": 2}),
        (datetime(2025, 3, 1, 12), {"pain_score": None, "saddle_numbness": True}),  # an emergency stop
        (datetime(2025, 3, 4, 9), {"pain_score": 8, "leg_symptoms": "one_leg", "numbness": True}),
        (datetime(2025, 3, 4, 9), {"pain_score": 3}),  # the same time: the later id is the latest
        (datetime(2025, 3, 9, 9), {"pain_score": None, "bladder_or_bowel_change": True}),
        (datetime(2024, 1, 1, 9), {"pain_score": 9}),  # outside the window
    ]
    for at, answers in reports:
        save_at(db, trainer_actor, client.id, at, **answers)
    with db.read() as cur:
        expected = cur.execute(_PAIN_SQL, [client.id, ON - timedelta(days=29), ON + timedelta(days=1)]).fetchall()
        alone = _pain_in(cur, client.id, 30, ON)
    # and as client_history reads it, from the one read of the reports that also gives the latest ones (the
    # latest one alone, or more than the window holds)
    in_history = [
        list(
            store.client_history(db, actor=trainer_actor, client_id=client.id, recent=recent, pain_days=30, on=ON).pain
        )
        for recent in (1, 20)
    ]
    for got in (alone, *in_history):
        assert [(d.day, d.reports, d.worst_pain, d.last_pain, d.worst_level) for d in got] == [
            (day, int(n), worst, last, level) for day, n, worst, last, level in expected
        ]
        assert [d.last_pain for d in got] == [2, 3, None]


def test_the_latest_referrals_are_those_of_client_referrals_names_included(db, trainer_actor, client, monkeypatch):
    """client_history reads the referrals bounded by the opening time of the latest few (without the join to
    clients, the name and number from the client's row): the rows of client_referrals, in its order."""
    from backcare.store import history

    monkeypatch.setattr(history, "_HISTORY_REFERRALS", 2)  # three referrals, two of them shown
    for at, answers in (
        (datetime(2025, 3, 1, 9), {"pain_quality": "sharp"}),
        (datetime(2025, 3, 5, 9), {"chest_pain": True}),
        (datetime(2025, 3, 8, 9), {"pain_quality": "sharp"}),
    ):
        save_at(db, trainer_actor, client.id, at, **answers)
    listed = store.client_referrals(db, actor=trainer_actor, client_id=client.id, limit=2)
    history_referrals = store.client_history(db, actor=trainer_actor, client_id=client.id, audit=False, on=ON).referrals
    assert len(store.client_referrals(db, actor=trainer_actor, client_id=client.id)) == 3
    assert len(listed) == 2 and listed[0].client_name == client.name
    assert [r.model_dump(exclude={"age_hours", "overdue"}) for r in history_referrals] == [
        r.model_dump(exclude={"age_hours", "overdue"}) for r in listed
    ]


# --- the status, worked out from the panels' rows --------------------------------------------------------

CLINIC = Actor(username="cleo", role=Role.CLINIC, gym_id=None)
ANSWERS = {
    "normal": {},
    "monitor": {"pain_score": 5},
    "refer": {"pain_quality": "sharp"},
    "urgent": {"fever_or_unwell": True},
    "emergency": {"chest_pain": True},
}
CLOSINGS = (["seen", "cleared"], ["seen", "cleared_with_restrictions"], ["seen", "not_cleared"], ["contacted"])


def statuses(db, actor, client_id: int, at: datetime) -> tuple[str, str]:
    """(the status client_history works out, the status of the SQL rules) at `at`."""
    history = store.client_history(db, actor=actor, client_id=client_id, audit=False, on=at.date(), now=at)
    assert history.client.status == history.status
    return history.status, store.client_status(db, actor=actor, client_id=client_id, now=at)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_history_status_equals_the_sql_rules_after_every_change(db, trainer_actor, client, seed, monkeypatch):
    """client_history works the status out from the referrals, reports and plans it reads for its panels
    (status.status_of) instead of the status subquery: after every report, referral change and plan, at the
    edges of the 72-hour monitor window, it equals client_status. Only the two latest referrals are shown here,
    so an open referral older than those still has to count."""
    from backcare.store import history

    monkeypatch.setattr(history, "_HISTORY_REFERRALS", 2)
    rng = random.Random(seed)
    at, seen = datetime(2025, 3, 1, 9), set()
    for _ in range(14):
        at += timedelta(hours=rng.choice([1, 5, 30, 80]))
        kind = rng.choice(["report", "report", "close", "plan"])
        if kind == "report":
            level = rng.choice(list(ANSWERS))
            save_at(db, trainer_actor, client.id, at, **ANSWERS[level])
            seen.add(level)
        elif kind == "close":
            open_ = store.client_referrals(db, actor=trainer_actor, client_id=client.id, open_only=True, limit=50)
            if not open_:
                continue
            referral = rng.choice(open_)
            for step, status in enumerate(rng.choice(CLOSINGS), start=1):
                store.update_referral(
                    db,
                    actor=CLINIC,
                    referral_id=referral.id,
                    status=status,
                    note="checked",
                    restrictions="No heavy lifts" if status == "cleared_with_restrictions" else None,
                    now=at + timedelta(minutes=step),
                )
            seen.add(f"closed {status}")
        else:
            try:
                store.assign_plan(
                    db,
                    actor=trainer_actor,
                    client_id=client.id,
                    plan_id=rng.choice(["core", "warm_up"]),
                    start_date=at.date(),
                    review_date=at.date() + timedelta(days=14),
                    now=at,
                )
                seen.add("plan")
            except Conflict:  # paused by an open referral, or that plan is active already
                seen.add("plan refused")
        for later in (timedelta(hours=1), timedelta(hours=71), timedelta(hours=73)):
            got, expected = statuses(db, trainer_actor, client.id, at + later)
            assert got == expected, (seed, kind, at + later)
    assert len(seen) >= 6, seen  # the sequence went through several kinds of change


@pytest.mark.parametrize(
    "answers, hours_later",
    [
        ({}, 1),
        ({"pain_score": 5}, 71),
        ({"pain_score": 5}, 73),
        ({"fever_or_unwell": True}, 1),
        ({"chest_pain": True}, 1),
    ],
)
def test_the_history_status_of_one_report_equals_the_sql_rules(db, trainer_actor, client, answers, hours_later):
    at = datetime(2025, 3, 9, 9)
    save_at(db, trainer_actor, client.id, at, **answers)
    got, expected = statuses(db, trainer_actor, client.id, at + timedelta(hours=hours_later))
    assert got == expected


def test_an_open_referral_older_than_the_shown_ones_keeps_the_client_paused(db, trainer_actor, client, monkeypatch):
    from backcare.store import history

    monkeypatch.setattr(history, "_HISTORY_REFERRALS", 2)
    at = datetime(2025, 3, 1, 9)
    referral_ids = [
        save_at(db, trainer_actor, client.id, at + timedelta(days=day), pain_quality="sharp").referral_id
        for day in range(4)
    ]
    for day, referral_id in enumerate(referral_ids[1:], start=1):  # the three newer ones are cleared
        store.update_referral(
            db, actor=CLINIC, referral_id=referral_id, status="seen", now=at + timedelta(days=day, hours=2)
        )
        store.update_referral(
            db,
            actor=CLINIC,
            referral_id=referral_id,
            status="cleared",
            note="fine",
            now=at + timedelta(days=day, hours=3),
        )
    later = at + timedelta(days=5)
    shown = store.client_history(db, actor=trainer_actor, client_id=client.id, audit=False, on=later.date(), now=later)
    assert [r.id for r in shown.referrals] == referral_ids[:0:-1][:2]
    assert shown.status == ClientStatus.PAUSED_REFERRAL_OPEN
    assert store.client_status(db, actor=trainer_actor, client_id=client.id, now=later) == shown.status
