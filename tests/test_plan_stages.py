"""Plan stages in the store (issue 15): the stage is stored on the assignment (migration 0009_plan_stages),
set_stage writes one audit row and checks role, gym, state and the stage offered (stage 1 only at monitor)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import Conflict, InvalidInput, PermissionDenied
from backcare.models import Level
from backcare.store.migrations import MIGRATIONS
from tests.conftest import NOW, report_payload

START, REVIEW = date(2025, 3, 10), date(2025, 3, 24)


def _count(db, sql, params=()):
    return db.cursor().execute(sql, list(params)).fetchone()[0]


def _report(db, actor, client, at=NOW, **answers):
    return store.save_report(db, actor=actor, client_id=client.id, report=report_payload(**answers), now=at)


def _assign(db, actor, client, plan="core", **kwargs):
    return store.assign_plan(
        db, actor=actor, client_id=client.id, plan_id=plan, start_date=START, review_date=REVIEW, now=NOW, **kwargs
    )


def test_the_migration_is_named_and_follows_the_drafts():
    names = [name for name, _ in MIGRATIONS]
    assert names[names.index("0008_triage_drafts") + 1] == "0009_plan_stages"
    assert "ALTER TABLE assignments ADD COLUMN stage INTEGER NOT NULL DEFAULT 1" in dict(MIGRATIONS)["0009_plan_stages"]


def test_an_assignment_starts_at_stage_1_unless_a_stage_is_given(db, trainer_actor, client):
    _report(db, trainer_actor, client)  # normal: every stage offered
    assert _assign(db, trainer_actor, client).stage == 1
    at_two = _assign(db, trainer_actor, client, plan="posture", stage=2)
    assert at_two.stage == 2
    assert [a.stage for a in store.list_assignments(db, actor=trainer_actor, client_id=client.id)] == [2, 1]


def test_a_report_that_assigns_plans_stores_them_at_stage_1(db, trainer_actor, client):
    saved = store.save_report(
        db,
        actor=trainer_actor,
        client_id=client.id,
        report=report_payload(context={"core_sessions_per_week": 0}),
        assign_plans=["core"],
        now=NOW,
    )
    assert saved.assignment_ids
    assert [a.stage for a in store.list_assignments(db, actor=trainer_actor, client_id=client.id)] == [1]


def test_set_stage_moves_the_plan_and_writes_one_audit_row_with_from_and_to(db, trainer_actor, client):
    _report(db, trainer_actor, client)
    assignment = _assign(db, trainer_actor, client)
    moved = store.set_stage(db, trainer_actor, assignment.id, 2, now=datetime(2025, 3, 17, 9, 0))
    assert moved.stage == 2 and moved.id == assignment.id
    (detail,) = (
        db.cursor()
        .execute(
            "SELECT detail FROM audit_log WHERE action = 'assignment.stage' AND outcome = 'ok' AND entity_id = ?",
            [str(assignment.id)],
        )
        .fetchone()
    )
    assert json.loads(detail) == {"to": 2, "from": 1}


def test_setting_the_stage_it_has_changes_nothing_and_writes_no_row(db, trainer_actor, client):
    _report(db, trainer_actor, client)
    assignment = _assign(db, trainer_actor, client)
    assert store.set_stage(db, trainer_actor, assignment.id, 1).stage == 1
    assert _count(db, "SELECT count(*) FROM audit_log WHERE action = 'assignment.stage'") == 0


@pytest.mark.parametrize("stage", [0, 4, "2", True, None])
def test_a_stage_outside_1_to_3_is_named(db, trainer_actor, client, stage):
    assignment = _assign(db, trainer_actor, client)
    with pytest.raises(InvalidInput) as caught:
        store.set_stage(db, trainer_actor, assignment.id, stage)
    assert caught.value.field == "stage"
    assert store.list_assignments(db, actor=trainer_actor, client_id=client.id)[0].stage == 1


def test_at_monitor_only_stage_1_is_offered_and_a_higher_stage_is_refused(db, trainer_actor, client):
    saved = _report(db, trainer_actor, client, pain_score=5, hours_since_workout=30)
    assert saved.result.level is Level.MONITOR
    assert store.offered_stages_for(db, actor=trainer_actor, client_id=client.id) == (1,)
    assignment = _assign(db, trainer_actor, client)
    with pytest.raises(Conflict, match="only stage 1"):
        store.set_stage(db, trainer_actor, assignment.id, 2)
    with pytest.raises(Conflict, match="only stage 1"):
        _assign(db, trainer_actor, client, plan="posture", stage=3)
    assert store.list_assignments(db, actor=trainer_actor, client_id=client.id)[0].stage == 1
    assert _count(db, "SELECT count(*) FROM audit_log WHERE action = 'assignment.stage' AND outcome = 'ok'") == 0


def test_a_settled_report_after_monitor_offers_every_stage_again(db, trainer_actor, client):
    _report(db, trainer_actor, client, pain_score=5, hours_since_workout=30)
    assignment = _assign(db, trainer_actor, client)
    _report(db, trainer_actor, client, at=datetime(2025, 3, 14, 9, 0))  # normal
    assert store.offered_stages_for(db, actor=trainer_actor, client_id=client.id) == (1, 2, 3)
    assert store.set_stage(db, trainer_actor, assignment.id, 3).stage == 3


def test_an_ended_plan_keeps_its_stage(db, trainer_actor, client):
    assignment = _assign(db, trainer_actor, client)
    store.set_assignment_status(db, actor=trainer_actor, assignment_id=assignment.id, status="completed")
    with pytest.raises(Conflict, match="only an active plan can change stage"):
        store.set_stage(db, trainer_actor, assignment.id, 2)


def test_another_gyms_trainer_is_refused_with_a_denied_row_and_nothing_changes(db, trainer_actor, client):
    other_gym = store.create_gym(db, actor=SYSTEM, name="Other")
    stranger = Actor(username="olly", role=Role.TRAINER, gym_id=other_gym.id)
    assignment = _assign(db, trainer_actor, client)
    with pytest.raises(PermissionDenied):
        store.set_stage(db, stranger, assignment.id, 2)
    assert _count(db, "SELECT count(*) FROM audit_log WHERE action = 'assignment.stage' AND outcome = 'denied'") == 1
    assert store.list_assignments(db, actor=trainer_actor, client_id=client.id)[0].stage == 1


def test_a_manager_may_not_set_a_stage(db, trainer_actor, client, gym):
    assignment = _assign(db, trainer_actor, client)
    with pytest.raises(PermissionDenied):
        store.set_stage(db, Actor(username="mia", role=Role.MANAGER, gym_id=gym.id), assignment.id, 2)


def test_the_trainer_card_gives_the_display_name_and_contact(db, trainer_actor):
    assert store.trainer_card(db, trainer_actor) == ("Tara Trainer", "tara@example.test")
    assert store.trainer_card(db, Actor(username="script", role=Role.TRAINER)) == ("script", None)
