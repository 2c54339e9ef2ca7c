"""The permission matrix: every role x every store function that touches client data (and the people,
audit and trends functions beside them) -> allowed or refused, as auth.PERMISSIONS says, calling the
real functions; a refusal is audited; and a trainer of gym B reaches no client of gym A by any path.

Each function's row names the action(s) it needs and whether it acts on a record of gym A ("record":
the actor's gym must be A, or the actor chain-wide) or on the actor's own scope ("scope": any gym, the
results limited to it). A store function with an `actor` argument that has no row here fails
test_every_store_function_with_an_actor_is_in_the_matrix: add the row when you add the function.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from backcare import store
from backcare.auth import PERMISSIONS, SYSTEM, Action, Actor, Role, allowed
from backcare.errors import PermissionDenied
from backcare.store.export import export_database
from backcare.store.importer import import_sessions_csv
from tests.conftest import NOW, report_payload

A = Action
DAY = NOW.date()
SECRET_NAME = "Philippa Gymnasium-A"


@dataclass
class World:
    db: store.Database
    tmp: Path
    gym_a: int
    gym_b: int
    client_a: store.ClientRow
    report_a: int
    referral_a: int
    counter: int = 0

    def fresh(self) -> int:
        self.counter += 1
        return self.counter

    def new_client(self) -> int:
        return store.create_client(
            self.db, actor=SYSTEM, gym_id=self.gym_a, name=f"Extra {self.fresh()}", consent_by="system"
        ).id

    def new_assignment(self) -> int:
        return store.assign_plan(
            self.db,
            actor=SYSTEM,
            client_id=self.new_client(),
            plan_id="core",
            start_date=DAY,
            review_date=DAY + timedelta(days=14),
        ).id

    def new_referral(self) -> int:
        return store.save_report(
            self.db, actor=SYSTEM, client_id=self.client_a.id, report=report_payload(pain_score=8)
        ).referral_id

    def new_emergency_report(self) -> int:
        return store.save_report(
            self.db, actor=SYSTEM, client_id=self.client_a.id, report={"chest_pain": True}
        ).report_id

    def new_staff(self) -> str:
        name = f"staff{self.fresh()}"
        store.add_user(self.db, actor=SYSTEM, username=name, display_name=name, role="trainer", gym_id=self.gym_a)
        return name

    def sessions_csv(self) -> Path:
        path = self.tmp / f"sessions{self.fresh()}.csv"
        path.write_text(
            "client_id,date,minutes,rpe,exercises,warmup_minutes,cooldown_done\n"
            f"{self.client_a.external_id},2025-03-01,{40 + self.counter},6,squat,5,yes\n"
        )
        return path


@pytest.fixture
def world(db, tmp_path) -> World:
    gym_a = store.create_gym(db, actor=SYSTEM, name="Gym A").id
    gym_b = store.create_gym(db, actor=SYSTEM, name="Gym B").id
    client_a = store.create_client(db, actor=SYSTEM, gym_id=gym_a, name=SECRET_NAME, consent_by="system")
    store.log_session(
        db, actor=SYSTEM, client_id=client_a.id, session={"date": DAY - timedelta(days=1), "minutes": 50, "rpe": 6}
    )
    saved = store.save_report(db, actor=SYSTEM, client_id=client_a.id, report=report_payload(pain_score=8))
    store.create_client(db, actor=SYSTEM, gym_id=gym_b, name="Bernard Gymnasium-B", consent_by="system")
    return World(db, tmp_path, gym_a, gym_b, client_a, saved.report_id, saved.referral_id)


ACTORS: dict[str, Callable[[World], Actor]] = {
    "trainer_a": lambda w: Actor("trainer.a", Role.TRAINER, gym_id=w.gym_a, user_id=900),
    "trainer_b": lambda w: Actor("trainer.b", Role.TRAINER, gym_id=w.gym_b, user_id=901),
    "clinic": lambda w: Actor("clinic", Role.CLINIC),
    "clinic_b": lambda w: Actor("clinic.b", Role.CLINIC, gym_id=w.gym_b),
    "manager": lambda w: Actor("manager", Role.MANAGER),
    "manager_b": lambda w: Actor("manager.b", Role.MANAGER, gym_id=w.gym_b),
    "admin": lambda w: Actor("admin", Role.ADMIN),
    "admin_b": lambda w: Actor("admin.b", Role.ADMIN, gym_id=w.gym_b),
    "system": lambda w: SYSTEM,
}


@dataclass(frozen=True)
class Row:
    actions: tuple[Action, ...]
    kind: str  # "record": on gym A's record; "scope": within the actor's own gym
    call: Callable[[World, Actor], Any]
    audited: bool = True  # a refusal writes a 'denied' audit row


def _client(fn: Callable, **extra) -> Callable[[World, Actor], Any]:
    return lambda w, actor: fn(w.db, actor=actor, client_id=w.client_a.id, **extra)


def _trend(fn: Callable) -> Callable[[World, Actor], Any]:
    return lambda w, actor: fn(w.db, actor=actor, start=DAY - timedelta(days=60), end=DAY, gym_id=w.gym_a)


MATRIX: dict[str, Row] = {
    # clients
    "create_client": Row(
        (A.CLIENT_WRITE,),
        "record",
        lambda w, a: store.create_client(w.db, actor=a, gym_id=w.gym_a, name="New Person", consent_by="x"),
    ),
    "record_consent": Row((A.CLIENT_WRITE,), "record", _client(store.record_consent)),
    "set_client_contact": Row((A.CLIENT_WRITE,), "record", _client(store.set_client_contact, phone="0123 456789")),
    "set_year_of_birth": Row((A.CLIENT_WRITE,), "record", _client(store.set_year_of_birth, year_of_birth=1980)),
    "save_draft": Row((A.CLIENT_WRITE,), "record", _client(store.save_draft, answers={"chest_pain": "No"})),
    "load_draft": Row((A.CLIENT_READ,), "record", _client(store.load_draft)),
    "delete_draft": Row((A.CLIENT_WRITE,), "record", _client(store.delete_draft)),
    "get_client": Row((A.CLIENT_READ,), "record", _client(store.get_client)),
    "client_status": Row((A.CLIENT_READ, A.REFERRAL_READ), "record", _client(store.client_status)),
    "search_clients": Row(
        (A.CLIENT_READ,), "scope", lambda w, a: store.search_clients(w.db, actor=a, query="Gymnasium")
    ),
    "list_clients": Row((A.CLIENT_READ,), "scope", lambda w, a: store.list_clients(w.db, actor=a, gym_id=w.gym_a)),
    # sessions and load
    "log_session": Row(
        (A.CLIENT_WRITE,), "record", _client(store.log_session, session={"date": DAY, "minutes": 30, "rpe": 5})
    ),
    "list_sessions": Row((A.CLIENT_READ,), "record", _client(store.list_sessions)),
    "daily_load": Row((A.CLIENT_READ,), "record", _client(store.daily_load, start=DAY - timedelta(days=7), end=DAY)),
    "weekly_load": Row((A.CLIENT_READ,), "record", _client(store.weekly_load, on=DAY)),
    "load_ratio": Row((A.CLIENT_READ,), "record", _client(store.load_ratio, on=DAY)),
    "import_sessions_csv": Row(
        (A.CLIENT_WRITE,),
        "scope",
        lambda w, a: import_sessions_csv(w.db, actor=a, path=w.sessions_csv(), skip_bad=True),
    ),
    # reports
    "save_report": Row((A.CLIENT_WRITE,), "record", _client(store.save_report, report=report_payload())),
    "triage_history": Row((A.CLIENT_READ,), "record", _client(store.triage_history)),
    "list_reports": Row((A.CLIENT_READ,), "record", _client(store.list_reports)),
    "get_report": Row((A.CLIENT_READ,), "record", lambda w, a: store.get_report(w.db, actor=a, report_id=w.report_a)),
    "previous_report_of_episode": Row((A.CLIENT_READ,), "record", _client(store.previous_report_of_episode)),
    "complete_report": Row(
        (A.CLIENT_WRITE,),
        "record",
        lambda w, a: store.complete_report(
            w.db, actor=a, report_id=w.new_emergency_report(), answers={"pain_score": 3}
        ),
    ),
    # plans
    "assign_plan": Row(
        (A.CLIENT_WRITE,),
        "record",
        lambda w, a: store.assign_plan(
            w.db, actor=a, client_id=w.new_client(), plan_id="core", start_date=DAY, review_date=DAY + timedelta(days=7)
        ),
    ),
    "set_assignment_status": Row(
        (A.CLIENT_WRITE,),
        "record",
        lambda w, a: store.set_assignment_status(w.db, actor=a, assignment_id=w.new_assignment(), status="completed"),
    ),
    "list_assignments": Row((A.CLIENT_READ,), "record", _client(store.list_assignments)),
    "set_stage": Row((A.CLIENT_WRITE,), "record", lambda w, a: store.set_stage(w.db, a, w.new_assignment(), 2)),
    "offered_stages_for": Row((A.CLIENT_READ,), "record", _client(store.offered_stages_for)),
    # feedback on plans (issue 15)
    "record_feedback": Row(
        (A.CLIENT_WRITE,),
        "record",
        _client(store.record_feedback, entries=[], session={"date": DAY, "minutes": 30, "rpe": 5}),
    ),
    "list_feedback": Row((A.CLIENT_READ,), "record", _client(store.list_feedback)),
    "client_plan_feedback": Row((A.CLIENT_READ,), "record", _client(store.client_plan_feedback)),
    # history page
    "pain_by_day": Row((A.CLIENT_READ,), "record", _client(store.pain_by_day, on=DAY)),
    "weekly_load_band": Row((A.CLIENT_READ,), "record", _client(store.weekly_load_band, on=DAY)),
    "client_referrals": Row((A.CLIENT_READ, A.REFERRAL_READ), "record", _client(store.client_referrals)),
    "client_history": Row((A.CLIENT_READ,), "record", _client(store.client_history, on=DAY)),
    # referrals
    "list_referral_queue": Row((A.REFERRAL_READ,), "scope", lambda w, a: store.list_referral_queue(w.db, actor=a)),
    "get_referral": Row(
        (A.REFERRAL_READ,), "record", lambda w, a: store.get_referral(w.db, actor=a, referral_id=w.referral_a)
    ),
    "referral_events": Row(
        (A.REFERRAL_READ,), "record", lambda w, a: store.referral_events(w.db, actor=a, referral_id=w.referral_a)
    ),
    "handoff_summary": Row(
        (A.HANDOFF_READ,), "record", lambda w, a: store.handoff_summary(w.db, actor=a, referral_id=w.referral_a)
    ),
    "update_referral": Row(
        (A.REFERRAL_UPDATE,),
        "record",
        lambda w, a: store.update_referral(w.db, actor=a, referral_id=w.new_referral(), status="contacted"),
    ),
    # trends (aggregates of gym A)
    **{
        name: Row((A.TRENDS_READ,), "record", _trend(getattr(store, name)))
        for name in (
            "trends",
            "trends_summary",
            "weekly_levels",
            "weekly_red_flags",
            "causes_ranked",
            "causes_by_month",
            "reports_by_gym",
            "reports_by_trainer",
            "first_contact_times",
            "first_contact_weekly",
            "plan_adherence",
            "plan_outcome",
        )
    },
    # erasure, export, audit
    "erase_client": Row(
        (A.CLIENT_ERASE,),
        "record",
        lambda w, a: store.erase_client(w.db, actor=a, client_id=w.new_client(), compact=False),
    ),
    "find_clients_to_erase": Row(
        (A.CLIENT_ERASE,), "scope", lambda w, a: store.find_clients_to_erase(w.db, actor=a, query="Gymnasium")
    ),
    "pending_rebuilds": Row((A.CLIENT_ERASE,), "scope", lambda w, a: store.pending_rebuilds(w.db, actor=a)),
    "export_database": Row(
        (A.EXPORT,), "scope", lambda w, a: export_database(w.db, actor=a, directory=w.tmp / f"export{w.fresh()}")
    ),
    "record_download": Row(
        (A.CLIENT_READ,),
        "record",
        lambda w, a: store.record_download(
            w.db, actor=a, what="plan handout PDF", entity="clients", entity_id=w.client_a.id
        ),
    ),
    "list_audit": Row((A.AUDIT_READ,), "scope", lambda w, a: store.list_audit(w.db, actor=a)),
    "audit_choices": Row((A.AUDIT_READ,), "scope", lambda w, a: store.audit_choices(w.db, actor=a)),
    "export_audit_csv": Row((A.AUDIT_READ,), "scope", lambda w, a: store.export_audit_csv(w.db, actor=a)),
    # people and gyms (no client data; an admin of gym B manages gym B's people only)
    "list_users": Row((A.PEOPLE_MANAGE,), "scope", lambda w, a: store.list_users(w.db, actor=a)),
    "list_gym_summaries": Row((A.PEOPLE_MANAGE,), "scope", lambda w, a: store.list_gym_summaries(w.db, actor=a)),
    "add_user": Row(
        (A.PEOPLE_MANAGE,),
        "record",
        lambda w, a: store.add_user(
            w.db, actor=a, username=f"u{w.fresh()}", display_name="U", role="trainer", gym_id=w.gym_a
        ),
    ),
    "create_user": Row(
        (A.PEOPLE_MANAGE,),
        "record",
        lambda w, a: store.create_user(
            w.db, actor=a, username=f"u{w.fresh()}", display_name="U", role="trainer", gym_id=w.gym_a
        ),
    ),
    **{
        name: Row(
            (A.PEOPLE_MANAGE,),
            "record",
            (lambda fn: lambda w, a: fn(w.db, actor=a, username=w.new_staff()))(getattr(store, name)),
        )
        for name in ("disable_user", "enable_user", "unlock_user")
    },
    "reset_password": Row(
        (A.PEOPLE_MANAGE,),
        "record",
        lambda w, a: store.reset_password(w.db, actor=a, username=w.new_staff(), password="a long new password"),
    ),
    "set_role": Row(
        (A.PEOPLE_MANAGE,),
        "record",
        lambda w, a: store.set_role(w.db, actor=a, username=w.new_staff(), role="clinic", gym_id=w.gym_a),
    ),
}
# Chain-wide gym creation: refused to a gym-scoped admin even for "their" gym.
# Gyms are chain-wide records: a gym-scoped admin adds none, through either function.
EXPECT_REFUSED = {("add_gym", "admin_b"), ("create_gym", "admin_b")}
MATRIX["add_gym"] = Row((A.PEOPLE_MANAGE,), "scope", lambda w, a: store.add_gym(w.db, actor=a, name=f"Gym {w.fresh()}"))
MATRIX["create_gym"] = Row(
    (A.PEOPLE_MANAGE,), "scope", lambda w, a: store.create_gym(w.db, actor=a, name=f"Gym {w.fresh()}")
)

NOT_IN_MATRIX = {
    "list_gyms": "gym names are not client data: every signed-in role may list them",
    "end_sessions": "signs the actor's own account out of every tab; touches no other account",
    "session_state": "checks the actor's own sign-in session (signed out elsewhere, idle too long)",
    "refresh_actor": "re-reads the signed-in person's own account (role, gym, disabled) to end a stale session",
    "check_signin": "session_state and refresh_actor in one read: the actor's own session and account only",
    "resume_cookie": "the resume cookie of the actor's own sign-in session; reads no other account",
    "trainer_card": "the signed-in person's own name and contact for their handout; reads no other account",
    "apply_stage": "hands the stage to set_stage of the staged plans (issue 15), which checks and audits it",
    "recent_drafts": "the actor's own triage drafts (client ids); the page reads each client through get_client",
}


def expected_allowed(row: Row, name: str, actor_name: str, actor: Actor, world: World) -> bool:
    if (name, actor_name) in EXPECT_REFUSED:
        return False
    gym = world.gym_a if row.kind == "record" else None
    return any(allowed(actor, action, gym) for action in row.actions)


def denied_rows(db) -> int:
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM audit_log WHERE outcome = 'denied'").fetchone()[0]


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_role_is_allowed_or_refused_as_the_permissions_say(world, name):
    row = MATRIX[name]
    outcomes = {}
    for actor_name, make in ACTORS.items():
        actor = make(world)
        expected = expected_allowed(row, name, actor_name, actor, world)
        denied_before = denied_rows(world.db)
        try:
            row.call(world, actor)
        except PermissionDenied:
            outcomes[actor_name] = "refused"
            if row.audited:
                assert denied_rows(world.db) == denied_before + 1, f"{name} refused {actor_name} without an audit row"
        else:
            outcomes[actor_name] = "allowed"
        assert outcomes[actor_name] == ("allowed" if expected else "refused"), (name, actor_name)


def test_every_store_function_with_an_actor_is_in_the_matrix():
    functions = {
        name
        for name in dir(store)
        if inspect.isfunction(getattr(store, name)) and "actor" in inspect.signature(getattr(store, name)).parameters
    }
    assert functions - set(MATRIX) - set(NOT_IN_MATRIX) == set()


def test_the_matrix_covers_every_role_and_every_action():
    roles = {Role.TRAINER, Role.CLINIC, Role.MANAGER, Role.ADMIN, Role.SYSTEM}
    assert roles == set(PERMISSIONS)
    assert {a for row in MATRIX.values() for a in row.actions} == set(Action)


READS_IN_SCOPE = [name for name, row in MATRIX.items() if row.kind == "scope"]


def test_a_trainer_of_gym_b_reaches_no_client_of_gym_a_through_any_function(world):
    trainer_b = ACTORS["trainer_b"](world)
    sessions_before = len(store.list_sessions(world.db, actor=SYSTEM, client_id=world.client_a.id))
    for name, row in MATRIX.items():
        try:
            result = row.call(world, trainer_b)
        except PermissionDenied:
            continue
        assert row.kind == "scope", f"{name} let a trainer of gym B act on a gym A record"
        # the import echoes the reference the trainer typed, to say it is unknown to them: not a leak
        shown = repr(result).replace(f"client_id {world.client_a.external_id} is not a known client", "")
        assert SECRET_NAME not in shown and world.client_a.external_id not in shown, name
    # the import ran (a trainer may import) but found no such client in gym B: nothing was stored for A
    assert len(store.list_sessions(world.db, actor=SYSTEM, client_id=world.client_a.id)) == sessions_before


def test_a_report_cannot_be_saved_without_the_clients_consent(world):
    from backcare.errors import InvalidInput

    no_consent = store.create_client(world.db, actor=SYSTEM, gym_id=world.gym_a, name="Not Asked Yet")
    trainer_a = ACTORS["trainer_a"](world)
    with pytest.raises(InvalidInput, match="consent"):
        store.save_report(world.db, actor=trainer_a, client_id=no_consent.id, report=report_payload())
    assert store.list_reports(world.db, actor=SYSTEM, client_id=no_consent.id) == []

    store.record_consent(world.db, actor=trainer_a, client_id=no_consent.id)
    assert store.save_report(world.db, actor=trainer_a, client_id=no_consent.id, report=report_payload()).report_id
