"""One imported date broke a client's pages (issue 12, M2): the importer took `0000-01-01`, and the client's
Triage and Client history pages crashed from then on. Dates before 1900 or in the future are refused by the
importer and the models; a client whose history already holds such a date still has working pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM
from backcare.errors import InvalidInput
from backcare.store.importer import import_sessions_csv
from tests.app_helpers import make_world, no_exception, texts
from tests.conftest import NOW, report_payload

HEADER = "client_id,date,minutes,rpe,exercises,warmup_minutes,cooldown_done\n"


def count(db, table: str) -> int:
    return db.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize(
    "day, reason",
    [
        ("0000-01-01", "date 0000-01-01 is before 1900"),
        ("1899-12-31", "date 1899-12-31 is before 1900"),
        ("0001-01-01", "date 0001-01-01 is before 1900"),
    ],
)
def test_the_importer_refuses_a_date_before_1900_naming_the_line(db, client, tmp_path, day, reason):
    path = tmp_path / "s.csv"
    path.write_text(
        HEADER + f"{client.external_id},2025-01-05,30,5,squat,5,true\n{client.external_id},{day},30,5,squat,5,true\n"
    )
    result = import_sessions_csv(db, actor=SYSTEM, path=path)
    assert [(b.line, b.reason) for b in result.bad_rows] == [(3, reason)]
    assert count(db, "sessions") == 0


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31), date.today() + timedelta(days=30)])
def test_a_session_dated_before_1900_or_in_the_future_is_refused(db, client, trainer_actor, day):
    with pytest.raises(InvalidInput) as raised:
        store.log_session(db, actor=trainer_actor, client_id=client.id, session={"date": day, "minutes": 30, "rpe": 5})
    assert raised.value.field == "date"
    assert count(db, "sessions") == 0


@pytest.mark.parametrize(
    "field, day",
    [
        ("start_date", date(1, 1, 1)),
        ("review_date", date(9999, 1, 1)),
        ("start_date", date.today() + timedelta(days=3 * 365)),
    ],
)
def test_a_plan_date_before_1900_or_years_ahead_is_refused(db, client, trainer_actor, field, day):
    dates = {"start_date": date.today(), "review_date": date.today() + timedelta(days=14), field: day}
    if field == "start_date":
        dates["review_date"] = max(day, dates["review_date"])
    with pytest.raises(InvalidInput) as raised:
        store.assign_plan(db, actor=trainer_actor, client_id=client.id, plan_id="core", **dates)
    assert raised.value.field == field
    assert count(db, "assignments") == 0


def _year_zero_session(db, client_id: int) -> None:
    """What the old importer stored (before this fix), written directly."""
    with db.write(SYSTEM, "test.old_import") as cur:
        cur.execute(
            "INSERT INTO sessions (client_id, date, minutes, rpe, exercises, source, created_by) "
            "VALUES (?, DATE '0000-01-01', 30, 5, 'squat', 'import', 'system'), "
            "(?, ?, 45, 6, 'deadlift', 'import', 'system')",
            [client_id, client_id, date.today()],
        )


def test_a_stored_year_zero_date_does_not_break_the_store_reads(db, client, trainer_actor):
    _year_zero_session(db, client.id)
    saved = store.save_report(db, actor=SYSTEM, client_id=client.id, report=report_payload(pain_score=8), now=NOW)
    assert [s.minutes for s in store.list_sessions(db, actor=trainer_actor, client_id=client.id)] == [45]
    store.client_history(db, actor=trainer_actor, client_id=client.id)
    store.triage_history(db, actor=trainer_actor, client_id=client.id)
    store.handoff_summary(db, actor=SYSTEM, referral_id=saved.referral_id)


@pytest.mark.parametrize("script", ["pages/triage.py", "pages/history.py"])
def test_a_stored_year_zero_date_does_not_break_the_clients_pages(tmp_path, script):
    world = make_world(tmp_path)
    _year_zero_session(world.db, world.client.id)
    at = world.page(script).run()
    no_exception(at)
    assert world.client.name in texts(at)


@pytest.mark.parametrize(
    "call, field",
    [
        (
            lambda db, c, a: store.daily_load(db, actor=a, client_id=c.id, start=date(1, 1, 1), end=date(1, 1, 2)),
            "start",
        ),
        (lambda db, c, a: store.pain_by_day(db, actor=a, client_id=c.id, on=date(1, 6, 1)), "on"),
        (lambda db, c, a: store.weekly_load_band(db, actor=a, client_id=c.id, on=date(1899, 1, 1)), "on"),
        (lambda db, c, a: store.list_reports(db, actor=a, client_id=c.id, now=datetime(1, 1, 1)), "now"),
    ],
)
def test_every_store_function_refuses_a_day_before_1900(db, client, trainer_actor, call, field):
    with pytest.raises(InvalidInput) as raised:
        call(db, client, trainer_actor)
    assert raised.value.field == field
