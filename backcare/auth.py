"""Roles, the acting user, and the permission matrix every store function checks.

Hiding a page is not access control: the store calls `authorize()` before it reads or writes client
data, whichever page or command calls it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum

from backcare.errors import PermissionDenied


class Role(StrEnum):
    TRAINER = "trainer"
    CLINIC = "clinic"
    MANAGER = "manager"
    ADMIN = "admin"
    SYSTEM = "system"  # command line and scripts run by whoever holds the database file


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting. `gym_id` None means every gym of the chain (clinic, manager, admin may be chain-wide)."""

    username: str
    role: Role
    gym_id: int | None = None
    user_id: int | None = None
    # set at sign-in from the stored password hash (never the hash itself): a later password change ends
    # the session (store.refresh_actor). None for actors made by code (scripts, tests).
    session_token: str | None = None
    # the server-side sign-in session (store.signin_sessions) this browser session belongs to; None for
    # actors made by code. Signing out, or idling past the limit, ends it for every tab at once.
    session_id: str | None = None


SYSTEM = Actor(username="system", role=Role.SYSTEM)


class Action(StrEnum):
    CLIENT_READ = "client.read"  # a client's record, history, reports, sessions, plans
    CLIENT_WRITE = "client.write"  # create/update clients, log sessions, save reports, assign plans
    REFERRAL_READ = "referral.read"  # the queue and a referral's status
    HANDOFF_READ = "handoff.read"  # the handoff summary (report answers, findings, session)
    REFERRAL_UPDATE = "referral.update"  # status changes and clearance
    TRENDS_READ = "trends.read"  # aggregates only, no client identities
    PEOPLE_MANAGE = "people.manage"  # users and gyms
    AUDIT_READ = "audit.read"
    CLIENT_ERASE = "client.erase"
    EXPORT = "export"  # whole-table export of the file


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.TRAINER: frozenset({Action.CLIENT_READ, Action.CLIENT_WRITE, Action.REFERRAL_READ}),
    Role.CLINIC: frozenset({Action.REFERRAL_READ, Action.HANDOFF_READ, Action.REFERRAL_UPDATE}),
    Role.MANAGER: frozenset({Action.TRENDS_READ}),
    Role.ADMIN: frozenset({Action.PEOPLE_MANAGE, Action.AUDIT_READ, Action.CLIENT_ERASE, Action.TRENDS_READ}),
    Role.SYSTEM: frozenset(Action),
}


def allowed(actor: Actor, action: Action, gym_id: int | None = None) -> bool:
    """Role allows the action, and the record's gym is the actor's (or the actor is chain-wide)."""
    if action not in PERMISSIONS.get(actor.role, frozenset()):
        return False
    if gym_id is None or actor.gym_id is None:
        return True
    return gym_id == actor.gym_id


def allowed_in_gym(actor: Actor, action: Action, gym_id: int | None) -> bool:
    """Like allowed(), but a None gym means a chain-wide record, not "no record": a gym-scoped actor may
    act only on records of their own gym, never on chain-wide ones (e.g. a chain-wide user account)."""
    if action not in PERMISSIONS.get(actor.role, frozenset()):
        return False
    return actor.gym_id is None or gym_id == actor.gym_id


def authorize(actor: Actor, action: Action, gym_id: int | None = None) -> None:
    if not allowed(actor, action, gym_id):
        # never the record's gym: a refusal must not tell which gym a record belongs to
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not {action.value}.")


# --- passwords -------------------------------------------------------------------------------

from argon2 import PasswordHasher  # noqa: E402  (kept beside its only users)
from argon2.exceptions import InvalidHashError, VerificationError  # noqa: E402

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Each argon2 computation holds its memory (64 MiB with the default parameters) for ~0.1 s: a burst of
# sign-ins queues here instead of exhausting the server's memory.
HASH_CONCURRENCY = 2
_HASH_SLOTS = threading.BoundedSemaphore(HASH_CONCURRENCY)


def hash_password(password: str) -> str:
    with _HASH_SLOTS:
        return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    with _HASH_SLOTS:
        try:
            return _HASHER.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with older parameters than the library now recommends."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


PASSWORD_MIN_LENGTH = 10


def password_problem(password: str | None) -> str | None:
    """Why a new password is not acceptable, or None. Length is what matters most (NIST SP 800-63B)."""
    if not password:
        return "a password is needed"
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"use at least {PASSWORD_MIN_LENGTH} characters"
    if len(password) > 1024:
        return "use at most 1024 characters"
    if password.strip() != password:
        return "do not start or end the password with a space"
    return None
