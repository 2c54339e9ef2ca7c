"""Clients: create, consent, contact, read (audited), search and list, each row with its status."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from backcare.auth import Action, Actor
from backcare.errors import Conflict, InvalidInput, Unavailable
from backcare.models import ClientContactIn, ClientIn, PersonName, checked_text, invalid_input
from backcare.store._base import client_gym, guard, one_as_dict, rows_as_dicts, scope_gym, the_row
from backcare.store.db import Database, utcnow
from backcare.store.records import ClientRow
from backcare.store.status import ONE_CLIENT_STATUS, status_ctes, status_params

CLIENT_COLUMNS = (
    "c.id, c.external_id, c.gym_id, c.trainer_id, c.name, c.consent_at, c.consent_by, "
    "c.created_at, c.created_by, flags.status, c.phone, c.email, c.year_of_birth"
)
EARLIEST_YEAR_OF_BIRTH = 1900
_FROM_CLIENTS = "FROM clients AS c JOIN client_flags AS flags ON flags.client_id = c.id"


def external_id_for(number: int) -> str:
    return f"C-{number:05d}"


def _select_clients(where: str, order: str = "c.name, c.id", limit: str = "") -> str:
    # The clients first, then the status of those clients only (not of the whole chain).
    matched = f"SELECT c.id FROM clients AS c WHERE {where} ORDER BY {order} {limit}"
    return (
        f"WITH matched AS MATERIALIZED ({matched}), {status_ctes('SELECT id FROM matched')} "
        f"SELECT {CLIENT_COLUMNS} {_FROM_CLIENTS} WHERE c.id IN (SELECT id FROM matched) ORDER BY {order}"
    )


def one_client_select(more: str = "", *, with_status: bool = True) -> str:
    """The SELECT of one client's row ($client_id), its status from that client's rows only (not the
    whole-chain CTE lists use); `more`: further columns of the same statement (the history page's bounds).
    `with_status=False`: no status column, for a caller that works it out from rows it reads anyway
    (status.status_of)."""
    if with_status:
        columns = CLIENT_COLUMNS.replace("flags.status", f"({ONE_CLIENT_STATUS}) AS status")
    else:
        columns = CLIENT_COLUMNS.replace("flags.status, ", "")
    return f"SELECT {columns}{', ' + more if more else ''} FROM clients AS c WHERE c.id = $client_id"


def _fetch_client(cur, client_id: int, now: datetime | None) -> ClientRow:
    row = one_as_dict(cur.execute(one_client_select(), {**status_params(now), "client_id": client_id}))
    if row is None:
        raise Unavailable()  # reads like a refusal: ids cannot be probed
    return ClientRow(**row)


def create_client(
    db: Database,
    *,
    actor: Actor,
    gym_id: int | None,
    name: str,
    external_id: str | None = None,
    trainer_id: int | None = None,
    consent_by: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    year_of_birth: int | None = None,
    now: datetime | None = None,
) -> ClientRow:
    """A new client; `phone` and `email` (optional) are kept only with the client's consent (`consent_by`).
    The pages pass the actor's gym: None (a chain-wide account) is refused as invalid input."""
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="client.create", entity="clients")
    if gym_id is None:
        raise InvalidInput("gym_id", "a client belongs to a gym: choose the gym first")
    if year_of_birth is not None:
        _check_year_of_birth(year_of_birth, now or utcnow())
    try:
        new = ClientIn(
            gym_id=gym_id,
            name=name,
            external_id=external_id,
            trainer_id=trainer_id,
            consent_by=consent_by,
            phone=phone,
            email=email,
        )
    except ValidationError as error:
        raise invalid_input(error, "client") from None
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
        if new.external_id and cur.execute("SELECT 1 FROM clients WHERE external_id = ?", [new.external_id]).fetchone():
            raise Conflict(f"A client with the reference {new.external_id} already exists.")
    detail: dict[str, object] = {"gym_id": new.gym_id}
    with db.transaction(actor, "client.create", "clients", None, detail, now=now) as txn:
        cur = txn.cursor
        (client_id,) = the_row(cur.execute("SELECT nextval('clients_id_seq')"))
        txn.touches(client_id)  # a new client: no cached read of anyone else changes
        cur.execute(
            "INSERT INTO clients (id, external_id, gym_id, trainer_id, name, consent_at, consent_by, created_at, "
            "created_by, phone, email, year_of_birth) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                client_id,
                new.external_id or external_id_for(client_id),
                new.gym_id,
                new.trainer_id,
                new.name,
                now if new.consent_by else None,
                new.consent_by,
                now,
                actor.username,
                new.phone,
                new.email,
                year_of_birth,
            ],
        )
        txn.entity_id = client_id
        if new.consent_by:
            detail["consent"] = True
        created = _fetch_client(cur, client_id, now)
    return created


