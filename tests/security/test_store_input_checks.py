"""The store's door (issue 12, Low): every public store function called with a wrong kind of argument raises
the store's own error (pages catch BackCareError), never a TypeError or AttributeError; text that people
read (names, notes, plan changes) refuses NUL, other control characters and direction overrides, and has
sane limits, naming the field. Before the fix, 521 of 1,557 wrong-kind calls escaped as raw Python errors and a
1 MB display name, a 10 MB plan customisation, NUL and U+202E were all stored."""

from __future__ import annotations

import inspect
from datetime import date, timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM, Role
from backcare.errors import BackCareError, InvalidInput
from backcare.store.importer import import_sessions_csv
from tests.conftest import report_payload
from tests.test_permissions import MATRIX, World

WRONG_KINDS = ["x", 10**30, 1.5, None, [1], {"a": 1}, True, date(2020, 1, 1), object()]
NUL, RLO, LRI = "\x00", "\u202e", "\u2066"
MEGABYTE = "x" * (1024 * 1024)


@pytest.fixture
def world(db, tmp_path) -> World:
    gym_a = store.create_gym(db, actor=SYSTEM, name="Gym A").id
    gym_b = store.create_gym(db, actor=SYSTEM, name="Gym B").id
    client_a = store.create_client(db, actor=SYSTEM, gym_id=gym_a, name="Phil Gym", consent_by="system")
    saved = store.save_report(db, actor=SYSTEM, client_id=client_a.id, report=report_payload(pain_score=8))
    return World(db, tmp_path, gym_a, gym_b, client_a, saved.report_id, saved.referral_id)


DAY = date(2025, 3, 10)
# A value of the right kind for each argument name of the store's functions (right kind, not necessarily a
# value the function accepts: a refusal of it is a BackCareError too, which is all this test asks).
RIGHT_KIND = {
    "client_id": lambda w: w.client_a.id,
    "referral_id": lambda w: w.referral_a,
    "report_id": lambda w: w.report_a,
    "assignment_id": lambda w: w.new_assignment(),
    "gym_id": lambda w: w.gym_a,
    "trainer_id": lambda w: None,
    "start": lambda w: DAY - timedelta(days=30),
    "end": lambda w: DAY,
    "on": lambda w: DAY,
    "before": lambda w: None,
    "now": lambda w: None,
    "start_date": lambda w: DAY,
    "review_date": lambda w: DAY + timedelta(days=14),
    "days": lambda w: 30,
    "weeks": lambda w: 4,
    "pain_days": lambda w: 30,
    "recent": lambda w: 5,
    "limit": lambda w: 5,
    "review_days": lambda w: 14,
    "stage": lambda w: 1,
    "query": lambda w: "Gym",
    "name": lambda w: f"Name {w.fresh()}",
    "username": lambda w: f"user{w.fresh()}",
    "display_name": lambda w: "Some One",
    "contact": lambda w: None,
    "role": lambda w: "trainer",
    "password": lambda w: "a long password here",
    "status": lambda w: "contacted",
    "note": lambda w: None,
    "restrictions": lambda w: None,
    "statuses": lambda w: None,
    "plan_id": lambda w: "core",
    "report": lambda w: report_payload(),
    "session": lambda w: {"date": DAY, "minutes": 30, "rpe": 5},
    "entries": lambda w: [],  # plan feedback (issue 15)
    "assign_plans": lambda w: (),
    "customisation": lambda w: None,
    "submission": lambda w: None,
    "consent_by": lambda w: "someone",
    "external_id": lambda w: None,
    "filters": lambda w: None,
    "audit": lambda w: False,
    "discarded": lambda w: False,
    "active_only": lambda w: False,
    "open_only": lambda w: False,
    "include_disabled": lambda w: False,
    "only_into_new": lambda w: False,
    "compact": lambda w: False,
    "answers": lambda w: {"chest_pain": False},
    "context": lambda w: None,
    "year_of_birth": lambda w: 1980,
    "phone": lambda w: None,
    "email": lambda w: None,
    "expected_status": lambda w: None,
    "recent_first": lambda w: False,
    "max_age": lambda w: timedelta(hours=12),
    "what": lambda w: "Handoff PDF",
    "entity": lambda w: "referrals",
    "entity_id": lambda w: w.referral_a,
}
STORE_FUNCTIONS = sorted(name for name in MATRIX if hasattr(store, name))


@pytest.mark.parametrize("name", STORE_FUNCTIONS)
def test_a_wrong_kind_of_argument_is_the_stores_own_error(world, name):
    function = getattr(store, name)
    parameters = [p for p in inspect.signature(function).parameters if p not in ("db", "actor")]
    unknown = [p for p in parameters if p not in RIGHT_KIND]
    assert not unknown, f"add {unknown} to RIGHT_KIND"
    escaped = []
    for parameter in parameters:
        for wrong in WRONG_KINDS:
            arguments = {p: RIGHT_KIND[p](world) for p in parameters if p != parameter}
            try:
                function(world.db, actor=SYSTEM, **arguments, **{parameter: wrong})
            except BackCareError:
                pass
            except Exception as error:  # noqa: BLE001  (what the test is looking for)
                escaped.append(f"{parameter}={wrong!r:.20}: {type(error).__name__}: {error}"[:160])
    assert escaped == []


def test_a_wrong_kind_of_argument_names_the_argument(db, client, trainer_actor):
    with pytest.raises(InvalidInput) as raised:
        store.get_client(db, actor=trainer_actor, client_id="12")
    assert raised.value.field == "client_id"
    with pytest.raises(InvalidInput) as raised:
        store.create_gym(db, actor=SYSTEM, name=42)
    assert raised.value.field == "name"


