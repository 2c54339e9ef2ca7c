"""Probing record ids: a refusal names no gym, and a record the caller may not open reads exactly like
one that does not exist (same type, same sentence), so client, report and referral ids cannot be mapped
to gyms. A download's audit row needs the right to what was downloaded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import BackCareError, NotFound, PermissionDenied
from tests.conftest import NOW, report_payload

MISSING = 987_654


@pytest.fixture
def world(db):
    gym_a = store.create_gym(db, actor=SYSTEM, name="Alpha Lifting").id
    gym_b = store.create_gym(db, actor=SYSTEM, name="Bravo Barbell").id
    client = store.create_client(db, actor=SYSTEM, gym_id=gym_a, name="Hidden Person", consent_by="system")
    assignment = store.assign_plan(
        db,
        actor=SYSTEM,
        client_id=client.id,
        plan_id="core",
        start_date=NOW.date(),
        review_date=NOW.date() + timedelta(days=14),
    )
    saved = store.save_report(db, actor=SYSTEM, client_id=client.id, report=report_payload(pain_score=8))
    return {
        "db": db,
        "gym_a": gym_a,
        "gym_b": gym_b,
        "client": client.id,
        "report": saved.report_id,
        "referral": saved.referral_id,
        "assignment": assignment.id,
    }


PROBES = {
    "get_client": lambda db, a, i: store.get_client(db, actor=a, client_id=i),
    "list_sessions": lambda db, a, i: store.list_sessions(db, actor=a, client_id=i),
    "log_session": lambda db, a, i: store.log_session(
        db, actor=a, client_id=i, session={"date": NOW.date(), "minutes": 30, "rpe": 5}
    ),
    "save_report": lambda db, a, i: store.save_report(db, actor=a, client_id=i, report=report_payload()),
    "client_history": lambda db, a, i: store.client_history(db, actor=a, client_id=i, on=NOW.date()),
    "client_status": lambda db, a, i: store.client_status(db, actor=a, client_id=i),
}
RECORD_PROBES = {
    "get_report": ("report", lambda db, a, i: store.get_report(db, actor=a, report_id=i)),
    "get_referral": ("referral", lambda db, a, i: store.get_referral(db, actor=a, referral_id=i)),
    "handoff_summary": ("referral", lambda db, a, i: store.handoff_summary(db, actor=a, referral_id=i)),
    "set_assignment_status": (
        "assignment",
        lambda db, a, i: store.set_assignment_status(db, actor=a, assignment_id=i, status="completed"),
    ),
}
OUTSIDERS = {
    "trainer_b": lambda w: Actor("trainer.b", Role.TRAINER, gym_id=w["gym_b"], user_id=901),
    "clinic_b": lambda w: Actor("clinic.b", Role.CLINIC, gym_id=w["gym_b"]),
    "manager": lambda w: Actor("manager", Role.MANAGER),
}


def outcome(call) -> tuple[type, str]:
    with pytest.raises(BackCareError) as refused:
        call()
    return type(refused.value), str(refused.value)


def gym_words(world) -> list[str]:
    return [f"gym {world['gym_a']}", "Alpha", "Hidden Person"]


@pytest.mark.parametrize("outsider", sorted(OUTSIDERS))
@pytest.mark.parametrize("probe", sorted(PROBES))
def test_a_client_one_may_not_open_reads_like_one_that_does_not_exist(world, probe, outsider):
    db, actor, call = world["db"], OUTSIDERS[outsider](world), PROBES[probe]
    refused = outcome(lambda: call(db, actor, world["client"]))
    missing = outcome(lambda: call(db, actor, MISSING))

    assert refused == missing
    assert issubclass(refused[0], PermissionDenied) and issubclass(refused[0], NotFound)
    assert not any(word in refused[1] for word in gym_words(world))


@pytest.mark.parametrize("outsider", sorted(OUTSIDERS))
@pytest.mark.parametrize("probe", sorted(RECORD_PROBES))
def test_reports_referrals_and_plans_one_may_not_open_read_like_missing_ones(world, probe, outsider):
    kind, call = RECORD_PROBES[probe]
    db, actor = world["db"], OUTSIDERS[outsider](world)

    refused = outcome(lambda: call(db, actor, world[kind]))
    missing = outcome(lambda: call(db, actor, MISSING))

    assert refused == missing
    assert not any(word in refused[1] for word in gym_words(world))


def test_role_and_people_refusals_name_no_gym(world):
    db, trainer_b = world["db"], OUTSIDERS["trainer_b"](world)
    admin_b = Actor("admin.b", Role.ADMIN, gym_id=world["gym_b"])
    store.add_user(db, actor=SYSTEM, username="staff.a", display_name="S", role="trainer", gym_id=world["gym_a"])
    texts = [
        outcome(
            lambda: store.trends(
                db, actor=trainer_b, start=NOW.date() - timedelta(days=30), end=NOW.date(), gym_id=world["gym_a"]
            )
        )[1],
        outcome(lambda: store.disable_user(db, actor=admin_b, username="staff.a"))[1],
    ]

    assert all(str(world["gym_a"]) not in text and "Alpha" not in text and "may not" in text for text in texts)


def test_missing_records_still_read_as_missing_to_those_with_access(world):
    with pytest.raises(NotFound):
        store.get_client(world["db"], actor=SYSTEM, client_id=MISSING)


# --- record_download ---------------------------------------------------------------------------


def downloads(db) -> list[tuple]:
    with db.read() as cur:
        return cur.execute(
            "SELECT actor, outcome FROM audit_log WHERE action = 'export.download' ORDER BY id"
        ).fetchall()


@pytest.mark.parametrize(
    "actor_name, entity, entity_key",
    [
        ("trainer_b", "clients", "client"),  # another gym's client's handout
        ("clinic_b", "referrals", "referral"),  # another gym's handoff
        ("manager", "clients", "client"),  # a role that never reads a client
        ("trainer_b", "audit_log", None),  # a role without the audit
        ("trainer_b", "anything else", None),  # an unknown kind of file
    ],
)
def test_record_download_refuses_what_the_actor_may_not_read(world, actor_name, entity, entity_key):
    actor = OUTSIDERS[actor_name](world)
    with pytest.raises(BackCareError):
        store.record_download(
            world["db"], actor=actor, what="handout", entity=entity, entity_id=world[entity_key] if entity_key else None
        )
    assert [o for _, o in downloads(world["db"])] in ([], ["denied"])


def test_record_download_records_what_the_actor_may_read(world):
    trainer_a = Actor("trainer.a", Role.TRAINER, gym_id=world["gym_a"], user_id=900)
    store.record_download(
        world["db"], actor=trainer_a, what="plan handout PDF", entity="clients", entity_id=world["client"]
    )
    store.record_download(world["db"], actor=Actor("m", Role.MANAGER), what="trends.causes", entity="trends")

    assert downloads(world["db"]) == [("trainer.a", "ok"), ("m", "ok")]


def test_record_download_keeps_the_description_short(world):
    trainer_a = Actor("trainer.a", Role.TRAINER, gym_id=world["gym_a"], user_id=900)
    with pytest.raises(BackCareError):
        store.record_download(
            world["db"], actor=trainer_a, what="x" * 10_000, entity="clients", entity_id=world["client"]
        )
