"""Accounts: sign-in with lockout, single sign-on mapping, and the administration of people and gyms.

Sign-in never says whether a username exists or whether a password was right: an unknown name, a wrong
password, a locked account and a disabled one (even with the right password) all get the same sentence and
the same exception type, and each spends one argon2 verification, so timing tells them apart no better.
Attempts are counted before the password is checked, atomically, so a burst of parallel guesses checks at
most MAX_FAILED_ATTEMPTS passwords. Every attempt is audited, never the password, and never what was typed
as a username that has no account (it may be a password typed into the wrong box).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import NoReturn

import duckdb
from pydantic import BaseModel, ConfigDict

from backcare.auth import (
    Action,
    Actor,
    Role,
    allowed_in_gym,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from backcare.errors import BackCareError, Conflict, InvalidInput, NotFound, PermissionDenied
from backcare.store._base import guard, one_as_dict, rows_as_dicts
from backcare.store.db import Database, utcnow
from backcare.store.people import STAFF_ROLES, actor_for, create_gym, create_user
from backcare.store.records import GymRow, UserRow
from backcare.store.signin_sessions import (
    IDLE_LIMIT,
    judge_session,
    session_key,
    session_state,
    session_user,
    start_session,
)

MAX_FAILED_ATTEMPTS = 5
LOCK_DURATION = timedelta(minutes=15)
USERNAME_AUDIT_LENGTH = 64
ANONYMOUS = "anonymous"  # the audit role of a sign-in attempt under a name that has no account

UNKNOWN_USERNAME = "(unknown)"  # the audit's name for an attempt under a name that has no account

SIGNIN_REFUSED = (
    "The username or password is not right, or the account cannot sign in now (after "
    f"{MAX_FAILED_ATTEMPTS} wrong passwords it waits {int(LOCK_DURATION.total_seconds() // 60)} "
    "minutes). Check both and try again, or ask an administrator."
)


class SignInRefused(BackCareError):
    """Sign-in failed; the sentence never says whether the username exists."""


class AccountLocked(SignInRefused):
    """Kept for callers that name it; authenticate() no longer raises it (a lock reads like a wrong password)."""

    def __init__(self, until: datetime):
        self.until = until
        super().__init__(SIGNIN_REFUSED)


class AccountDisabled(SignInRefused):
    """Single sign-on only: the provider proved who the person is, so saying why costs nothing."""

    def __init__(self):
        super().__init__("This account is disabled: ask an administrator if you need access again.")


class UserSummary(BaseModel):
    """A user as the admin page shows it: never the password hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    username: str
    display_name: str
    role: str
    gym_id: int | None
    gym_name: str | None
    contact: str | None
    disabled: bool
    locked_until: datetime | None
    failed_attempts: int
    has_password: bool
    created_at: datetime

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())


class GymSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    name: str
    created_at: datetime
    users: int
    clients: int


# --- sign-in ---------------------------------------------------------------------------------

_DUMMY_HASH: list[str] = []


