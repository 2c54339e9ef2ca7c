"""Clients: create, consent, read (audited), search and list, each row with its status."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from backcare.auth import Action, Actor
from backcare.errors import Conflict, InvalidInput, NotFound
from backcare.models import ClientIn, describe_validation_error
from backcare.store._base import client_gym, guard, one_as_dict, rows_as_dicts, scope_gym
from backcare.store.db import Database, utcnow
from backcare.store.records import ClientRow
from backcare.store.status import ONE_CLIENT_STATUS, status_ctes, status_params

CLIENT_COLUMNS = ("c.id, c.external_id, c.gym_id, c.trainer_id, c.name, c.consent_at, c.consent_by, "
                  "c.created_at, c.created_by, flags.status")
_FROM_CLIENTS = "FROM clients AS c JOIN client_flags AS flags ON flags.client_id = c.id"


def external_id_for(number: int) -> str:
    return f"C-{number:05d}"


def _select_clients(where: str, order: str = "c.name, c.id", limit: str = "") -> str:
    # The clients first, then the status of those clients only (not of the whole chain).
    matched = f"SELECT c.id FROM clients AS c WHERE {where} ORDER BY {order} {limit}"
    return (f"WITH matched AS MATERIALIZED ({matched}), {status_ctes('SELECT id FROM matched')} "
            f"SELECT {CLIENT_COLUMNS} {_FROM_CLIENTS} WHERE c.id IN (SELECT id FROM matched) ORDER BY {order}")


def _fetch_client(cur, client_id: int, now: datetime | None) -> ClientRow:
    # One client: its status from that client's rows only, not the whole-chain CTE lists use.
    sql = (f"SELECT {CLIENT_COLUMNS.replace('flags.status', f'({ONE_CLIENT_STATUS}) AS status')} "
           "FROM clients AS c WHERE c.id = $client_id")
    row = one_as_dict(cur.execute(sql, {**status_params(now), "client_id": client_id}))
    if row is None:
        raise NotFound(f"There is no client with id {client_id}.")
    return ClientRow(**row)


def create_client(db: Database, *, actor: Actor, gym_id: int, name: str, external_id: str | None = None,
                  trainer_id: int | None = None, consent_by: str | None = None,
                  now: datetime | None = None) -> ClientRow:
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="client.create", entity="clients")
    try:
        new = ClientIn(gym_id=gym_id, name=name, external_id=external_id, trainer_id=trainer_id,
                       consent_by=consent_by)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(".".join(str(p) for p in first["loc"]) or "client",
                           describe_validation_error(error)) from None
    now = now or utcnow()
    with db.read() as cur:
        if not cur.execute("SELECT 1 FROM gyms WHERE id = ?", [new.gym_id]).fetchone():
            raise InvalidInput("gym_id", f"there is no gym with id {new.gym_id}")
        if new.trainer_id is not None:
            trainer = cur.execute("SELECT role, gym_id FROM users WHERE id = ?", [new.trainer_id]).fetchone()
            if trainer is None:
                raise InvalidInput("trainer_id", f"there is no user with id {new.trainer_id}")
            if trainer != ("trainer", new.gym_id):
                raise InvalidInput("trainer_id", "must be a trainer of the client's gym")
        if new.external_id and cur.execute(
                "SELECT 1 FROM clients WHERE external_id = ?", [new.external_id]).fetchone():
            raise Conflict(f"A client with the reference {new.external_id} already exists.")
    with db.transaction(actor, "client.create", "clients", None, {"gym_id": new.gym_id}, now=now) as txn:
        cur = txn.cursor
        (client_id,) = cur.execute("SELECT nextval('clients_id_seq')").fetchone()
        cur.execute(
            "INSERT INTO clients (id, external_id, gym_id, trainer_id, name, consent_at, consent_by, created_at, "
            "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [client_id, new.external_id or external_id_for(client_id), new.gym_id, new.trainer_id, new.name,
             now if new.consent_by else None, new.consent_by, now, actor.username])
        txn.entity_id = client_id
        if new.consent_by:
            txn.detail["consent"] = True
        created = _fetch_client(cur, client_id, now)
    return created


def record_consent(db: Database, *, actor: Actor, client_id: int, consent_by: str | None = None,
                   now: datetime | None = None) -> ClientRow:
    """Record the client's consent to store their health data (who recorded it, when)."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="client.consent", entity="clients", entity_id=client_id)
    now = now or utcnow()
    by = (consent_by or actor.username).strip()
    with db.transaction(actor, "client.consent", "clients", client_id, now=now) as txn:
        txn.cursor.execute("UPDATE clients SET consent_at = ?, consent_by = ? WHERE id = ?", [now, by, client_id])
        return _fetch_client(txn.cursor, client_id, now)


def get_client(db: Database, *, actor: Actor, client_id: int, audit: bool = True,
               now: datetime | None = None) -> ClientRow:
    """A client's record; writes a 'client.view' audit row unless `audit` is False (a repeat display
    of the same record on the same screen)."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.view", entity="clients", entity_id=client_id)
    with db.read("reading the client") as cur:
        client = _fetch_client(cur, client_id, now)
    if audit:
        db.audit(actor, "client.view", "clients", client_id, outcome="ok", now=now)
    return client


def search_clients(db: Database, *, actor: Actor, query: str, limit: int = 25,
                   now: datetime | None = None) -> list[ClientRow]:
    """Clients whose name or reference contains `query` (case-insensitive): the actor's gym only,
    unless the actor is chain-wide. Exact reference matches first, then by name."""
    gym_id = scope_gym(actor, None)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.search", entity="clients")
    query = (query or "").strip()
    if not query:
        return []
    limit = max(1, min(int(limit), 500))
    pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    sql = _select_clients(
        "(lower(c.name) LIKE $pattern ESCAPE '\\' OR lower(c.external_id) LIKE $pattern ESCAPE '\\')"
        " AND ($gym_id IS NULL OR c.gym_id = $gym_id)",
        order="lower(c.external_id) = lower($query) DESC, c.name, c.id", limit=f"LIMIT {limit}")
    with db.read("searching clients") as cur:
        rows = rows_as_dicts(cur.execute(sql, {**status_params(now), "pattern": pattern, "query": query,
                                               "gym_id": gym_id}))
    return [ClientRow(**r) for r in rows]


def list_clients(db: Database, *, actor: Actor, trainer_id: int | None = None, gym_id: int | None = None,
                 now: datetime | None = None) -> list[ClientRow]:
    """The clients of the actor's gym (or of `gym_id` for a chain-wide actor), optionally of one trainer."""
    gym_id = scope_gym(actor, gym_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.list", entity="clients")
    sql = _select_clients("($gym_id IS NULL OR c.gym_id = $gym_id)"
                          " AND ($trainer_id IS NULL OR c.trainer_id = $trainer_id)")
    with db.read("listing clients") as cur:
        rows = rows_as_dicts(cur.execute(sql, {**status_params(now), "gym_id": gym_id, "trainer_id": trainer_id}))
    return [ClientRow(**r) for r in rows]
