"""Roles, the permission check and password hashing (argon2id)."""

from __future__ import annotations

import pytest

from backcare import auth
from backcare.auth import PERMISSIONS, SYSTEM, Action, Actor, Role, allowed, authorize
from backcare.errors import PermissionDenied


def test_hash_is_argon2id_salted_and_verifies_only_the_same_password():
    first, second = auth.hash_password("tablet at the gym"), auth.hash_password("tablet at the gym")

    assert first.startswith("$argon2id$") and first != second  # a fresh salt each time
    assert auth.verify_password(first, "tablet at the gym")
    assert not auth.verify_password(first, "tablet at the gym ")
    assert not auth.verify_password("not a hash", "tablet at the gym")
    assert not auth.needs_rehash(first)


@pytest.mark.parametrize(
    "password, problem",
    [
        ("", "a password is needed"),
        (None, "a password is needed"),
        ("short", "at least 10"),
        (" padded password ", "space"),
        ("x" * 1025, "at most"),
        ("ten chars!", None),
    ],
)
def test_password_problem_names_what_to_fix(password, problem):
    found = auth.password_problem(password)
    assert found is None if problem is None else problem in found


@pytest.mark.parametrize("role", [r for r in Role if r != Role.SYSTEM])
@pytest.mark.parametrize("action", list(Action))
def test_allowed_follows_the_matrix_and_the_gym(role, action):
    same, other, chain = (Actor("a", role, gym_id=1), Actor("a", role, gym_id=2), Actor("a", role))
    expected = action in PERMISSIONS[role]

    assert allowed(same, action, 1) is expected
    assert allowed(chain, action, 1) is expected  # chain-wide: any gym
    assert allowed(other, action, 1) is False  # another gym: never
    assert allowed(other, action, None) is expected  # no record gym: the role decides


def test_authorize_raises_a_sentence_naming_who_and_what_but_not_the_gym():
    with pytest.raises(PermissionDenied, match=r"^tara \(trainer\) may not client.erase\.$"):
        authorize(Actor("tara", Role.TRAINER, gym_id=3), Action.CLIENT_ERASE, 3)
    authorize(SYSTEM, Action.CLIENT_ERASE, 3)  # the command line may do everything


def test_only_admins_erase_manage_people_and_read_the_audit():
    for action in (Action.CLIENT_ERASE, Action.PEOPLE_MANAGE, Action.AUDIT_READ):
        assert {r for r in Role if action in PERMISSIONS[r]} == {Role.ADMIN, Role.SYSTEM}
