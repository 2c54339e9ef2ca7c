"""Helpers shared by the repository modules: permission checks that audit refusals, rows as dicts."""

from __future__ import annotations

from typing import Any

import duckdb

from backcare.auth import Action, Actor, allowed, allowed_in_gym
from backcare.errors import PermissionDenied, StoreError, Unavailable
from backcare.store.db import Database


def rows_as_dicts(cur) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def one_as_dict(cur) -> dict[str, Any] | None:
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    return None if row is None else dict(zip(names, row, strict=True))


def the_row(cur: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The row of a query that always yields one (count(*), nextval, RETURNING, a row this transaction
    has just checked or written): its absence is a defect, not a miss, so it is not an Optional."""
    row = cur.fetchone()
    if row is None:
        raise StoreError("The database returned no row where one was certain.")
    return row


def the_row_as_dict(cur: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """the_row() as {column: value}."""
    names = [d[0] for d in cur.description or ()]
    return dict(zip(names, the_row(cur), strict=True))


def guard(
    db: Database,
    actor: Actor,
    action: Action,
    gym_id: int | None,
    *,
    attempt: str,
    entity: str | None = None,
    entity_id: Any = None,
    also: tuple[Action, ...] = (),
    chain_wide_record: bool = False,
) -> None:
    """authorize() for the record's gym; a refusal is written to the audit log (outcome 'denied')
    before PermissionDenied goes up. `also`: other actions that grant the same read.
    `chain_wide_record`: a None gym_id is a record of the whole chain (a chain-wide account, a new gym),
    which a gym-scoped actor may not touch, rather than "no particular gym"."""
    if any(allowed(actor, a, gym_id) for a in also):
        return
    ok = allowed_in_gym(actor, action, gym_id) if chain_wide_record else allowed(actor, action, gym_id)
    if not ok:
        db.audit(actor, attempt, entity, entity_id, outcome="denied", detail={"needs": action.value, "gym_id": gym_id})
        if gym_id is not None and entity in RECORD_ENTITIES:
            raise Unavailable()  # reads exactly like a missing record: ids cannot be probed or mapped to gyms
        where = " for the whole chain" if chain_wide_record and gym_id is None else ""
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not {action.value}{where}.")


# Records looked up by id whose gym decides access: a refusal on one of them is Unavailable, like a miss.
RECORD_ENTITIES = frozenset({"clients", "sessions", "reports", "referrals", "assignments"})


def client_gym(db: Database, client_id: int) -> int:
    """The gym of a client, to check permissions against; Unavailable (a NotFound that reads like a
    refusal) when there is no such client. Served from the read cache between writes (db.cached_read)."""
    gym_id = db.cached_read(("client_gym",), client_id, lambda: _read_client_gym(db, client_id))
    if gym_id is None:
        raise Unavailable()
    return gym_id


def _read_client_gym(db: Database, client_id: int) -> int | None:
    with db.read("looking up the client") as cur:
        row = cur.execute("SELECT gym_id FROM clients WHERE id = ?", [client_id]).fetchone()
    return None if row is None else int(row[0])


def scope_gym(actor: Actor, gym_id: int | None) -> int | None:
    """The gym a list is limited to: the actor's own gym, unless the actor is chain-wide."""
    return actor.gym_id if actor.gym_id is not None else gym_id
