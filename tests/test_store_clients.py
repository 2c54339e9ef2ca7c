"""Gyms, users and clients: creation, consent, audited reads, search, lists with status, permissions."""

from __future__ import annotations

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from backcare.store.records import ClientStatus
from tests.conftest import NOW, report_payload


def audit(db, action, outcome=None):
    sql = "SELECT actor, entity_id, outcome FROM audit_log WHERE action = ?"
    params = [action]
    if outcome:
        sql += " AND outcome = ?"
        params.append(outcome)
    return db.cursor().execute(sql + " ORDER BY id", params).fetchall()


def test_gyms_are_created_once_and_listed_by_name(db):
    store.create_gym(db, actor=SYSTEM, name="Zeta Gym")
    store.create_gym(db, actor=SYSTEM, name="Alpha Gym")
    assert [g.name for g in store.list_gyms(db, actor=SYSTEM)] == ["Alpha Gym", "Zeta Gym"]
    with pytest.raises(Conflict):
        store.create_gym(db, actor=SYSTEM, name="alpha gym")
    assert len(audit(db, "gym.create", "ok")) == 2


def test_user_password_is_hashed_and_found_by_username(db, gym):
    user = store.create_user(
        db,
        actor=SYSTEM,
        username="Tara",
        display_name="Tara",
        role="trainer",
        gym_id=gym.id,
        password="correct horse battery",
    )
    found = store.get_user_by_username(db, username="TARA")
    assert found.id == user.id and found.password_hash.startswith("$argon2id$")
    assert "correct horse" not in found.password_hash
    assert store.get_user_by_username(db, username="nobody") is None


@pytest.mark.parametrize(
    "fields, bad",
    [
        ({"username": "two words"}, "username"),
        ({"role": "wizard"}, "role"),
        ({"gym_id": None}, "gym_id"),  # a trainer needs a gym
    ],
)
def test_create_user_rejects_bad_fields(db, gym, fields, bad):
    args = {"username": "sam", "display_name": "Sam", "role": "trainer", "gym_id": gym.id, **fields}
    with pytest.raises(InvalidInput) as error:
        store.create_user(db, actor=SYSTEM, **args)
    assert error.value.field == bad


def test_create_client_numbers_reference_and_records_consent(db, gym, trainer_actor):
    client = store.create_client(
        db, actor=trainer_actor, gym_id=gym.id, name="  Grace Hopper ", consent_by="tara", now=NOW
    )
    assert client.external_id == f"C-{client.id:05d}" and client.name == "Grace Hopper"
    assert (client.consent_at, client.consent_by, client.status) == (NOW, "tara", ClientStatus.CLEARED)
    assert audit(db, "client.create") == [("tara", str(client.id), "ok")]


def test_client_without_consent_until_recorded(db, gym, trainer_actor):
    client = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Alan", external_id="GYM-7")
    assert client.external_id == "GYM-7" and not client.has_consent
    consented = store.record_consent(db, actor=trainer_actor, client_id=client.id, now=NOW)
    assert consented.consent_at == NOW and consented.consent_by == "tara"
    with pytest.raises(Conflict):
        store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Other", external_id="GYM-7")


def test_get_client_audits_the_view_unless_told_not_to(db, client, trainer_actor):
    assert store.get_client(db, actor=trainer_actor, client_id=client.id).name == "Ada Lovelace"
    store.get_client(db, actor=trainer_actor, client_id=client.id, audit=False)
    assert audit(db, "client.view") == [("tara", str(client.id), "ok")]
    with pytest.raises(NotFound):
        store.get_client(db, actor=trainer_actor, client_id=999)


@pytest.fixture
def other_gym_client(db):
    other = store.create_gym(db, actor=SYSTEM, name="Harbour Fitness")
    return store.create_client(db, actor=SYSTEM, gym_id=other.id, name="Ada Byron", consent_by="system")


@pytest.mark.parametrize(
    "actor",
    [
        Actor(username="tara", role=Role.TRAINER, gym_id=1),  # trainer of gym A, client in gym B
        Actor(username="mona", role=Role.MANAGER, gym_id=None),  # managers see trends, not records
        Actor(username="cleo", role=Role.CLINIC, gym_id=None),  # clinic reads the handoff, not the record
    ],
)
def test_reading_a_client_without_permission_is_refused_and_audited(db, client, other_gym_client, actor):
    with pytest.raises(PermissionDenied):
        store.get_client(db, actor=actor, client_id=other_gym_client.id)
    assert audit(db, "client.view") == [(actor.username, str(other_gym_client.id), "denied")]


