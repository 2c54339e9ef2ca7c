"""Sign-in (password and single sign-on mapping), lockout, the audit of every attempt, and the
administration of people and gyms."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from backcare.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from backcare.store.accounts import LOCK_DURATION, MAX_FAILED_ATTEMPTS, SIGNIN_REFUSED
from tests.conftest import NOW
from tests.fast_hashing import fast_hashing  # noqa: F401  (autouse)

PASSWORD = "correct horse battery"


@pytest.fixture
def people(db, gym):
    """An admin and a trainer with passwords, a clinic user for single sign-on only."""
    store.add_user(db, actor=SYSTEM, username="ann", display_name="Ann Admin", role="admin", password=PASSWORD)
    store.add_user(
        db, actor=SYSTEM, username="tom", display_name="Tom Trainer", role="trainer", gym_id=gym.id, password=PASSWORD
    )
    store.add_user(
        db, actor=SYSTEM, username="cleo", display_name="Cleo Clinic", role="clinic", contact="Cleo@Clinic.example"
    )
    return db


def audit_rows(db, action: str | None = None) -> list[dict]:
    with db.read() as cur:
        rows = cur.execute(
            "SELECT actor, role, action, outcome, detail FROM audit_log WHERE ? IS NULL OR action = ? ORDER BY id",
            [action, action],
        ).fetchall()
    return [
        {"actor": a, "role": r, "action": x, "outcome": o, "detail": json.loads(d) if d else None}
        for a, r, x, o, d in rows
    ]


def failed_signin(db, username: str, password: str = "wrong password!", *, now=NOW) -> Exception:
    with pytest.raises(store.SignInRefused) as refused:
        store.authenticate(db, username=username, password=password, now=now)
    return refused.value


# --- sign-in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["tom", "Tom", "  tom  "])
def test_right_password_gives_the_users_actor_and_is_audited(people, gym, typed):
    actor = store.authenticate(people, username=typed, password=PASSWORD, now=NOW)

    assert (actor.username, actor.role, actor.gym_id) == ("tom", Role.TRAINER, gym.id)
    (row,) = audit_rows(people, "signin.success")
    assert row["actor"] == "tom" and row["outcome"] == "ok" and row["detail"]["method"] == "password"


@pytest.mark.parametrize(
    "username, password",
    [
        ("tom", "wrong password!"),  # known user, wrong password
        ("nobody", PASSWORD),  # unknown user
        ("cleo", PASSWORD),  # single sign-on account: no password at all
        ("", PASSWORD),
        ("tom", ""),
    ],
)
def test_every_refusal_says_the_same_sentence_and_is_audited_without_the_password(people, username, password):
    error = failed_signin(people, username, password)

    assert str(error) == SIGNIN_REFUSED
    (row,) = audit_rows(people, "signin.failure")
    # a name with no account is not kept: it may be a password typed into the wrong box
    assert row["outcome"] == "failed" and row["detail"]["username"] == (
        username if username in ("tom", "cleo") else "(unknown)"
    )
    assert PASSWORD not in json.dumps(audit_rows(people))


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(people):
    errors = [failed_signin(people, "tom", now=NOW + timedelta(seconds=i)) for i in range(MAX_FAILED_ATTEMPTS)]

    assert all(type(e) is store.SignInRefused and str(e) == SIGNIN_REFUSED for e in errors)  # the lock reads the same
    locked = failed_signin(people, "tom", PASSWORD, now=NOW + timedelta(minutes=5))
    assert type(locked) is store.SignInRefused and str(locked) == SIGNIN_REFUSED
    failures = audit_rows(people, "signin.failure")
    assert len(failures) == MAX_FAILED_ATTEMPTS + 1
    assert [r["detail"]["reason"] for r in failures] == ["wrong_password"] * MAX_FAILED_ATTEMPTS + ["locked"]


def test_the_lock_ends_after_its_time_and_a_success_clears_the_count(people):
    for i in range(MAX_FAILED_ATTEMPTS):
        failed_signin(people, "tom", now=NOW + timedelta(seconds=i))
    later = NOW + LOCK_DURATION + timedelta(seconds=10)

    assert store.authenticate(people, username="tom", password=PASSWORD, now=later).username == "tom"
    (tom,) = [u for u in store.list_users(people, actor=SYSTEM) if u.username == "tom"]
    assert tom.failed_attempts == 0 and tom.locked_until is None


def test_after_a_lock_ends_the_count_starts_again(people):
    for i in range(MAX_FAILED_ATTEMPTS):
        failed_signin(people, "tom", now=NOW + timedelta(seconds=i))
    later = NOW + LOCK_DURATION + timedelta(seconds=10)

    assert type(failed_signin(people, "tom", now=later)) is store.SignInRefused  # one wrong: not locked again
    (tom,) = [u for u in store.list_users(people, actor=SYSTEM) if u.username == "tom"]
    assert (tom.failed_attempts, tom.locked_until) == (1, None)


def test_an_unknown_username_is_refused_in_the_same_words_as_a_locked_one(people):
    errors = [failed_signin(people, "ghost", now=NOW + timedelta(seconds=i)) for i in range(MAX_FAILED_ATTEMPTS + 1)]

    assert {(type(e), str(e)) for e in errors} == {(store.SignInRefused, SIGNIN_REFUSED)}
    assert {r["role"] for r in audit_rows(people, "signin.failure")} == {"anonymous"}


def test_a_disabled_account_is_refused_in_the_same_words_with_or_without_the_right_password(people):
    store.disable_user(people, actor=SYSTEM, username="tom")

    assert str(failed_signin(people, "tom")) == SIGNIN_REFUSED
    assert type(failed_signin(people, "tom", PASSWORD)) is store.SignInRefused
    assert audit_rows(people, "signin.failure")[-1]["detail"]["reason"] == "disabled"  # the admin sees why


# --- single sign-on --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email, username",
    [
        ("cleo@clinic.example", "cleo"),  # matches the contact, whatever the case
        ("CLEO@clinic.example ", "cleo"),
    ],
)
def test_sso_email_maps_to_the_users_row_and_its_role(people, email, username):
    actor = store.actor_for_email(people, email=email, now=NOW)

    assert (actor.username, actor.role) == (username, Role.CLINIC)
    assert audit_rows(people, "signin.success")[-1]["detail"]["method"] == "oidc"


def test_sso_email_that_is_a_username_wins_over_a_contact(db, gym):
    store.add_user(db, actor=SYSTEM, username="x@example.org", display_name="X", role="manager")
    store.add_user(
        db, actor=SYSTEM, username="y", display_name="Y", role="trainer", gym_id=gym.id, contact="x@example.org"
    )

    assert store.actor_for_email(db, email="x@example.org").role == Role.MANAGER


@pytest.mark.parametrize("email", ["stranger@example.org", "", None])
def test_sso_unknown_email_is_refused_and_audited(people, email):
    with pytest.raises(store.SignInRefused, match="ask an administrator"):
        store.actor_for_email(people, email=email)
    assert audit_rows(people, "signin.failure")[-1]["detail"]["reason"] == "unknown_user"


def test_sso_disabled_account_is_refused(people):
    store.disable_user(people, actor=SYSTEM, username="cleo")
    with pytest.raises(store.AccountDisabled):
        store.actor_for_email(people, email="cleo@clinic.example")


# --- people and gyms -------------------------------------------------------------------------


def test_list_users_never_carries_password_hashes(people):
    users = store.list_users(people, actor=SYSTEM)

    assert {u.username for u in users} == {"ann", "tom", "cleo"}
    assert {u.username: u.has_password for u in users} == {"ann": True, "tom": True, "cleo": False}
    assert all("hash" not in name for name in store.UserSummary.model_fields)


def test_reset_password_replaces_the_old_one_and_lifts_the_lock(people):
    for i in range(MAX_FAILED_ATTEMPTS):
        failed_signin(people, "tom", now=NOW + timedelta(seconds=i))
    store.reset_password(people, actor=SYSTEM, username="tom", password="a brand new secret")

    assert store.authenticate(people, username="tom", password="a brand new secret").username == "tom"
    assert str(failed_signin(people, "tom", PASSWORD)) == SIGNIN_REFUSED
    (row,) = audit_rows(people, "user.password_reset")
    assert "a brand new secret" not in json.dumps(row)


@pytest.mark.parametrize(
    "change, kwargs, error",
    [
        (store.add_user, {"username": "new", "display_name": "N", "role": "trainer"}, InvalidInput),  # no gym
        (store.add_user, {"username": "new", "display_name": "N", "role": "system"}, InvalidInput),
        (store.add_user, {"username": "new", "display_name": "N", "role": "admin", "password": "short"}, InvalidInput),
        (store.add_user, {"username": "tom", "display_name": "N", "role": "admin"}, Conflict),
        (store.reset_password, {"username": "tom", "password": "short"}, InvalidInput),
        (store.disable_user, {"username": "nobody"}, NotFound),
        (store.disable_user, {"username": "ann"}, Conflict),  # the only active admin
        (store.set_role, {"username": "ann", "role": "manager", "gym_id": None}, Conflict),
        (store.set_role, {"username": "tom", "role": "trainer", "gym_id": None}, InvalidInput),
    ],
)
def test_account_changes_that_are_refused_say_why(people, change, kwargs, error):
    with pytest.raises(error):
        change(people, actor=SYSTEM, **kwargs)


def test_an_admin_cannot_disable_themselves(people):
    store.add_user(people, actor=SYSTEM, username="bea", display_name="Bea", role="admin")
    ann = store.authenticate(people, username="ann", password=PASSWORD)

    with pytest.raises(Conflict, match="your own account"):
        store.disable_user(people, actor=ann, username="ann")
    assert store.disable_user(people, actor=ann, username="bea").disabled


def test_set_role_moves_a_person_and_is_audited(people, gym):
    store.set_role(people, actor=SYSTEM, username="cleo", role="trainer", gym_id=gym.id)

    (cleo,) = [u for u in store.list_users(people, actor=SYSTEM) if u.username == "cleo"]
    assert (cleo.role, cleo.gym_id) == ("trainer", gym.id)
    assert audit_rows(people, "user.role")[-1]["detail"] == {
        "from": "clinic",
        "to": "trainer",
        "gym_id": gym.id,
        "username": "cleo",
    }


@pytest.mark.parametrize("role", [Role.TRAINER, Role.CLINIC, Role.MANAGER])
def test_only_admins_manage_people_and_the_refusal_is_audited(people, gym, role):
    actor = Actor(username="someone", role=role, gym_id=gym.id)
    for call in (
        lambda: store.list_users(people, actor=actor),
        lambda: store.add_gym(people, actor=actor, name="Elsewhere"),
        lambda: store.disable_user(people, actor=actor, username="tom"),
        lambda: store.reset_password(people, actor=actor, username="tom", password="whatever12345"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert {r["outcome"] for r in audit_rows(people) if r["actor"] == "someone"} == {"denied"}


def test_gym_summaries_count_people_and_clients(people, gym, client):
    store.add_gym(people, actor=SYSTEM, name="Hillside")

    summaries = {g.name: (g.users, g.clients) for g in store.list_gym_summaries(people, actor=SYSTEM)}
    assert summaries == {gym.name: (2, 1), "Hillside": (0, 0)}  # tom and the conftest trainer, Ada


def test_the_first_administrator_only_into_a_new_database_is_refused_once_anyone_is_there(db):
    """`init` on a server database adds its administrator with only_into_new: the emptiness is checked in the
    insert's own transaction (under a lock on PostgreSQL), so a database that holds anyone gets nobody more."""
    first = store.add_user(
        db, actor=SYSTEM, username="boss", display_name="Boss", role="admin", password=PASSWORD, only_into_new=True
    )
    assert first.role == Role.ADMIN
    with pytest.raises(Conflict, match="already holds gyms, users or clients"):
        store.add_user(
            db,
            actor=SYSTEM,
            username="chief",
            display_name="Chief",
            role="admin",
            password=PASSWORD,
            only_into_new=True,
        )
    assert [u.username for u in store.list_users(db, actor=SYSTEM)] == ["boss"]


@pytest.mark.parametrize("change", ["nothing", "disabled", "signed out"])
def test_one_read_of_the_sign_in_answers_as_the_session_and_account_checks_do(people, change):
    """store.check_signin (what a tap runs) on each engine: the same answers as session_state() and
    refresh_actor(). tests/security/test_sessions_signout_idle.py walks the idle limit and the other changes."""
    tom = store.authenticate(people, username="tom", password=PASSWORD, now=NOW)
    if change == "disabled":
        store.disable_user(people, actor=SYSTEM, username="tom", now=NOW)
    elif change == "signed out":
        store.end_sessions(people, actor=tom, now=NOW)
    later = NOW + timedelta(minutes=1)
    state, refreshed = store.check_signin(people, actor=tom, now=later)
    assert (state, refreshed) == (
        store.session_state(people, actor=tom, now=later),
        store.refresh_actor(people, actor=tom),
    )
    assert state == ("ended" if change == "signed out" else "active")
    assert (refreshed == tom) == (change != "disabled")