def _spend_a_verification(password: str) -> None:
    """Verify against a throwaway hash so an unknown name takes as long as a known one."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("not-a-real-account-password"))
    verify_password(_DUMMY_HASH[0], password)


def _normal_username(username: str | None) -> str:
    return (username or "").strip().lower()[:USERNAME_AUDIT_LENGTH]


def _write_attempt(
    db: Database,
    *,
    username: str,
    role: str,
    action: str,
    outcome: str,
    detail: dict,
    now: datetime,
    work: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> None:
    """The counter update (if any) and the attempt's audit row, in one transaction. Database.transaction
    always records outcome 'ok'; a refused sign-in is recorded as 'failed'."""
    if db.read_only:
        return
    attempt_actor = Actor(username=username or "(empty)", role=role)  # type: ignore[arg-type]
    db.audit(
        attempt_actor,
        action,
        "users",
        username,
        outcome=outcome,
        detail=detail,
        now=now,
        work=work,
        doing="recording the sign-in",
    )


def _user_row(db: Database, username: str) -> UserRow | None:
    with db.read("looking up the user") as cur:
        row = one_as_dict(cur.execute("SELECT * FROM users WHERE username = ?", [username]))
    return None if row is None else UserRow(**row)


def _reserve_attempt(db: Database, user_id: int, now: datetime) -> bool:
    """Count this attempt before its password is checked, in one statement: False (check nothing) while the
    account is locked. The attempt that reaches MAX_FAILED_ATTEMPTS sets the lock as it starts, so no later
    attempt of a parallel burst gets a check; a right password then lifts it (see the success below)."""

    def reserve(cur) -> bool:
        return (
            cur.execute(
                "UPDATE users SET "
                "failed_attempts = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END, "
                "locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END) "
                ">= $max THEN $until END "
                "WHERE id = $id AND (locked_until IS NULL OR locked_until <= $now) RETURNING id",
                {"now": now, "max": MAX_FAILED_ATTEMPTS, "until": now + LOCK_DURATION, "id": user_id},
            ).fetchone()
            is not None
        )

    if db.read_only:
        return True
    return db.bookkeeping(reserve, "counting the sign-in attempt")


def authenticate(db: Database, *, username: str, password: str, now: datetime | None = None) -> Actor:
    """The Actor for a username and password, with a new server-side session; SignInRefused otherwise,
    always with the same sentence.

    MAX_FAILED_ATTEMPTS wrong passwords in a row lock the username for LOCK_DURATION; while locked, even
    the right password is refused. Every attempt writes signin.success or signin.failure."""
    now = now or utcnow()
    name = _normal_username(username)
    password = password or ""
    user = _user_row(db, name) if name else None

    def fail(reason: str, *, role: str, who: str) -> NoReturn:
        _write_attempt(
            db,
            username=who,
            role=role,
            action="signin.failure",
            outcome="failed",
            detail={"username": who, "reason": reason, "method": "password"},
            now=now,
        )
        raise SignInRefused(SIGNIN_REFUSED)

    if user is None:
        _spend_a_verification(password)
        fail("unknown_user", role=ANONYMOUS, who=UNKNOWN_USERNAME)
    if not _reserve_attempt(db, user.id, now):
        _spend_a_verification(password)  # as slow as any other refusal
        fail("locked", role=user.role, who=name)
    if user.password_hash is None:
        _spend_a_verification(password)
        fail("no_password", role=user.role, who=name)
    if not verify_password(user.password_hash, password):
        fail("wrong_password", role=user.role, who=name)
    if user.disabled:
        fail("disabled", role=user.role, who=name)  # only after the check, and in the same words

    rehash = hash_password(password) if needs_rehash(user.password_hash) else None
    started: dict = {}

    def reset(cur) -> None:
        cur.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = ?", [user.id])
        if rehash is not None:
            cur.execute("UPDATE users SET password_hash = ? WHERE id = ?", [rehash, user.id])
        started["id"] = start_session(cur, user_id=user.id, now=now)

    _write_attempt(
        db,
        username=name,
        role=user.role,
        action="signin.success",
        outcome="ok",
        detail={"username": name, "method": "password"},
        now=now,
        work=reset,
    )
    return replace(
        actor_for(user), session_token=session_token(rehash or user.password_hash), session_id=started.get("id")
    )


def actor_for_email(db: Database, *, email: str | None, now: datetime | None = None) -> Actor:
    """Single sign-on (OpenID Connect): the provider vouches for the e-mail; the users table decides who
    that is and what they may do. The e-mail matches a username or a user's contact; an unknown or
    disabled account is refused. Audited like a password sign-in."""
    now = now or utcnow()
    address = _normal_username(email)
    detail = {"username": address, "method": "oidc"}
    with db.read("looking up the user") as cur:
        rows = rows_as_dicts(
            cur.execute(
                "SELECT * FROM users WHERE username = $email OR lower(trim(contact)) = $email "
                "ORDER BY username = $email DESC, id",
                {"email": address},
            )
        )

    def refuse(username: str, role: str, reason: str, error: Exception) -> NoReturn:
        _write_attempt(
            db,
            username=username,
            role=role,
            action="signin.failure",
            outcome="failed",
            detail={**detail, "reason": reason},
            now=now,
        )
        raise error

    if not address or not rows:
        refuse(
            address,
            ANONYMOUS,
            "unknown_user",
            SignInRefused(
                f"No BackCare account is linked to {address or 'this sign-in'}: ask an administrator "
                "to add you with this e-mail address."
            ),
        )
    if len(rows) > 1 and rows[0]["username"] != address:
        refuse(
            address,
            ANONYMOUS,
            "ambiguous",
            SignInRefused(
                f"More than one BackCare account uses {address} as contact: ask an administrator "
                "to make it the username of the right one."
            ),
        )
    user = UserRow(**rows[0])
    if user.disabled:
        refuse(user.username, user.role, "disabled", AccountDisabled())
    started: dict = {}
    _write_attempt(
        db,
        username=user.username,
        role=user.role,
        action="signin.success",
        outcome="ok",
        detail=detail,
        now=now,
        work=lambda cur: started.update(id=start_session(cur, user_id=user.id, now=now)),
    )
    return replace(actor_for(user), session_token=session_token(user.password_hash), session_id=started.get("id"))


# --- open sessions ---------------------------------------------------------------------------


def session_token(password_hash: str | None) -> str:
    """What a session remembers of the password it was opened with: a digest of the stored hash (never
    the hash), so a password change or reset is noticed by refresh_actor."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()


