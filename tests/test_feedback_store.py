"""Plan feedback in the store: recorded with its session in one transaction with its audit row, refused for another
gym's trainer (audited), bad input naming the field with nothing stored, erased with the client, exported."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import InvalidInput, PermissionDenied, Unavailable
from backcare.store.export import export_database
from tests.conftest import NOW, report_payload

DAY = date(2025, 3, 9)
SESSION = {"date": DAY, "minutes": 45, "rpe": 5}


@pytest.fixture
def plan(db, trainer_actor, client):
    saved = store.save_report(
        db,
        actor=trainer_actor,
        client_id=client.id,
        now=NOW - timedelta(days=3),
        report=report_payload(pain_score=2, context={"warmup_minutes": 2}),
        assign_plans=["warm_up"],
    )
    return saved.assignment_ids[0]


def entry(assignment_id: int, **overrides):
    values = {
        "assignment_id": assignment_id,
        "entry_date": DAY,
        "done": "all",
        "pain_during": 2,
        "pain_morning_after": 1,
    }
    return values | overrides


def count(db, table: str, where: str = "true") -> int:
    with db.read() as cur:
        return cur.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


def audit_rows(db, action: str) -> list[tuple]:
    with db.read() as cur:
        return cur.execute(
            "SELECT actor, outcome, entity, detail FROM audit_log WHERE action = ? ORDER BY id", [action]
        ).fetchall()


def test_feedback_is_stored_with_its_session_and_one_audit_row(db, trainer_actor, client, plan):
    saved = store.record_feedback(
        db, actor=trainer_actor, client_id=client.id, entries=[entry(plan)], session=SESSION, now=NOW
    )

    assert saved.session is not None and saved.session.date == DAY
    (row,) = store.list_feedback(db, actor=trainer_actor, client_id=client.id)
    assert (row.assignment_id, row.session_id, row.done, row.pain_during, row.pain_morning_after) == (
        plan,
        saved.session.id,
        "all",
        2,
        1,
    )
    assert (row.recorded_by, row.recorded_at, row.entry_date) == ("tara", NOW, DAY)
    ((actor, outcome, entity, detail),) = audit_rows(db, "feedback.record")
    assert (actor, outcome, entity) == ("tara", "ok", "plan_feedback")
    assert f'"session_id": {saved.session.id}' in detail and "pain" not in detail  # no health data in the audit


def test_a_dated_entry_without_a_session_keeps_its_own_day(db, trainer_actor, client, plan):
    store.record_feedback(db, actor=trainer_actor, client_id=client.id, entries=[entry(plan, entry_date=DAY)])
    (row,) = store.list_feedback(db, actor=trainer_actor, client_id=client.id, assignment_id=plan)
    assert (row.session_id, row.entry_date) == (None, DAY)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"pain_during": 11}, "pain_during"),
        ({"pain_morning_after": -1}, "pain_morning_after"),
        ({"done": "most"}, "done"),
        ({"pain_during": None}, "pain_during"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing_not_even_the_session(db, trainer_actor, client, plan, bad, field):
    with pytest.raises(InvalidInput) as raised:
        store.record_feedback(
            db, actor=trainer_actor, client_id=client.id, entries=[entry(plan, **bad)], session=SESSION
        )
    assert raised.value.field == field
    assert count(db, "plan_feedback") == 0 and count(db, "sessions") == 0
    assert audit_rows(db, "feedback.record") == []


def test_a_plan_that_is_not_active_for_this_client_is_refused_and_nothing_is_stored(db, trainer_actor, client, plan):
    store.set_assignment_status(db, actor=trainer_actor, assignment_id=plan, status="completed")
    with pytest.raises(InvalidInput) as raised:
        store.record_feedback(db, actor=trainer_actor, client_id=client.id, entries=[entry(plan)], session=SESSION)
    assert raised.value.field == "assignment_id"
    assert count(db, "plan_feedback") == 0 and count(db, "sessions") == 0


def test_another_gyms_trainer_is_refused_and_the_refusal_is_audited(db, client, plan):
    other_gym = store.create_gym(db, actor=SYSTEM, name="Hillside")
    ben = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="ben", display_name="Ben", role=Role.TRAINER, gym_id=other_gym.id)
    )
    with pytest.raises((PermissionDenied, Unavailable)):
        store.record_feedback(db, actor=ben, client_id=client.id, entries=[entry(plan)], session=SESSION)
    assert count(db, "plan_feedback") == 0
    assert [(a, o) for a, o, _, _ in audit_rows(db, "feedback.record")] == [("ben", "denied")]


def test_a_manager_may_not_record_feedback(db, client, plan):
    with pytest.raises((PermissionDenied, Unavailable)):
        store.record_feedback(
            db, actor=Actor(username="mia", role=Role.MANAGER), client_id=client.id, entries=[entry(plan)]
        )
    assert count(db, "plan_feedback") == 0


def test_the_plan_view_has_the_entries_and_the_pain_before_the_plan(db, trainer_actor, client, plan):
    for day, pain in ((DAY - timedelta(days=2), 3), (DAY, 1)):
        store.record_feedback(
            db, actor=trainer_actor, client_id=client.id, entries=[entry(plan, entry_date=day, pain_during=pain)]
        )
    (view,) = store.client_plan_feedback(db, actor=trainer_actor, client_id=client.id)
    assert view.assignment.id == plan and view.pre_plan_pain == 2
    assert [e.pain_during for e in view.entries] == [3, 1]  # oldest first


def test_feedback_is_erased_with_the_client_and_the_other_clients_stays(db, gym, trainer_actor, client, plan):
    other = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Grace Hopper", consent_by="tara")
    other_plan = store.assign_plan(
        db, actor=trainer_actor, client_id=other.id, plan_id="core", start_date=DAY, review_date=DAY + timedelta(28)
    )
    for who, assignment in ((client.id, plan), (other.id, other_plan.id)):
        store.record_feedback(db, actor=trainer_actor, client_id=who, entries=[entry(assignment)], session=SESSION)

    receipt = store.erase_client(db, actor=Actor(username="ivan", role=Role.ADMIN), client_id=client.id)

    assert receipt.rows_deleted["plan_feedback"] == 1
    assert count(db, "plan_feedback", f"client_id = {client.id}") == 0
    assert count(db, "plan_feedback", f"client_id = {other.id}") == 1
    # the audit rows of the erased client's feedback keep that it happened, not whose it was
    details = [d for _, _, _, d in audit_rows(db, "feedback.record")]
    assert sum(d is None for d in details) == 1 and any(f'"client_id": {other.id}' in (d or "") for d in details)


def test_feedback_is_in_the_export(db, trainer_actor, client, plan, tmp_path):
    store.record_feedback(db, actor=trainer_actor, client_id=client.id, entries=[entry(plan)], session=SESSION)

    exported = {t.table: t for t in export_database(db, actor=SYSTEM, directory=tmp_path / "out")}

    table = exported["plan_feedback"]
    assert table.rows == 1
    row = duckdb.connect().execute(f"SELECT done, pain_during FROM read_parquet('{table.parquet}')").fetchall()
    assert row == [("all", 2)]


def test_a_stage_cannot_be_applied_outside_1_to_3(db, trainer_actor, plan):
    with pytest.raises(InvalidInput) as raised:
        store.apply_stage(db, actor=trainer_actor, assignment_id=plan, stage=4)
    assert raised.value.field == "stage"


def test_the_demo_records_a_little_feedback_the_same_way_each_time(tmp_path):
    from datetime import datetime

    from backcare.store.demo import FEEDBACK_PER_PLAN, build_demo

    def feedback_of(name: str) -> list[tuple]:
        database = store.open_database(tmp_path / name)
        try:
            summary = build_demo(database, seed=3, now=datetime(2025, 3, 10, 12), clients=20, weeks=8)
            with database.read() as cur:
                rows = cur.execute(
                    "SELECT assignment_id, session_id, entry_date, done, pain_during, pain_morning_after "
                    "FROM plan_feedback ORDER BY id"
                ).fetchall()
                (most,) = cur.execute(
                    "SELECT max(n) FROM (SELECT count(*) AS n FROM plan_feedback GROUP BY assignment_id)"
                ).fetchone()
            assert summary.counts["plan_feedback"] == len(rows) > 0 and most <= FEEDBACK_PER_PLAN
            return rows
        finally:
            database.close()

    assert feedback_of("one.duckdb") == feedback_of("two.duckdb")
