"""The audit trail for administrators: filtered reads and a CSV export (the export is itself audited)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from backcare.auth import Action, Actor
from backcare.errors import InvalidInput
from backcare.store._base import client_gym, guard, rows_as_dicts, the_row
from backcare.store.db import Database
from backcare.store.referrals import _referral_gym as referral_gym

MAX_ROWS = 5000
CSV_COLUMNS = ("id", "event_at", "actor", "role", "action", "entity", "entity_id", "outcome", "detail")


class AuditRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    event_at: datetime
    actor: str
    role: str
    action: str
    entity: str | None
    entity_id: str | None
    outcome: str
    detail: str | None


class AuditFilter(BaseModel):
    """Empty fields do not filter. `start` and `end` are days, both included."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    start: date | None = None
    end: date | None = None


def _where(f: AuditFilter, actor: Actor) -> tuple[str, dict]:
    """The filter's WHERE clause; a gym-scoped admin sees only what the people of their gym did."""
    if f.start and f.end and f.end < f.start:
        raise InvalidInput("end", "the last day cannot be before the first")
    params = {
        "actor": (f.actor or "").strip().lower() or None,
        "action": (f.action or "").strip() or None,
        "outcome": (f.outcome or "").strip() or None,
        "start": None if f.start is None else datetime.combine(f.start, datetime.min.time()),
        "end": None if f.end is None else datetime.combine(f.end + timedelta(days=1), datetime.min.time()),
        "gym": actor.gym_id,
    }
    where = (
        "($actor IS NULL OR lower(actor) = $actor) AND ($action IS NULL OR action = $action) "
        "AND ($outcome IS NULL OR outcome = $outcome) AND ($start IS NULL OR event_at >= $start) "
        "AND ($end IS NULL OR event_at < $end) AND " + _SCOPE
    )
    return where, params


# a gym-scoped admin: only rows whose actor is a user of their gym (chain-wide admins see all)
_SCOPE = "($gym IS NULL OR actor IN (SELECT username FROM users WHERE gym_id = $gym))"


def list_audit(
    db: Database, *, actor: Actor, filters: AuditFilter | None = None, limit: int = 500
) -> tuple[list[AuditRow], int]:
    """The newest matching rows (at most `limit`) and how many match in all."""
    guard(db, actor, Action.AUDIT_READ, None, attempt="audit.view", entity="audit_log")
    where, params = _where(filters or AuditFilter(), actor)
    limit = max(1, min(int(limit), MAX_ROWS))
    with db.read("reading the audit log") as cur:
        (total,) = the_row(cur.execute(f"SELECT count(*) FROM audit_log WHERE {where}", params))
        rows = rows_as_dicts(
            cur.execute(
                f"SELECT {', '.join(CSV_COLUMNS)} FROM audit_log WHERE {where} ORDER BY event_at DESC, id DESC "
                f"LIMIT {limit}",
                params,
            )
        )
    return [AuditRow(**r) for r in rows], int(total)


def audit_choices(db: Database, *, actor: Actor) -> tuple[list[str], list[str]]:
    """The actors and the actions that occur in the log, for the filter pickers."""
    guard(db, actor, Action.AUDIT_READ, None, attempt="audit.view", entity="audit_log")
    with db.read("reading the audit log") as cur:
        scope = {"gym": actor.gym_id}
        actors = [
            a
            for (a,) in cur.execute(
                f"SELECT DISTINCT actor FROM audit_log WHERE {_SCOPE} ORDER BY actor", scope
            ).fetchall()
        ]
        actions = [
            a
            for (a,) in cur.execute(
                f"SELECT DISTINCT action FROM audit_log WHERE {_SCOPE} ORDER BY action", scope
            ).fetchall()
        ]
    return actors, actions


def export_audit_csv(db: Database, *, actor: Actor, filters: AuditFilter | None = None) -> bytes:
    """Every matching row as CSV (UTF-8, header), oldest first. The export writes its own audit row."""
    guard(db, actor, Action.AUDIT_READ, None, attempt="audit.export", entity="audit_log")
    filters = filters or AuditFilter()
    where, params = _where(filters, actor)
    with db.read("exporting the audit log") as cur:
        rows = cur.execute(
            f"SELECT {', '.join(CSV_COLUMNS)} FROM audit_log WHERE {where} ORDER BY event_at, id", params
        ).fetchall()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(["" if v is None else (v.isoformat(sep=" ") if isinstance(v, datetime) else v) for v in row])
    db.audit(
        actor,
        "audit.export",
        "audit_log",
        None,
        outcome="ok",
        detail={"rows": len(rows), "filters": filters.model_dump(exclude_none=True)},
    )
    return out.getvalue().encode("utf-8")


# What a download may be of, and the right it needs (for one record, in that record's gym).
DOWNLOAD_RIGHTS: dict[str, Action] = {
    "clients": Action.CLIENT_READ,  # a client's plan handout
    "referrals": Action.REFERRAL_READ,  # the queue, a referral's history, its handoff
    "trends": Action.TRENDS_READ,
    "audit_log": Action.AUDIT_READ,
}
MAX_WHAT = 200


def record_download(db: Database, *, actor: Actor, what: str, entity: str | None = None, entity_id=None) -> None:
    """A file the user took away from a screen (a referral queue, a handoff, a handout): an 'export' audit
    row naming what it was, never its contents. Only someone who may read that kind of record (and that
    record, when one is named) writes it, so the audit log cannot be filled with made-up downloads."""
    what = what.strip() if isinstance(what, str) else ""
    if not what or len(what) > MAX_WHAT or not what.isprintable():
        raise InvalidInput("what", f"describe the file in 1-{MAX_WHAT} printable characters")
    if entity not in DOWNLOAD_RIGHTS:
        raise InvalidInput("entity", f"must be one of {', '.join(DOWNLOAD_RIGHTS)}")
    gym_id = None
    if entity_id is not None:
        if entity not in ("clients", "referrals") or isinstance(entity_id, bool) or not isinstance(entity_id, int):
            raise InvalidInput("entity_id", "a client's or a referral's id")
        gym_id = client_gym(db, entity_id) if entity == "clients" else referral_gym(db, entity_id)
    guard(db, actor, DOWNLOAD_RIGHTS[entity], gym_id, attempt="export.download", entity=entity, entity_id=entity_id)
    db.audit(actor, "export.download", entity, entity_id, outcome="ok", detail={"what": what})