_ACCOUNT_COLUMNS = "u.id, u.username, u.role, u.gym_id, u.disabled, u.password_hash"


def refresh_actor(db: Database, *, actor: Actor) -> Actor | None:
    """The signed-in actor as the users table has it now (one query), or None when the account is gone
    or disabled. A result different from `actor` means the role, the gym or the password changed since
    sign-in: the session should end. An actor without a session_token (made by code, not by a sign-in)
    is compared on role and gym only."""
    by_id = actor.user_id is not None
    with db.read("checking the account") as cur:
        row = cur.execute(
            f"SELECT {_ACCOUNT_COLUMNS} FROM users AS u WHERE " + ("u.id = ?" if by_id else "u.username = ?"),
            [actor.user_id if by_id else actor.username],
        ).fetchone()
    return _refreshed(actor, row)


def _refreshed(actor: Actor, row: tuple | None) -> Actor | None:
    """refresh_actor() given the account's row (_ACCOUNT_COLUMNS; None: no such account)."""
    if row is None or row[0] is None or row[4]:
        return None
    user_id, username, role, gym_id, _, password_hash = row
    try:
        role = Role(role)
    except ValueError:
        return None
    token = None if actor.session_token is None else session_token(password_hash)
    return Actor(
        username=username,
        role=role,
        gym_id=gym_id,
        user_id=user_id if actor.user_id is not None else None,
        session_token=token,
        session_id=actor.session_id,
    )


def check_signin(
    db: Database, *, actor: Actor, now: datetime | None = None, idle: timedelta = IDLE_LIMIT, touch: bool = True
) -> tuple[str, Actor | None]:
    """What a tap checks: session_state() and refresh_actor(), from one read of the session's row and the
    account's row (one statement a tap instead of two: on PostgreSQL each is a round trip)."""
    if actor.session_id is None or actor.user_id is None:  # made by code: no session row to read with it
        return session_state(db, actor=actor, now=now, idle=idle, touch=touch), refresh_actor(db, actor=actor)
    with db.read("checking the sign-in") as cur:
        row = cur.execute(
            f"SELECT {_ACCOUNT_COLUMNS}, s.user_id, s.last_seen_at, s.ended_at "
            "FROM (SELECT 1 AS one) AS here "
            "LEFT JOIN users AS u ON u.id = ? LEFT JOIN signin_sessions AS s ON s.id = ?",
            [actor.user_id, session_key(actor.session_id)],
        ).fetchone()
    session = None if row[6] is None else tuple(row[6:])
    state = judge_session(db, actor=actor, row=session, now=now or utcnow(), idle=idle, touch=touch)
    return state, _refreshed(actor, tuple(row[:6]))


