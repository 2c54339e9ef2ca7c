"""Training sessions: log one, list a client's."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from backcare.auth import Action, Actor
from backcare.models import EARLIEST_DATE, SessionIn, invalid_input
from backcare.store._base import client_gym, guard, rows_as_dicts, the_row_as_dict
from backcare.store.db import Database, utcnow
from backcare.store.records import SessionRow

SESSION_COLUMNS = (
    "id, client_id, date, minutes, rpe, exercises, warmup_minutes, cooldown_done, source, created_at, created_by"
)
# Sessions stored before dates were checked may hold a year-0 date, which Python cannot represent: reads
# leave such rows out instead of failing the client's pages.
READABLE_DATE = f"date BETWEEN DATE '{EARLIEST_DATE.isoformat()}' AND DATE '9999-12-31'"


def session_row(row: dict) -> SessionRow:
    exercises = tuple(e for e in (row.pop("exercises") or "").split(";") if e)
    return SessionRow(**row, exercises=exercises)


def log_session(
    db: Database, *, actor: Actor, client_id: int, session: SessionIn | dict, now: datetime | None = None
) -> SessionRow:
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="session.log", entity="sessions")
    session = validated_session(session)
    now = now or utcnow()
    with db.transaction(actor, "session.log", "sessions", None, {"client_id": client_id}, now=now) as txn:
        txn.touches(client_id)
        row = insert_session(txn.cursor, actor=actor, client_id=client_id, session=session, now=now)
        txn.entity_id = row["id"]
    return session_row(row)


def validated_session(session: SessionIn | dict) -> SessionIn:
    """The session checked by its model; InvalidInput names the first field at fault."""
    if isinstance(session, SessionIn):
        return session
    try:
        return SessionIn.model_validate(session)
    except ValidationError as error:
        raise invalid_input(error, "session") from None


def insert_session(cur, *, actor: Actor, client_id: int, session: SessionIn, now: datetime) -> dict:
    """Inside an open transaction (the caller has checked permission): the new row, as a dict. A session logged
    with plan feedback (store.feedback) is written by the same transaction as its feedback."""
    return the_row_as_dict(
        cur.execute(
            f"INSERT INTO sessions (client_id, date, minutes, rpe, exercises, warmup_minutes, cooldown_done, "
            "source, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, 'app', ?, ?) "
            f"RETURNING {SESSION_COLUMNS}",
            [
                client_id,
                session.date,
                session.minutes,
                session.rpe,
                ";".join(session.exercises),
                session.warmup_minutes,
                session.cooldown_done,
                now,
                actor.username,
            ],
        )
    )


def list_sessions(db: Database, *, actor: Actor, client_id: int, limit: int | None = None) -> list[SessionRow]:
    """A client's sessions, newest first (from the read cache between writes of this client)."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="session.list", entity="clients", entity_id=client_id)
    # a tuple in the cache (immutable); a list of the same rows to the caller
    return list(db.cached_read(("sessions", limit), client_id, lambda: _read_sessions(db, client_id, limit)))


def _read_sessions(db: Database, client_id: int, limit: int | None) -> tuple[SessionRow, ...]:
    with db.read("listing sessions") as cur:
        return tuple(sessions_in(cur, client_id, limit))


def sessions_in(cur, client_id: int, limit: int | None = None) -> list[SessionRow]:
    """A client's sessions, newest first, inside an open cursor (callers have checked permission)."""
    limit_sql = "" if limit is None else f"LIMIT {max(0, int(limit))}"
    rows = rows_as_dicts(
        cur.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE client_id = ? AND {READABLE_DATE} "
            f"ORDER BY date DESC, id DESC {limit_sql}",
            [client_id],
        )
    )
    return [session_row(r) for r in rows]
