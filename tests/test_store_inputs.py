"""Bad input to the store's write functions: a clear message naming the field, and nothing stored."""

from __future__ import annotations

from datetime import date

import pytest

from backcare import store
from backcare.auth import SYSTEM, Role
from backcare.errors import InvalidInput
from tests.conftest import report_payload

START, REVIEW = date(2026, 11, 1), date(2026, 11, 15)


def count(db, table: str) -> int:
    return db.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"start_date": None}, "start_date"),
        ({"start_date": "2025-13-01"}, "start_date"),
        ({"review_date": "soon"}, "review_date"),
        ({"review_date": date(2026, 10, 1)}, "review_date"),
        ({"plan_id": "yoga"}, "plan_id"),
        ({"customisation": ["not", "a", "mapping"]}, "customisation"),
        ({"report_id": 999_999}, "report_id"),
    ],
)
def test_assign_plan_names_the_bad_field_and_stores_nothing(db, client, trainer_actor, changes, field):
    values = {"plan_id": "core", "start_date": START, "review_date": REVIEW, **changes}
    with pytest.raises(InvalidInput) as raised:
        store.assign_plan(db, actor=trainer_actor, client_id=client.id, **values)
    assert raised.value.field == field
    assert count(db, "assignments") == 0


def test_a_plan_cannot_point_at_another_clients_report(db, gym, client, trainer_actor):
    other = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Other Person", consent_by="tara")
    their_report = store.save_report(db, actor=trainer_actor, client_id=other.id, report=report_payload())
    with pytest.raises(InvalidInput) as raised:
        store.assign_plan(
            db,
            actor=trainer_actor,
            client_id=client.id,
            plan_id="core",
            start_date=START,
            review_date=REVIEW,
            report_id=their_report.report_id,
        )
    assert raised.value.field == "report_id"
    mine = store.save_report(db, actor=trainer_actor, client_id=client.id, report=report_payload())
    row = store.assign_plan(
        db,
        actor=trainer_actor,
        client_id=client.id,
        plan_id="core",
        start_date=START,
        review_date=REVIEW,
        report_id=mine.report_id,
    )
    assert row.report_id == mine.report_id


@pytest.mark.parametrize("review_days", ["x", 0, 400, 2.5, True])
def test_save_report_refuses_a_bad_review_period_naming_it(db, client, trainer_actor, review_days):
    with pytest.raises(InvalidInput) as raised:
        store.save_report(
            db,
            actor=trainer_actor,
            client_id=client.id,
            report=report_payload(),
            assign_plans=["core"],
            review_days=review_days,
        )
    assert raised.value.field == "review_days"
    assert count(db, "reports") == 0


def test_a_client_trainer_must_be_a_trainer_of_the_clients_gym(db, gym, trainer_actor):
    other_gym = store.create_gym(db, actor=SYSTEM, name="Elsewhere")
    elsewhere = store.create_user(
        db, actor=SYSTEM, username="eli", display_name="Eli", role=Role.TRAINER, gym_id=other_gym.id
    )
    manager = store.create_user(db, actor=SYSTEM, username="mo", display_name="Mo", role=Role.MANAGER)
    for trainer_id in (elsewhere.id, manager.id):
        with pytest.raises(InvalidInput) as raised:
            store.create_client(db, actor=SYSTEM, gym_id=gym.id, name="New Person", trainer_id=trainer_id)
        assert raised.value.field == "trainer_id"
    assert count(db, "clients") == 0


def test_a_session_cannot_be_logged_in_the_future(db, client, trainer_actor):
    from datetime import timedelta

    with pytest.raises(InvalidInput) as raised:
        store.log_session(
            db,
            actor=trainer_actor,
            client_id=client.id,
            session={"date": date.today() + timedelta(days=30), "minutes": 30, "rpe": 5},
        )
    assert raised.value.field == "date"
    assert count(db, "sessions") == 0


def test_import_names_a_future_date_as_a_bad_row(db, client, tmp_path):
    from datetime import timedelta

    from backcare.store.importer import import_sessions_csv

    path = tmp_path / "s.csv"
    future = (date.today() + timedelta(days=30)).isoformat()
    path.write_text(
        "client_id,date,minutes,rpe,exercises,warmup_minutes,cooldown_done\n"
        f"{client.external_id},2026-01-05,30,5,squat,5,true\n"
        f"{client.external_id},{future},30,5,squat,5,true\n"
    )
    result = import_sessions_csv(db, actor=SYSTEM, path=path)
    assert [(b.line, b.reason) for b in result.bad_rows] == [(3, f"date {future} is in the future")]
    assert count(db, "sessions") == 0