# --- people ----------------------------------------------------------------------------------

_SUMMARY_SELECT = (
    "SELECT u.id, u.username, u.display_name, u.role, u.gym_id, g.name AS gym_name, u.contact, u.disabled, "
    "u.locked_until, u.failed_attempts, u.password_hash IS NOT NULL AS has_password, u.created_at "
    "FROM users AS u LEFT JOIN gyms AS g ON g.id = u.gym_id"
)


def _role(role: Role | str) -> Role:
    try:
        value = Role(role)
    except ValueError:
        value = None
    if value not in STAFF_ROLES:
        raise InvalidInput("role", f"must be one of {', '.join(r.value for r in STAFF_ROLES)}")
    return value


def _summary(db: Database, username: str) -> UserSummary:
    with db.read("reading the user") as cur:
        row = one_as_dict(cur.execute(_SUMMARY_SELECT + " WHERE u.username = ?", [username]))
    if row is None:
        raise NotFound(f"There is no user called {username}.")
    return UserSummary(**row)


def _guard_people_of(
    db: Database,
    actor: Actor,
    gym_id: int | None,
    *,
    attempt: str,
    entity: str = "users",
    entity_id=None,
    why: str = "you manage the people of your own gym only",
) -> None:
    """PEOPLE_MANAGE for the people (or gym) of `gym_id`, where None means chain-wide: a gym-scoped admin
    manages their own gym's people only, never chain-wide ones nor another gym's. Refusals are audited."""
    guard(db, actor, Action.PEOPLE_MANAGE, None, attempt=attempt, entity=entity, entity_id=entity_id)
    if not allowed_in_gym(actor, Action.PEOPLE_MANAGE, gym_id):
        db.audit(
            actor,
            attempt,
            entity,
            entity_id,
            outcome="denied",
            detail={"needs": Action.PEOPLE_MANAGE.value, "gym_id": gym_id},
        )
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not {Action.PEOPLE_MANAGE.value} "
            f"{'chain-wide' if gym_id is None else 'there'}: {why}."
        )  # never the gym


def _managed_user(db: Database, actor: Actor, username: str, attempt: str) -> UserSummary:
    """The user to change, after checking the actor may manage people of that user's gym (a gym-scoped
    admin may not touch a chain-wide account)."""
    guard(db, actor, Action.PEOPLE_MANAGE, None, attempt=attempt, entity="users", entity_id=username)
    user = _summary(db, _normal_username(username))
    _guard_people_of(db, actor, user.gym_id, attempt=attempt, entity_id=user.id)
    return user


def _check_gym_for(role: Role, gym_id: int | None) -> None:
    if role == Role.TRAINER and gym_id is None:
        raise InvalidInput("gym", "a trainer belongs to one gym")


def _other_active_admins(cur, user_id: int) -> int:
    (n,) = cur.execute(
        "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND id <> ?", [user_id]
    ).fetchone()
    return int(n)


def add_user(
    db: Database,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    role: Role | str,
    gym_id: int | None = None,
    contact: str | None = None,
    password: str | None = None,
    now: datetime | None = None,
    only_into_new: bool = False,
) -> UserSummary:
    """A new account. Without a password the person can only sign in through single sign-on.
    `only_into_new`: see people.create_user (the first administrator of a server database)."""
    _guard_people_of(db, actor, gym_id, attempt="user.create")
    value = _role(role)
    _check_gym_for(value, gym_id)
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise InvalidInput("password", problem)
    contact = (contact or "").strip() or None
    created = create_user(
        db,
        actor=actor,
        username=username,
        display_name=display_name,
        role=value,
        gym_id=gym_id,
        contact=contact,
        password=password,
        now=now,
        only_into_new=only_into_new,
    )
    return _summary(db, created.username)