def record_consent(
    db: Database, *, actor: Actor, client_id: int, consent_by: str | None = None, now: datetime | None = None
) -> ClientRow:
    """Record the client's consent to store their health data (who recorded it, when)."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="client.consent", entity="clients", entity_id=client_id)
    now = now or utcnow()
    by = checked_text("consent_by", (consent_by or actor.username).strip(), PersonName)
    with db.transaction(actor, "client.consent", "clients", client_id, now=now) as txn:
        txn.touches(client_id)
        txn.cursor.execute("UPDATE clients SET consent_at = ?, consent_by = ? WHERE id = ?", [now, by, client_id])
        return _fetch_client(txn.cursor, client_id, now)


def set_client_contact(
    db: Database,
    *,
    actor: Actor,
    client_id: int,
    phone: str | None = None,
    email: str | None = None,
    now: datetime | None = None,
) -> ClientRow:
    """Replace how the clinic reaches the client (a blank clears it). Kept only under the client's consent; the
    audit row says which parts are set, never the number or address."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="client.contact", entity="clients", entity_id=client_id)
    try:
        contact = ClientContactIn(phone=phone, email=email)
    except ValidationError as error:
        raise invalid_input(error, "contact") from None
    now = now or utcnow()
    detail = {"phone": contact.phone is not None, "email": contact.email is not None}
    with db.transaction(actor, "client.contact", "clients", client_id, detail, now=now) as txn:
        txn.touches(client_id)
        cur = txn.cursor
        (consent_at,) = the_row(cur.execute("SELECT consent_at FROM clients WHERE id = ?", [client_id]))
        if consent_at is None and (contact.phone or contact.email):
            raise InvalidInput(
                "consent",
                "a phone number or e-mail can only be kept with the client's consent; record their consent first",
            )
        cur.execute("UPDATE clients SET phone = ?, email = ? WHERE id = ?", [contact.phone, contact.email, client_id])
        return _fetch_client(cur, client_id, now)


def _check_year_of_birth(year_of_birth, now: datetime) -> None:
    if (
        isinstance(year_of_birth, bool)
        or not isinstance(year_of_birth, int)
        or not EARLIEST_YEAR_OF_BIRTH <= year_of_birth <= now.year
    ):
        raise InvalidInput("year_of_birth", f"must be a year from {EARLIEST_YEAR_OF_BIRTH} to {now.year}")


def set_year_of_birth(
    db: Database, *, actor: Actor, client_id: int, year_of_birth: int | None, now: datetime | None = None
) -> ClientRow:
    """Record or correct the client's year of birth (None: not known); triage takes the age from it. The
    audit row says that it changed, never the year (health-related data stays out of the log)."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="client.year_of_birth", entity="clients", entity_id=client_id)
    now = now or utcnow()
    if year_of_birth is not None:
        _check_year_of_birth(year_of_birth, now)
    with db.transaction(
        actor, "client.year_of_birth", "clients", client_id, {"known": year_of_birth is not None}, now=now
    ) as txn:
        txn.touches(client_id)
        txn.cursor.execute("UPDATE clients SET year_of_birth = ? WHERE id = ?", [year_of_birth, client_id])
        return _fetch_client(txn.cursor, client_id, now)


def get_client(
    db: Database, *, actor: Actor, client_id: int, audit: bool = True, now: datetime | None = None
) -> ClientRow:
    """A client's record; writes a 'client.view' audit row unless `audit` is False (a repeat display
    of the same record on the same screen). The permission check and the audit row run on every call; the
    row itself may come from the read cache (db.cached_read: the same row until this client is written)."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.view", entity="clients", entity_id=client_id)
    client = db.cached_read(("client", now), client_id, lambda: _read_client(db, client_id, now))
    if audit:
        db.audit(actor, "client.view", "clients", client_id, outcome="ok", now=now)
    return client


def _read_client(db: Database, client_id: int, now: datetime | None) -> ClientRow:
    with db.read("reading the client") as cur:
        return _fetch_client(cur, client_id, now)


def search_clients(
    db: Database, *, actor: Actor, query: str, limit: int = 25, now: datetime | None = None
) -> list[ClientRow]:
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
        order="lower(c.external_id) = lower($query) DESC, c.name, c.id",
        limit=f"LIMIT {limit}",
    )
    with db.read("searching clients") as cur:
        rows = rows_as_dicts(
            cur.execute(sql, {**status_params(now), "pattern": pattern, "query": query, "gym_id": gym_id})
        )
    return [ClientRow(**r) for r in rows]


# The client's last activity: a report, a logged session, or being added.
_LAST_SEEN = (
    "greatest(c.created_at, coalesce((SELECT max(r.created_at) FROM reports AS r WHERE r.client_id = c.id),"
    " c.created_at), coalesce((SELECT max(s.created_at) FROM sessions AS s WHERE s.client_id = c.id),"
    " c.created_at)) DESC, "
)


def list_clients(
    db: Database,
    *,
    actor: Actor,
    trainer_id: int | None = None,
    gym_id: int | None = None,
    recent_first: bool = False,
    now: datetime | None = None,
) -> list[ClientRow]:
    """The clients of the actor's gym (or of `gym_id` for a chain-wide actor), optionally of one trainer;
    by name, or with `recent_first` the ones with the latest report or session first (the picker)."""
    gym_id = scope_gym(actor, gym_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="client.list", entity="clients")
    sql = _select_clients(
        "($gym_id IS NULL OR c.gym_id = $gym_id) AND ($trainer_id IS NULL OR c.trainer_id = $trainer_id)",
        order=(_LAST_SEEN if recent_first else "") + "c.name, c.id",
    )
    with db.read("listing clients") as cur:
        rows = rows_as_dicts(cur.execute(sql, {**status_params(now), "gym_id": gym_id, "trainer_id": trainer_id}))
    return [ClientRow(**r) for r in rows]
