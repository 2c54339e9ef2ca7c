"""A reload resumes the sign-in from a cookie holding the session's id (never the URL): only an open session
that has not idled out, of an enabled account whose password has not changed since, and never a forged one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backcare import store
from backcare.auth import SYSTEM
from tests.conftest import NOW
from tests.fast_hashing import fast_hashing  # noqa: F401  (autouse)

PASSWORD = "correct horse battery"


@pytest.fixture
def signed_in(db, gym):
    store.add_user(
        db, actor=SYSTEM, username="tom", display_name="Tom Trainer", role="trainer", gym_id=gym.id, password=PASSWORD
    )
    actor = store.authenticate(db, username="tom", password=PASSWORD, now=NOW)
    return actor, store.resume_cookie(actor, db)


def test_an_open_session_resumes_as_the_same_actor(db, signed_in):
    actor, cookie = signed_in
    assert actor.session_id not in (cookie or "").split(".")[1:]  # the binding is not the id again
    resumed = store.resume_signin(db, cookie=cookie, now=NOW + timedelta(minutes=5))
    assert resumed == actor
    assert store.session_state(db, actor=resumed, now=NOW + timedelta(minutes=5)) == "active"


def test_an_idle_session_does_not_resume(db, signed_in):
    _, cookie = signed_in
    assert store.resume_signin(db, cookie=cookie, now=NOW + timedelta(minutes=31)) is None


def test_a_signed_out_session_does_not_resume(db, signed_in):
    actor, cookie = signed_in
    store.end_sessions(db, actor=actor, now=NOW + timedelta(minutes=1))
    assert store.resume_signin(db, cookie=cookie, now=NOW + timedelta(minutes=2)) is None


def test_a_password_reset_ends_what_the_cookie_can_resume(db, signed_in):
    _, cookie = signed_in
    store.reset_password(db, actor=SYSTEM, username="tom", password="a brand new secret")
    assert store.resume_signin(db, cookie=cookie, now=NOW + timedelta(minutes=1)) is None


def test_a_disabled_account_does_not_resume(db, signed_in):
    _, cookie = signed_in
    store.disable_user(db, actor=SYSTEM, username="tom")
    assert store.resume_signin(db, cookie=cookie, now=NOW + timedelta(minutes=1)) is None


@pytest.mark.parametrize(
    "forge",
    [lambda c: c.split(".")[0], lambda c: c.split(".")[0] + ".0" * 16, lambda c: "x" + c, lambda c: "", lambda c: None],
)
def test_a_forged_or_cut_cookie_resumes_nothing(db, signed_in, forge):
    _, cookie = signed_in
    assert store.resume_signin(db, cookie=forge(cookie), now=NOW + timedelta(minutes=1)) is None
