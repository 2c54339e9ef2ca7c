"""Feedback on a client's active plans, recorded at a session: record it (with the session, in one transaction),
read it back per client and plan, and apply a stage change the trainer chose.

The plan's stage belongs to the staged plans (migration 0009_plan_stages, store function set_stage); this
module reaches it in one place only (the "stages" section below), so that it works before and after that
migration is merged: without it the stage reads as not known and no stage can be applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from backcare.auth import Action, Actor
from backcare.errors import Conflict, InvalidInput
from backcare.feedback import FIRST_STAGE, LAST_STAGE, Done, FeedbackIn
from backcare.models import SessionIn
from backcare.store import plan_rollups
from backcare.store._base import client_gym, guard, rows_as_dicts
from backcare.store.assignments import assignments_in
from backcare.store.db import Database, utcnow
from backcare.store.records import AssignmentRow, SessionRow
from backcare.store.sessions import insert_session, session_row, validated_session

FEEDBACK_COLUMNS = (
    "id, client_id, assignment_id, session_id, entry_date, done, pain_during, pain_morning_after, stage, "
    "recorded_at, recorded_by"
)
MAX_ENTRIES_SHOWN = 400  # per client: about a year of sessions with two plans each


class FeedbackRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    client_id: int
    assignment_id: int
    session_id: int | None
    entry_date: date
    done: Done
    pain_during: int
    pain_morning_after: int
    stage: int | None
    recorded_at: datetime
    recorded_by: str


class PlanFeedback(BaseModel):
    """One plan of the client with its feedback (oldest first), its stage now and the pain before it started."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    assignment: AssignmentRow
    stage: int | None
    pre_plan_pain: int | None  # the pain score of the triage report it came from (or the last before it)
    pre_plan_day: date | None
    entries: tuple[FeedbackRow, ...]