def test_writing_a_client_of_another_gym_is_refused_and_audited(db, trainer_actor, other_gym_client):
    with pytest.raises(PermissionDenied):
        store.log_session(
            db,
            actor=trainer_actor,
            client_id=other_gym_client.id,
            session={"date": "2025-03-01", "minutes": 30, "rpe": 5},
        )
    assert audit(db, "session.log") == [("tara", None, "denied")]
    assert db.cursor().execute("SELECT count(*) FROM sessions").fetchone() == (0,)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("ada", ["Ada Lovelace"]),  # only the trainer's gym, not Ada Byron
        ("LOVE", ["Ada Lovelace"]),
        ("c-0000", ["Ada Lovelace"]),  # by reference
        ("100%", []),  # LIKE wildcards are literal
        ("   ", []),
    ],
)
def test_search_clients_matches_name_or_reference_in_own_gym(
    db, client, other_gym_client, trainer_actor, query, expected
):
    assert [c.name for c in store.search_clients(db, actor=trainer_actor, query=query)] == expected


def test_chain_wide_search_sees_every_gym(db, client, other_gym_client):
    names = [c.name for c in store.search_clients(db, actor=SYSTEM, query="ada")]
    assert names == ["Ada Byron", "Ada Lovelace"]


def test_list_clients_by_trainer_carries_each_status(db, gym, client, trainer_actor):
    other = store.create_client(db, actor=trainer_actor, gym_id=gym.id, name="Bea", consent_by="tara")
    store.save_report(
        db,
        actor=trainer_actor,
        client_id=other.id,
        report=report_payload(hours_since_workout=30, pain_score=5, pain_quality="stiffness", trend="same"),
    )
    mine = store.list_clients(db, actor=trainer_actor, trainer_id=trainer_actor.user_id)
    assert [(c.name, c.status) for c in mine] == [("Ada Lovelace", ClientStatus.CLEARED)]
    everyone = store.list_clients(db, actor=trainer_actor)
    assert {c.name: c.status for c in everyone} == {"Ada Lovelace": ClientStatus.CLEARED, "Bea": ClientStatus.MODIFIED}


# --- year of birth ----------------------------------------------------------------------------------------


def test_a_client_may_be_created_with_a_year_of_birth_and_it_is_read_back(db, gym, trainer_actor):
    client = store.create_client(
        db, actor=trainer_actor, gym_id=gym.id, name="Eve", year_of_birth=1954, consent_by="tara"
    )
    assert client.year_of_birth == 1954
    assert store.get_client(db, actor=trainer_actor, client_id=client.id).year_of_birth == 1954


def test_the_year_of_birth_is_set_and_corrected_audited_without_the_year(db, client, trainer_actor):
    assert client.year_of_birth is None and client.age() is None
    updated = store.set_year_of_birth(db, actor=trainer_actor, client_id=client.id, year_of_birth=1990, now=NOW)
    assert updated.year_of_birth == 1990 and updated.age(NOW.date()) == NOW.year - 1990
    assert (
        store.set_year_of_birth(db, actor=trainer_actor, client_id=client.id, year_of_birth=None).year_of_birth is None
    )
    rows = (
        db.cursor()
        .execute("SELECT outcome, detail FROM audit_log WHERE action = 'client.year_of_birth' ORDER BY id")
        .fetchall()
    )
    assert [r[0] for r in rows] == ["ok", "ok"] and all("1990" not in (r[1] or "") for r in rows)


@pytest.mark.parametrize("year", [1899, NOW.year + 1_000, 1990.5, "1990", True])
def test_a_year_of_birth_outside_1900_to_this_year_is_refused(db, client, trainer_actor, year):
    with pytest.raises(InvalidInput) as error:
        store.set_year_of_birth(db, actor=trainer_actor, client_id=client.id, year_of_birth=year)
    assert error.value.field == "year_of_birth"
    assert store.get_client(db, actor=trainer_actor, client_id=client.id).year_of_birth is None


def test_this_years_births_and_1900_are_accepted(db, client, trainer_actor):
    from datetime import date

    for year in (1900, date.today().year):
        assert (
            store.set_year_of_birth(db, actor=trainer_actor, client_id=client.id, year_of_birth=year).year_of_birth
            == year
        )


def test_another_gyms_trainer_may_not_set_the_year_of_birth(db, client):
    other = store.create_gym(db, actor=SYSTEM, name="Other Gym")
    stranger = store.actor_for(
        store.create_user(db, actor=SYSTEM, username="sam", display_name="Sam", role=Role.TRAINER, gym_id=other.id)
    )
    with pytest.raises(PermissionDenied):
        store.set_year_of_birth(db, actor=stranger, client_id=client.id, year_of_birth=1990)
    assert len(audit(db, "client.year_of_birth", "denied")) == 1
