"""Corrective-plan assignments: assign (never while a referral pauses the client), end, list."""

from __future__ import annotations

import json
from datetime import date, datetime

from pydantic import ValidationError

from backcare.auth import Action, Actor
from backcare.catalogue import STAGES
from backcare.errors import Conflict, InvalidInput, Unavailable, invalid_input
from backcare.models import AssignmentIn, CauseId, Level, Note, checked_text
from backcare.plans import offered_stages
from backcare.store import plan_rollups
from backcare.store._base import client_gym, guard, one_as_dict, rows_as_dicts, the_row, the_row_as_dict
from backcare.store.db import Database, to_json, utcnow
from backcare.store.records import PAUSED_STATUSES, AssignmentRow, AssignmentStatus
from backcare.store.status import client_status_in

ASSIGNMENT_COLUMNS = (
    "id, client_id, report_id, plan_id, status, start_date, review_date, customisation_json, "
    "created_at, created_by, ended_at, end_note, stage"
)
NEXT_STATUSES: dict[AssignmentStatus, frozenset[AssignmentStatus]] = {
    AssignmentStatus.ACTIVE: frozenset({AssignmentStatus.COMPLETED, AssignmentStatus.STOPPED}),
    AssignmentStatus.COMPLETED: frozenset(),
    AssignmentStatus.STOPPED: frozenset(),
}


def assignment_row(row: dict) -> AssignmentRow:
    custom = row.pop("customisation_json")
    return AssignmentRow(**row, customisation=None if custom is None else json.loads(custom))


def plan_id_of(plan_id: CauseId | str) -> CauseId:
    try:
        return CauseId(plan_id)
    except ValueError:
        raise InvalidInput("plan_id", f"must be one of {', '.join(c.value for c in CauseId)}") from None


def validated_assignment(**values) -> AssignmentIn:
    """The assignment's inputs checked by the model, and its changes against the plan library; the first
    problem named by its field."""
    try:
        checked = AssignmentIn(**values)
    except ValidationError as error:
        raise invalid_input(error, "assignment") from None
    if checked.customisation is not None:  # what the page's form checks, for any caller: names the change
        from backcare.plans import customise, load_library  # noqa: PLC0415  (the library loads on first use)

        customise(load_library().plan(checked.plan_id), checked.customisation)
    return checked


def is_paused(cur, client_id: int, now: datetime | None = None) -> bool:
    return client_status_in(cur, client_id, now) in PAUSED_STATUSES


def insert_assignment(
    cur,
    *,
    actor: Actor,
    client_id: int,
    plan_id: CauseId,
    start_date: date,
    review_date: date,
    customisation: dict | None,
    report_id: int | None,
    now: datetime,
    stage: int = 1,
) -> int:
    """Inside an open transaction; the caller has checked permission, dates, the pause and the stage."""
    (assignment_id,) = cur.execute(
        "INSERT INTO assignments (client_id, report_id, plan_id, status, start_date, review_date, "
        "customisation_json, created_at, created_by, stage) VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        [
            client_id,
            report_id,
            plan_id.value,
            start_date,
            review_date,
            to_json(customisation),
            now,
            actor.username,
            stage,
        ],
    ).fetchone()
    plan_rollups.refresh_assignment(cur, int(assignment_id))  # the trends' plan rollups, in this transaction
    return int(assignment_id)


def checked_stage(stage: object) -> int:
    """A stage number 1-3, or InvalidInput naming the field."""
    if isinstance(stage, bool) or not isinstance(stage, int) or stage not in STAGES:
        raise InvalidInput("stage", "must be 1 (unloaded), 2 (light load) or 3 (back to full training)")
    return stage


def latest_level_in(cur, client_id: int) -> Level | None:
    """The level of the client's latest report, or None before the first report."""
    row = cur.execute(
        "SELECT level FROM reports WHERE client_id = ? ORDER BY created_at DESC, id DESC LIMIT 1", [client_id]
    ).fetchone()
    return None if row is None else Level(row[0])


def stages_now(level: Level | None) -> tuple[int, ...]:
    """The stages a plan may be at, by the latest report's level. At refer and above the open referral pauses
    every plan (checked apart); once a clinician has cleared it, plans restart at stage 1 until a new report."""
    return offered_stages(level) or (1,)


