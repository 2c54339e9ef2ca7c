"""Gyms and user accounts (minimal: the sign-in and account screens extend this)."""

from __future__ import annotations

from datetime import datetime

from backcare.auth import Action, Actor, Role, hash_password
from backcare.errors import Conflict, InvalidInput
from backcare.models import GymName, PersonName, checked_text
from backcare.store._base import guard, one_as_dict, rows_as_dicts, the_row_as_dict
from backcare.store.db import Database, utcnow
from backcare.store.records import GymRow, UserRow

STAFF_ROLES = (Role.TRAINER, Role.CLINIC, Role.MANAGER, Role.ADMIN)

# Whether a database holds anyone: what makes a server database no longer "new" (no file whose absence says so).
HOLDS_PEOPLE = "SELECT (SELECT count(*) FROM gyms) + (SELECT count(*) FROM users) + (SELECT count(*) FROM clients)"
NOT_NEW = (
    "The database {where} already holds gyms, users or clients: `init` only sets up an empty one (add people to "
    "it with `python -m backcare users add`)."
)
# Names the audit log uses for actors that are not people (the command line, a sign-in under an unknown
# or empty name), and the usual names of built-in operating-system accounts: an account called one of these
# could pass for them in the audit log.
RESERVED_USERNAMES = frozenset(
    {
        "",
        "system",
        "anonymous",
        "(empty)",
        "(unknown)",
        "unknown",
        "root",
        "superuser",
        "nobody",
        "daemon",
        "backcare",
        "cli",
        "service",
    }
)


def username_problem(username: str | None) -> str | None:
    """Why a new account may not have this name, or None. Compared after Unicode compatibility folding, so
    look-alike letters (a Cyrillic 'ѕ' for 's') do not get round the reserved names."""
    import unicodedata

    name = (username or "").strip().lower()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        return "use 1-64 characters without spaces"
    folded = unicodedata.normalize("NFKC", name).casefold()
    skeleton = folded.translate(_LOOKALIKES)
    if folded in RESERVED_USERNAMES or skeleton in RESERVED_USERNAMES:
        return f"{name} is reserved for the system's own records; choose another name"
    return None


# Cyrillic and Greek letters that look like Latin ones (enough for the reserved names above).
_LOOKALIKES = str.maketrans("аеорсухѕіјкмнтвԁɡοαεκνρτυχ", "aeopcyxsijkmhtbdgoaekvptux")


def create_gym(db: Database, *, actor: Actor, name: str, now: datetime | None = None) -> GymRow:
    guard(db, actor, Action.PEOPLE_MANAGE, None, attempt="gym.create", entity="gyms", chain_wide_record=True)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "a gym needs a name")
    name = checked_text("name", name, GymName) or name
    now = now or utcnow()
    with db.read() as cur:
        if cur.execute("SELECT 1 FROM gyms WHERE lower(name) = lower(?)", [name]).fetchone():
            raise Conflict(f"A gym called {name} already exists.")
    with db.transaction(actor, "gym.create", "gyms", None, {"name": name}, now=now) as txn:
        row = the_row_as_dict(
            txn.cursor.execute(
                "INSERT INTO gyms (name, created_at) VALUES (?, ?) RETURNING id, name, created_at", [name, now]
            )
        )
        txn.entity_id = row["id"]
    return GymRow(**row)


def list_gyms(db: Database, *, actor: Actor) -> list[GymRow]:
    """Gym names are not client data: every signed-in role may list them."""
    with db.read("listing gyms") as cur:
        return [GymRow(**r) for r in rows_as_dicts(cur.execute("SELECT id, name, created_at FROM gyms ORDER BY name"))]


def create_user(
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
) -> UserRow:
    """`only_into_new`: the first account of a new deployment (`init` on a server database): refused with
    Conflict when the database holds any gym, user or client, checked in the insert's own transaction."""
    guard(db, actor, Action.PEOPLE_MANAGE, gym_id, attempt="user.create", entity="users", chain_wide_record=True)
    problem = username_problem(username)
    if problem:
        raise InvalidInput("username", problem)
    username = username.strip().lower()
    if not (display_name or "").strip():
        raise InvalidInput("display_name", "a user needs a name to show")
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput("role", f"must be one of {', '.join(r.value for r in STAFF_ROLES)}") from None
    if role not in STAFF_ROLES:
        raise InvalidInput("role", f"must be one of {', '.join(r.value for r in STAFF_ROLES)}")
    if role == Role.TRAINER and gym_id is None:
        raise InvalidInput("gym_id", "a trainer belongs to one gym")
    # a name shown on every screen and in the audit log: one plain line of sane length
    checked_text("username", username, PersonName)
    display_name = checked_text("display_name", display_name, PersonName) or ""
    contact = checked_text("contact", (contact or "").strip() or None, PersonName)
    now = now or utcnow()
    with db.read() as cur:
        if cur.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise Conflict(f"The username {username} is taken.")
        if gym_id is not None and not cur.execute("SELECT 1 FROM gyms WHERE id = ?", [gym_id]).fetchone():
            raise InvalidInput("gym_id", f"there is no gym with id {gym_id}")
    password_hash = hash_password(password) if password else None
    with db.transaction(
        actor, "user.create", "users", None, {"username": username, "role": role.value}, now=now
    ) as txn:
        if only_into_new:
            db.engine.lock_people(txn.cursor)
            if txn.cursor.execute(HOLDS_PEOPLE).fetchone()[0]:
                raise Conflict(NOT_NEW.format(where=db.where))
        row = the_row_as_dict(
            txn.cursor.execute(
                "INSERT INTO users (username, display_name, role, gym_id, contact, password_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
                [username, display_name, role.value, gym_id, contact, password_hash, now],
            )
        )
        txn.entity_id = row["id"]
    return UserRow(**row)


def get_user_by_username(db: Database, *, username: str) -> UserRow | None:
    """For sign-in: no actor yet. Returns None for an unknown name (the caller says nothing more)."""
    with db.read("looking up the user") as cur:
        row = one_as_dict(cur.execute("SELECT * FROM users WHERE username = ?", [(username or "").strip().lower()]))
    return None if row is None else UserRow(**row)


def actor_for(user: UserRow) -> Actor:
    return Actor(username=user.username, role=Role(user.role), gym_id=user.gym_id, user_id=user.id)