# --- characters and lengths ------------------------------------------------------------------------


def count(db, table: str) -> int:
    return db.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _client(db, gym, trainer, name):
    return store.create_client(db, actor=trainer, gym_id=gym.id, name=name, consent_by="tara")


@pytest.mark.parametrize("bad", [f"Ann{NUL}e", f"Ann {RLO}gpj.exe", f"A{LRI}nn", "Ann\nLee", "A" * 121])
def test_a_client_name_with_hidden_characters_or_too_long_is_refused(db, gym, trainer_actor, bad):
    with pytest.raises(InvalidInput) as raised:
        _client(db, gym, trainer_actor, bad)
    assert raised.value.field == "name"
    assert count(db, "clients") == 0


@pytest.mark.parametrize(
    "field, bad",
    [
        ("display_name", MEGABYTE),
        ("display_name", f"Tara{NUL}"),
        ("display_name", f"Tara {RLO}nimda"),
        ("contact", f"tara@x.test{RLO}"),
        ("contact", MEGABYTE),
    ],
)
def test_an_account_with_a_1_mb_or_hidden_character_name_is_refused(db, gym, field, bad):
    values = {"username": "new.person", "display_name": "New Person", "contact": None, field: bad}
    for add in (store.create_user, store.add_user):
        with pytest.raises(InvalidInput) as raised:
            add(db, actor=SYSTEM, role=Role.TRAINER.value, gym_id=gym.id, **values)
        assert raised.value.field == field
    assert count(db, "users") == 0


@pytest.mark.parametrize("bad", [f"North{NUL}", f"North {RLO}", "N" * 121])
def test_a_gym_name_with_hidden_characters_or_too_long_is_refused(db, bad):
    with pytest.raises(InvalidInput) as raised:
        store.create_gym(db, actor=SYSTEM, name=bad)
    assert raised.value.field == "name"


@pytest.mark.parametrize(
    "field, bad",
    [
        ("note", "x" * 2001),
        ("note", f"called{NUL}"),
        ("note", f"ok {RLO}"),
        ("restrictions", MEGABYTE),
        ("restrictions", f"no lifting{LRI}"),
    ],
)
def test_a_clinic_note_or_restriction_with_hidden_characters_or_too_long_is_refused(
    db, client, trainer_actor, field, bad
):
    saved = store.save_report(db, actor=trainer_actor, client_id=client.id, report=report_payload(pain_score=8))
    store.update_referral(db, actor=SYSTEM, referral_id=saved.referral_id, status="seen")
    values = {"status": "cleared_with_restrictions", "restrictions": "no deadlifts", field: bad}
    with pytest.raises(InvalidInput) as raised:
        store.update_referral(db, actor=SYSTEM, referral_id=saved.referral_id, **values)
    assert raised.value.field == field
    assert store.get_referral(db, actor=SYSTEM, referral_id=saved.referral_id).status == "seen"


def test_a_note_keeps_its_lines_and_tabs(db, client, trainer_actor):
    saved = store.save_report(db, actor=trainer_actor, client_id=client.id, report=report_payload(pain_score=8))
    store.update_referral(
        db, actor=SYSTEM, referral_id=saved.referral_id, status="contacted", note="Rang at 10:00.\n\tBooked for Monday."
    )
    (event,) = [
        e for e in store.referral_events(db, actor=SYSTEM, referral_id=saved.referral_id) if e.status == "contacted"
    ]
    assert event.note == "Rang at 10:00.\n\tBooked for Monday."


TODAY = date.today()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"note": "x" * (10 * 1024 * 1024)}, "customisation"),
        ({"doses": {f"exercise {i}": "3 x 10" for i in range(200_000)}}, "customisation"),
        ({"note": f"go easy{RLO}"}, "customisation"),
        ({"doses": {f"Dead bug{NUL}": "3 x 10"}}, "customisation"),
        ({"sets": 2}, "changes.sets"),
    ],
)
def test_a_huge_or_hidden_character_plan_customisation_is_refused(db, client, trainer_actor, changes, field):
    with pytest.raises(InvalidInput) as raised:
        store.assign_plan(
            db,
            actor=trainer_actor,
            client_id=client.id,
            plan_id="core",
            start_date=TODAY,
            review_date=TODAY + timedelta(days=14),
            customisation=changes,
        )
    assert raised.value.field == field
    with pytest.raises(InvalidInput):
        store.save_report(
            db,
            actor=trainer_actor,
            client_id=client.id,
            report=report_payload(context={"warmup_minutes": 2}),
            assign_plans=["warm_up"],
            customisation={"warm_up": changes},
        )
    assert count(db, "assignments") == 0 and count(db, "reports") == 0


@pytest.mark.parametrize("exercise", [f"squat{NUL}", f"squat{RLO}"])
def test_an_exercise_name_with_hidden_characters_is_refused(db, client, trainer_actor, exercise, tmp_path):
    with pytest.raises(InvalidInput) as raised:
        store.log_session(
            db,
            actor=trainer_actor,
            client_id=client.id,
            session={"date": TODAY, "minutes": 30, "rpe": 5, "exercises": [exercise]},
        )
    assert raised.value.field.startswith("exercises")
    path = tmp_path / "s.csv"
    path.write_text(
        "client_id,date,minutes,rpe,exercises,warmup_minutes,cooldown_done\n"
        f"{client.external_id},2025-01-05,30,5,{exercise},5,true\n",
        encoding="utf-8",
    )
    result = import_sessions_csv(db, actor=SYSTEM, path=path)
    assert [b.line for b in result.bad_rows] == [2] and "invisible character" in result.bad_rows[0].reason
    assert count(db, "sessions") == 0
