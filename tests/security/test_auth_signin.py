"""Attacks on the password sign-in: probing which usernames exist through the lock or the disabled
message, a burst of parallel guesses past the five-attempt limit, a password typed into the username box
landing in the audit log, and a burst of sign-ins exhausting memory through argon2."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest

from backcare import auth, store
from backcare.auth import SYSTEM
from backcare.store import accounts
from backcare.store.accounts import LOCK_DURATION, MAX_FAILED_ATTEMPTS, SIGNIN_REFUSED
from tests.conftest import NOW
from tests.fast_hashing import fast_hashing  # noqa: F401  (autouse)

PASSWORD = "correct horse battery"
WRONG = "wrong password!"


@pytest.fixture
def people(db, gym):
    store.add_user(db, actor=SYSTEM, username="ann", display_name="Ann Admin", role="admin", password=PASSWORD)
    store.add_user(
        db, actor=SYSTEM, username="tom", display_name="Tom Trainer", role="trainer", gym_id=gym.id, password=PASSWORD
    )
    store.add_user(
        db, actor=SYSTEM, username="dee", display_name="Dee Disabled", role="trainer", gym_id=gym.id, password=PASSWORD
    )
    store.disable_user(db, actor=SYSTEM, username="dee")
    return db


def refusal(db, username: str, password: str = WRONG, *, now=NOW) -> store.SignInRefused:
    with pytest.raises(store.SignInRefused) as refused:
        store.authenticate(db, username=username, password=password, now=now)
    return refused.value


def seen(error: Exception) -> tuple[type, str]:
    """What a caller can tell refusals apart by: the type and the sentence."""
    return type(error), str(error)


# --- M3: the lock and the disabled account reveal nothing ------------------------------------


def test_the_lock_does_not_tell_a_real_username_from_an_unknown_one(people):
    """The review's probe: four wrong passwords, one more 16 minutes later."""
    answers = {}
    for name in ("tom", "ghost"):
        for i in range(MAX_FAILED_ATTEMPTS - 1):
            refusal(people, name, now=NOW + timedelta(seconds=i))
        later = NOW + timedelta(minutes=16)
        answers[name] = [seen(refusal(people, name, now=later + timedelta(seconds=i))) for i in range(3)]

    assert answers["tom"] == answers["ghost"] == [(store.SignInRefused, SIGNIN_REFUSED)] * 3


def test_a_locked_account_with_the_right_password_reads_like_a_wrong_password(people):
    for i in range(MAX_FAILED_ATTEMPTS):
        refusal(people, "tom", now=NOW + timedelta(seconds=i))

    assert seen(refusal(people, "tom", PASSWORD, now=NOW + timedelta(minutes=1))) == seen(refusal(people, "ghost"))
    # the lock still holds: the right password is refused until it ends
    later = NOW + LOCK_DURATION + timedelta(seconds=10)
    assert store.authenticate(people, username="tom", password=PASSWORD, now=later).username == "tom"


def test_a_disabled_account_with_the_right_password_does_not_confirm_the_password(people):
    right, wrong = refusal(people, "dee", PASSWORD), refusal(people, "dee", WRONG)

    assert seen(right) == seen(wrong) == (store.SignInRefused, SIGNIN_REFUSED)


@pytest.mark.parametrize(
    "username, password",
    [
        ("tom", WRONG),
        ("ghost", PASSWORD),
        ("dee", PASSWORD),
        ("dee", WRONG),
        ("", PASSWORD),
        ("tom", ""),
    ],
)
def test_every_refusal_is_the_same_type_and_sentence(people, username, password):
    assert seen(refusal(people, username, password)) == (store.SignInRefused, SIGNIN_REFUSED)


# --- parallel sign-ins ---------------------------------------------------------------------