class RecordedFeedback(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    session: SessionRow | None
    entries: tuple[FeedbackRow, ...]


# --- stages: the one place that knows about the staged plans (migration 0009, store set_stage) ---------------


def _has_stage_column(cur) -> bool:
    # the columns of an empty result: far cheaper than information_schema on DuckDB, and portable
    cur.execute("SELECT * FROM assignments WHERE 1 = 0")
    return "stage" in {d[0] for d in cur.description or ()}


def _stages(cur, assignment_ids: Sequence[int]) -> dict[int, int | None]:
    """The current stage of each assignment; None for all while the stage column does not exist yet."""
    if not assignment_ids:
        return {}
    if not _has_stage_column(cur):
        return dict.fromkeys(assignment_ids)
    marks = ", ".join("?" for _ in assignment_ids)
    rows = cur.execute(f"SELECT id, stage FROM assignments WHERE id IN ({marks})", list(assignment_ids)).fetchall()
    found = {int(i): None if s is None else int(s) for i, s in rows}
    return {i: found.get(i) for i in assignment_ids}


def apply_stage(db: Database, *, actor: Actor, assignment_id: int, stage: int) -> AssignmentRow:
    """Move the plan to `stage` (the trainer's decision on a suggestion): set_stage of the staged plans does the
    work, with its own permission check and audit row."""
    if not FIRST_STAGE <= stage <= LAST_STAGE:
        raise InvalidInput("stage", f"must be {FIRST_STAGE} to {LAST_STAGE}")
    from backcare.store import assignments  # noqa: PLC0415  (set_stage arrives with migration 0009)

    set_stage = getattr(assignments, "set_stage", None)
    if set_stage is None:
        raise Conflict("Plan stages are not available in this version yet: the stage was not changed.")
    return set_stage(db, actor=actor, assignment_id=assignment_id, stage=stage)


# --- recording -------------------------------------------------------------------------------------------------


def _validated(entries: Sequence[FeedbackIn | dict]) -> list[FeedbackIn]:
    """Every entry checked before anything is written; the first problem named by its field."""
    checked: list[FeedbackIn] = []
    for number, entry in enumerate(entries, start=1):
        if isinstance(entry, FeedbackIn):
            checked.append(entry)
            continue
        try:
            checked.append(FeedbackIn.model_validate(entry))
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "feedback"
            message = first["msg"].removeprefix("Value error, ")
            which = f" (plan {number} of {len(entries)})" if len(entries) > 1 else ""
            raise InvalidInput(field, f"{message}{which}") from None
    ids = [e.assignment_id for e in checked]
    if len(set(ids)) != len(ids):
        raise InvalidInput("assignment_id", "each plan can have one entry per session")
    return checked


def _dated(entry, day: date):
    """The entry dated by its session's day; anything that is not an entry is left for validation to name."""
    if isinstance(entry, FeedbackIn):
        return entry.model_copy(update={"entry_date": day})
    if isinstance(entry, dict):
        return {**entry, "entry_date": day}
    return entry


def record_feedback(
    db: Database,
    *,
    actor: Actor,
    client_id: int,
    entries: Sequence[FeedbackIn | dict],
    session: SessionIn | dict | None = None,
    now: datetime | None = None,
) -> RecordedFeedback:
    """Store the feedback on the client's active plans, and the session it was given at when there is one: one
    transaction with its audit row (feedback.record); bad input stores nothing. With a session, each entry is
    dated by the session's day."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_WRITE, gym_id, attempt="feedback.record", entity="plan_feedback", entity_id=None)
    if isinstance(entries, (str, bytes, dict)):
        raise InvalidInput("entries", "must be a list of plan entries")
    checked_session = None if session is None else validated_session(session)
    if checked_session is not None:  # the session's day dates its feedback
        entries = [_dated(e, checked_session.date) for e in entries]
    checked = _validated(entries)
    if not checked and checked_session is None:
        raise InvalidInput("entries", "give at least one plan's feedback")
    now = now or utcnow()
    detail: dict = {"client_id": client_id, "entries": len(checked)}
    with db.transaction(actor, "feedback.record", "plan_feedback", None, detail, now=now) as txn:
        cur = txn.cursor
        ids = [e.assignment_id for e in checked]
        if ids:
            marks = ", ".join("?" for _ in ids)
            active = {
                int(i)
                for (i,) in cur.execute(
                    f"SELECT id FROM assignments WHERE client_id = ? AND status = 'active' AND id IN ({marks})",
                    [client_id, *ids],
                ).fetchall()
            }
            missing = [i for i in ids if i not in active]
            if missing:
                raise InvalidInput("assignment_id", "is not an active plan of this client")
        stages = _stages(cur, ids)
        saved_session = None
        if checked_session is not None:
            saved_session = session_row(
                insert_session(cur, actor=actor, client_id=client_id, session=checked_session, now=now)
            )
            detail["session_id"] = saved_session.id
        rows: list[FeedbackRow] = []
        for entry in checked:
            rows.extend(
                FeedbackRow(**r)
                for r in rows_as_dicts(
                    cur.execute(
                        "INSERT INTO plan_feedback (client_id, assignment_id, session_id, entry_date, done, "
                        "pain_during, pain_morning_after, stage, recorded_at, recorded_by) "
                        f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {FEEDBACK_COLUMNS}",
                        [
                            client_id,
                            entry.assignment_id,
                            None if saved_session is None else saved_session.id,
                            entry.entry_date,
                            entry.done.value,
                            entry.pain_during,
                            entry.pain_morning_after,
                            stages.get(entry.assignment_id),
                            now,
                            actor.username,
                        ],
                    )
                )
            )
        if rows:  # the trends' plan rollups of the entries' days, in this transaction
            plan_rollups.refresh_feedback(cur, client_id, {r.entry_date for r in rows})
        txn.entity_id = rows[0].id if rows else None
        detail["assignment_ids"] = ids
    return RecordedFeedback(session=saved_session, entries=tuple(rows))


# --- the pain before a plan ----------------------------------------------------------------------------------


def pre_plan_report_sql(assignment: str, column: str) -> str:
    """SQL for a column of the report before a plan (`assignment`: the assignments alias): its own report, else
    the client's last report at or before it; one with a pain score. The history page and the managers' outcome
    read the same pre-plan level."""
    return (
        f"(SELECT {column} FROM reports AS r WHERE r.client_id = {assignment}.client_id "
        f"AND (r.id = {assignment}.report_id OR ({assignment}.report_id IS NULL "
        f"AND r.created_at <= {assignment}.created_at)) "
        "AND r.pain_score IS NOT NULL ORDER BY r.created_at DESC, r.id DESC LIMIT 1)"
    )


# --- reading ---------------------------------------------------------------------------------------------------


def feedback_in(cur, client_id: int, assignment_id: int | None = None) -> list[FeedbackRow]:
    """A client's feedback, oldest first (the latest MAX_ENTRIES_SHOWN), inside an open cursor (callers have
    checked permission)."""
    rows = rows_as_dicts(
        cur.execute(
            f"SELECT {FEEDBACK_COLUMNS} FROM ("
            f"  SELECT {FEEDBACK_COLUMNS} FROM plan_feedback WHERE client_id = ? AND (? IS NULL OR assignment_id = ?)"
            f"  ORDER BY entry_date DESC, id DESC LIMIT {MAX_ENTRIES_SHOWN}"
            ") AS latest ORDER BY entry_date, id",
            [client_id, assignment_id, assignment_id],
        )
    )
    # rows the table's own types have checked: built without validation (a year of feedback is hundreds of rows)
    return [FeedbackRow.model_construct(**(r | {"done": Done(r["done"])})) for r in rows]


def list_feedback(db: Database, *, actor: Actor, client_id: int, assignment_id: int | None = None) -> list[FeedbackRow]:
    """A client's feedback (on one plan, when given), oldest first."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="feedback.list", entity="clients", entity_id=client_id)
    with db.read("listing plan feedback") as cur:
        return feedback_in(cur, client_id, assignment_id)