def _update_user(
    db: Database,
    actor: Actor,
    user: UserSummary,
    action: str,
    detail: dict,
    sql: str,
    params: list,
    now: datetime | None,
    check: Callable | None = None,
) -> UserSummary:
    with db.transaction(
        actor, action, "users", user.id, {"username": user.username, **detail}, now=now or utcnow()
    ) as txn:
        if check is not None:
            check(txn.cursor)
        txn.cursor.execute(sql, [*params, user.id])
    return _summary(db, user.username)


def _keep_an_admin(user: UserSummary, doing: str) -> Callable:
    def check(cur) -> None:
        if user.role == Role.ADMIN.value and not user.disabled and _other_active_admins(cur, user.id) == 0:
            raise Conflict(f"{user.username} is the only active administrator: add another one before {doing}.")

    return check


def disable_user(db: Database, *, actor: Actor, username: str, now: datetime | None = None) -> UserSummary:
    """The account can no longer sign in; its history (reports, audit) stays."""
    user = _managed_user(db, actor, username, "user.disable")
    if user.username == actor.username:
        raise Conflict("You cannot disable your own account: ask another administrator.")
    return _update_user(
        db,
        actor,
        user,
        "user.disable",
        {},
        "UPDATE users SET disabled = true WHERE id = ?",
        [],
        now,
        _keep_an_admin(user, "disabling this one"),
    )


def enable_user(db: Database, *, actor: Actor, username: str, now: datetime | None = None) -> UserSummary:
    user = _managed_user(db, actor, username, "user.enable")
    return _update_user(
        db,
        actor,
        user,
        "user.enable",
        {},
        "UPDATE users SET disabled = false, failed_attempts = 0, locked_until = NULL WHERE id = ?",
        [],
        now,
    )


def unlock_user(db: Database, *, actor: Actor, username: str, now: datetime | None = None) -> UserSummary:
    user = _managed_user(db, actor, username, "user.unlock")
    return _update_user(
        db,
        actor,
        user,
        "user.unlock",
        {},
        "UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = ?",
        [],
        now,
    )


def reset_password(
    db: Database, *, actor: Actor, username: str, password: str, now: datetime | None = None
) -> UserSummary:
    """A new password set by an administrator; the lock and the failure count are cleared. The audit row
    never holds the password."""
    user = _managed_user(db, actor, username, "user.password_reset")
    problem = password_problem(password)
    if problem:
        raise InvalidInput("password", problem)
    return _update_user(
        db,
        actor,
        user,
        "user.password_reset",
        {},
        "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL WHERE id = ?",
        [hash_password(password)],
        now,
    )


def set_role(
    db: Database, *, actor: Actor, username: str, role: Role | str, gym_id: int | None, now: datetime | None = None
) -> UserSummary:
    """Change what a person may do and where. Their open sessions end (refresh_actor)."""
    user = _managed_user(db, actor, username, "user.role")
    _guard_people_of(db, actor, gym_id, attempt="user.role", entity_id=user.id)  # nor move them elsewhere
    value = _role(role)
    _check_gym_for(value, gym_id)
    with db.read() as cur:
        if gym_id is not None and not cur.execute("SELECT 1 FROM gyms WHERE id = ?", [gym_id]).fetchone():
            raise InvalidInput("gym", f"there is no gym with id {gym_id}")
    check = _keep_an_admin(user, "changing this one's role") if value != Role.ADMIN else None
    return _update_user(
        db,
        actor,
        user,
        "user.role",
        {"from": user.role, "to": value.value, "gym_id": gym_id},
        "UPDATE users SET role = ?, gym_id = ? WHERE id = ?",
        [value.value, gym_id],
        now,
        check,
    )