def test_a_burst_of_parallel_guesses_checks_at_most_five_passwords(people, monkeypatch):
    """Eight wrong passwords and the right one at once: the review saw all nine checked. At most five
    passwords are checked against the account per lock, and the burst leaves it locked."""
    with people.read() as cur:
        (tom_hash,) = cur.execute("SELECT password_hash FROM users WHERE username = 'tom'").fetchone()
    checked: list[str] = []
    real_verify = auth._HASHER.verify
    guesses = [f"guess number {i}" for i in range(8)] + [PASSWORD]
    # The burst is at once: every attempt is counted before any password check ends. Left to the scheduler, a
    # loaded machine could run the right password's whole sign-in (which lifts the count, as it should) before
    # the other threads started, and the rest then met a fresh count: a later burst, not this one.
    counted, counting, all_counted = [0], threading.Lock(), threading.Event()
    real_reserve = accounts._reserve_attempt

    def reserve(*args, **kwargs):
        try:
            return real_reserve(*args, **kwargs)
        finally:
            with counting:
                counted[0] += 1
                if counted[0] == len(guesses):
                    all_counted.set()

    class CountingHasher:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, stored, password):
            if stored == tom_hash:
                checked.append(password)
                assert all_counted.wait(30), "the burst's attempts were not all counted"
            return real_verify(stored, password)

    real = auth._HASHER
    monkeypatch.setattr(auth, "_HASHER", CountingHasher())
    monkeypatch.setattr(accounts, "_reserve_attempt", reserve)
    start = threading.Barrier(len(guesses))
    results: list[object] = [None] * len(guesses)

    def attempt(i: int) -> None:
        start.wait()
        try:
            results[i] = store.authenticate(people, username="tom", password=guesses[i], now=NOW)
        except store.SignInRefused as error:
            results[i] = error

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(guesses))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(checked) <= MAX_FAILED_ATTEMPTS, checked
    assert all(isinstance(r, (store.SignInRefused, auth.Actor)) for r in results)
    if PASSWORD not in checked:  # the right password was not among the checked: the account is locked now
        assert seen(refusal(people, "tom", PASSWORD, now=NOW + timedelta(minutes=1)))[1] == SIGNIN_REFUSED


def test_five_wrong_passwords_in_a_row_still_lock(people):
    for i in range(MAX_FAILED_ATTEMPTS):
        refusal(people, "tom", now=NOW + timedelta(seconds=i))
    (tom,) = [u for u in store.list_users(people, actor=SYSTEM) if u.username == "tom"]

    assert tom.failed_attempts == MAX_FAILED_ATTEMPTS and tom.locked_until == NOW + timedelta(seconds=4) + LOCK_DURATION


# --- the audit log ---------------------------------------------------------------------------


def test_a_password_typed_into_the_username_box_is_not_stored(people):
    refusal(people, "My Secret Passphrase 42", "")
    refusal(people, "tom", "My Other Secret 43")

    with people.read() as cur:
        dumped = json.dumps(cur.execute("SELECT * FROM audit_log").fetchall(), default=str).lower()
    assert "my secret passphrase" not in dumped and "my other secret" not in dumped
    with people.read() as cur:
        (failures,) = cur.execute("SELECT count(*) FROM audit_log WHERE action = 'signin.failure'").fetchone()
    assert failures == 2  # both attempts are still on record


# --- argon2 under a burst --------------------------------------------------------------------


@pytest.mark.parametrize("work", ["hash", "verify"])
def test_no_more_than_a_few_passwords_are_hashed_at_once(monkeypatch, work):
    """Each argon2 computation takes its memory (64 MiB by default): a burst of sign-ins must queue."""
    lock = threading.Lock()
    running, peak = [0], [0]

    class SlowHasher:
        def _busy(self):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.03)
            with lock:
                running[0] -= 1

        def hash(self, password):
            self._busy()
            return "$argon2id$fake"

        def verify(self, stored, password):
            self._busy()
            return True

    monkeypatch.setattr(auth, "_HASHER", SlowHasher())
    call = (
        (lambda: auth.hash_password("some password"))
        if work == "hash"
        else (lambda: auth.verify_password("$argon2id$fake", "some password"))
    )
    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert 1 <= peak[0] <= auth.HASH_CONCURRENCY <= 4