def check_stage_offered(cur, client_id: int, stage: int) -> None:
    """TRIAGE.md: at `monitor` only stage 1 is offered (no loaded lifts while pain is 4-6)."""
    if stage == 1:
        return
    if stage not in stages_now(latest_level_in(cur, client_id)):
        raise Conflict(
            f"Stage {stage} is not offered now: the client's latest report asks to monitor the pain (or follows a "
            "referral), so only stage 1 (unloaded) may be given until a new report shows the pain has settled."
        )


def active_plan_ids(cur, client_id: int) -> set[CauseId]:
    """The plans this client has active now: a plan is active at most once (issue 14: a second active copy
    printed twice on the handout)."""
    rows = cur.execute(
        "SELECT DISTINCT plan_id FROM assignments WHERE client_id = ? AND status = 'active'", [client_id]
    ).fetchall()
    return {CauseId(plan_id) for (plan_id,) in rows}


def assign_plan(
    db: Database,
    *,
    actor: Actor,
    client_id: int,
    plan_id: CauseId | str,
    start_date: date,
    review_date: date,
    customisation: dict | None = None,
    report_id: int | None = None,
    now: datetime | None = None,
    stage: int = 1,
) -> AssignmentRow:
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="assignment.create", entity="assignments")
    plan_id_of(plan_id)  # names the choices when the plan is unknown
    stage = checked_stage(stage)
    wanted = validated_assignment(
        plan_id=plan_id,
        start_date=start_date,
        review_date=review_date,
        customisation=customisation,
        report_id=report_id,
    )
    plan, start_date, review_date = wanted.plan_id, wanted.start_date, wanted.review_date
    now = now or utcnow()
    with db.transaction(
        actor,
        "assignment.create",
        "assignments",
        None,
        {"client_id": client_id, "plan_id": plan.value, "stage": stage},
        now=now,
    ) as txn:
        if report_id is not None:
            owner = txn.cursor.execute("SELECT client_id FROM reports WHERE id = ?", [report_id]).fetchone()
            if owner is None or owner[0] != client_id:
                raise InvalidInput("report_id", "is not one of this client's reports")
        if is_paused(txn.cursor, client_id, now):
            raise Conflict(
                "This client has a referral that is not cleared yet: loading plans stay paused "
                "until a clinician records clearance."
            )
        if plan in active_plan_ids(txn.cursor, client_id):
            raise Conflict(
                "This plan is already active for this client: complete or stop it before assigning it again."
            )
        check_stage_offered(txn.cursor, client_id, stage)
        assignment_id = insert_assignment(
            txn.cursor,
            actor=actor,
            client_id=client_id,
            plan_id=plan,
            start_date=start_date,
            review_date=review_date,
            customisation=customisation,
            report_id=report_id,
            now=now,
            stage=stage,
        )
        txn.entity_id = assignment_id
        row = the_row_as_dict(
            txn.cursor.execute(f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = ?", [assignment_id])
        )
    return assignment_row(row)


def _get_assignment(db: Database, assignment_id: int) -> dict:
    with db.read("reading the plan assignment") as cur:
        row = one_as_dict(
            cur.execute(
                f"SELECT a.{ASSIGNMENT_COLUMNS.replace(', ', ', a.')}, c.gym_id FROM assignments AS a "
                "JOIN clients AS c ON c.id = a.client_id WHERE a.id = ?",
                [assignment_id],
            )
        )
    if row is None:
        raise Unavailable()  # reads like a refusal: ids cannot be probed
    return row


def set_assignment_status(
    db: Database,
    *,
    actor: Actor,
    assignment_id: int,
    status: AssignmentStatus | str,
    note: str | None = None,
    now: datetime | None = None,
) -> AssignmentRow:
    """active -> completed or stopped; an ended assignment stays ended."""
    row = _get_assignment(db, assignment_id)
    gym_id = row.pop("gym_id")
    guard(
        db,
        actor,
        Action.CLIENT_WRITE,
        gym_id,
        attempt="assignment.status",
        entity="assignments",
        entity_id=assignment_id,
    )
    try:
        target = AssignmentStatus(status)
    except ValueError:
        raise InvalidInput("status", f"must be one of {', '.join(s.value for s in AssignmentStatus)}") from None
    note = checked_text("note", (note or "").strip() or None, Note)
    now = now or utcnow()
    detail = {"to": target.value}
    with db.transaction(actor, "assignment.status", "assignments", assignment_id, detail, now=now) as txn:
        (current,) = the_row(txn.cursor.execute("SELECT status FROM assignments WHERE id = ?", [assignment_id]))
        current = AssignmentStatus(current)
        if target not in NEXT_STATUSES[current]:
            raise Conflict(
                f"A plan that is {current.value} cannot become {target.value}: only an active plan "
                "can be completed or stopped."
            )
        detail["from"] = current.value
        txn.cursor.execute(
            "UPDATE assignments SET status = ?, ended_at = ?, end_note = ? WHERE id = ?",
            [target.value, now, note, assignment_id],
        )
        plan_rollups.refresh_assignment(txn.cursor, assignment_id)  # its status is counted in the plan rollups
        updated = the_row_as_dict(
            txn.cursor.execute(f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = ?", [assignment_id])
        )
    return assignment_row(updated)


def set_stage(
    db: Database, actor: Actor, assignment_id: int, stage: int, *, now: datetime | None = None
) -> AssignmentRow:
    """Move an active assignment to another stage (1-3), with its audit row (`assignment.stage`, from and to).

    Checked in the store: the trainer's gym (a refusal writes a `denied` row and reads like a missing record),
    the stage number, that the plan is still active, that no open referral pauses the client, and that the
    client's latest report offers the stage (at `monitor`, stage 1 only). Setting the stage it already has
    changes nothing and writes no row."""
    row = _get_assignment(db, assignment_id)
    gym_id = row.pop("gym_id")
    guard(
        db,
        actor,
        Action.CLIENT_WRITE,
        gym_id,
        attempt="assignment.stage",
        entity="assignments",
        entity_id=assignment_id,
    )
    stage = checked_stage(stage)
    if row["stage"] == stage and row["status"] == AssignmentStatus.ACTIVE.value:
        return assignment_row(row)
    now = now or utcnow()
    detail: dict = {"to": stage}
    with db.transaction(actor, "assignment.stage", "assignments", assignment_id, detail, now=now) as txn:
        status, current, client_id = the_row(
            txn.cursor.execute("SELECT status, stage, client_id FROM assignments WHERE id = ?", [assignment_id])
        )
        if status != AssignmentStatus.ACTIVE.value:
            raise Conflict(f"This plan is {status}: only an active plan can change stage.")
        if is_paused(txn.cursor, client_id, now):
            raise Conflict(
                "This client has a referral that is not cleared yet: loading plans stay paused until a "
                "clinician records clearance."
            )
        check_stage_offered(txn.cursor, client_id, stage)
        detail["from"] = int(current)
        txn.cursor.execute("UPDATE assignments SET stage = ? WHERE id = ?", [stage, assignment_id])
        updated = the_row_as_dict(
            txn.cursor.execute(f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = ?", [assignment_id])
        )
    return assignment_row(updated)


def offered_stages_for(db: Database, *, actor: Actor, client_id: int) -> tuple[int, ...]:
    """The stages this client's plans may be given at now, by the latest report (TRIAGE.md)."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="assignment.stages", entity="clients", entity_id=client_id)
    with db.read("reading the stages offered") as cur:
        return stages_now(latest_level_in(cur, client_id))


def trainer_card(db: Database, actor: Actor) -> tuple[str, str | None]:
    """(display name, contact) of the signed-in person for the handout; the username when no account row
    exists (actors made by code)."""
    with db.read("reading your name for the handout") as cur:
        row = cur.execute("SELECT display_name, contact FROM users WHERE username = ?", [actor.username]).fetchone()
    if row is None:
        return actor.username, None
    return str(row[0]), (str(row[1]) if row[1] else None)


def list_assignments(db: Database, *, actor: Actor, client_id: int, active_only: bool = False) -> list[AssignmentRow]:
    """A client's plans, newest first."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="assignment.list", entity="clients", entity_id=client_id)
    with db.read("listing plans") as cur:
        return assignments_in(cur, client_id, active_only)


def assignments_in(cur, client_id: int, active_only: bool = False) -> list[AssignmentRow]:
    """A client's plans, newest first, inside an open cursor (callers have checked permission)."""
    rows = rows_as_dicts(
        cur.execute(
            f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE client_id = ? AND (NOT ? OR status = 'active') "
            "ORDER BY created_at DESC, id DESC",
            [client_id, active_only],
        )
    )
    return [assignment_row(r) for r in rows]