def list_users(db: Database, *, actor: Actor, include_disabled: bool = True) -> list[UserSummary]:
    """Everyone the actor manages (their gym's people, or everyone for a chain-wide admin)."""
    guard(db, actor, Action.PEOPLE_MANAGE, None, attempt="user.list", entity="users")
    with db.read("listing users") as cur:
        rows = rows_as_dicts(
            cur.execute(
                _SUMMARY_SELECT + " WHERE ($gym_id IS NULL OR u.gym_id = $gym_id) AND ($all OR NOT u.disabled) "
                "ORDER BY u.disabled, u.role, u.username",
                {"gym_id": actor.gym_id, "all": include_disabled},
            )
        )
    return [UserSummary(**r) for r in rows]


# --- gyms ------------------------------------------------------------------------------------


def add_gym(db: Database, *, actor: Actor, name: str, now: datetime | None = None) -> GymRow:
    _guard_people_of(
        db, actor, None, attempt="gym.create", entity="gyms", why="only a chain-wide administrator adds gyms"
    )
    return create_gym(db, actor=actor, name=name, now=now)


def list_gym_summaries(db: Database, *, actor: Actor) -> list[GymSummary]:
    """Gyms with how many people and clients each has (counts only, no client data)."""
    guard(db, actor, Action.PEOPLE_MANAGE, None, attempt="gym.list", entity="gyms")
    with db.read("listing gyms") as cur:
        rows = rows_as_dicts(
            cur.execute(
                "SELECT g.id, g.name, g.created_at, "
                "(SELECT count(*) FROM users AS u WHERE u.gym_id = g.id) AS users, "
                "(SELECT count(*) FROM clients AS c WHERE c.gym_id = g.id) AS clients "
                "FROM gyms AS g WHERE $gym_id IS NULL OR g.id = $gym_id ORDER BY g.name",
                {"gym_id": actor.gym_id},
            )
        )
    return [GymSummary(**r) for r in rows]


def gym_id_by_name(db: Database, *, name: str) -> int:
    """For the command line: a gym's id from its name (case-insensitive)."""
    with db.read("looking up the gym") as cur:
        row = cur.execute("SELECT id FROM gyms WHERE lower(name) = lower(?)", [(name or "").strip()]).fetchone()
    if row is None:
        raise NotFound(f"There is no gym called {name}.")
    return int(row[0])


# --- a reload resumes the sign-in (issue 14) ---------------------------------------------------


def resume_binding(session_id: str, password_hash: str | None) -> str:
    """Ties a browser's session cookie to the password the session was opened with: after a password change
    or reset the cookie no longer resumes anything. Reveals neither the session key nor the hash."""
    return hashlib.sha256(f"{session_id}:{password_hash or ''}".encode()).hexdigest()[:32]


def resume_cookie(actor: Actor, db: Database) -> str | None:
    """The cookie value for a signed-in actor: '<session id>.<binding>' (None without a session)."""
    if actor.session_id is None or actor.user_id is None:
        return None
    with db.read("reading the account") as cur:
        row = cur.execute("SELECT password_hash FROM users WHERE id = ?", [actor.user_id]).fetchone()
    return None if row is None else f"{actor.session_id}.{resume_binding(actor.session_id, row[0])}"


def resume_signin(
    db: Database, *, cookie: str | None, now: datetime | None = None, idle: timedelta | None = None
) -> Actor | None:
    """The actor of an open session named by a resume cookie, or None (unknown, ended, idle, disabled
    account, or a password changed since). Not a sign-in: nothing is written; the run that follows checks and
    touches the session row as every run does."""
    if not cookie or "." not in cookie:
        return None
    session_id, _, binding = cookie.partition(".")
    user_id = session_user(db, session_id=session_id, now=now, idle=idle or IDLE_LIMIT)
    if user_id is None:
        return None
    with db.read("reading the account") as cur:
        rows = rows_as_dicts(cur.execute("SELECT * FROM users WHERE id = ?", [user_id]))
    if not rows:
        return None
    user = UserRow(**rows[0])
    if user.disabled or not hmac.compare_digest(binding, resume_binding(session_id, user.password_hash)):
        return None
    return replace(actor_for(user), session_token=session_token(user.password_hash), session_id=session_id)
