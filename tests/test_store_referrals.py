"""Referral transitions with their events and audit rows, the queue, the handoff; plan assignments."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import Conflict, InvalidInput, PermissionDenied
from backcare.store import referrals
from backcare.store.records import ClientStatus
from tests.conftest import NOW, report_payload

CLINIC = Actor(username="cleo", role=Role.CLINIC, gym_id=None)


def referral_for(db, actor, client, at=NOW, **answers):
    saved = store.save_report(
        db, actor=actor, client_id=client.id, report=report_payload(**(answers or {"pain_quality": "sharp"})), now=at
    )
    return saved.referral_id


def audit(db, action):
    return (
        db.cursor()
        .execute("SELECT actor, entity_id, outcome, detail FROM audit_log WHERE action = ? ORDER BY id", [action])
        .fetchall()
    )


# Every allowed path through the statuses.
@pytest.mark.parametrize(
    "path",
    [
        ["contacted", "seen", "cleared"],
        ["contacted", "seen", "cleared_with_restrictions"],
        ["contacted", "seen", "not_cleared"],
        ["seen", "cleared"],
        ["seen", "not_cleared", "cleared"],
        ["seen", "not_cleared", "cleared_with_restrictions"],
    ],
)
def test_each_allowed_transition_writes_its_event_and_audit_row(db, client, trainer_actor, path):
    referral_id = referral_for(db, trainer_actor, client)
    previous = "new"
    for step, status in enumerate(path, start=1):
        at = NOW + timedelta(hours=step)
        restrictions = "No heavy deadlifts for 4 weeks" if status == "cleared_with_restrictions" else None
        row = store.update_referral(
            db,
            actor=CLINIC,
            referral_id=referral_id,
            status=status,
            note=f"step {step}",
            restrictions=restrictions,
            now=at,
        )
        assert row.status == status
        assert row.first_contact_at == NOW + timedelta(hours=1)  # set on the first move out of 'new'
        assert row.closed_at == (at if status.startswith("cleared") else None)
        assert row.restrictions == restrictions
        assert audit(db, "referral.status")[-1] == (
            "cleo",
            str(referral_id),
            "ok",
            f'{{"from": "{previous}", "to": "{status}"}}',
        )
        previous = status
    events = store.referral_events(db, actor=CLINIC, referral_id=referral_id)
    assert [(e.status, e.author, e.note) for e in events] == [("new", "tara", events[0].note)] + [
        (s, "cleo", f"step {i}") for i, s in enumerate(path, start=1)
    ]


@pytest.mark.parametrize(
    "path, refused",
    [
        ([], "cleared"),  # no clearance without being seen
        ([], "not_cleared"),
        (["contacted"], "new"),  # no way back
        (["contacted"], "contacted"),
        (["seen", "cleared"], "not_cleared"),  # closed
        (["seen", "cleared"], "seen"),
    ],
)
def test_refused_transitions_change_nothing(db, client, trainer_actor, path, refused):
    referral_id = referral_for(db, trainer_actor, client)
    for status in path:
        store.update_referral(db, actor=CLINIC, referral_id=referral_id, status=status, note="checked")
    seen_at = store.utcnow()  # one clock for both reads: the row's age is computed from it
    before = store.get_referral(db, actor=CLINIC, referral_id=referral_id, now=seen_at)
    with pytest.raises(Conflict, match="cannot move to"):
        store.update_referral(db, actor=CLINIC, referral_id=referral_id, status=refused, note="checked")
    assert store.get_referral(db, actor=CLINIC, referral_id=referral_id, now=seen_at) == before
    assert len(store.referral_events(db, actor=CLINIC, referral_id=referral_id)) == 1 + len(path)
    assert len(audit(db, "referral.status")) == len(path)


def test_clearance_with_restrictions_needs_them(db, client, trainer_actor):
    referral_id = referral_for(db, trainer_actor, client)
    store.update_referral(db, actor=CLINIC, referral_id=referral_id, status="seen")
    with pytest.raises(InvalidInput) as error:
        store.update_referral(
            db, actor=CLINIC, referral_id=referral_id, status="cleared_with_restrictions", note="Assessed"
        )
    assert error.value.field == "restrictions"


def test_a_trainer_cannot_clear_a_referral_and_the_attempt_is_audited(db, client, trainer_actor):
    referral_id = referral_for(db, trainer_actor, client)
    with pytest.raises(PermissionDenied):
        store.update_referral(db, actor=trainer_actor, referral_id=referral_id, status="seen")
    assert [(a, e, o) for a, e, o, _ in audit(db, "referral.status")] == [("tara", str(referral_id), "denied")]


@pytest.mark.parametrize(
    "status, client_status",
    [
        ("not_cleared", ClientStatus.PAUSED_REFERRAL_OPEN),
        ("cleared", ClientStatus.CLEARED),
        ("cleared_with_restrictions", ClientStatus.CLEARED),
    ],
)
def test_only_clearance_lifts_the_pause(db, client, trainer_actor, status, client_status):
    referral_id = referral_for(db, trainer_actor, client)
    store.update_referral(db, actor=CLINIC, referral_id=referral_id, status="seen")
    store.update_referral(
        db,
        actor=CLINIC,
        referral_id=referral_id,
        status=status,
        note="Assessed",
        restrictions="Light work only" if status == "cleared_with_restrictions" else None,
    )
    assert store.client_status(db, actor=trainer_actor, client_id=client.id) == client_status


def test_queue_orders_by_level_then_age_and_flags_overdue(db, gym, client, trainer_actor):
    other = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Bo", consent_by="tara")
    third = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Cy", consent_by="tara")
    old_refer = referral_for(db, trainer_actor, client, at=NOW - timedelta(days=8))
    urgent = referral_for(db, trainer_actor, other, at=NOW - timedelta(hours=2), fever_or_unwell=True)
    emergency = referral_for(db, trainer_actor, third, at=NOW - timedelta(hours=2), chest_pain=True)
    closed = referral_for(db, trainer_actor, other, at=NOW - timedelta(days=20))
    store.update_referral(db, actor=CLINIC, referral_id=closed, status="seen", now=NOW - timedelta(days=19))
    store.update_referral(
        db, actor=CLINIC, referral_id=closed, status="cleared", note="Fit to train", now=NOW - timedelta(days=19)
    )
    queue = store.list_referral_queue(db, actor=CLINIC, now=NOW)
    assert [(r.id, r.overdue) for r in queue] == [(emergency, True), (urgent, False), (old_refer, True)]
    assert queue[0].client_name == "Cy" and queue[1].age_hours == pytest.approx(2)
    store.update_referral(db, actor=CLINIC, referral_id=emergency, status="contacted", now=NOW)
    assert store.list_referral_queue(db, actor=CLINIC, now=NOW)[0].overdue is False
    cleared = store.list_referral_queue(db, actor=CLINIC, statuses=["cleared"], now=NOW)
    assert [r.id for r in cleared] == [closed]


def test_queue_of_a_gym_trainer_shows_only_their_gym(db, client, trainer_actor):
    other_gym = store.create_gym(db, actor=SYSTEM, name="Elsewhere")
    stranger = store.create_client(db, actor=SYSTEM, gym_id=other_gym.id, name="Dee", consent_by="system")
    mine = referral_for(db, trainer_actor, client)
    referral_for(db, SYSTEM, stranger)
    assert [r.id for r in store.list_referral_queue(db, actor=trainer_actor, now=NOW)] == [mine]
    assert len(store.list_referral_queue(db, actor=CLINIC, now=NOW)) == 2


def test_handoff_summary_has_what_the_clinic_needs_and_is_audited(db, client, trainer_actor):
    store.log_session(
        db,
        actor=trainer_actor,
        client_id=client.id,
        session={
            "date": NOW.date() - timedelta(days=1),
            "minutes": 50,
            "rpe": 8,
            "exercises": ["deadlift"],
            "warmup_minutes": 3,
            "cooldown_done": False,
        },
    )
    store.save_report(
        db, actor=trainer_actor, client_id=client.id, report=report_payload(pain_score=2), now=NOW - timedelta(days=1)
    )
    referral_id = referral_for(
        db,
        trainer_actor,
        client,
        pain_score=6,
        pain_quality="stabbing",
        leg_symptoms="one_leg",
        hours_since_workout=30,
        trend="worse",
    )
    summary = store.handoff_summary(db, actor=CLINIC, referral_id=referral_id)
    assert (summary.client_name, summary.client_external_id, summary.gym_name) == (
        "Ada Lovelace",
        client.external_id,
        "Riverside Strength",
    )
    assert summary.level == "refer" and summary.opened_at == NOW
    assert summary.answers["leg_symptoms"] == "one_leg" and summary.answers["saddle_numbness"] is False
    assert {"R1", "R2", "R5"} <= {f.rule_id for f in summary.findings}
    assert all(f.source for f in summary.findings)
    assert (summary.hours_since_workout, summary.pain_score, summary.pain_trend, summary.previous_pain_score) == (
        30,
        6,
        "worse",
        2,
    )
    assert summary.session_before.load == 400 and summary.session_before.exercises == ("deadlift",)
    assert (summary.trainer_name, summary.trainer_contact) == ("Tara Trainer", "tara@example.test")
    assert [(a, e, o) for a, e, o, _ in audit(db, "handoff.view")] == [("cleo", str(referral_id), "ok")]


def test_a_trainer_may_not_read_the_handoff(db, client, trainer_actor):
    referral_id = referral_for(db, trainer_actor, client)
    with pytest.raises(PermissionDenied):
        store.handoff_summary(db, actor=trainer_actor, referral_id=referral_id)
    assert [o for _, _, o, _ in audit(db, "handoff.view")] == ["denied"]


# --- plan assignments ---------------------------------------------------------------------------------


def assign(db, actor, client, **extra):
    args = {"plan_id": "core", "start_date": date(2025, 3, 1), "review_date": date(2025, 3, 15), **extra}
    return store.assign_plan(db, actor=actor, client_id=client.id, **args)


def test_assign_plan_stores_dates_and_customisation(db, client, trainer_actor):
    plan = assign(db, trainer_actor, client, customisation={"note": "Two sets only"})
    assert (plan.status, plan.customisation, plan.created_by) == ("active", {"note": "Two sets only"}, "tara")
    assert audit(db, "assignment.create")[0][:3] == ("tara", str(plan.id), "ok")


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"review_date": date(2025, 2, 28)}, "review_date"),
        ({"plan_id": "yoga"}, "plan_id"),
    ],
)
def test_assign_plan_rejects_bad_input(db, client, trainer_actor, extra, field):
    with pytest.raises(InvalidInput) as error:
        assign(db, trainer_actor, client, **extra)
    assert error.value.field == field


def test_assign_plan_is_refused_while_a_referral_pauses_the_client(db, client, trainer_actor):
    referral_for(db, trainer_actor, client)
    with pytest.raises(Conflict, match="paused"):
        assign(db, trainer_actor, client)
    assert store.list_assignments(db, actor=trainer_actor, client_id=client.id) == []


@pytest.mark.parametrize("first, second", [("completed", "stopped"), ("stopped", "active"), ("completed", "completed")])
def test_assignment_ends_once(db, client, trainer_actor, first, second):
    plan = assign(db, trainer_actor, client)
    ended = store.set_assignment_status(
        db, actor=trainer_actor, assignment_id=plan.id, status=first, note="done", now=NOW
    )
    assert (ended.status, ended.ended_at, ended.end_note) == (first, NOW, "done")
    with pytest.raises(Conflict):
        store.set_assignment_status(db, actor=trainer_actor, assignment_id=plan.id, status=second)
    assert [o for _, _, o, _ in audit(db, "assignment.status")] == ["ok"]


def test_list_assignments_active_only(db, client, trainer_actor):
    done = assign(db, trainer_actor, client)
    active = assign(db, trainer_actor, client, plan_id="posture")
    store.set_assignment_status(db, actor=trainer_actor, assignment_id=done.id, status="completed")
    assert [a.id for a in store.list_assignments(db, actor=trainer_actor, client_id=client.id, active_only=True)] == [
        active.id
    ]
    assert len(store.list_assignments(db, actor=trainer_actor, client_id=client.id)) == 2


def test_the_most_serious_open_referral_names_the_status_and_each_pauses_plans(db, client, trainer_actor):
    def status():
        one = store.client_status(db, actor=trainer_actor, client_id=client.id, now=NOW)
        (listed,) = store.search_clients(db, actor=trainer_actor, query=client.name, now=NOW)
        assert listed.status == one  # the list's CTE and the one-client rule agree
        return one

    refer = referral_for(db, trainer_actor, client, at=NOW - timedelta(hours=3))
    assert status() == ClientStatus.PAUSED_REFERRAL_OPEN
    urgent = referral_for(db, trainer_actor, client, at=NOW - timedelta(hours=2), fever_or_unwell=True)
    assert status() == ClientStatus.URGENT_REFERRAL_OPEN
    emergency = referral_for(db, trainer_actor, client, at=NOW - timedelta(hours=1), chest_pain=True)
    assert status() == ClientStatus.EMERGENCY_REFERRAL_OPEN
    expected_after = {
        emergency: ClientStatus.URGENT_REFERRAL_OPEN,
        urgent: ClientStatus.PAUSED_REFERRAL_OPEN,
        refer: ClientStatus.CLEARED,
    }
    for referral_id, after in expected_after.items():
        with pytest.raises(Conflict, match="paused"):  # no loading plan while any referral is open
            store.assign_plan(
                db,
                actor=trainer_actor,
                client_id=client.id,
                plan_id="core",
                now=NOW,
                start_date=NOW.date(),
                review_date=NOW.date() + timedelta(days=14),
            )
        store.update_referral(db, actor=CLINIC, referral_id=referral_id, status="seen", now=NOW)
        store.update_referral(db, actor=CLINIC, referral_id=referral_id, status="cleared", note="Fit", now=NOW)
        assert status() == after


def test_queue_is_the_clinics_work_order_first_contact_then_waiting(db, gym, trainer_actor):
    """A new emergency comes before emergencies seen long ago that only wait for a clearance; within each
    group the most serious, then the longest waiting, first."""

    def client(name):
        return store.create_client(db, actor=trainer_actor, gym_id=gym.id, name=name, consent_by="tara")

    seen_emergency = referral_for(db, trainer_actor, client("Old Seen"), at=NOW - timedelta(days=60), chest_pain=True)
    store.update_referral(db, actor=CLINIC, referral_id=seen_emergency, status="seen", now=NOW - timedelta(days=59))
    contacted_urgent = referral_for(
        db, trainer_actor, client("Old Contacted"), at=NOW - timedelta(days=9), fever_or_unwell=True
    )
    store.update_referral(
        db, actor=CLINIC, referral_id=contacted_urgent, status="contacted", now=NOW - timedelta(days=9)
    )
    new_refer = referral_for(db, trainer_actor, client("Refer Today"), at=NOW - timedelta(hours=3))
    new_emergency = referral_for(
        db, trainer_actor, client("Emergency Today"), at=NOW - timedelta(minutes=10), chest_pain=True
    )
    old_new_emergency = referral_for(
        db, trainer_actor, client("Emergency Earlier"), at=NOW - timedelta(hours=3), chest_pain=True
    )
    queue = store.list_referral_queue(db, actor=CLINIC, now=NOW)
    assert [r.id for r in queue] == [old_new_emergency, new_emergency, new_refer, seen_emergency, contacted_urgent]
    assert [r.overdue for r in queue] == [True, False, False, False, False]  # overdue stays flagged, at the top
    assert [referrals.awaits_first_contact(r) for r in queue] == [True, True, True, False, False]


@pytest.mark.parametrize("status", ["cleared", "cleared_with_restrictions"])
@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_clearance_needs_a_note(db, client, trainer_actor, status, note):
    referral_id = referral_for(db, trainer_actor, client)
    store.update_referral(db, actor=CLINIC, referral_id=referral_id, status="seen")
    with pytest.raises(InvalidInput) as error:
        store.update_referral(
            db,
            actor=CLINIC,
            referral_id=referral_id,
            status=status,
            note=note,
            restrictions="Light work only" if status == "cleared_with_restrictions" else None,
        )
    assert error.value.field == "note"
    assert store.get_referral(db, actor=CLINIC, referral_id=referral_id).status == "seen"


@pytest.mark.parametrize(
    "status, needs",
    [
        ("contacted", False),
        ("seen", False),
        ("not_cleared", False),
        ("cleared", True),
        ("cleared_with_restrictions", True),
    ],
)
def test_only_a_clearance_asks_for_confirmation(status, needs):
    assert referrals.needs_confirmation(status) is needs


def test_a_change_typed_for_a_status_that_has_moved_on_is_refused(db, client, trainer_actor):
    """A second tap, or another clinician's change in between: the change typed against 'new' is not recorded
    on a referral that is 'contacted' now."""
    referral_id = referral_for(db, trainer_actor, client)
    store.update_referral(db, actor=CLINIC, referral_id=referral_id, status="contacted", expected_status="new")
    with pytest.raises(Conflict, match="changed meanwhile"):
        store.update_referral(
            db, actor=CLINIC, referral_id=referral_id, status="seen", note="typed earlier", expected_status="new"
        )
    assert [e.status for e in store.referral_events(db, actor=CLINIC, referral_id=referral_id)] == ["new", "contacted"]