def client_plan_feedback(db: Database, *, actor: Actor, client_id: int, active_only: bool = True) -> list[PlanFeedback]:
    """The client's plans (active ones by default, newest first), each with its feedback, stage and pre-plan pain:
    what the history page needs for the adherence table and the suggestion. A few small queries on the client's
    rows; the pre-plan report is matched here (the rule of pre_plan_report_sql), as a correlated subquery per
    plan cost more than the client's whole history."""
    gym_id = client_gym(db, client_id)
    guard(db, actor, Action.CLIENT_READ, gym_id, attempt="feedback.list", entity="clients", entity_id=client_id)
    with db.read("reading plan feedback") as cur:
        plans = assignments_in(cur, client_id, active_only)
        if not plans:
            return []
        reports = cur.execute(
            "SELECT id, created_at, pain_score FROM reports WHERE client_id = ? AND pain_score IS NOT NULL "
            "ORDER BY created_at, id",
            [client_id],
        ).fetchall()
        entries = feedback_in(cur, client_id)
        stages = _stages(cur, [p.id for p in plans])
    by_plan: dict[int, list[FeedbackRow]] = {}
    for entry in entries:
        by_plan.setdefault(entry.assignment_id, []).append(entry)
    result = []
    for plan in plans:
        before = _pre_plan_report(plan, reports)
        result.append(
            PlanFeedback(
                assignment=plan,
                stage=stages.get(plan.id),
                pre_plan_pain=None if before is None else int(before[2]),
                pre_plan_day=None if before is None else before[1].date(),
                entries=tuple(by_plan.get(plan.id, ())),
            )
        )
    return result


def _pre_plan_report(plan: AssignmentRow, reports: Sequence[tuple]) -> tuple | None:
    """The plan's own report, else the client's last report at or before it (`reports`: (id, created_at, pain),
    oldest first, with a pain score)."""
    if plan.report_id is not None:
        return next((r for r in reports if r[0] == plan.report_id), None)
    earlier = [r for r in reports if r[1] <= plan.created_at]
    return earlier[-1] if earlier else None
